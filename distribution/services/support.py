"""The free support line: log a contact about a device, settle a follow-up, start a return.

A return closes the device's allocation and sends the device back to its refurbisher. With a
replacement the allocation becomes `replaced`: the request no longer holds that place, so its
open quantity grows by one and the next allocation run sees it. Without one it becomes
`returned` and the place stays taken.

Lock order as in `shipping`, after the decisions lock (shared): a return changes a request's
open quantity, which a run must not read half-way.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from allemaal.models import User
from allemaal.services import DomainError, notify_organisation
from donations.models import Device
from donations.services import device_transition
from helprequests.models import HelpRequest
from refurbish.asset_tags import format_asset_tag

from ..models import Allocation, DeviceReturn, ShipmentItem, SupportContact
from .decisions import lock_devices, lock_requests
from .delivery import requests_fulfil_if_complete
from .locks import decisions_shared
from .runs import allocation_request_run_soon
from .shipping import _move_allocations, shipment_lock

OUT_THERE = (Allocation.Status.SHIPPED, Allocation.Status.DELIVERED)


def device_holder(device_id: int) -> Allocation | None:
    """The allocation under which an organisation has (or is about to get) the device."""
    return (
        Allocation.objects.filter(device_id=device_id, status__in=OUT_THERE)
        .select_related("request__organisation")
        .order_by("-pk")
        .first()
    )


def support_contact_log(
    device_id: int,
    *,
    by: User,
    channel: str,
    category: str,
    summary: str,
    outcome: str,
) -> SupportContact:
    """A helpdesk agent records a call or e-mail about a device: what it was about, what was
    done, and whether it is resolved or needs a follow-up."""
    summary = (summary or "").strip()
    if not summary:
        raise DomainError(_("Schrijf kort op wat de vraag was en wat u heeft gedaan."))
    if (
        channel not in SupportContact.Channel.values
        or category not in SupportContact.Category.values
    ):
        raise DomainError(_("Kies het kanaal en het onderwerp."))
    if outcome not in SupportContact.Outcome.values:
        raise DomainError(_("Kies of de vraag is opgelost of vervolg nodig heeft."))
    device = Device.objects.get(pk=device_id)
    holder = device_holder(device.pk)
    now = timezone.now()
    return SupportContact.objects.create(
        device=device,
        organisation=holder.request.organisation if holder else None,
        channel=channel,
        category=category,
        summary=summary,
        outcome=outcome,
        by=by,
        at=now,
        resolved_at=now if outcome == SupportContact.Outcome.RESOLVED else None,
        resolved_by=by if outcome == SupportContact.Outcome.RESOLVED else None,
    )


@transaction.atomic
def support_contact_resolve(contact_id: int, *, by: User, note: str) -> SupportContact:
    """A follow-up is done: the contact becomes resolved, with how."""
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Schrijf op hoe het is opgelost."))
    contact = SupportContact.objects.select_for_update().get(pk=contact_id)
    if contact.outcome == SupportContact.Outcome.RESOLVED:
        return contact
    contact.outcome = SupportContact.Outcome.RESOLVED
    contact.resolved_at, contact.resolved_by, contact.resolution_note = timezone.now(), by, note
    contact.save(update_fields=["outcome", "resolved_at", "resolved_by", "resolution_note"])
    return contact


# --- Returns --------------------------------------------------------------------------------------


def device_return_start(
    device_id: int,
    *,
    by: User,
    reason: str,
    replacement: bool,
    contact_id: int | None = None,
) -> DeviceReturn:
    """A shipped or delivered device goes back to its refurbisher (`received` again, with a
    custody event), its allocation is closed, and with `replacement` the request's open
    quantity reopens (a fulfilled request is reopened) so the next run can fill it."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Geef een reden op voor de retour."))
    try:
        with transaction.atomic():
            decisions_shared()
            device_return = _return(device_id, by, reason, replacement, contact_id)
            if replacement:
                transaction.on_commit(allocation_request_run_soon)
    except IntegrityError as exc:
        raise DomainError(
            _("Dit apparaat is net door iemand anders gewijzigd. Bekijk het opnieuw.")
        ) from exc
    return device_return


def _return(device_id, by, reason, replacement, contact_id) -> DeviceReturn:
    holder = device_holder(device_id)
    if holder is None:
        device = Device.objects.get(pk=device_id)
        raise DomainError(
            _(
                "Apparaat %(tag)s is niet bij een organisatie (status: %(state)s); een retour "
                "kan niet."
            )
            % {"tag": format_asset_tag(device.asset_tag), "state": device.get_state_display()}
        )
    item = ShipmentItem.objects.filter(allocation_id=holder.pk).values_list("shipment_id").first()
    if item is not None:
        shipment_lock(item[0])
    requests = lock_requests([holder.request_id])
    request = requests[holder.request_id]
    device = lock_devices([device_id])[device_id]
    allocation = Allocation.objects.select_for_update().get(pk=holder.pk)
    _check_return(device, allocation, request, replacement)
    refurbisher = device.donation.refurbisher
    now = timezone.now()
    note = _("Retour via de gratis hulplijn: %(reason)s") % {"reason": reason}
    _move_allocations(
        [allocation],
        Allocation.Status.REPLACED if replacement else Allocation.Status.RETURNED,
        by=by,
        now=now,
        note=note,
    )
    device_transition(device, Device.State.RECEIVED, by=by, organisation=refurbisher, note=note)
    device_return = DeviceReturn.objects.create(
        device=device,
        allocation=allocation,
        request=request,
        organisation=request.organisation,
        refurbisher=refurbisher,
        contact=SupportContact.objects.filter(pk=contact_id, device=device).first()
        if contact_id
        else None,
        reason=reason,
        replacement=replacement,
        by=by,
        at=now,
    )
    if replacement and request.status == HelpRequest.Status.FULFILLED:
        _reopen(request, by=by, note=note)
    elif not replacement:
        # A missing unit written off without replacement may be the last one a request waited on.
        requests_fulfil_if_complete(requests, by=by)
    _notify_return(device_return)
    return device_return


def _check_return(device: Device, allocation: Allocation, request, replacement: bool) -> None:
    tag = format_asset_tag(device.asset_tag)
    if allocation.status not in OUT_THERE or device.state not in (
        Device.State.SHIPPED,
        Device.State.DELIVERED,
    ):
        raise DomainError(
            _("Apparaat %(tag)s is niet bij een organisatie (status: %(state)s).")
            % {"tag": tag, "state": device.get_state_display()}
        )
    if device.donation.refurbisher_id is None:
        raise DomainError(_("Apparaat %(tag)s heeft geen opknappartner.") % {"tag": tag})
    if replacement and request.status not in (
        HelpRequest.Status.APPROVED,
        HelpRequest.Status.FULFILLED,
    ):
        raise DomainError(
            _(
                "Hulpaanvraag %(ref)s is %(status)s; er kan geen vervanging meer komen. Start de "
                "retour zonder vervanging."
            )
            % {"ref": request.reference, "status": request.get_status_display().lower()}
        )


def _reopen(request: HelpRequest, *, by: User, note: str) -> None:
    """A fulfilled request waits for a replacement again (helprequests owns that move)."""
    from helprequests.services import helprequest_reopen

    helprequest_reopen(request, by=by, note=note)


def _notify_return(device_return: DeviceReturn) -> None:
    context = {
        "device_return": device_return,
        "device": device_return.device,
        "tag": format_asset_tag(device_return.device.asset_tag),
        "help_request": device_return.request,
        "refurbisher": device_return.refurbisher,
        "requester": device_return.organisation,
    }
    notify_organisation(
        device_return.organisation, kind="distribution_return_started", context=context
    )
    notify_organisation(
        device_return.refurbisher,
        kind="distribution_return_incoming",
        context={
            **context,
            "url": settings.SITE_URL + reverse("refurbish:device", args=[device_return.device_id]),
        },
    )
