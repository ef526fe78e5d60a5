"""Delivery: the organisation confirms what arrived, a coordinator settles a discrepancy, and a
request whose approved devices have all arrived becomes fulfilled.

Lock order as in `shipping`: shipments, help requests, devices, allocations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from allemaal.models import Organisation, User
from allemaal.services import DomainError, notify_group
from donations.models import Device
from donations.services import device_transition
from helprequests.models import HelpRequest
from refurbish.asset_tags import format_asset_tag

from ..models import Allocation, Shipment, ShipmentEvent, ShipmentItem
from .decisions import lock_devices, lock_requests
from .locks import decisions_shared
from .runs import allocation_request_run_soon
from .shipping import _move_allocations, shipment_lock, shipment_transition

ARRIVED = (ShipmentItem.Outcome.RECEIVED, ShipmentItem.Outcome.DAMAGED)
PROBLEMS = (ShipmentItem.Outcome.DAMAGED, ShipmentItem.Outcome.MISSING)
DELIVERED_FIELDS = ["delivered_sector", "delivered_province", "delivered_target_group"]


def shipment_confirm_delivery(
    shipment_id: int,
    *,
    by: User,
    organisation: Organisation,
    outcomes: Mapping[int, str] | None = None,
    notes: Mapping[int, str] | None = None,
    note: str = "",
) -> Shipment:
    """The organisation confirms a shipment: every device received (no `outcomes`), or per
    item received, damaged (with a note) or missing. Devices that arrived, damaged or not,
    become `delivered` with their allocations; missing ones stay `shipped`. Damaged or missing
    units flag the shipment and tell the coordinators; requests complete with it are fulfilled."""
    with transaction.atomic():
        shipment = shipment_lock(shipment_id)
        if shipment.organisation_id != organisation.pk:
            raise DomainError(_("Deze zending is niet voor uw organisatie."))
        if shipment.status == Shipment.Status.DELIVERED:
            raise DomainError(
                _("De ontvangst van zending %(ref)s is al bevestigd.") % {"ref": shipment.reference}
            )
        if shipment.status != Shipment.Status.SHIPPED:
            raise DomainError(
                _("Zending %(ref)s is nog niet verzonden.") % {"ref": shipment.reference}
            )
        items = list(shipment.items.select_related("device").order_by("pk"))
        chosen = _outcomes(items, outcomes, notes or {})
        requests = lock_requests({item.request_id for item in items})
        devices = lock_devices({item.device_id for item in items})
        allocations = _lock_allocations(items)
        now = timezone.now()
        arrived = [item for item in items if chosen[item.pk][0] in ARRIVED]
        _deliver(shipment, arrived, devices, allocations, requests, by=by, now=now)
        for item in items:
            item.outcome, item.note = chosen[item.pk]
            item.save(update_fields=["outcome", "note"])
        counts = Counter(item.outcome for item in items)
        shipment.delivered_at, shipment.confirmed_by = now, by
        shipment.delivery_note = (note or "").strip()
        shipment.has_discrepancy = any(counts[problem] for problem in PROBLEMS)
        shipment_transition(
            shipment,
            Shipment.Status.DELIVERED,
            by=by,
            note=_confirmation_note(counts),
            update_fields=["delivered_at", "confirmed_by", "delivery_note", "has_discrepancy"],
        )
        if shipment.has_discrepancy:
            notify_group(
                "coordinators",
                kind="shipment_discrepancy",
                context=_discrepancy_mail(shipment, items, devices, counts),
            )
        requests_fulfil_if_complete(requests, by=by)
    return shipment


def _outcomes(items, outcomes, notes) -> dict[int, tuple[str, str]]:
    """(outcome, note) per item id; every item needs one, a damaged one a note."""
    if not items:
        raise DomainError(_("Deze zending is leeg."))
    chosen = {}
    for item in items:
        outcome = ShipmentItem.Outcome.RECEIVED if outcomes is None else outcomes.get(item.pk)
        text = (notes.get(item.pk) or "").strip()[:500]
        if outcome not in (
            ShipmentItem.Outcome.RECEIVED,
            ShipmentItem.Outcome.DAMAGED,
            ShipmentItem.Outcome.MISSING,
        ):
            raise DomainError(
                _("Geef voor apparaat %(tag)s aan of het is ontvangen, beschadigd is of ontbreekt.")
                % {"tag": format_asset_tag(item.device.asset_tag)}
            )
        if outcome == ShipmentItem.Outcome.DAMAGED and not text:
            raise DomainError(
                _("Schrijf bij apparaat %(tag)s wat er beschadigd is.")
                % {"tag": format_asset_tag(item.device.asset_tag)}
            )
        chosen[item.pk] = (outcome, text)
    return chosen


def _lock_allocations(items) -> dict[int, Allocation]:
    return {
        a.pk: a
        for a in Allocation.objects.select_for_update()
        .filter(pk__in=sorted(item.allocation_id for item in items))
        .order_by("pk")
    }


def _deliver(shipment, items, devices, allocations, requests, *, by, now) -> None:
    """Devices that arrived: `delivered`, in the organisation's custody, with their allocations,
    and on the device where it went (kind of organisation, province, target group: never a
    person), for the donor's outcome."""
    note = _("Ontvangst bevestigd door %(org)s (zending %(ref)s).") % {
        "org": shipment.organisation.name,
        "ref": shipment.reference,
    }
    moving = []
    for item in items:
        allocation, device = allocations.get(item.allocation_id), devices[item.device_id]
        if allocation is None or allocation.status != Allocation.Status.SHIPPED:
            # Returned through the support line before the confirmation came in.
            continue
        request = requests[item.request_id]
        device.delivered_sector = request.organisation.sector
        device.delivered_province = request.delivery_province or request.organisation.province
        device.delivered_target_group = request.target_group
        device_transition(
            device,
            Device.State.DELIVERED,
            by=by,
            organisation=shipment.organisation,
            note=note,
            update_fields=DELIVERED_FIELDS,
        )
        moving.append(allocation)
    _move_allocations(moving, Allocation.Status.DELIVERED, by=by, now=now, note=note)


def _confirmation_note(counts: Counter) -> str:
    return _("%(received)d ontvangen, %(damaged)d beschadigd, %(missing)d ontbreken.") % {
        "received": counts[ShipmentItem.Outcome.RECEIVED],
        "damaged": counts[ShipmentItem.Outcome.DAMAGED],
        "missing": counts[ShipmentItem.Outcome.MISSING],
    }


def _discrepancy_mail(shipment, items, devices, counts) -> dict:
    problems = [
        {
            "tag": format_asset_tag(devices[item.device_id].asset_tag),
            "outcome": item.get_outcome_display(),
            "note": item.note,
        }
        for item in items
        if item.outcome in PROBLEMS
    ]
    return {
        "shipment": shipment,
        "problems": problems,
        "received": counts[ShipmentItem.Outcome.RECEIVED],
        "damaged": counts[ShipmentItem.Outcome.DAMAGED],
        "missing": counts[ShipmentItem.Outcome.MISSING],
        "url": settings.SITE_URL
        + reverse("admin:distribution_shipment_change", args=[shipment.pk]),
    }


# --- A missing unit turns up; a coordinator settles the discrepancy -------------------------------


def shipment_item_found(
    shipment_id: int, item_id: int, *, by: User, organisation: Organisation
) -> ShipmentItem:
    """A unit reported missing arrived after all: it becomes delivered. When nothing else is
    wrong with the shipment, its discrepancy is settled at once."""
    with transaction.atomic():
        shipment = shipment_lock(shipment_id)
        if shipment.organisation_id != organisation.pk:
            raise DomainError(_("Deze zending is niet voor uw organisatie."))
        item = shipment.items.filter(pk=item_id).first()
        if item is None or item.outcome != ShipmentItem.Outcome.MISSING:
            raise DomainError(_("Dit apparaat staat niet als ontbrekend gemeld."))
        requests = lock_requests([item.request_id])
        devices = lock_devices([item.device_id])
        allocations = _lock_allocations([item])
        allocation = allocations.get(item.allocation_id)
        if allocation is None or allocation.status != Allocation.Status.SHIPPED:
            raise DomainError(
                _(
                    "Dit apparaat is al teruggemeld via de hulplijn. Heeft u het toch? Bel "
                    "dan de hulplijn."
                )
            )
        now = timezone.now()
        _deliver(shipment, [item], devices, allocations, requests, by=by, now=now)
        item.outcome = ShipmentItem.Outcome.RECEIVED
        item.note = _("Later alsnog ontvangen.")
        item.save(update_fields=["outcome", "note"])
        tag = format_asset_tag(devices[item.device_id].asset_tag)
        ShipmentEvent.objects.create(
            shipment=shipment,
            from_status=shipment.status,
            to_status=shipment.status,
            by=by,
            note=_("Apparaat %(tag)s is alsnog ontvangen.") % {"tag": tag},
        )
        if shipment.discrepancy_open and not shipment.items.filter(outcome__in=PROBLEMS).exists():
            _resolve(shipment, by=by, note=_("Alle ontbrekende apparaten zijn alsnog ontvangen."))
        requests_fulfil_if_complete(requests, by=by)
    return item


def shipment_resolve_discrepancy(shipment_id: int, *, by: User, note: str) -> Shipment:
    """A coordinator settles a shipment's discrepancy, with a note on how. A unit reported
    missing that was neither found by the organisation nor returned through the helpdesk is
    *lost* from then on (a custody event), and its request gets a replacement while it waits."""
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Schrijf op hoe de afwijking is afgehandeld."))
    with transaction.atomic():
        # A lost unit's place frees up for the next run, which must not read half-way.
        decisions_shared()
        shipment = shipment_lock(shipment_id)
        if not shipment.discrepancy_open:
            raise DomainError(
                _("Zending %(ref)s heeft geen open afwijking.") % {"ref": shipment.reference}
            )
        requests = lock_requests(set(shipment.items.values_list("request_id", flat=True)))
        still_out = list(
            shipment.items.filter(
                outcome=ShipmentItem.Outcome.MISSING, allocation__status=Allocation.Status.SHIPPED
            ).order_by("pk")
        )
        if _write_off_lost(shipment, still_out, requests, by=by, note=note):
            transaction.on_commit(allocation_request_run_soon)
        _resolve(shipment, by=by, note=note)
        requests_fulfil_if_complete(requests, by=by)
    return shipment


def _write_off_lost(shipment, items, requests, *, by, note: str) -> bool:
    """Missing units still out: the device becomes lost, its allocation closes (replaced while
    the request waits, so the next run fills the place; returned otherwise). Returns whether a
    place was freed."""
    if not items:
        return False
    devices = lock_devices({item.device_id for item in items})
    allocations = _lock_allocations(items)
    now = timezone.now()
    text = _("Zoekgeraakt bij zending %(ref)s: %(note)s") % {
        "ref": shipment.reference,
        "note": note,
    }
    replaced, returned = [], []
    for item in items:
        device_transition(
            devices[item.device_id],
            Device.State.LOST,
            by=by,
            organisation=shipment.organisation,
            note=text,
        )
        waiting = requests[item.request_id].status == HelpRequest.Status.APPROVED
        (replaced if waiting else returned).append(allocations[item.allocation_id])
    _move_allocations(replaced, Allocation.Status.REPLACED, by=by, now=now, note=text)
    _move_allocations(returned, Allocation.Status.RETURNED, by=by, now=now, note=text)
    return bool(replaced)


def _resolve(shipment: Shipment, *, by, note: str) -> None:
    shipment.discrepancy_resolved_at = timezone.now()
    shipment.discrepancy_resolved_by = by
    shipment.resolution_note = note
    shipment.save(
        update_fields=["discrepancy_resolved_at", "discrepancy_resolved_by", "resolution_note"]
    )
    ShipmentEvent.objects.create(
        shipment=shipment,
        from_status=shipment.status,
        to_status=shipment.status,
        by=by,
        note=_("Afwijking afgehandeld: %(note)s") % {"note": note},
    )


# --- Fulfilment -----------------------------------------------------------------------------------


def requests_fulfil_if_complete(requests: Mapping[int, HelpRequest], *, by: User | None) -> list:
    """Approved requests (locked by the caller) that hold every approved device, all of them
    delivered (or returned without replacement) and none damaged or missing in a shipment
    whose discrepancy is still open, become fulfilled. Returns those."""
    # Imported here: helprequests' services call into distribution (cancelling a request
    # withdraws its allocations), so a module-level import would be circular.
    from helprequests.services import helprequest_fulfil

    waiting = [r for r in requests.values() if r.status == HelpRequest.Status.APPROVED]
    if not waiting:
        return []
    ids = [r.pk for r in waiting]
    per_status = _committed_per_status(ids)
    open_problems = set(
        ShipmentItem.objects.filter(
            request_id__in=ids,
            outcome__in=PROBLEMS,
            shipment__has_discrepancy=True,
            shipment__discrepancy_resolved_at__isnull=True,
        ).values_list("request_id", flat=True)
    )
    fulfilled = []
    for request in waiting:
        counts = per_status.get(request.pk, {})
        held = sum(counts.values())
        arrived = counts.get(Allocation.Status.DELIVERED, 0) + counts.get(
            Allocation.Status.RETURNED, 0
        )
        if held and held == request.approved_devices == arrived and request.pk not in open_problems:
            fulfilled.append(
                helprequest_fulfil(
                    request, by=by, note=_("Alle goedgekeurde apparaten zijn afgeleverd.")
                )
            )
    return fulfilled


def _committed_per_status(request_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    rows = (
        Allocation.objects.committed()
        .filter(request_id__in=list(request_ids))
        .values_list("request_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    result: dict[int, dict[str, int]] = {}
    for request_id, status, n in rows:
        result.setdefault(request_id, {})[status] = n
    return result
