"""Demo history for the dashboard (`seed_demo`): six months of donations, custody events and
deliveries, so every chart has something to show; then the reporting job runs once.

The history is written directly with its past dates (the services stamp everything with the
current time): one demo donor, "Historie Demo BV", marks it; when it exists nothing is added
again. Requests and allocations are consistent with the database's rules (a request never
holds more devices than approved; every allocation by hand has a reason).
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from allemaal.models import Organisation
from allemaal.postcodes import province_for_postcode
from donations.models import Device, DeviceEvent, Donation, DonationEvent
from donations.vocabulary import category_of

MARKER = "Historie Demo BV"
WEEKS = 26
SEED = 8
# (kind, make, model, RAM GB, storage GB, share of the devices)
MODELS = [
    ("laptop", "Dell", "Latitude 5480", 8, 256, 0.4),
    ("laptop", "HP", "EliteBook 840 G4", 8, 256, 0.3),
    ("chromebook", "Acer", "Chromebook 314", 4, 64, 0.1),
    ("tablet", "Samsung", "Galaxy Tab A8", 3, 32, 0.2),
]
# (key, target group, delivery province, no home schooling)
REQUESTS = [
    ("school_board", "secondary_pupils", "Gelderland", True),
    ("school_board", "primary_pupils", "Gelderland", True),
    ("seniors", "isolated_elderly", "Overijssel", False),
    ("municipality", "low_income_families", "Zuid-Holland", False),
    ("municipality", "newcomers", "Zuid-Holland", False),
    ("south", "mbo_students", "Limburg", True),
    ("south", "disability", "Limburg", False),
]


def load(command, personas):
    if Donation.objects.filter(donor__kind=Organisation.Kind.DONOR, donor__name=MARKER).exists():
        command.stdout.write("reporting: demo history already there")
    else:
        devices = _history(personas, random.Random(SEED))  # noqa: S311 - demo data
        command.stdout.write(f"reporting: {devices} devices with {WEEKS} weeks of history")
    from .snapshot import refresh

    refresh(full=True)
    lines = personas.setdefault("extra_lines", [])
    lines.append(
        "Dashboard (coordinator): http://127.0.0.1:8000/coordinatie/ ; donor impact: "
        "/donaties/impact/ ; public counters on the home page."
    )


def _organisation(kind: str, name: str, kvk: str, postcode: str, city: str, **extra):
    org, _created = Organisation.objects.get_or_create(
        kind=kind,
        kvk_number=kvk,
        brin_code="",
        defaults={
            "name": name,
            "street": "Demostraat 1",
            "postcode": postcode,
            "city": city,
            "province": province_for_postcode(postcode),
            "phone": "+31201234567",
            "status": Organisation.Status.VERIFIED,
            **extra,
        },
    )
    return org


def _noon(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


def _history(personas, rng: random.Random) -> int:
    from distribution.models import Allocation
    from helprequests.models import HelpRequest

    orgs = personas["organisations"]
    donor = _organisation("donor", MARKER, "90000001", "1012 AB", "Amsterdam")
    south_refurbisher = _organisation(
        "refurbisher", "Opknap Zuid Demo BV", "90000002", "6211 AA", "Maastricht"
    )
    south = _organisation(
        "requester",
        "Stichting Leren Limburg (demo)",
        "90000003",
        "6041 AA",
        "Roermond",
        sector="welfare",
    )
    refurbishers = [orgs["refurbisher"], south_refurbisher]
    requesters = {**orgs, "south": south}
    today = timezone.localdate()
    start = today - timedelta(weeks=WEEKS)
    coordinator = personas["users"]["coordinator"]

    # Requests first: each takes what its quantities allow, in the order devices come ready.
    requests = []
    for key, group, province, no_home in REQUESTS:
        requests.append(
            HelpRequest.objects.create(
                organisation=requesters[key],
                status=HelpRequest.Status.APPROVED,
                target_group=group,
                no_home_schooling=no_home,
                laptops=1,  # the real quantities follow once the devices are known
                tablets=0,
                people_reached=1,
                delivery_street="Demostraat 1",
                delivery_postcode=requesters[key].postcode,
                delivery_city=requesters[key].city,
                delivery_province=province,
                contact_name="Demo Contactpersoon",
                contact_phone="+31201234567",
                declaration=True,
                created_at=_noon(start),
                submitted_at=_noon(start),
                approved_at=_noon(start + timedelta(days=2)),
                decided_at=_noon(start + timedelta(days=2)),
                decided_by=coordinator,
                approved_laptops=1,
                approved_tablets=0,
            )
        )
    held = {r.pk: {"laptop": 0, "tablet": 0} for r in requests}

    devices, events, allocations = [], [], []
    number = 0
    for week in range(WEEKS):
        pledged_on = start + timedelta(weeks=week, days=rng.randrange(5))
        specs = [_model(rng) for _ in range(rng.randrange(15, 45))]
        kinds = [spec[0] for spec in specs]
        counts = {
            "laptops": kinds.count("laptop"),
            "chromebooks": kinds.count("chromebook"),
            "tablets": kinds.count("tablet"),
        }
        refurbisher = refurbishers[week % 2]
        received_on = pledged_on + timedelta(days=rng.randrange(3, 12))
        donation = Donation.objects.create(
            donor=donor,
            status=Donation.Status.RECEIVED,
            **counts,
            chargers=len(specs),
            brands="Dell, HP, Acer, Samsung",
            pickup_street=donor.street,
            pickup_postcode=donor.postcode,
            pickup_city=donor.city,
            pickup_province=donor.province,
            contact_name="Demo Contactpersoon",
            contact_phone=str(donor.phone),
            consent_transfer=True,
            refurbisher=refurbisher,
            pickup_date=received_on - timedelta(days=1),
            **{f"received_{key}": n for key, n in counts.items()},
            received_chargers=len(specs),
            created_at=_noon(pledged_on),
            created_by=coordinator,
        )
        DonationEvent.objects.bulk_create(
            DonationEvent(donation=donation, from_status=a, to_status=b, at=_noon(day))
            for a, b, day in [
                ("", "pledged", pledged_on),
                ("pledged", "scheduled", pledged_on + timedelta(days=1)),
                ("scheduled", "collected", received_on - timedelta(days=1)),
                ("collected", "received", received_on),
            ]
        )
        for kind, make, model, ram, storage in specs:
            number += 1
            path = _path(rng, pledged_on, received_on, today)
            device = Device(
                donation=donation,
                serial_number=f"HIST-{number:05d}",
                kind=kind,
                make=make,
                model=model,
                year=2018,
                ram_gb=ram,
                storage_gb=storage,
                grade="B" if path[-1][0] != "recycled" else "",
                state=path[-1][0],
                state_changed_at=_noon(path[-1][1]),
                created_at=_noon(pledged_on),
            )
            devices.append((device, path, refurbisher))
    Device.objects.bulk_create([d for d, _path, _r in devices], batch_size=1000)
    for device, path, refurbisher in devices:
        previous = ""
        for state, day in path:
            events.append(
                DeviceEvent(
                    device=device,
                    from_state=previous,
                    to_state=state,
                    at=_noon(day),
                    organisation=refurbisher,
                )
            )
            previous = state
        if path[-1][0] in ("allocated", "shipped", "delivered"):
            category = category_of(device.kind)
            request = rng.choice(requests)
            held[request.pk][category] += 1
            allocated_on = dict(path)["allocated"]
            status = "approved" if path[-1][0] == "allocated" else path[-1][0]
            allocations.append(
                Allocation(
                    device=device,
                    request=request,
                    status=status,
                    score=100,
                    note="Demo: geschiedenis van het dashboard",
                    decided_by=coordinator,
                    decided_at=_noon(allocated_on),
                    created_at=_noon(allocated_on),
                )
            )
    DeviceEvent.objects.bulk_create(events, batch_size=2000)
    # Approved quantities: what each request holds, plus an open part that still waits.
    for request in requests:
        open_laptops, open_tablets = rng.randrange(5, 40), rng.randrange(0, 15)
        laptops = held[request.pk]["laptop"] + open_laptops
        tablets = held[request.pk]["tablet"] + open_tablets
        HelpRequest.objects.filter(pk=request.pk).update(
            laptops=laptops,
            tablets=tablets,
            approved_laptops=laptops,
            approved_tablets=tablets,
            people_reached=laptops + tablets,
        )
    Allocation.objects.bulk_create(allocations, batch_size=2000)
    _handouts(requests, allocations, rng, coordinator)
    return len(devices)


def _handouts(requests, allocations, rng: random.Random, by) -> None:
    """Each request reports how many of its delivered devices it handed out, to how many
    people (counts only), so the donor's impact shows the people reached."""
    from distribution.models import HandoutReport

    delivered = {r.pk: 0 for r in requests}
    for allocation in allocations:
        if allocation.status == "delivered":
            delivered[allocation.request_id] += 1
    HandoutReport.objects.bulk_create(
        HandoutReport(
            request_id=pk,
            devices_handed_out=n - n // 10,
            people_reached=(n - n // 10) + rng.randrange(0, n // 3 + 1),
            reported_by=by,
        )
        for pk, n in delivered.items()
        if n
    )


def _model(rng: random.Random):
    roll, total = rng.random(), 0.0
    for kind, make, model, ram, storage, share in MODELS:
        total += share
        if roll < total:
            return kind, make, model, ram, storage
    return MODELS[0][:5]


def _path(rng: random.Random, pledged_on, received_on, today) -> list[tuple[str, object]]:
    """The states a device went through and when, stopping at today."""
    steps = [("announced", pledged_on)]
    day = received_on
    plan = [("received", 0), ("erased", rng.randrange(1, 8)), ("ready", rng.randrange(1, 10))]
    if rng.random() < 0.12:
        plan = [*plan[:2], ("recycled", rng.randrange(1, 5))]
    else:
        plan += [
            ("allocated", rng.randrange(2, 25)),
            ("shipped", rng.randrange(1, 5)),
            ("delivered", rng.randrange(1, 4)),
        ]
    for state, wait in plan:
        day = day + timedelta(days=wait)
        if day > today:
            break
        steps.append((state, day))
    return steps
