"""Demo data of the allocation and distribution (called by `seed_demo` after the refurbishment
and help-request demos, idempotently): the default policy, a mixed batch of ready devices at the
demo refurbisher (through the donation and refurbishment services, so every device has its
history, erasure and test), three laptops of the refurbishment demo's finished donation allocated
by hand, one allocation run whose proposals await approval, the approved allocations of one
request; then shipments in every state (one delivered with a hand-out report, one with a missing
unit for the coordinators, one whose missing laptop was settled as lost, one on its way, one being
packed, one cancelled), support contacts and a return. The four laptops end allocated, shipped,
delivered and lost, so that the refurbishment demo's donation shows every device state.

Each step checks its own result first: the batch by its `brands` marker, the laptops by having
an allocation, the approved allocations and the open proposals by their existence, the shipments
by the demo refurbisher having any. Allocation decisions here send no e-mail; shipping and the
allocations by hand write their usual outbox mails.
"""

from django.db.models import Count, Q

from allemaal.models import Notification
from donations.demo import manifest_file, received_donation
from donations.models import Device, Donation
from donations.vocabulary import category_of, in_category
from helprequests.models import HelpRequest
from refurbish import services as refurbish
from refurbish.demo import FINISHED
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
    ("chromebook", "HP", "Chromebook 14 G5", 4, 32, "B", "chromeos", 8),
    ("tablet", "Apple", "iPad (6e generatie)", 2, 32, "B", "ipados", 12),
    ("tablet", "Samsung", "Galaxy Tab A 10.1", 3, 32, "A", "android", 8),
]


def load(command, personas):
    organisations, users = personas["organisations"], personas["users"]
    coordinator = users["coordinator"]
    services.policy_current()
    created = _batch(personas)
    onward = _onward(organisations["school_board"], coordinator)
    approved = _approved(coordinator)
    run = _open_run(coordinator)
    shipments = _shipments(organisations, users, onward)
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


def _batch(personas) -> int:
    """A donation of mixed devices of the second demo donor, counted in ten days ago, then
    taken in, erased and graded at the demo refurbisher: all ready."""
    if Donation.objects.filter(brands=MARKER).exists():
        return 0
    organisations, users = personas["organisations"], personas["users"]
    refurbisher, user = organisations["refurbisher"], users["refurbisher"]
    latest_mail = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
    rows = []
    for kind, make, model, ram, storage, _grade, _system, how_many in BATCH:
        for _ in range(how_many):
            rows.append(
                (f"DEMO-TW-{len(rows) + 1:03d}", kind, make, model, 2019, None, ram, storage)
            )
    counts = {
        f"{kind}s": sum(spec[-1] for spec in BATCH if spec[0] == kind)
        for kind in ("laptop", "chromebook", "tablet")
    }
    counts["chargers"] = len(rows)
    donation = received_donation(
        organisations["donor2"],
        by=users["donor2"],
        coordinator=users["coordinator"],
        refurbisher=refurbisher,
        refurbisher_user=user,
        pledged=counts,
        received=counts,
        manifest=manifest_file("demo-toewijzing.csv", rows),
        days_ago=10,
        brands=MARKER,
        contact_name="Demo Contactpersoon",
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
    # The whole batch is scanned in and erased in one go, then tested and graded per model.
    serials = iter(row[0] for row in rows)
    groups = [
        [
            refurbish.device_intake_scan(
                donation, next(serials), kind=spec[0], by=user, organisation=refurbisher
            ).device.pk
            for _ in range(spec[-1])
        ]
        for spec in BATCH
    ]
    every = [pk for ids in groups for pk in ids]
    refurbish.devices_record_erasure(every, erased, by=user, organisation=refurbisher)
    for ids, (_kind, _make, _model, _ram, _storage, grade, system, _count) in zip(
        groups, BATCH, strict=True
    ):
        refurbish.devices_record_inspection(
            ids,
            InspectionInput.all_working(
                battery_health_pct=85, grade=grade, os_installed=system, charger_included=True
            ),
            by=user,
            organisation=refurbisher,
        )
    # The donation and refurbishment services queued e-mails (registered … received,
    # processed, certificate ready); like those apps' demos, this one sends none of them.
    Notification.objects.filter(id__gt=latest_mail).filter(
        Q(kind__startswith="donation_") | Q(kind="refurbish_certificate_ready")
    ).delete()
    return len(rows)


def _onward(school_board, coordinator) -> list[int]:
    """Four ready laptops of the refurbishment demo's finished donation, allocated by hand to
    the school board's request before a run proposes them: `_shipments` delivers one, ships one,
    loses one and leaves one allocated. Returns their device ids, in serial order."""
    request = _approved_request(school_board)
    held = Allocation.objects.filter(device__donation__brands=FINISHED, request=request)
    if request is not None and not held.exists():
        ready = Device.objects.filter(donation__brands=FINISHED, state=Device.State.READY)
        services.allocations_allocate_by_hand(
            device_ids=list(ready.order_by("serial_number").values_list("pk", flat=True)[:4]),
            request_id=request.pk,
            by=coordinator,
            reason="Afgesproken met het schoolbestuur: deze laptops gaan voor.",
        )
    return list(held.order_by("device__serial_number").values_list("device_id", flat=True))


def _approved(coordinator) -> int:
    """The proposals of one request approved (the one with the most), once (allocations by
    hand, which have no run, do not count)."""
    if Allocation.objects.committed().filter(run__isnull=False).exists():
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


def _shipments(organisations, users, onward: list[int]) -> int:
    """Shipments in every state, a hand-out report, support contacts and a return; once.
    Of the `onward` laptops the last goes in the delivered box, the second in the one on its
    way, and the first stays allocated."""
    refurbisher = organisations["refurbisher"]
    if Shipment.objects.filter(refurbisher=refurbisher).exists():
        return 0
    school = _approved_request(organisations["school_board"])
    seniors = _approved_request(organisations["seniors"])
    if school is None or seniors is None:
        return 0
    packer, coordinator = users["refurbisher"], users["coordinator"]
    common = dict(refurbisher=refurbisher, packer=packer, coordinator=coordinator, keep=onward)
    # Cancelled: packed by mistake for the wrong address, taken apart again.
    cancelled = _packed(school, "laptop", 1, **common)
    services.shipment_cancel(cancelled.pk, by=packer, reason="Verkeerde doos gepakt")
    # Delivered in full; one laptop later goes back through the support line.
    delivered = _shipped(school, "laptop", 3, carrier="postnl", take=onward[2:3], **common)
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
    short = _shipped(seniors, "tablet", 2, carrier="dhl", **common)
    items = list(short.items.order_by("pk"))
    services.shipment_confirm_delivery(
        short.pk,
        by=users["seniors"],
        organisation=seniors.organisation,
        outcomes={items[0].pk: "received", items[1].pk: "missing"},
        note="De doos was open.",
    )
    # Delivered with its one laptop missing; the coordinator settled it: the laptop is lost.
    lost = _shipped(school, "laptop", 1, carrier="postnl", take=onward[3:4], **common)
    services.shipment_confirm_delivery(
        lost.pk,
        by=users["school_board"],
        organisation=school.organisation,
        outcomes={lost.items.get().pk: "missing"},
        note="Het pakket is nooit bezorgd.",
    )
    services.shipment_resolve_discrepancy(
        lost.pk, by=coordinator, note="Vervoerder kan het pakket niet vinden; vervanging volgt."
    )
    # On its way, and one still being packed.
    _shipped(school, "laptop", 2, carrier="dpd", take=onward[1:2], **common)
    _packed(seniors, "tablet", 2, **common)
    return Shipment.objects.filter(refurbisher=refurbisher).count()


def _approved_request(organisation) -> HelpRequest | None:
    return (
        HelpRequest.objects.filter(organisation=organisation, status=HelpRequest.Status.APPROVED)
        .order_by("pk")
        .first()
    )


def _allocate(request, kind, count, *, refurbisher, coordinator, take=(), keep=()):
    """`count` approved allocations of this kind for the request at the refurbisher, in no
    shipment yet, the waiting ones of the devices in `take` last: those there are (but not of
    the devices in `keep`, kept for later), then its open proposals approved, then ready
    devices allocated by hand."""
    category = category_of(kind)
    mine = Allocation.objects.filter(
        in_category(category, prefix="device__"),
        request=request,
        device__donation__refurbisher=refurbisher,
    )
    waiting = selectors.waiting_allocations(refurbisher).filter(pk__in=mine.values("pk"))
    taken = list(waiting.filter(device_id__in=take).order_by("pk"))
    count -= len(taken)
    chosen = list(waiting.exclude(device_id__in=keep).order_by("pk")[:count])
    if len(chosen) < count:
        proposals = mine.filter(status=Allocation.Status.PROPOSED).exclude(device_id__in=keep)
        ids = list(proposals.order_by("pk").values_list("pk", flat=True)[: count - len(chosen)])
        chosen += services.allocations_approve(ids, by=coordinator, notify=False).done
    free = (
        Device.objects.filter(
            in_category(category), state=Device.State.READY, donation__refurbisher=refurbisher
        )
        .exclude(allocations__status__in=Allocation.LIVE_STATUSES)
        .exclude(pk__in=keep)
        .order_by("pk")
    )
    wanted = [device.pk for device in free[: max(0, count - len(chosen))]]
    if wanted:
        chosen += services.allocations_allocate_by_hand(
            device_ids=wanted, request_id=request.pk, by=coordinator, reason="Demo"
        )
    return chosen + taken


def _packed(request, kind, count, *, refurbisher, packer, coordinator, take=(), keep=()):
    allocations = _allocate(
        request, kind, count, refurbisher=refurbisher, coordinator=coordinator, take=take, keep=keep
    )
    shipment = services.shipment_create(refurbisher=refurbisher, request_id=request.pk, by=packer)
    for allocation in allocations:
        services.shipment_add_device(shipment.pk, allocation.device.asset_tag, by=packer)
    return shipment


def _shipped(request, kind, count, *, carrier, packer, **packing) -> Shipment:
    shipment = _packed(request, kind, count, packer=packer, **packing)
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
