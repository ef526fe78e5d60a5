"""Demo data of the allocation and distribution (called by `seed_demo` after the refurbishment
and help-request demos, idempotently): the default policy, a mixed batch of ready devices at the
demo refurbisher (through the refurbishment services, so every device has its erasure and test),
one allocation run whose proposals await approval, the approved allocations of one request; then
shipments in every state (one delivered with a hand-out report, one with a missing unit for the
coordinators, one on its way, one being packed, one cancelled), support contacts and a return.

Each step checks its own result first: the batch by its `brands` marker, the approved
allocations and the open proposals by their existence, the shipments by the demo refurbisher
having any. Allocation decisions here send no e-mail; shipping writes its usual outbox mails.
"""

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from donations.models import Device, Donation
from donations.vocabulary import category_of, in_category
from helprequests.models import HelpRequest
from refurbish import services as refurbish
from refurbish.services import ErasureInput, InspectionInput

from . import selectors, services
from .models import Allocation, AllocationRun, Shipment, SupportContact

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
    shipments = _shipments(organisations, users)
    lines = personas.setdefault("extra_lines", [])
    lines.append("")
    lines.append(
        f"Allocation: {run} has {Allocation.objects.proposed().count()} proposals awaiting "
        "approval: /admin/distribution/allocation/?status=proposed ; the policy and the "
        "what-if preview are under /admin/distribution/."
    )
    lines.append(
        "Shipping: the refurbisher packs and ships at /verzenden/, the school board and SeniorWeb "
        "confirm delivery and report hand-outs at /zendingen/; a discrepancy waits at "
        "/admin/distribution/shipment/?afwijking=open ; the helpdesk works at /helpdesk/ ; the "
        "public help pages are at /hulp/."
    )
    command.stdout.write(
        f"distribution: {created} demo devices made ready, {approved} allocations approved, "
        f"{shipments} shipments made"
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


# --- Shipping, hand-out, support -----------------------------------------------------------------


def _shipments(organisations, users) -> int:
    """Shipments in every state, a hand-out report, support contacts and a return; once."""
    refurbisher = organisations["refurbisher"]
    if Shipment.objects.filter(refurbisher=refurbisher).exists():
        return 0
    school = _approved_request(organisations["school_board"])
    seniors = _approved_request(organisations["seniors"])
    if school is None or seniors is None:
        return 0
    packer, coordinator = users["refurbisher"], users["coordinator"]
    # Cancelled: packed by mistake for the wrong address, taken apart again.
    cancelled = _packed(school, "laptop", 1, refurbisher, packer, coordinator)
    services.shipment_cancel(cancelled.pk, by=packer, reason="Verkeerde doos gepakt")
    # Delivered in full; one laptop later goes back through the support line.
    delivered = _shipped(school, "laptop", 3, refurbisher, packer, coordinator, "postnl")
    services.shipment_confirm_delivery(
        delivered.pk, by=users["school_board"], organisation=school.organisation
    )
    _support(delivered, users["helpdesk"])
    services.handout_report_save(
        school.pk,
        by=users["school_board"],
        organisation=school.organisation,
        devices_handed_out=2,
        people_reached=5,
        note="Twee gezinnen met schoolgaande kinderen.",
    )
    # Delivered with one tablet missing: a discrepancy for the coordinators.
    short = _shipped(seniors, "tablet", 2, refurbisher, packer, coordinator, "dhl")
    items = list(short.items.order_by("pk"))
    services.shipment_confirm_delivery(
        short.pk,
        by=users["seniors"],
        organisation=seniors.organisation,
        outcomes={items[0].pk: "received", items[1].pk: "missing"},
        note="De doos was open.",
    )
    # On its way, and one still being packed.
    _shipped(seniors, "tablet", 2, refurbisher, packer, coordinator, "dpd")
    _packed(school, "laptop", 2, refurbisher, packer, coordinator)
    return Shipment.objects.filter(refurbisher=refurbisher).count()


def _approved_request(organisation) -> HelpRequest | None:
    return (
        HelpRequest.objects.filter(organisation=organisation, status=HelpRequest.Status.APPROVED)
        .order_by("pk")
        .first()
    )


def _allocate(request, kind, count, refurbisher, coordinator) -> list[Allocation]:
    """`count` approved allocations of this kind for the request at the refurbisher, in no
    shipment yet: those there are, then its open proposals approved, then ready devices
    allocated by hand."""
    category = category_of(kind)
    mine = Allocation.objects.filter(
        in_category(category, prefix="device__"),
        request=request,
        device__donation__refurbisher=refurbisher,
    )
    chosen = list(
        selectors.waiting_allocations(refurbisher)
        .filter(pk__in=mine.values("pk"))
        .order_by("pk")[:count]
    )
    if len(chosen) < count:
        proposals = mine.filter(status=Allocation.Status.PROPOSED).order_by("pk")
        ids = list(proposals.values_list("pk", flat=True)[: count - len(chosen)])
        chosen += services.allocations_approve(ids, by=coordinator, notify=False).done
    free = (
        Device.objects.filter(
            in_category(category), state=Device.State.READY, donation__refurbisher=refurbisher
        )
        .exclude(allocations__status__in=Allocation.LIVE_STATUSES)
        .order_by("pk")
    )
    for device in free[: max(0, count - len(chosen))]:
        chosen.append(
            services.allocation_allocate_by_hand(
                device_id=device.pk, request_id=request.pk, by=coordinator, reason="Demo"
            )
        )
    return chosen


def _packed(request, kind, count, refurbisher, packer, coordinator) -> Shipment:
    allocations = _allocate(request, kind, count, refurbisher, coordinator)
    shipment = services.shipment_create(refurbisher=refurbisher, request_id=request.pk, by=packer)
    for allocation in allocations:
        services.shipment_add_device(shipment.pk, allocation.device.asset_tag, by=packer)
    return shipment


def _shipped(request, kind, count, refurbisher, packer, coordinator, carrier) -> Shipment:
    shipment = _packed(request, kind, count, refurbisher, packer, coordinator)
    return services.shipment_ship(
        shipment.pk, carrier=carrier, tracking_code=f"3SDEMO{shipment.pk:07d}", by=packer
    )


def _support(shipment, agent) -> None:
    """Two calls about the first device (one solved, one that ends in a return)."""
    first, second = [item.device_id for item in shipment.items.order_by("pk")[:2]]
    services.support_contact_log(
        first,
        by=agent,
        channel=SupportContact.Channel.PHONE,
        category=SupportContact.Category.WIFI,
        summary="Beller vond het wifi-wachtwoord niet. Sticker op de router laten zoeken; werkt.",
        outcome=SupportContact.Outcome.RESOLVED,
    )
    contact = services.support_contact_log(
        second,
        by=agent,
        channel=SupportContact.Channel.PHONE,
        category=SupportContact.Category.HARDWARE,
        summary="Scherm blijft zwart, ook met oplader. Retour met vervanging afgesproken.",
        outcome=SupportContact.Outcome.FOLLOW_UP,
    )
    services.device_return_start(
        second,
        by=agent,
        reason="Scherm blijft zwart",
        replacement=True,
        contact_id=contact.pk,
    )
