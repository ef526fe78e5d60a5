"""A small programme whose every number is known by hand (see EXPECTED in test_reporting.py).

Days are counted from M, the Monday of the current week, at noon local time, so the weekly
throughput falls into known weeks whatever day the tests run.

Refurbishers R1 "Opknap Utrecht" (Utrecht) and R2 "Opknap Limburg" (Limburg). Donations:
A (donor D1, R1, 6 laptops + 2 tablets, pledged M-21, received), B (D2, R2, 5 laptops, M-14,
received), C (D1, no refurbisher, pickup in Zeeland, 10 laptops, M-7, pledged), Z (D2, R1,
1 laptop, M-70, processed), X (D2, 20 laptops, cancelled).

Devices, with the days of their custody events:
    a1 laptop A: announced -21, received -20, erased -19, ready -18, allocated -15,
       shipped -14, delivered -12  (to Q1)
    a2 laptop A: -21, -20, -18, -16, allocated -10, shipped -9, delivered -7  (to Q1)
    a3 laptop A: -21, -19, -17, ready -14, allocated -8  (approved, to Q2)
    a4 laptop A: -21, -19, erased -16, recycled -15  (storage destroyed)
    a5 tablet A: -21, -20, erased -12, ready -11  (a rejected proposal to Q2)
    a6 tablet A: -21, received -20
    a7 laptop A: announced -21
    b1 laptop B: -14, -13, -12, ready -10, allocated -9, shipped -8, delivered -6  (to Q2)
    b2 laptop B: -14, -13, erased -8
    b3 laptop B: received -7 (added at intake)
    z1 laptop Z: -70, -69, -68, ready -66, recycled -60

Requests: Q1 (O1, Gelderland, secondary pupils, approved 3 laptops), Q2 (O2, Limburg, isolated
elderly, approved 2 laptops + 1 tablet + 1 either), Q3 (O3 awaiting verification, Noord-Holland,
primary pupils, approved 4 tablets), Q4 (O1, submitted, not approved).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from allemaal.models import Organisation
from distribution.models import Allocation
from donations.models import Device, DeviceEvent, Donation
from donations.tests.factories import DeviceFactory, DonationFactory
from helprequests.tests.factories import HelpRequestFactory, RequesterFactory
from refurbish.models import ErasureRecord, ErasureResult, ErasureSource, ErasureStandard
from tests.factories import OrganisationFactory

ROAD = ["announced", "received", "erased", "ready", "allocated", "shipped", "delivered"]


def monday() -> date:
    today = timezone.localdate()
    return today - timedelta(days=today.weekday())


def at(days: int) -> datetime:
    """Noon local time, `days` days after this week's Monday (negative: before)."""
    return timezone.make_aware(datetime.combine(monday() + timedelta(days=days), time(12)))


@dataclass
class Programme:
    r1: Organisation
    r2: Organisation
    d1: Organisation
    d2: Organisation
    o1: Organisation
    o2: Organisation
    o3: Organisation
    devices: dict
    requests: dict
    donations: dict


def _device(donation, kind: str, steps: list[tuple[str, int]], serial: str) -> Device:
    device = DeviceFactory(donation=donation, kind=kind, serial_number=serial)
    previous = ""
    for state, day in steps:
        DeviceEvent.objects.create(device=device, from_state=previous, to_state=state, at=at(day))
        previous = state
    Device.objects.filter(pk=device.pk).update(state=previous, state_changed_at=at(steps[-1][1]))
    device.refresh_from_db()
    return device


def _road(*days: int, then: tuple[str, int] | None = None) -> list[tuple[str, int]]:
    steps = list(zip(ROAD, days, strict=False))
    return [*steps, then] if then else steps


def _allocate(device, request, status: str, day: int) -> Allocation:
    return Allocation.objects.create(
        device=device,
        request=request,
        status=status,
        score=100,
        note="Met de hand (test)",
        decision_note="Past niet" if status == "rejected" else "",
        decided_at=at(day),
    )


def build() -> Programme:
    r1 = OrganisationFactory(kind="refurbisher", name="Opknap Utrecht", province="Utrecht")
    r2 = OrganisationFactory(kind="refurbisher", name="Opknap Limburg", province="Limburg")
    d1 = OrganisationFactory(kind="donor", name="Donateur Een BV")
    d2 = OrganisationFactory(kind="donor", name="Donateur Twee BV")
    o1 = RequesterFactory(name="School Gelderland", province="Gelderland")
    o2 = RequesterFactory(name="Ouderen Limburg", province="Limburg", sector="elderly_care")
    o3 = RequesterFactory(
        name="Nog niet gecontroleerd",
        province="Noord-Holland",
        status=Organisation.Status.PENDING,
    )
    donations = {
        "A": DonationFactory(
            donor=d1, refurbisher=r1, status="received", laptops=6, tablets=2, chargers=0
        ),
        "B": DonationFactory(donor=d2, refurbisher=r2, status="received", laptops=5),
        "C": DonationFactory(donor=d1, laptops=10, pickup_province="Zeeland"),
        "Z": DonationFactory(donor=d2, refurbisher=r1, status="processed", laptops=1),
        "X": DonationFactory(donor=d2, laptops=20, status="cancelled"),
    }
    for key, day in {"A": -21, "B": -14, "C": -7, "Z": -70, "X": -30}.items():
        Donation.objects.filter(pk=donations[key].pk).update(created_at=at(day))
    A, B, Z = donations["A"], donations["B"], donations["Z"]
    devices = {
        "a1": _device(A, "laptop", _road(-21, -20, -19, -18, -15, -14, -12), "A1"),
        "a2": _device(A, "laptop", _road(-21, -20, -18, -16, -10, -9, -7), "A2"),
        "a3": _device(A, "laptop", _road(-21, -19, -17, -14, -8), "A3"),
        "a4": _device(A, "laptop", _road(-21, -19, -16, then=("recycled", -15)), "A4"),
        "a5": _device(A, "tablet", _road(-21, -20, -12, -11), "A5"),
        "a6": _device(A, "tablet", _road(-21, -20), "A6"),
        "a7": _device(A, "laptop", _road(-21), "A7"),
        "b1": _device(B, "laptop", _road(-14, -13, -12, -10, -9, -8, -6), "B1"),
        "b2": _device(B, "laptop", _road(-14, -13, -8), "B2"),
        "b3": _device(B, "laptop", [("received", -7)], "B3"),
        "z1": _device(Z, "laptop", _road(-70, -69, -68, -66, then=("recycled", -60)), "Z1"),
    }
    ErasureRecord.objects.create(
        device=devices["a4"],
        organisation=r1,
        standard=ErasureStandard.DESTROY,
        technique="physical_destruction",
        result=ErasureResult.PASSED,
        source=ErasureSource.RECYCLE,
    )
    requests = {
        "Q1": HelpRequestFactory(
            organisation=o1,
            approved=True,
            target_group="secondary_pupils",
            laptops=3,
            delivery_province="Gelderland",
        ),
        "Q2": HelpRequestFactory(
            organisation=o2,
            approved=True,
            target_group="isolated_elderly",
            laptops=2,
            tablets=1,
            either=1,
            delivery_province="Limburg",
        ),
        "Q3": HelpRequestFactory(
            organisation=o3,
            approved=True,
            target_group="primary_pupils",
            laptops=0,
            tablets=4,
            delivery_province="Noord-Holland",
        ),
        "Q4": HelpRequestFactory(organisation=o1, submitted=True, laptops=5),
    }
    _allocate(devices["a1"], requests["Q1"], "delivered", -12)
    _allocate(devices["a2"], requests["Q1"], "delivered", -7)
    _allocate(devices["a3"], requests["Q2"], "approved", -8)
    _allocate(devices["b1"], requests["Q2"], "delivered", -6)
    _allocate(devices["a5"], requests["Q2"], "rejected", -10)
    return Programme(r1, r2, d1, d2, o1, o2, o3, devices, requests, donations)
