"""Shipments from the refurbisher's side: start one for a destination, scan devices onto it or
take one off, cancel it, and mark it shipped.

Lock order, the same in every distribution service so that two never deadlock: the decisions
lock (shared, only where a request's open quantity changes), then shipments, help requests,
devices and allocations, each by id. The device and the request of an allocation never change,
so they are read unlocked to know what to lock.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from allemaal.models import Organisation, User
from allemaal.services import DomainError, notify_organisation
from allemaal.transitions import transition, transition_many
from donations.models import Device
from donations.services import device_transition
from helprequests.models import HelpRequest
from refurbish.asset_tags import format_asset_tag, validate_asset_tag

from ..models import (
    CARRIERS_WITHOUT_TRACKING,
    Allocation,
    Carrier,
    Shipment,
    ShipmentEvent,
    ShipmentItem,
    normalise_tracking_code,
)
from ..selectors.shipping import waiting_allocations
from .decisions import lock_devices, lock_requests


def shipment_lock(shipment_id: int) -> Shipment:
    """Lock one shipment row (call inside `transaction.atomic`); both organisations come along
    for the messages but are not locked."""
    return (
        Shipment.objects.select_for_update(of=("self",))
        .select_related("organisation", "refurbisher")
        .get(pk=shipment_id)
    )


def shipment_transition(
    shipment: Shipment, to_status: str, *, by: User | None, note: str = "", update_fields=()
) -> Shipment:
    """Move a locked shipment and write its history row; invalid moves are refused
    (`Shipment.transitions`)."""
    transition(shipment, to_status, by=by, note=note, update_fields=update_fields, locked=True)
    return shipment


def same_address(request: HelpRequest, shipment: Shipment) -> bool:
    """A request's delivery address is the shipment's (postcode and street, loosely compared)."""

    def street(value: str) -> str:
        return " ".join(value.casefold().split())

    def postcode(value: str) -> str:
        return "".join(value.upper().split())

    return postcode(request.delivery_postcode) == postcode(shipment.delivery_postcode) and street(
        request.delivery_street
    ) == street(shipment.delivery_street)


# --- Start ----------------------------------------------------------------------------------------


def shipment_create(*, refurbisher: Organisation, request_id: int, by: User) -> Shipment:
    """A refurbisher starts a shipment to the delivery address of one of an organisation's
    requests; an open shipment to that address is reused (one box is filled at a time)."""
    request = (
        HelpRequest.objects.select_related("organisation")
        .filter(pk=request_id, allocations__in=waiting_allocations(refurbisher))
        .first()
    )
    if request is None:
        raise DomainError(_("Er liggen bij u geen toegewezen apparaten meer voor dit adres."))
    existing = _prepared_for(refurbisher, request)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            shipment = Shipment.objects.create(
                refurbisher=refurbisher,
                organisation=request.organisation,
                delivery_street=request.delivery_street,
                delivery_postcode=request.delivery_postcode,
                delivery_city=request.delivery_city,
                contact_name=request.contact_name,
                contact_phone=request.contact_phone,
                created_by=by,
            )
            ShipmentEvent.objects.create(
                shipment=shipment, to_status=Shipment.Status.PREPARED, by=by
            )
    except IntegrityError:
        # A second click made it at the same moment: use that one.
        existing = _prepared_for(refurbisher, request)
        if existing is None:
            raise
        return existing
    return shipment


def _prepared_for(refurbisher: Organisation, request: HelpRequest) -> Shipment | None:
    return Shipment.objects.filter(
        refurbisher=refurbisher,
        organisation_id=request.organisation_id,
        delivery_postcode=request.delivery_postcode,
        delivery_street=request.delivery_street,
        status=Shipment.Status.PREPARED,
    ).first()


# --- Scan on, take off ----------------------------------------------------------------------------


def _check_prepared(shipment: Shipment) -> None:
    if shipment.status != Shipment.Status.PREPARED:
        raise DomainError(
            _("Zending %(ref)s is al %(status)s; er kan niets meer bij of af.")
            % {"ref": shipment.reference, "status": shipment.get_status_display().lower()}
        )


def shipment_add_device(shipment_id: int, scanned: str, *, by: User) -> ShipmentItem:
    """Scan one device onto a prepared shipment by its asset tag. Only a device this refurbisher
    holds, allocated (approved) to a request of the shipment's organisation for the same
    address, and in no other shipment, goes on; anything else is refused with the reason."""
    try:
        tag = validate_asset_tag(scanned)
    except ValidationError as exc:
        raise DomainError(exc.messages[0]) from exc
    with transaction.atomic():
        shipment = shipment_lock(shipment_id)
        _check_prepared(shipment)
        device = Device.objects.filter(asset_tag=tag).select_related("donation").first()
        if device is None or device.donation.refurbisher_id != shipment.refurbisher_id:
            raise DomainError(
                _("Geen apparaat van uw organisatie met apparaatcode %(tag)s.")
                % {"tag": format_asset_tag(tag)}
            )
        live = (
            Allocation.objects.filter(device_id=device.pk, status__in=Allocation.LIVE_STATUSES)
            .values_list("pk", "request_id")
            .first()
        )
        if live is None:
            raise DomainError(
                _("Apparaat %(tag)s is niet toegewezen aan een hulpaanvraag (status: %(state)s).")
                % {"tag": format_asset_tag(tag), "state": device.get_state_display()}
            )
        request = lock_requests([live[1]])[live[1]]
        device = lock_devices([device.pk])[device.pk]
        allocation = Allocation.objects.select_for_update().get(pk=live[0])
        problem = _scan_problem(shipment, device, allocation, request)
        if problem:
            raise DomainError(problem)
        return ShipmentItem.objects.create(
            shipment=shipment,
            allocation=allocation,
            device=device,
            request=request,
            added_by=by,
        )


def _scan_problem(shipment, device, allocation, request) -> str | None:
    tag = format_asset_tag(device.asset_tag)
    if allocation.status == Allocation.Status.PROPOSED:
        return _(
            "Apparaat %(tag)s is nog maar voorgesteld; het kan mee zodra een coördinator de "
            "toewijzing heeft goedgekeurd."
        ) % {"tag": tag}
    if allocation.status != Allocation.Status.APPROVED or device.state != Device.State.ALLOCATED:
        return _("Apparaat %(tag)s kan niet mee (status: %(state)s).") % {
            "tag": tag,
            "state": device.get_state_display(),
        }
    if request.organisation_id != shipment.organisation_id:
        return _(
            "Apparaat %(tag)s is toegewezen aan %(other)s, niet aan %(org)s. Leg het apart."
        ) % {"tag": tag, "other": request.organisation.name, "org": shipment.organisation.name}
    if not same_address(request, shipment):
        return _(
            "Apparaat %(tag)s gaat naar een ander adres (%(address)s). Maak daarvoor een "
            "aparte zending."
        ) % {
            "tag": tag,
            "address": f"{request.delivery_street}, {request.delivery_postcode}",
        }
    item = ShipmentItem.objects.filter(allocation=allocation).select_related("shipment").first()
    if item is not None and item.shipment_id == shipment.pk:
        return _("Apparaat %(tag)s zit al in deze zending.") % {"tag": tag}
    if item is not None:
        return _("Apparaat %(tag)s zit al in zending %(ref)s.") % {
            "tag": tag,
            "ref": item.shipment.reference,
        }
    return None


def shipment_remove_item(shipment_id: int, item_id: int, *, by: User) -> Device:
    """Take a device off a prepared shipment (a wrong scan); its allocation stays approved."""
    with transaction.atomic():
        shipment = shipment_lock(shipment_id)
        _check_prepared(shipment)
        item = shipment.items.select_related("device").filter(pk=item_id).first()
        if item is None:
            raise DomainError(_("Dit apparaat zit niet (meer) in deze zending."))
        item.delete()
        return item.device


def shipment_cancel(shipment_id: int, *, by: User, reason: str) -> Shipment:
    """A prepared shipment is not sent after all: its devices come off it (their allocations
    stay approved, so they can go in another shipment)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Geef een reden op."))
    with transaction.atomic():
        shipment = shipment_lock(shipment_id)
        if shipment.status == Shipment.Status.CANCELLED:
            return shipment
        removed, _per_model = shipment.items.all().delete()
        note = _("%(reason)s (%(n)d apparaten uit de zending gehaald)") % {
            "reason": reason,
            "n": removed,
        }
        return shipment_transition(shipment, Shipment.Status.CANCELLED, by=by, note=note)


# --- Ship -----------------------------------------------------------------------------------------


def _clean_carrier(carrier: str, tracking_code: str) -> tuple[str, str]:
    tracking_code = normalise_tracking_code(tracking_code)
    if carrier not in Carrier.values:
        raise DomainError(_("Kies een vervoerder."))
    if carrier not in CARRIERS_WITHOUT_TRACKING and not tracking_code:
        raise DomainError(_("Vul de track-and-tracecode van de vervoerder in."))
    return carrier, tracking_code


def shipment_ship(shipment_id: int, *, carrier: str, tracking_code: str = "", by: User) -> Shipment:
    """The box leaves: every device in it becomes `shipped`, so do their allocations, and the
    organisation is told with the carrier and tracking code. A device that can no longer go
    (its allocation was cancelled meanwhile) stops the whole shipment, with the reason."""
    carrier, tracking_code = _clean_carrier(carrier, tracking_code)
    with transaction.atomic():
        shipment = shipment_lock(shipment_id)
        if shipment.status == Shipment.Status.SHIPPED and (
            shipment.carrier,
            shipment.tracking_code,
        ) == (
            carrier,
            tracking_code,
        ):
            return shipment
        if shipment.status != Shipment.Status.PREPARED:
            raise DomainError(
                _("Zending %(ref)s is al %(status)s.")
                % {"ref": shipment.reference, "status": shipment.get_status_display().lower()}
            )
        rows = list(shipment.items.order_by("pk").values_list("request_id", "device_id"))
        if not rows:
            raise DomainError(_("Er zitten nog geen apparaten in deze zending."))
        lock_requests({request for request, _device in rows})
        devices = lock_devices({device for _request, device in rows})
        items = list(shipment.items.order_by("pk"))
        allocations = {
            a.pk: a
            for a in Allocation.objects.select_for_update()
            .filter(pk__in=sorted(item.allocation_id for item in items))
            .order_by("pk")
        }
        _check_shippable(items, devices, allocations)
        now = timezone.now()
        note = _("Verzonden in zending %(ref)s naar %(org)s.") % {
            "ref": shipment.reference,
            "org": shipment.organisation.name,
        }
        _move_allocations(
            allocations.values(), Allocation.Status.SHIPPED, by=by, now=now, note=note
        )
        for item in items:
            device_transition(
                devices[item.device_id],
                Device.State.SHIPPED,
                by=by,
                organisation=shipment.refurbisher,
                note=note,
            )
        shipment.carrier, shipment.tracking_code, shipment.shipped_at = carrier, tracking_code, now
        shipment_transition(
            shipment,
            Shipment.Status.SHIPPED,
            by=by,
            update_fields=["carrier", "tracking_code", "shipped_at"],
        )
        notify_organisation(
            shipment.organisation,
            kind="shipment_shipped",
            context=shipment_mail(shipment, devices=len(items)),
        )
    return shipment


def _check_shippable(items, devices, allocations) -> None:
    problems = []
    for item in items:
        allocation, device = allocations.get(item.allocation_id), devices[item.device_id]
        if allocation is None or allocation.status != Allocation.Status.APPROVED:
            problems.append(
                _("De toewijzing van apparaat %(tag)s is ingetrokken; haal het uit de zending.")
                % {"tag": format_asset_tag(device.asset_tag)}
            )
        elif device.state != Device.State.ALLOCATED:
            problems.append(
                _("Apparaat %(tag)s kan niet mee (status: %(state)s).")
                % {"tag": format_asset_tag(device.asset_tag), "state": device.get_state_display()}
            )
    if problems:
        raise DomainError(" ".join(problems))


def _move_allocations(allocations, to_status: str, *, by, now, note: str) -> None:
    """Move locked allocations along (shipped, delivered, returned) with one history row each."""
    transition_many(allocations, to_status, by=by, at=now, note=note, locked=True)


def shipment_mail(shipment: Shipment, **extra) -> dict:
    return {
        "shipment": shipment,
        "url": settings.SITE_URL + reverse("distribution:shipment", args=[shipment.pk]),
        **extra,
    }
