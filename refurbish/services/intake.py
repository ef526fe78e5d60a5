"""Intake at the refurbisher's table: one scanned unit at a time, each with its asset tag."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Replace
from django.utils import timezone
from django.utils.translation import gettext as _

from allemaal.models import Organisation, User
from allemaal.services import DomainError
from donations.models import Device, Donation
from donations.services import (
    device_add_received,
    device_remove_misscan,
    device_transition,
    devices_mark_not_received,
    donation_lock,
)
from donations.vocabulary import normalise_asset_tag, serial_key

from ..asset_tags import format_asset_tag, generate_asset_tag, is_valid_asset_tag
from ..models import DeviceInspection, ErasureRecord, IntakeScan
from .steps import after_outcomes, clean_serial


def _assign_asset_tag(device: Device) -> None:
    """Give the device a new random tag; a collision with an existing tag draws again."""
    if device.asset_tag:
        return
    for _attempt in range(8):
        device.asset_tag = generate_asset_tag()
        try:
            with transaction.atomic():
                device.save(update_fields=["asset_tag"])
        except IntegrityError:
            device.asset_tag = None
            continue
        return
    raise DomainError(_("Er kon geen apparaatcode worden gemaakt. Scan opnieuw."))


@dataclass
class IntakeResult:
    device: Device
    added: bool  # not on the donor's list, added at intake


def device_intake_scan(
    donation: Donation,
    value: str,
    *,
    kind: str,
    by: User | None,
    organisation: Organisation,
) -> IntakeResult:
    """Receive one scanned unit of a received donation and give it its asset tag.

    A unit on the donor's list moves to received; an unknown serial is added to the donation;
    a unit scanned before is refused, never registered twice.
    """
    serial = clean_serial(value)
    if donation.status != Donation.Status.RECEIVED:
        raise DomainError(_("Apparaten scant u in zodra de donatie als ontvangen is bevestigd."))
    with transaction.atomic():
        device = _intake_match(donation, serial)
        if device is None:
            device = _intake_add(donation, serial, kind=kind, by=by, organisation=organisation)
            added = True
        else:
            _intake_receive(donation, device, serial, by=by, organisation=organisation)
            added = False
        try:
            with transaction.atomic():
                IntakeScan.objects.create(
                    device=device,
                    donation=donation,
                    on_manifest=not added,
                    scanned_value=serial,
                    by=by,
                    organisation=organisation,
                )
        except IntegrityError as exc:  # the same unit scanned at another table a moment ago
            raise DomainError(_("%(serial)s is al gescand.") % {"serial": serial}) from exc
    return IntakeResult(device=device, added=added)


def _intake_match(donation: Donation, serial: str) -> Device | None:
    """The locked device this scan is: the serial as spelled, else the one unit of this
    donation whose serial differs only in dashes (`serial_key`)."""
    devices = Device.objects.select_related("intake_scan").select_for_update(of=("self",))
    device = devices.filter(serial_number=serial).first()
    if device is not None:
        return device
    # Only this donation's units are compared without dashes: an index-free scan of a few
    # hundred rows, never of the whole platform.
    matches = list(
        devices.filter(donation=donation)
        .annotate(key=Replace("serial_number", Value("-"), Value("")))
        .filter(key=serial_key(serial))[:2]
    )
    if len(matches) > 1:
        raise DomainError(
            _("%(serial)s past op meer dan één apparaat van de lijst. Typ het precies over.")
            % {"serial": serial}
        )
    return matches[0] if matches else None


def _intake_receive(donation, device, serial, *, by, organisation) -> None:
    if device.donation_id != donation.pk:
        raise DomainError(
            _(
                "Serienummer %(serial)s hoort bij een andere donatie. Leg dit apparaat apart en "
                "neem contact op met de coördinatie."
            )
            % {"serial": serial}
        )
    scan = getattr(device, "intake_scan", None)
    if scan is not None:
        raise DomainError(
            _("%(serial)s is al gescand om %(time)s (apparaatcode %(tag)s). Eén keer is genoeg.")
            % {
                "serial": device.serial_number,
                "time": timezone.localtime(scan.at).strftime("%H:%M"),
                "tag": format_asset_tag(device.asset_tag) or "-",
            }
        )
    if device.state == Device.State.NOT_RECEIVED:
        raise DomainError(
            _(
                "%(serial)s staat als niet ontvangen. Vraag de donateur op de donatiepagina "
                "'alsnog gevonden' te melden, of neem contact op met de coördinatie."
            )
            % {"serial": device.serial_number}
        )
    if device.state not in (Device.State.ANNOUNCED, Device.State.RECEIVED):
        raise DomainError(
            _("%(serial)s heeft al de status '%(state)s'.")
            % {"serial": device.serial_number, "state": device.get_state_display()}
        )
    _assign_asset_tag(device)
    if device.state == Device.State.ANNOUNCED:
        device_transition(
            device, Device.State.RECEIVED, by=by, organisation=organisation, note=_("Inname")
        )


def _intake_add(donation, serial, *, kind, by, organisation) -> Device:
    tag = normalise_asset_tag(serial)
    if is_valid_asset_tag(tag) and Device.objects.filter(asset_tag=tag).exists():
        raise DomainError(
            _("%(value)s is een apparaatcode, geen serienummer. Scan het serienummer.")
            % {"value": serial}
        )
    donation = donation_lock(donation.pk)  # no new unit joins a donation that is being closed
    if donation.status != Donation.Status.RECEIVED:
        raise DomainError(_("Deze donatie neemt geen apparaten meer aan."))
    try:
        with transaction.atomic():
            device = device_add_received(
                donation,
                serial_number=serial,
                kind=kind,
                by=by,
                organisation=organisation,
                note=_("Inname: stond niet op de lijst van de donateur, toegevoegd"),
            )
    except IntegrityError as exc:  # the same unknown unit scanned at two tables at once
        raise DomainError(_("%(serial)s is al gescand.") % {"serial": serial}) from exc
    _assign_asset_tag(device)
    return device


@transaction.atomic
def donation_intake_complete(
    donation_id: int, *, by: User | None, organisation: Organisation
) -> list[Device]:
    """The refurbisher closes intake: the listed units it did not scan become *not received*
    (the donor is told), and the donation may now be processed and certified."""
    devices = devices_mark_not_received(donation_id, by=by, refurbisher=organisation)
    after_outcomes([donation_id], by=by)
    return devices


@transaction.atomic
def device_intake_undo(device_id: int, *, by: User | None, organisation: Organisation) -> str:
    """Undo a unit added at intake that was not on the donor's list (a mis-scan), before it
    has a history beyond intake; returns its serial."""
    device = (
        Device.objects.select_related("donation", "intake_scan")
        .select_for_update(of=("self",))
        .filter(pk=device_id, donation__refurbisher=organisation)
        .first()
    )
    if device is None:
        raise DomainError(_("Dit apparaat is niet gevonden."))
    scan = getattr(device, "intake_scan", None)
    if scan is None or scan.on_manifest:
        raise DomainError(
            _(
                "%(serial)s stond op de lijst van de donateur; alleen een toegevoegd apparaat "
                "kan als verkeerd gescand worden verwijderd."
            )
            % {"serial": device.serial_number}
        )
    has_records = (
        ErasureRecord.objects.filter(device=device).exists()
        or DeviceInspection.objects.filter(device=device).exists()
    )
    if has_records:
        raise DomainError(
            _(
                "%(serial)s heeft al een geschiedenis na de inname en kan niet meer als "
                "verkeerd gescand worden verwijderd."
            )
            % {"serial": device.serial_number}
        )
    scan.delete()
    return device_remove_misscan(device, by=by)
