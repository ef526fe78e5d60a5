"""Intake at the refurbisher's table: one scanned unit at a time, each with its asset tag."""

from dataclasses import dataclass
from datetime import UTC

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from allemaal.models import Organisation, User
from allemaal.services import DomainError
from donations.models import Device, Donation
from donations.services import (
    device_add_received,
    device_remove_misscan,
    device_transition,
    devices_mark_not_received,
)
from donations.vocabulary import normalise_asset_tag, serial_key

from .. import selectors
from ..asset_tags import format_asset_tag, generate_asset_tag, is_valid_asset_tag
from ..models import DeviceInspection, ErasureRecord, IntakeScan
from ..selectors import IntakeCounts
from .steps import after_outcomes, clean_serial

TAG_ATTEMPTS = 8  # a new random tag is drawn when one collides with an existing tag


@dataclass
class IntakeResult:
    device: Device
    added: bool  # not on the donor's list, added at intake
    counts: IntakeCounts | None = None  # the donation's running count after this scan


class IntakeRefused(DomainError):
    """A refused scan, with the donation's running count (unchanged by it)."""

    def __init__(self, message: str, counts: IntakeCounts | None = None):
        super().__init__(message)
        self.counts = counts


def device_intake_scan(
    donation: Donation | int,
    value: str,
    *,
    kind: str,
    by: User | None,
    organisation: Organisation,
) -> IntakeResult:
    """Receive one scanned unit of a received donation and give it its asset tag.

    A unit on the donor's list moves to received; an unknown serial is added to the donation;
    a unit scanned before is refused, never registered twice. A donation that is not this
    refurbisher's raises `Donation.DoesNotExist`.

    At most five queries: the donation (locked, with its running count), the device (locked,
    matched by serial, by serial without dashes, or by asset tag), the device's update or
    insert (state and asset tag at once), its custody event, and the intake scan. A random tag
    that collides with another (or a unit scanned at another table at the same moment) rolls
    the whole scan back and runs it again, instead of a savepoint around every write.
    """
    serial = clean_serial(value)
    donation_id = getattr(donation, "pk", donation)
    for _attempt in range(TAG_ATTEMPTS):
        try:
            with transaction.atomic():
                return _intake_scan(donation_id, serial, kind, by=by, organisation=organisation)
        except IntegrityError:
            continue
    raise DomainError(_("Er kon geen apparaatcode worden gemaakt. Scan opnieuw."))


def _intake_scan(donation_id, serial, kind, *, by, organisation) -> IntakeResult:
    # Every scan of a donation locks it (no key update: new devices may still point at it), so
    # scans at two tables take turns, closing intake waits for them, and the count read here
    # stays exact.
    donation = _donation_lock_with_counts(donation_id, organisation)
    counts = selectors.intake_counts_of(donation)
    if donation.status != Donation.Status.RECEIVED:
        raise IntakeRefused(
            _("Apparaten scant u in zodra de donatie als ontvangen is bevestigd."), counts
        )
    try:
        device = _intake_match(donation, serial)
    except DomainError as exc:
        raise IntakeRefused(str(exc), counts) from exc
    if device is None:
        device = _intake_add(donation, serial, kind=kind, by=by, organisation=organisation)
        added = True
    else:
        try:
            _intake_receive(donation, device, serial, by=by, organisation=organisation)
        except DomainError as exc:
            raise IntakeRefused(str(exc), counts) from exc
        added = False
    IntakeScan.objects.create(
        device=device,
        donation=donation,
        on_manifest=not added,
        scanned_value=serial,
        by=by,
        organisation=organisation,
    )
    return IntakeResult(
        device=device,
        added=added,
        counts=selectors.intake_counts_of(donation, scanned=1, added=int(added)),
    )


EXACT, DASHLESS, ASSET_TAG = 0, 1, 2


def _columns(model, alias: str, names: tuple[str, ...]) -> tuple[list[str], str]:
    """`names` in the model's field order (as `Model.from_db` takes them), and as SQL."""
    ordered = [f.attname for f in model._meta.concrete_fields if f.attname in names]
    return ordered, ", ".join(f"{alias}.{name}" for name in ordered)


# The scan reads only the fields it uses (the others stay deferred), and both queries are
# written out: built by the ORM, or read through `raw()`, they cost more to compose and to turn
# into models than the database takes to answer them (issue 21). Same SQL on PostgreSQL and
# SQLite, bar the lock.
DONATION_FIELDS, _DONATION_COLUMNS = _columns(
    Donation,
    "d",
    ("id", "donor_id", "status", "laptops", "chromebooks", "tablets", "refurbisher_id"),
)
DONATION_SQL = f"""
SELECT {_DONATION_COLUMNS},
    (SELECT COUNT(*) FROM donations_device v WHERE v.donation_id = d.id) AS intake_total,
    (SELECT COUNT(*) FROM refurbish_intakescan s WHERE s.donation_id = d.id) AS intake_scanned,
    (SELECT COUNT(*) FROM refurbish_intakescan s
        WHERE s.donation_id = d.id AND NOT s.on_manifest) AS intake_added
FROM donations_donation d
WHERE d.id = %s AND d.refurbisher_id = %s
"""  # noqa: S608 - the columns are the model's own field names
DEVICE_FIELDS, _DEVICE_COLUMNS = _columns(
    Device,
    "v",
    ("id", "donation_id", "state", "serial_number", "asset_tag", "kind", "make", "model"),
)
DEVICE_SQL = f"""
SELECT {_DEVICE_COLUMNS}, s.at AS scan_at,
    CASE WHEN v.serial_number = %s THEN 0
        WHEN v.donation_id = %s AND REPLACE(v.serial_number, '-', '') = %s THEN 1
        ELSE 2 END AS rank
FROM donations_device v LEFT JOIN refurbish_intakescan s ON s.device_id = v.id
WHERE v.serial_number = %s
    OR (v.donation_id = %s AND REPLACE(v.serial_number, '-', '') = %s)
    OR v.asset_tag = %s
ORDER BY rank, v.id
LIMIT 4
"""  # noqa: S608 - the columns are the model's own field names


def _for_update(sql: str, clause: str) -> str:
    return sql + clause if connection.features.has_select_for_update else sql


def _donation_lock_with_counts(donation_id: int, organisation: Organisation) -> Donation:
    """This refurbisher's donation, locked, with its running count of the intake (the
    `intake_*` attributes `selectors.intake_counts_of` reads)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _for_update(DONATION_SQL, " FOR NO KEY UPDATE OF d"), [donation_id, organisation.pk]
        )
        row = cursor.fetchone()
    if row is None:
        raise Donation.DoesNotExist
    count = len(DONATION_FIELDS)
    donation = Donation.from_db(connection.alias, DONATION_FIELDS, row[:count])
    donation.intake_total, donation.intake_scanned, donation.intake_added = row[count:]
    return donation


def _device_from_row(row) -> Device:
    count = len(DEVICE_FIELDS)
    device = Device.from_db(connection.alias, DEVICE_FIELDS, row[:count])
    device.scan_at, device.rank = row[count:]
    return device


def _intake_match(donation: Donation, serial: str) -> Device | None:
    """The locked device this scan is: the serial as spelled, else the one unit of this
    donation whose serial differs only in dashes (`serial_key`); None for an unknown serial.
    A scanned asset tag instead of a serial is refused. One query for all three, each on its
    index (serial, donation, asset tag): only this donation's units are compared without
    dashes, a few hundred rows, never the whole platform."""
    key = serial_key(serial)
    tag = normalise_asset_tag(serial)
    tag = tag if is_valid_asset_tag(tag) else None  # matches no row
    with connection.cursor() as cursor:
        cursor.execute(
            _for_update(DEVICE_SQL, " FOR UPDATE OF v"),
            [serial, donation.pk, key, serial, donation.pk, key, tag],
        )
        rows = [_device_from_row(row) for row in cursor.fetchall()]
    if rows and rows[0].rank == EXACT:
        return rows[0]
    dashless_rows = [row for row in rows if row.rank == DASHLESS]
    if len(dashless_rows) > 1:
        raise DomainError(
            _("%(serial)s past op meer dan één apparaat van de lijst. Typ het precies over.")
            % {"serial": serial}
        )
    if dashless_rows:
        return dashless_rows[0]
    if rows:  # a unit's asset tag
        raise DomainError(
            _("%(value)s is een apparaatcode, geen serienummer. Scan het serienummer.")
            % {"value": serial}
        )
    return None


def _intake_receive(donation, device, serial, *, by, organisation) -> None:
    if device.donation_id != donation.pk:
        raise DomainError(
            _(
                "Serienummer %(serial)s hoort bij een andere donatie. Leg dit apparaat apart en "
                "neem contact op met de coördinatie."
            )
            % {"serial": serial}
        )
    if device.scan_at is not None:
        scanned_at = device.scan_at
        if isinstance(scanned_at, str):  # SQLite answers a raw column as text
            scanned_at = parse_datetime(scanned_at)
        if timezone.is_naive(scanned_at):
            scanned_at = timezone.make_aware(scanned_at, UTC)
        raise DomainError(
            _("%(serial)s is al gescand om %(time)s (apparaatcode %(tag)s). Eén keer is genoeg.")
            % {
                "serial": device.serial_number,
                "time": timezone.localtime(scanned_at).strftime("%H:%M"),
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
    tagged = not device.asset_tag
    if tagged:  # saved with the state, in one UPDATE
        device.asset_tag = generate_asset_tag()
    if device.state == Device.State.ANNOUNCED:
        device_transition(
            device,
            Device.State.RECEIVED,
            by=by,
            organisation=organisation,
            note=_("Inname"),
            update_fields=["asset_tag"] if tagged else (),
        )
    elif tagged:
        device.save(update_fields=["asset_tag"])


def _intake_add(donation, serial, *, kind, by, organisation) -> Device:
    # The donation is locked (no new unit joins a donation that is being closed).
    return device_add_received(
        donation,
        serial_number=serial,
        kind=kind,
        asset_tag=generate_asset_tag(),
        by=by,
        organisation=organisation,
        note=_("Inname: stond niet op de lijst van de donateur, toegevoegd"),
    )


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
