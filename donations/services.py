"""Writes with business meaning for donations and devices; views, admin and tasks call these."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from allemaal.models import Organisation, User
from allemaal.services import DomainError

from .models import Device, DeviceEvent, Donation, DonationEvent

D = Donation.Status
# Every allowed move of a donation; cancelled, declined and processed are terminal.
DONATION_TRANSITIONS: dict[str, set[str]] = {
    D.PLEDGED: {D.SCHEDULED, D.CANCELLED, D.DECLINED},
    D.SCHEDULED: {D.COLLECTED, D.CANCELLED, D.DECLINED},
    D.COLLECTED: {D.RECEIVED},
    D.RECEIVED: {D.PROCESSED},
    D.PROCESSED: set(),
    D.CANCELLED: set(),
    D.DECLINED: set(),
}
# A device has an outcome once it left the refurbisher's hands or was recycled.
DEVICE_OUTCOME_STATES = {"ready", "allocated", "shipped", "delivered", "recycled"}


def donation_lock(donation_id: int) -> Donation:
    """Lock one donation row for a transition (call inside `transaction.atomic`)."""
    return Donation.objects.select_for_update().get(pk=donation_id)


def donation_transition(
    donation: Donation,
    to_status: str,
    *,
    by: User | None,
    note: str = "",
    update_fields: Iterable[str] = (),
) -> Donation:
    """Move a locked donation to `to_status` and record who did it and why.

    The shared mechanism behind every donation transition service; callers lock the row, check
    their own rules, and queue side effects with `transaction.on_commit`.
    """
    if to_status not in DONATION_TRANSITIONS[donation.status]:
        raise DomainError(
            _("Donatie %(ref)s kan niet van '%(from)s' naar '%(to)s'.")
            % {
                "ref": donation.reference,
                "from": donation.get_status_display(),
                "to": Donation.Status(to_status).label,
            }
        )
    from_status = donation.status
    donation.status = to_status
    donation.save(update_fields=["status", *update_fields])
    DonationEvent.objects.create(
        donation=donation, from_status=from_status, to_status=to_status, by=by, note=note
    )
    return donation


@transaction.atomic
def donation_mark_processed(donation_id: int, *, by: User | None) -> bool:
    """A received donation becomes processed once every one of its devices has an outcome.

    Returns whether it moved; safe to call after every device step (a no-op until complete).
    """
    from allemaal.services import notify_organisation

    donation = donation_lock(donation_id)
    if donation.status != D.RECEIVED:
        return False
    if donation.devices.exclude(state__in=DEVICE_OUTCOME_STATES).exists():
        return False
    if not donation.devices.exists():
        return False
    donation_transition(donation, D.PROCESSED, by=by)
    notify_organisation(donation.donor, kind="donation_processed", context={"donation": donation})
    return True


S = Device.State
# Every allowed move of a device (../shared/DESIGN.md). Recycled is terminal; a delivered unit
# that comes back through the support line re-enters at received.
DEVICE_TRANSITIONS: dict[str, set[str]] = {
    S.ANNOUNCED: {S.RECEIVED},
    S.RECEIVED: {S.ERASED, S.RECYCLED},
    S.ERASED: {S.READY, S.RECYCLED},
    S.READY: {S.ALLOCATED, S.RECYCLED},
    S.ALLOCATED: {S.SHIPPED, S.READY},
    S.SHIPPED: {S.DELIVERED, S.RECEIVED},
    S.DELIVERED: {S.RECEIVED},
    S.RECYCLED: set(),
}


def device_transition(
    device: Device,
    to_state: str,
    *,
    by: User | None,
    organisation: Organisation | None,
    note: str = "",
    update_fields: Iterable[str] = (),
) -> Device:
    """Move one device to `to_state` and record the custody event; invalid moves are refused.

    The shared mechanism behind every device transition service: the caller has already locked
    the row (`select_for_update`) inside a transaction and checked its own business rules;
    `update_fields` names the caller's other changed fields, saved with the state.
    """
    if to_state not in DEVICE_TRANSITIONS[device.state]:
        raise DomainError(
            _("Apparaat %(device)s kan niet van '%(from)s' naar '%(to)s'.")
            % {
                "device": device,
                "from": device.get_state_display(),
                "to": Device.State(to_state).label,
            }
        )
    now = timezone.now()
    from_state = device.state
    device.state = to_state
    device.state_changed_at = now
    device.save(update_fields=["state", "state_changed_at", *update_fields])
    DeviceEvent.objects.create(
        device=device,
        from_state=from_state,
        to_state=to_state,
        at=now,
        by=by,
        organisation=organisation,
        note=note,
    )
    return device


def device_lock(device_id: int) -> Device:
    """Lock one device row for a transition (call inside `transaction.atomic`)."""
    return Device.objects.select_for_update().get(pk=device_id)


@transaction.atomic
def devices_transition(
    device_ids: Iterable[int],
    to_state: str,
    *,
    by: User | None,
    organisation: Organisation | None,
    note: str = "",
) -> list[Device]:
    """Move several devices in one transaction, locking them in id order to avoid deadlocks."""
    devices = list(
        Device.objects.select_for_update().filter(pk__in=list(device_ids)).order_by("pk")
    )
    return [
        device_transition(d, to_state, by=by, organisation=organisation, note=note) for d in devices
    ]
