"""Demo data of the allocation (called by `seed_demo` after the refurbishment and help-request
demos, idempotently): the default policy, a mixed batch of ready devices at the demo refurbisher
(through the refurbishment services, so every device has its erasure and test), one allocation
run whose proposals await approval, and the approved allocations of one request.

Each step checks its own result first: the batch by its `brands` marker, the approved
allocations and the open proposals by their existence. Decisions here send no e-mail.
"""

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from donations.models import Device, Donation
from helprequests.models import HelpRequest
from refurbish import services as refurbish
from refurbish.services import ErasureInput, InspectionInput

from . import services
from .models import Allocation, AllocationRun

MARKER = "Demo toewijzing: gemengde partij"
# (kind, make, model, RAM GB, storage GB, grade, operating system, how many)
BATCH = [
    ("laptop", "Dell", "Latitude 7490", 8, 256, "A", "windows11", 10),
    ("laptop", "HP", "ProBook 450 G5", 4, 128, "B", "windows11", 12),
    ("laptop", "Lenovo", "ThinkPad X240", 4, 64, "C", "ubuntu", 6),
    ("laptop", "Acer", "Aspire ES1", 2, 32, "C", "linux", 4),
    ("chromebook", "HP", "Chromebook 14 G5", 4, 32, "B", "chromeos_flex", 8),
    ("tablet", "Apple", "iPad (6e generatie)", 2, 32, "B", "ipados", 12),
    ("tablet", "Samsung", "Galaxy Tab A 10.1", 3, 32, "A", "android", 8),
]


def load(command, personas):
    organisations, users = personas["organisations"], personas["users"]
    coordinator = users["coordinator"]
    services.policy_current()
    created = _batch(organisations["donor2"], organisations["refurbisher"], users["refurbisher"])
    approved = _approved(coordinator)
    run = _open_run(coordinator)
    lines = personas.setdefault("extra_lines", [])
    lines.append("")
    lines.append(
        f"Allocation: {run} has {Allocation.objects.proposed().count()} proposals awaiting "
        "approval: /admin/distribution/allocation/?status=proposed ; the policy and the "
        "what-if preview are under /admin/distribution/."
    )
    command.stdout.write(
        f"distribution: {created} demo devices made ready, {approved} allocations approved"
    )


def _batch(donor, refurbisher, user) -> int:
    """A received donation of mixed devices, taken in, erased and graded: all ready."""
    if Donation.objects.filter(brands=MARKER).exists():
        return 0
    count = sum(spec[-1] for spec in BATCH)
    donation = Donation.objects.create(
        donor=donor,
        status=Donation.Status.RECEIVED,
        laptops=sum(s[-1] for s in BATCH if s[0] == "laptop"),
        chromebooks=sum(s[-1] for s in BATCH if s[0] == "chromebook"),
        tablets=sum(s[-1] for s in BATCH if s[0] == "tablet"),
        chargers=count,
        brands=MARKER,
        pickup_street=donor.street,
        pickup_postcode=donor.postcode,
        pickup_city=donor.city,
        pickup_province=donor.province,
        contact_name="Demo Contactpersoon",
        contact_phone=str(donor.phone),
        consent_transfer=True,
        refurbisher=refurbisher,
        pickup_date=timezone.localdate() - timedelta(days=10),
        received_laptops=sum(s[-1] for s in BATCH if s[0] == "laptop"),
        received_chromebooks=sum(s[-1] for s in BATCH if s[0] == "chromebook"),
        received_tablets=sum(s[-1] for s in BATCH if s[0] == "tablet"),
        received_chargers=count,
    )
    erased = ErasureInput(
        standard="clear",
        technique="overwrite",
        result="passed",
        tool="nwipe",
        tool_version="0.38",
        method="PRNG Stream",
        verification="last pass",
    )
    number = 0
    for kind, make, model, ram, storage, grade, system, how_many in BATCH:
        ids = []
        for _ in range(how_many):
            number += 1
            serial = f"DEMO-TW-{number:03d}"
            Device.objects.create(
                donation=donation,
                serial_number=serial,
                kind=kind,
                make=make,
                model=model,
                year=2019,
                ram_gb=ram,
                storage_gb=storage,
            )
            scanned = refurbish.device_intake_scan(
                donation, serial, kind=kind, by=user, organisation=refurbisher
            )
            ids.append(scanned.device.pk)
        refurbish.devices_record_erasure(ids, erased, by=user, organisation=refurbisher)
        refurbish.devices_record_inspection(
            ids,
            InspectionInput.all_working(
                battery_health_pct=85, grade=grade, os_installed=system, charger_included=True
            ),
            by=user,
            organisation=refurbisher,
        )
    return count


def _approved(coordinator) -> int:
    """The proposals of one request approved (the one with the most), once."""
    if Allocation.objects.committed().exists():
        return 0
    if not Allocation.objects.proposed().exists():
        services.allocation_run(trigger=AllocationRun.Trigger.MANUAL, by=coordinator)
    busiest = (
        Allocation.objects.proposed()
        .filter(request__status=HelpRequest.Status.APPROVED)
        .values("request_id")
        .annotate(n=Count("id"))
        .order_by("-n", "request_id")
        .first()
    )
    if busiest is None:
        return 0
    ids = Allocation.objects.proposed().filter(request_id=busiest["request_id"])
    decision = services.allocations_approve(
        list(ids.values_list("id", flat=True)), by=coordinator, notify=False
    )
    return len(decision.done)


def _open_run(coordinator) -> AllocationRun | None:
    """A completed run with proposals awaiting approval (a new one when none are open)."""
    if not Allocation.objects.proposed().exists():
        services.allocation_run(trigger=AllocationRun.Trigger.MANUAL, by=coordinator)
    return AllocationRun.objects.filter(status=AllocationRun.Status.COMPLETED).first()
