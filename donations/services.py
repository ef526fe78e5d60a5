"""Writes with business meaning for donations and devices; views, admin and tasks call these."""

import uuid
from collections.abc import Iterable
from datetime import date, timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from allemaal.models import Organisation, User
from allemaal.postcodes import normalise_postcode, province_for_postcode
from allemaal.services import DomainError, enqueue
from allemaal.transitions import transition, transition_many

from .manifest import (
    COLUMN_KEYS,
    ManifestError,
    ManifestInvalid,
    ManifestReader,
    manifest_parse,
    sanitized,
    stored_plan,
)
from .models import (
    ColumnMapping,
    Device,
    DeviceEvent,
    Donation,
    DonationEvent,
    DonationPolicy,
    Manifest,
    ManifestImport,
)

# A device has an outcome once it left the refurbisher's hands, was recycled, never arrived
# (not received) or went missing on its way (lost).
DEVICE_OUTCOME_STATES = {
    "ready",
    "allocated",
    "shipped",
    "delivered",
    "recycled",
    "not_received",
    "lost",
}


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

    The shared mechanism behind every donation transition service (`Donation.transitions`);
    callers lock the row, check their own rules, and queue side effects with
    `transaction.on_commit`.
    """
    transition(donation, to_status, by=by, note=note, update_fields=update_fields, locked=True)
    return donation


@transaction.atomic
def donation_mark_processed(donation_id: int, *, by: User | None) -> bool:
    """A received donation becomes processed once every one of its devices has an outcome.

    Returns whether it moved; safe to call after every device step (a no-op until complete).
    """
    from allemaal.services import notify_organisation

    donation = donation_lock(donation_id)
    if donation.status != Donation.Status.RECEIVED:
        return False
    if donation.devices.exclude(state__in=DEVICE_OUTCOME_STATES).exists():
        return False
    if not donation.devices.exists():
        return False
    donation_transition(donation, Donation.Status.PROCESSED, by=by)
    notify_organisation(donation.donor, kind="donation_processed", context={"donation": donation})
    return True


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

    The shared mechanism behind every device transition service (`Device.transitions`): the
    caller has already locked the row (`select_for_update`) inside a transaction and checked
    its own business rules; `update_fields` names the caller's other changed fields, saved
    with the state.
    """
    if device.state == to_state:
        # The custody trail never repeats a state: a second scan or step is refused with the
        # reason, not silently ignored.
        raise Device.transitions.refusal(device, to_state)
    transition(
        device,
        to_state,
        by=by,
        note=note,
        update_fields=update_fields,
        event_fields={"organisation": organisation},
        locked=True,
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
    """Move several devices in one transaction, locking them in id order to avoid deadlocks;
    every move is checked before any is written."""
    devices = list(
        Device.objects.select_for_update().filter(pk__in=list(device_ids)).order_by("pk")
    )
    for device in devices:
        if device.state == to_state:
            raise Device.transitions.refusal(device, to_state)
    transition_many(
        devices,
        to_state,
        by=by,
        note=note,
        event_fields={"organisation": organisation},
        locked=True,
    )
    return devices


class DeviceMoves:
    """Moves of locked devices, checked and applied in memory one at a time (a device may move
    more than once, each move a custody event), then written at once by `write`: one UPDATE
    per final state and one insert of the events. For batches (1,000 erasure logs) where a
    `device_transition` per device would cost two queries each."""

    def __init__(self, *, by: User | None, organisation: Organisation | None):
        self.by, self.organisation = by, organisation
        self.at = timezone.now()
        self.events: list[DeviceEvent] = []
        self.moved: dict[int, Device] = {}

    def move(self, device: Device, to_state: str, note: str = "") -> None:
        """Check and apply one move in memory, as `device_transition` would."""
        table = Device.transitions
        if device.state == to_state:
            raise table.refusal(device, to_state)
        table.check(device, to_state)
        event = table.history_row(
            device,
            device.state,
            to_state,
            by=self.by,
            note=note,
            at=self.at,
            extra={"organisation": self.organisation},
            event_model=DeviceEvent,
        )
        self.events.append(event)
        device.state, device.state_changed_at = to_state, self.at
        self.moved[device.pk] = device

    def write(self) -> None:
        by_state: dict[str, list[int]] = {}
        for device in self.moved.values():
            by_state.setdefault(device.state, []).append(device.pk)
        for state, ids in sorted(by_state.items()):
            Device.objects.filter(pk__in=ids).update(state=state, state_changed_at=self.at)
        DeviceEvent.objects.bulk_create(self.events)
        self.events, self.moved = [], {}


# --- Donations: one service per edge ----------------------------------------------------


def below_minimum_message(minimum: int) -> str:
    """Why a small donation is refused, and where private people can go instead (plain Dutch)."""
    return _(
        "Wij nemen op dit moment alleen partijen van minstens %(min)d apparaten aan. Zo kunnen "
        "de opknappartners veel apparaten tegelijk ophalen, wissen en klaarmaken. Heeft u als "
        "particulier of klein bedrijf een paar apparaten over? Breng ze naar een kringloopwinkel, "
        "een repaircafé of een inzamelactie van uw gemeente of bibliotheek."
    ) % {"min": minimum}


def donation_register(*, donor: Organisation, by: User, data: dict) -> Donation:
    """A verified donor pledges a batch of at least the policy's minimum number of devices."""
    from allemaal.services import notify_organisation

    if donor.kind != Organisation.Kind.DONOR or not donor.is_verified:
        raise DomainError(_("Alleen een gecontroleerde donateur kan een donatie aanmelden."))
    donation = Donation(donor=donor, created_by=by, **data)
    if not donation.consent_transfer:
        raise DomainError(_("Geef toestemming voor de overdracht van het eigendom."))
    minimum = DonationPolicy.current().effective_min_batch_size
    if donation.pledged_devices < minimum:
        raise DomainError(below_minimum_message(minimum))
    donation.pickup_postcode = normalise_postcode(donation.pickup_postcode)
    donation.pickup_province = province_for_postcode(donation.pickup_postcode)
    with transaction.atomic():
        donation.save()
        DonationEvent.objects.create(donation=donation, to_status=Donation.Status.PLEDGED, by=by)
        notify_organisation(donor, kind="donation_registered", context={"donation": donation})
    return donation


@transaction.atomic
def donation_schedule_pickup(
    donation_id: int, *, by: User, pickup_date: date, refurbisher: Organisation
) -> Donation:
    """A coordinator sets the pickup day and the refurbisher who collects; both are told.

    A scheduled donation can be rescheduled (another day or refurbisher) the same way.
    """
    from allemaal.services import notify_organisation

    if refurbisher.kind != Organisation.Kind.REFURBISHER or not refurbisher.is_verified:
        raise DomainError(_("Kies een gecontroleerde opknappartner."))
    if pickup_date < timezone.localdate():
        raise DomainError(_("De ophaaldatum ligt in het verleden."))
    donation = donation_lock(donation_id)
    previous = donation.refurbisher if donation.status == Donation.Status.SCHEDULED else None
    if previous == refurbisher and donation.pickup_date == pickup_date:
        return donation
    donation.refurbisher = refurbisher
    donation.pickup_date = pickup_date
    note = _("Ophalen op %(date)s door %(who)s.") % {
        "date": date_format(pickup_date, "DATE_FORMAT"),
        "who": refurbisher.name,
    }
    if previous is not None:
        # Rescheduling keeps the status; the history still records who changed what.
        donation.save(update_fields=["refurbisher", "pickup_date"])
        DonationEvent.objects.create(
            donation=donation,
            from_status=Donation.Status.SCHEDULED,
            to_status=Donation.Status.SCHEDULED,
            by=by,
            note=note,
        )
    else:
        donation_transition(
            donation,
            Donation.Status.SCHEDULED,
            by=by,
            note=note,
            update_fields=["refurbisher", "pickup_date"],
        )
    context = {"donation": donation, "refurbisher": refurbisher}
    notify_organisation(donation.donor, kind="donation_pickup_scheduled", context=context)
    notify_organisation(refurbisher, kind="donation_pickup_assigned", context=context)
    if previous is not None and previous != refurbisher:
        notify_organisation(previous, kind="donation_pickup_withdrawn", context=context)
    return donation


def _withdraw_announced_devices(donation: Donation) -> int:
    """Remove the devices of a donation that will never come, so their serials are free again.

    Announced devices were only a promise on a list, never in anybody's hands: there is no
    custody to keep, and keeping them would block the same serials in a later donation.
    """
    announced = Device.objects.filter(donation=donation, state=Device.State.ANNOUNCED)
    DeviceEvent.objects.filter(device__in=announced).delete()
    deleted, _by_model = announced.delete()
    return deleted


def _donation_close(
    donation: Donation, to_status: str, *, by: User | None, reason: str
) -> Donation:
    """Cancel or decline: record the reason, free the announced serials, tell the refurbisher."""
    from allemaal.services import notify_organisation

    was_scheduled = donation.status == Donation.Status.SCHEDULED
    donation.status_reason = reason
    donation_transition(donation, to_status, by=by, note=reason, update_fields=["status_reason"])
    _withdraw_announced_devices(donation)
    if was_scheduled:
        notify_organisation(
            donation.refurbisher,
            kind="donation_pickup_withdrawn",
            context={"donation": donation, "refurbisher": donation.refurbisher},
        )
    return donation


@transaction.atomic
def donation_decline(donation_id: int, *, by: User, reason: str) -> Donation:
    """A coordinator declines a donation before it is collected, always with a reason."""
    from allemaal.services import notify_organisation

    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Geef een reden op voor de afwijzing."))
    donation = donation_lock(donation_id)
    if donation.status == Donation.Status.DECLINED:
        return donation
    _donation_close(donation, Donation.Status.DECLINED, by=by, reason=reason)
    notify_organisation(
        donation.donor, kind="donation_declined", context={"donation": donation, "reason": reason}
    )
    return donation


@transaction.atomic
def donation_cancel(
    donation_id: int, *, by: User, donor: Organisation, reason: str = ""
) -> Donation:
    """The donor cancels its own donation, as long as nothing has been collected yet."""
    donation = donation_lock(donation_id)
    if donation.donor_id != donor.pk:
        raise DomainError(_("Deze donatie hoort niet bij uw organisatie."))
    if donation.status == Donation.Status.CANCELLED:
        return donation
    if donation.status in (
        Donation.Status.COLLECTED,
        Donation.Status.RECEIVED,
        Donation.Status.PROCESSED,
    ):
        raise DomainError(
            _(
                "Donatie %(ref)s is al opgehaald. Annuleren kan alleen zolang de apparaten nog "
                "niet zijn opgehaald."
            )
            % {"ref": donation.reference}
        )
    return _donation_close(
        donation, Donation.Status.CANCELLED, by=by, reason=(reason or "").strip()
    )


def _lock_assigned(donation_id: int, refurbisher: Organisation) -> Donation:
    donation = donation_lock(donation_id)
    if donation.refurbisher_id != refurbisher.pk:
        raise DomainError(_("Deze donatie is niet aan uw organisatie toegewezen."))
    return donation


@transaction.atomic
def donation_confirm_collected(
    donation_id: int, *, by: User, refurbisher: Organisation
) -> Donation:
    """The assigned refurbisher confirms it has picked the batch up at the donor."""
    donation = _lock_assigned(donation_id, refurbisher)
    if donation.status == Donation.Status.COLLECTED:
        return donation
    return donation_transition(donation, Donation.Status.COLLECTED, by=by)


RECEIVED_FIELDS = {
    "laptops": "received_laptops",
    "chromebooks": "received_chromebooks",
    "tablets": "received_tablets",
    "chargers": "received_chargers",
}


@transaction.atomic
def donation_confirm_received(
    donation_id: int, *, by: User, refurbisher: Organisation, counts: dict[str, int]
) -> Donation:
    """The assigned refurbisher counts the batch in; the difference with the pledge is kept."""
    from allemaal.services import notify_organisation

    if set(counts) != set(RECEIVED_FIELDS) or any(
        not isinstance(n, int) or n < 0 for n in counts.values()
    ):
        raise DomainError(_("Vul voor elk soort apparaat het getelde aantal in (0 of meer)."))
    donation = _lock_assigned(donation_id, refurbisher)
    if donation.status in (Donation.Status.RECEIVED, Donation.Status.PROCESSED):
        raise DomainError(
            _("Donatie %(ref)s is al ontvangen en geteld.") % {"ref": donation.reference}
        )
    for key, field_name in RECEIVED_FIELDS.items():
        setattr(donation, field_name, counts[key])
    differences = [d for d in donation.count_differences() if d["diff"]]
    note = "; ".join(f"{d['label']}: {d['pledged']} → {d['received']}" for d in differences)
    donation_transition(
        donation,
        Donation.Status.RECEIVED,
        by=by,
        note=note,
        update_fields=list(RECEIVED_FIELDS.values()),
    )
    notify_organisation(
        donation.donor,
        kind="donation_received",
        context={"donation": donation, "differences": donation.count_differences()},
    )
    return donation


# --- Devices that never arrived -----------------------------------------------------------


@transaction.atomic
def devices_mark_not_received(
    donation_id: int, *, by: User | None, refurbisher: Organisation
) -> list[Device]:
    """Intake of a received donation is complete: every listed unit that was not scanned in
    becomes *not received* (a custody event each), and the donor is told which serials."""
    from allemaal.services import notify_organisation

    donation = _lock_assigned(donation_id, refurbisher)
    if donation.status != Donation.Status.RECEIVED:
        raise DomainError(
            _("Inname afronden kan alleen bij een ontvangen donatie (%(ref)s is %(status)s).")
            % {"ref": donation.reference, "status": donation.get_status_display().lower()}
        )
    missing = list(
        Device.objects.select_for_update()
        .filter(donation=donation, state=Device.State.ANNOUNCED)
        .order_by("pk")
    )
    moved = transition_many(
        missing,
        Device.State.NOT_RECEIVED,
        by=by,
        note=_("Inname afgerond: stond op de lijst, niet in de zending"),
        event_fields={"organisation": refurbisher},
        locked=True,
    )
    if moved:
        notify_organisation(
            donation.donor,
            kind="donation_not_received",
            context={
                "donation": donation,
                "serials": [device.serial_number for device in moved],
            },
        )
    return moved


@transaction.atomic
def devices_found_later(
    donation_id: int, device_ids: Iterable[int], *, by: User, donor: Organisation
) -> list[Device]:
    """The donor found units that did not arrive: they are announced again, so that intake
    reopens for them, and the refurbisher is told. Only while the donation is not processed."""
    from allemaal.services import notify_organisation

    donation = donation_lock(donation_id)
    if donation.donor_id != donor.pk:
        raise DomainError(_("Deze donatie hoort niet bij uw organisatie."))
    ids = sorted(set(device_ids))
    if not ids:
        raise DomainError(_("Kies de apparaten die u alsnog heeft gevonden."))
    if donation.status != Donation.Status.RECEIVED:
        raise DomainError(
            _(
                "Donatie %(ref)s is al afgerond. Neem contact op met de coördinatie om de "
                "gevonden apparaten alsnog te brengen."
            )
            % {"ref": donation.reference}
        )
    devices = list(
        Device.objects.select_for_update()
        .filter(donation=donation, pk__in=ids, state=Device.State.NOT_RECEIVED)
        .order_by("pk")
    )
    if len(devices) != len(ids):
        raise DomainError(_("Een of meer gekozen apparaten staan niet als niet ontvangen."))
    transition_many(
        devices,
        Device.State.ANNOUNCED,
        by=by,
        note=_("Door de donateur alsnog gevonden; inname heropend"),
        event_fields={"organisation": donor},
        locked=True,
    )
    notify_organisation(
        donation.refurbisher,
        kind="donation_found_later",
        context={"donation": donation, "serials": [d.serial_number for d in devices]},
    )
    return devices


def device_add_received(
    donation: Donation,
    *,
    serial_number: str,
    kind: str,
    by: User | None,
    organisation: Organisation,
    note: str,
    asset_tag: str | None = None,
) -> Device:
    """A unit that was not on the donor's list arrives: it starts its trail at received (it
    was never announced), with that first custody event."""
    now = timezone.now()
    device = Device.objects.create(
        donation=donation,
        serial_number=serial_number,
        kind=kind,
        asset_tag=asset_tag,
        state=Device.State.RECEIVED,
        state_changed_at=now,
        created_at=now,
    )
    DeviceEvent.objects.create(
        device=device,
        from_state="",
        to_state=Device.State.RECEIVED,
        at=now,
        by=by,
        organisation=organisation,
        note=note,
    )
    return device


def device_remove_misscan(device: Device, *, by: User | None) -> str:
    """Remove a locked unit that was added at intake by mistake (a mis-scan), as long as its
    only custody event is that intake; returns its serial. The caller (refurbish) checked that
    it was not on the donor's list and removed its own records of it first."""
    trail = list(device.events.values_list("from_state", "to_state"))
    if device.state != Device.State.RECEIVED or trail != [("", Device.State.RECEIVED)]:
        raise DomainError(
            _(
                "%(serial)s heeft al een geschiedenis na de inname en kan niet meer als "
                "verkeerd gescand worden verwijderd."
            )
            % {"serial": device.serial_number}
        )
    serial, donation_id = device.serial_number, device.donation_id
    # Never on a list and nothing done to it: its one intake event goes with it (the database
    # allows exactly this delete, see migration 0008).
    device.events.all().delete()
    device.delete()
    DonationEvent.objects.create(
        donation_id=donation_id,
        from_status=Donation.Status.RECEIVED,
        to_status=Donation.Status.RECEIVED,
        by=by,
        note=_("Verkeerd gescand apparaat %(serial)s verwijderd.") % {"serial": serial},
    )
    return serial


# --- Manifest import ---------------------------------------------------------------------


def _prepared(instance, fields) -> dict:
    """Each field's database value on `instance`, as the current backend stores it."""
    return {f.attname: f.get_db_prep_save(getattr(instance, f.attname), connection) for f in fields}


def _devices_copy(donation: Donation, rows: Iterable[tuple], now) -> int:
    """PostgreSQL: stream the devices in with COPY (see bench/bench_manifest_import.py).

    `rows` may be a generator reading the file: the database takes each row in while Python
    reads and checks the next one.
    """
    count = 0
    fields = [f for f in Device._meta.concrete_fields if not f.primary_key]
    prototype = Device(donation=donation, state_changed_at=now, created_at=now)
    # The columns the same for every row first, then those of a parsed row in its order, so
    # that each row is one tuple concatenation.
    fixed = [f for f in fields if f.attname not in COLUMN_KEYS]
    fixed_values = tuple(
        f.get_db_prep_save(getattr(prototype, f.attname), connection) for f in fixed
    )
    by_name = {f.attname: f for f in fields}
    ordered = fixed + [by_name[key] for key in COLUMN_KEYS]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in ordered)
    table = connection.ops.quote_name(Device._meta.db_table)
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(fixed_values + row)
            count += 1
    return count


def _devices_bulk_create(donation: Donation, rows: list[tuple], now) -> None:
    Device.objects.bulk_create(
        (
            Device(
                donation=donation,
                state_changed_at=now,
                created_at=now,
                **dict(zip(COLUMN_KEYS, row, strict=True)),
            )
            for row in rows
        ),
        batch_size=1000,
    )


def _announcements_insert(donation: Donation, now, by: User | None) -> None:
    """One INSERT … SELECT writes the `announced` custody event of every device just added."""
    event_fields = [
        f for f in DeviceEvent._meta.concrete_fields if not f.primary_key and f.name != "device"
    ]
    prototype = DeviceEvent(
        to_state=Device.State.ANNOUNCED, at=now, by=by, organisation=donation.donor, note=""
    )
    values = _prepared(prototype, event_fields)
    qn = connection.ops.quote_name
    device = Device._meta
    created_at = device.get_field("created_at")
    # Only quoted table and column names from the models are formatted in; values are params.
    target = (
        f"{qn(DeviceEvent._meta.db_table)} ({qn(DeviceEvent._meta.get_field('device').column)}, "
        f"{', '.join(qn(f.column) for f in event_fields)})"
    )
    select = f"{qn(device.pk.column)}, {', '.join(['%s'] * len(event_fields))}"
    where = f"{qn(device.get_field('donation').column)} = %s AND {qn(created_at.column)} = %s"
    sql = f"INSERT INTO {target} SELECT {select} FROM {qn(device.db_table)} WHERE {where}"  # noqa: S608
    params = [values[f.attname] for f in event_fields]
    params += [donation.pk, created_at.get_db_prep_value(now, connection)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _check_accepts_manifest(donation: Donation, donor: Organisation) -> None:
    if donation.donor_id != donor.pk:
        raise DomainError(_("Deze donatie hoort niet bij uw organisatie."))
    if not donation.accepts_manifest:
        raise DomainError(
            _("Bij donatie %(ref)s (%(status)s) kunt u geen apparatenlijst meer toevoegen.")
            % {"ref": donation.reference, "status": donation.get_status_display()}
        )


class _RollBack(Exception):
    """Undo the rows written so far: the list turned out to have errors."""


def manifest_import(
    donation_id: int, *, by: User, donor: Organisation, uploaded_file, **options
) -> Manifest:
    """The donor's asset list becomes announced devices, all of them or none.

    Raises `ManifestInvalid` with every error (row and column) when any row is wrong.
    `options` go to `ManifestReader` (a kept list, the donor's mapping, skipping).
    """
    _check_accepts_manifest(Donation.objects.get(pk=donation_id), donor)
    reader = _reader(uploaded_file, options)
    try:
        with transaction.atomic():
            donation = donation_lock(donation_id)
            _check_accepts_manifest(donation, donor)
            # One timestamp for the whole list: it also tells which devices are new below.
            now = timezone.now()
            if connection.vendor == "postgresql":
                count = _devices_copy(donation, reader.rows(), now)
                if reader.errors.total:
                    raise _RollBack
                # Serials already on the platform: the unique index refuses them (below).
                reader.finish(check_platform=False)
            else:
                rows = list(reader.rows())
                reader.finish()
                _devices_bulk_create(donation, rows, now)
                count = len(rows)
            _announcements_insert(donation, now, by)
            manifest = Manifest.objects.create(
                donation=donation,
                file_name=(getattr(uploaded_file, "name", "") or "")[-255:],
                rows=count,
                uploaded_by=by,
                uploaded_at=now,
            )
    except _RollBack:
        # Now that this list's rows are gone again, look its serials up to list every error.
        reader.finish()
        raise
    except IntegrityError as exc:
        raise _serials_taken(uploaded_file, options) from exc
    manifest.ignored_columns = reader.ignored_columns
    manifest.skipped = reader.skipped
    return manifest


def _reader(uploaded_file, options) -> ManifestReader:
    if options.get("stored"):
        return ManifestReader(**{**options, "stored": uploaded_file})
    return ManifestReader(uploaded_file, **options)


def _serials_taken(uploaded_file, options) -> ManifestInvalid:
    """The errors of a list whose serials the unique index refused: read it again to name them."""
    uploaded_file.seek(0)
    try:
        if options.get("stored"):
            manifest_parse(**{**options, "stored": uploaded_file})
        else:
            manifest_parse(uploaded_file, **options)
    except ManifestInvalid as invalid:
        return invalid
    # Another list with these serials came and went between our write and this look-up.
    return ManifestInvalid(
        [
            ManifestError(
                0,
                "",
                _(
                    "Een of meer serienummers zijn zojuist door een andere lijst toegevoegd. "
                    "Upload het bestand opnieuw."
                ),
            )
        ]
    )


# --- Asset lists: kept without personal data, previewed, then imported -------------------------

STORED_SUFFIX = ".jsonl"


def _keep(job: ManifestImport, data: bytes) -> None:
    job.file.save(f"{uuid.uuid4().hex}{STORED_SUFFIX}", ContentFile(data), save=False)


def manifest_preview_start(
    donation_id: int, *, by: User, donor: Organisation, uploaded_file
) -> ManifestImport:
    """Read the list through every upload limit and keep it, with the columns that name people
    emptied, for the donor's preview. Raises `ManifestInvalid` for a file we cannot read."""
    donation = Donation.objects.get(pk=donation_id)
    _check_accepts_manifest(donation, donor)
    data, personal = sanitized(uploaded_file)
    name = (getattr(uploaded_file, "name", "") or "")[-255:]
    job = ManifestImport(
        donation=donation,
        uploaded_by=by,
        file_name=name,
        status=ManifestImport.Status.PREVIEW,
        personal_columns=personal,
    )
    _keep(job, data)
    job.save()
    return job


def manifest_import_enqueue(
    donation_id: int, *, by: User, donor: Organisation, uploaded_file
) -> ManifestImport:
    """Keep a large uploaded list for a moment and let a background job read it (see
    `manifest_prepare_run`), so that no web request spends more than a moment on it."""
    from . import tasks

    donation = Donation.objects.get(pk=donation_id)
    _check_accepts_manifest(donation, donor)
    name = (getattr(uploaded_file, "name", "") or "")[-255:]
    job = ManifestImport(
        donation=donation, uploaded_by=by, file_name=name, status=ManifestImport.Status.RECEIVED
    )
    job.file.save(f"{uuid.uuid4().hex}.upload", uploaded_file, save=False)
    job.save()
    transaction.on_commit(lambda: enqueue(tasks.manifest_prepare_run, (job.pk,)))
    return job


def manifest_prepare_run(job_id: int) -> ManifestImport:
    """Read a large uploaded list and keep it without the columns that name people, for the
    donor's preview; the file as uploaded is deleted either way. Idempotent."""
    job = ManifestImport.objects.get(pk=job_id)
    if job.status != ManifestImport.Status.RECEIVED:
        return job
    raw = job.file.name
    try:
        with job.file.open("rb") as stored:
            data, personal = sanitized(File(stored, name=job.file_name))
    except ManifestInvalid as invalid:
        errors = [{"row": e.row, "column": e.column, "message": e.message} for e in invalid.errors]
        job.file.storage.delete(raw)
        job.file = ""
        job.save(update_fields=["file"])
        _job_set(job, status=ManifestImport.Status.FAILED, errors=errors, total=invalid.total)
        return job
    _keep(job, data)
    job.personal_columns = personal
    job.status = ManifestImport.Status.PREVIEW
    job.save(update_fields=["file", "personal_columns", "status"])
    job.file.storage.delete(raw)
    return job


def manifest_previews_expire(now=None) -> int:
    """Nightly: previews nobody confirmed within `MANIFEST_PREVIEW_MAX_AGE_DAYS` end as not
    imported, with the reason on the donor's page, and their kept file is deleted (a company's
    asset list is not kept for a list that was abandoned). Idempotent; returns how many."""
    now = now or timezone.now()
    days = settings.MANIFEST_PREVIEW_MAX_AGE_DAYS
    expired = 0
    stale = ManifestImport.objects.filter(
        status=ManifestImport.Status.PREVIEW, created_at__lt=now - timedelta(days=days)
    )
    for job_id in stale.values_list("pk", flat=True).order_by("pk").iterator():
        with transaction.atomic():
            job = ManifestImport.objects.select_for_update().get(pk=job_id)
            if job.status != ManifestImport.Status.PREVIEW:
                continue
            stored = job.file.name
            job.file = ""
            job.save(update_fields=["file"])
            message = _(
                "Deze lijst wachtte langer dan %(days)d dagen op uw controle. Wij hebben hem "
                "verwijderd. Upload hem opnieuw als u hem nog wilt gebruiken."
            ) % {"days": days}
            _job_set(
                job,
                status=ManifestImport.Status.FAILED,
                errors=[{"row": None, "column": "", "message": message}],
                total=1,
            )
            if stored:
                storage = job.file.storage
                transaction.on_commit(lambda name=stored, where=storage: where.delete(name))
            expired += 1
    return expired


def _own_preview(job_id: int, donor: Organisation) -> ManifestImport:
    job = ManifestImport.objects.select_related("donation").get(pk=job_id)
    _check_accepts_manifest(job.donation, donor)
    if job.status != ManifestImport.Status.PREVIEW:
        raise DomainError(_("Deze lijst is al in behandeling."))
    return job


def manifest_mapping_choose(
    job_id: int, *, by: User, donor: Organisation, mapping: dict, skip_unaccepted: bool
) -> ManifestImport:
    """The donor's choice of field per column (and whether to skip what we cannot take), for
    the preview."""
    job = _own_preview(job_id, donor)
    job.mapping, job.skip_unaccepted = mapping, skip_unaccepted
    job.save(update_fields=["mapping", "skip_unaccepted"])
    return job


def manifest_import_confirm(
    job_id: int,
    *,
    by: User,
    donor: Organisation,
    mapping: dict,
    skip_unaccepted: bool,
    background: bool,
) -> ManifestImport:
    """Import the previewed list with the donor's mapping, now (a short list) or in a
    background job; the mapping is remembered for the organisation's next list with this
    header."""
    from . import tasks

    job = _own_preview(job_id, donor)
    with job.file.open("rb") as stored:
        plan = stored_plan(stored, mapping)
    ColumnMapping.objects.update_or_create(
        organisation=donor,
        signature=plan.signature,
        defaults={"mapping": plan.mapping, "updated_at": timezone.now()},
    )
    job.mapping, job.skip_unaccepted = plan.mapping, skip_unaccepted
    job.status = ManifestImport.Status.QUEUED
    job.save(update_fields=["mapping", "skip_unaccepted", "status"])
    if background:
        transaction.on_commit(lambda: enqueue(tasks.manifest_import_run, (job.pk,)))
        return job
    return manifest_import_run(job.pk)


def remembered_mapping(organisation: Organisation, signature: str) -> dict | None:
    found = ColumnMapping.objects.filter(organisation=organisation, signature=signature).first()
    return found.mapping if found else None


# A job untouched for this long is taken to be stuck (its worker died); it may be queued again.
STUCK_AFTER = timezone.timedelta(minutes=10)


def manifest_import_requeue(job_id: int, *, by: User) -> ManifestImport:
    """Queue a stuck job again (a coordinator, from the admin): a list still to be read for its
    preview, or one the donor confirmed whose import never finished. Idempotent in effect: the
    import is all or nothing and its serials are unique."""
    from . import tasks

    with transaction.atomic():
        job = ManifestImport.objects.select_for_update().get(pk=job_id)
        waiting = (ManifestImport.Status.RECEIVED, *RUNNABLE)
        if job.status not in waiting or not job.file:
            raise DomainError(
                _("%(file)s (%(status)s) kan niet opnieuw in de wachtrij.")
                % {"file": job.file_name, "status": job.get_status_display()}
            )
        if job.created_at > timezone.now() - STUCK_AFTER:
            raise DomainError(
                _("%(file)s is nog geen tien minuten oud; geef de taak de tijd.")
                % {"file": job.file_name}
            )
        if job.status == ManifestImport.Status.RECEIVED:
            task = tasks.manifest_prepare_run
        else:
            job.status = ManifestImport.Status.QUEUED
            job.save(update_fields=["status"])
            task = tasks.manifest_import_run
        transaction.on_commit(lambda: enqueue(task, (job.pk,)))
    return job


RUNNABLE = (
    ManifestImport.Status.QUEUED,
    ManifestImport.Status.CHECKING,
    ManifestImport.Status.IMPORTING,
)


def manifest_import_run(job_id: int) -> ManifestImport:
    """Check every row first (the job's progress shows on the page), then import the list all
    or nothing; a finished job is left as it is."""
    job = ManifestImport.objects.select_related("donation__donor", "uploaded_by").get(pk=job_id)
    if job.status not in RUNNABLE:
        return job
    _job_set(job, status=ManifestImport.Status.CHECKING)
    options = {"mapping": job.mapping, "skip_unaccepted": job.skip_unaccepted}
    if job.file.name.endswith(STORED_SUFFIX):
        options["stored"] = True
    try:
        with job.file.open("rb") as stored:
            upload = File(stored, name=job.file_name)
            reader = _reader(upload, options)
            for count, _row in enumerate(reader.rows(), start=1):
                if count % 1000 == 0:
                    _job_set(job, rows_read=count)
            reader.finish()
            _job_set(job, status=ManifestImport.Status.IMPORTING, rows_read=reader.count)
            upload.seek(0)
            manifest = manifest_import(
                job.donation_id,
                by=job.uploaded_by,
                donor=job.donation.donor,
                uploaded_file=upload,
                **options,
            )
    except ManifestInvalid as invalid:
        errors = [{"row": e.row, "column": e.column, "message": e.message} for e in invalid.errors]
        _job_set(job, status=ManifestImport.Status.FAILED, errors=errors, total=invalid.total)
    except DomainError as exc:
        errors = [{"row": 0, "column": "", "message": str(exc)}]
        _job_set(job, status=ManifestImport.Status.FAILED, errors=errors, total=1)
    else:
        job.skipped = [list(s) for s in manifest.skipped]
        job.save(update_fields=["skipped"])
        _job_set(job, status=ManifestImport.Status.DONE, manifest=manifest)
    job.file.delete(save=False)
    ManifestImport.objects.filter(pk=job.pk).update(file="")
    return job


def _job_set(
    job: ManifestImport, *, status=None, rows_read=None, errors=None, total=0, manifest=None
):
    """Saved at once (outside the import's transaction), so the page can show it."""
    fields = []
    if status is not None:
        job.status = status
        fields.append("status")
        if job.finished:
            job.finished_at = timezone.now()
            fields.append("finished_at")
    if rows_read is not None:
        job.rows_read = rows_read
        fields.append("rows_read")
    if errors is not None:
        job.errors, job.total_errors = errors, total
        fields += ["errors", "total_errors"]
    if manifest is not None:
        job.manifest = manifest
        fields.append("manifest")
    job.save(update_fields=fields)
