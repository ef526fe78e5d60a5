"""Import of nwipe / ShredOS logs: the upload page, the wiping stations' API and the
`import_erasure_logs` command all go through `erasure_logs_import`.

Logs are committed in batches of 100, each log read and parsed once, and each log is
all-or-nothing: it is either fully recorded (the evidence file, one erasure record for the
device, one drive row per drive, and the device's move to erased when every drive was erased)
or not at all. A batch first checks every log against what it read in a few queries, then
writes the recorded ones set-wise (one insert of records, one of drives, one of custody events,
an UPDATE per state), so a refused log never needs a savepoint. One bad log does not block the
others: good logs are recorded, the others are listed with their reason.

Matching: the log's system serial (dmidecode) first, then its drive serials; placeholder
serials ("To Be Filled By O.E.M.", ...) never match. Only devices of donations assigned to the
importing refurbisher are candidates, so a log for another refurbisher's device is refused as
unmatched, without saying whose it is.
"""

import hashlib
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from allemaal import uploads
from allemaal.models import Organisation, User
from donations.models import Device
from donations.services import DeviceMoves
from donations.vocabulary import normalise_serial

from .models import DriveErasure, ErasureRecord, ErasureResult, ErasureSource
from .models import ErasureStandard as Std
from .models import ErasureTechnique as Tech
from .nwipe import (
    NwipeLog,
    NwipeLogRefused,
    candidate_serials,
    is_placeholder_serial,
    parse_nwipe_log,
)
from .services import ErasureInput, erasure_check, evidence_files_removed_on_failure
from .services.erasure import erasure_next_state, erasure_record_new

MAX_LOG_BYTES = 20 * 1024 * 1024
MAX_ZIP_MEMBERS = 1000
MAX_ZIP_TOTAL_BYTES = 100 * 1024 * 1024
ZIP_LIMITS = uploads.ZipLimits(
    max_entries=MAX_ZIP_MEMBERS,
    max_entry_bytes=MAX_LOG_BYTES,
    max_total_bytes=MAX_ZIP_TOTAL_BYTES,
)
# All files of one request to the upload page: a zip, or the logs themselves.
MAX_UPLOAD_REQUEST_BYTES = 50 * 1024 * 1024

# Logs recorded in one transaction (checked first, then written together).
BATCH_SIZE = 100

LOG_SOURCES = [ErasureSource.UPLOAD, ErasureSource.API, ErasureSource.COMMAND]

# What nwipe's method labels (src/method.c nwipe_method_label) mean in NIST SP 800-88 terms.
# Overwriting methods are Clear; the drive's own sanitize / secure-erase commands are Purge.
VERIFICATION_LABELS = {
    "off": "uit / off",
    "last pass": "laatste ronde / last pass",
    "all passes": "alle rondes / all passes",
}


def classify_method(method: str | None) -> tuple[str, str, bool]:
    """(NIST level, technique, verify_only) for an nwipe method label."""
    label = (method or "").casefold()
    if label.startswith("verify"):
        return Std.CLEAR, Tech.OVERWRITE, True  # "Verify Zeros/Ones" only reads the drive
    if "crypto" in label:
        return Std.PURGE, Tech.CRYPTO_ERASE, False
    if "sanitize" in label or "secure erase" in label:
        return Std.PURGE, Tech.FIRMWARE_SANITIZE, False
    return Std.CLEAR, Tech.OVERWRITE, False


@dataclass
class LogFile:
    name: str
    content: bytes
    sha256: str = ""
    log: NwipeLog | None = None  # parsed once, when its batch is prepared
    refused: NwipeLogRefused | None = None


@dataclass
class _Batch:
    """What one batch of logs needs from the database, read in a few queries up front."""

    earlier: dict[str, ErasureRecord]  # SHA-256 -> the record this log already counts for
    devices: dict[str, list[Device]]  # normalised serial -> this refurbisher's devices, locked
    chosen: Device | None  # the device chosen by hand, locked
    histories: dict[int, list[ErasureRecord]]  # device id -> its runs so far, drives prefetched
    drives_seen: dict[str, set[tuple[int, str]]]  # drive serial -> {(device id, its serial)}
    planned: list["_Planned"] = field(default_factory=list)  # checked, to be written


@dataclass
class _Planned:
    """A log that passed every check: its record (evidence file written), not yet saved."""

    result: "LogImportResult"
    device: Device
    record: ErasureRecord
    drives: list[DriveErasure]


@dataclass
class LogImportResult:
    """What happened to one log, for the upload page, the API answer and the command."""

    RECORDED_ERASED = "erased"  # recorded; every drive erased
    RECORDED_FAILED = "failed"  # recorded; not every drive erased (device stays as it was)
    REFUSED = "refused"  # not recorded at all
    DUPLICATE = "duplicate"  # this exact log was recorded before; nothing new

    name: str
    status: str
    reason: str = ""
    device: Device | None = None
    record: ErasureRecord | None = None
    drives: list[DriveErasure] = field(default_factory=list)
    device_erased: bool = False

    @property
    def recorded(self) -> bool:
        return self.status in (self.RECORDED_ERASED, self.RECORDED_FAILED)

    @property
    def refused(self) -> bool:
        return self.status == self.REFUSED

    def as_json(self) -> dict:
        device = self.device
        return {
            "file": self.name,
            "status": self.status,
            "reason": self.reason,
            "device": None
            if device is None
            else {
                "id": device.pk,
                "serial_number": device.serial_number,
                "asset_tag": device.asset_tag,
                "state": device.state,
            },
            "device_erased": self.device_erased,
            "drives": [
                {
                    "device": drive.device_path,
                    "serial": drive.serial,
                    "model": drive.model,
                    "status": drive.status,
                    "result": drive.result,
                }
                for drive in self.drives
            ],
        }


class _Refused(Exception):
    def __init__(self, reason: str, device: Device | None = None):
        super().__init__(reason)
        self.reason = reason
        self.device = device


def expand_uploads(files: Iterable[tuple[str, bytes]]) -> Iterator[LogFile | LogImportResult]:
    """Log files from uploaded files; a .zip archive stands for the logs inside it.

    Yields a refused result for what cannot be read: a broken archive, one over a limit of
    `ZIP_LIMITS` (the reason names it), a log over MAX_LOG_BYTES, or a file that is not text.
    """
    for name, content in files:
        if name.lower().endswith(".zip") or content[:4] == b"PK\x03\x04":
            yield from _expand_zip(name, content)
        elif len(content) > MAX_LOG_BYTES:
            yield LogImportResult(name, LogImportResult.REFUSED, _("Bestand is te groot."))
        else:
            yield _checked(name, content)


def _expand_zip(name: str, content: bytes) -> Iterator[LogFile | LogImportResult]:
    try:
        archive, members = uploads.open_zip(content, ZIP_LIMITS)
    except uploads.UploadRefused as exc:
        yield LogImportResult(name, LogImportResult.REFUSED, exc.message)
        return
    members = [m for m in members if not m.filename.rsplit("/", 1)[-1].startswith(".")]
    members = [m for m in members if not m.filename.startswith("__MACOSX/")]
    for member in sorted(members, key=lambda m: m.filename):
        label = f"{name}/{member.filename}"
        try:
            with archive.open(member) as opened:
                data = opened.read(MAX_LOG_BYTES + 1)
        except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, NotImplementedError):
            yield LogImportResult(label, LogImportResult.REFUSED, _("Kapot zip-bestand."))
            continue
        yield _checked(label, data)


def _checked(name: str, content: bytes) -> LogFile | LogImportResult:
    """The log, or its refusal when it is not text (an image, a web page, NUL bytes inside)."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return LogFile(name, content)  # UTF-16, as Windows tools write it; nwipe.py reads it
    try:
        # Trailing NUL bytes are the zero-filled end of a log cut off by a power loss.
        uploads.decode_text(content.rstrip(b"\x00"), allow_controls=True)
    except uploads.UploadRefused as exc:
        where = [_("rij %(row)d") % {"row": exc.row}] if exc.row else []
        where += [exc.column] if exc.column else []
        reason = f"{exc.message} ({', '.join(where)})" if where else exc.message
        return LogImportResult(name, LogImportResult.REFUSED, reason)
    return LogFile(name, content)


def erasure_logs_import(
    files: Iterable[tuple[str, bytes]],
    *,
    organisation: Organisation,
    by: User | None,
    source: str,
    operator_name: str = "",
    device: Device | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[LogImportResult]:
    """Record each nwipe log for the device it belongs to; see the module docstring.

    `device` matches every log to that device by hand (for logs whose serials are
    placeholders); a log whose real serials point at another device is still refused.
    Logs are recorded in batches of BATCH_SIZE, one transaction each; `progress` is told the
    number of logs handled after each batch.
    """
    if by is not None and not operator_name:
        operator_name = by.get_full_name() or by.email
    results: list[LogImportResult] = []
    batch: list[LogFile | LogImportResult] = []
    context = {"organisation": organisation, "by": by, "source": source}
    context |= {"operator_name": operator_name, "chosen": device}

    def flush() -> None:
        results.extend(_import_batch(batch, **context))
        batch.clear()
        if progress is not None:
            progress(len(results))

    for item in expand_uploads(files):
        batch.append(item)
        if len(batch) >= BATCH_SIZE:
            flush()
    if batch:
        flush()
    return results


def _import_batch(items, *, organisation, by, source, operator_name, chosen):
    """One transaction: check every log, then write the recorded ones together."""
    for attempt in (1, 2):
        try:
            with evidence_files_removed_on_failure(), transaction.atomic():
                batch = _prepare(items, organisation, chosen)
                results = [
                    item
                    if isinstance(item, LogImportResult)
                    else _check_one(item, organisation, by, source, operator_name, chosen, batch)
                    for item in items
                ]
                _write(batch, by=by, organisation=organisation)
                return results
        except IntegrityError:
            # The same log recorded a moment ago by a concurrent import (the unique SHA-256):
            # once more, and the batch reads it as recorded before.
            shas = [item.sha256 for item in items if isinstance(item, LogFile)]
            if attempt == 2 or not _recorded_before(shas):
                raise
    raise AssertionError("unreachable")


def _prepare(items, organisation: Organisation, chosen: Device | None) -> _Batch:
    """Hash and parse each log once, then read and lock what the batch needs in a few queries."""
    logs = [item for item in items if isinstance(item, LogFile)]
    serials: set[str] = set()
    for log_file in logs:
        if log_file.log is None and log_file.refused is None:
            log_file.sha256 = hashlib.sha256(log_file.content).hexdigest()
            try:
                log_file.log = parse_nwipe_log(log_file.content)
            except NwipeLogRefused as exc:
                log_file.refused = exc
        if log_file.log is not None:
            serials.update(normalise_serial(s) for s in candidate_serials(log_file.log))
    earlier = {
        record.evidence_sha256: record
        for record in _recorded_before([log_file.sha256 for log_file in logs])
    }
    devices: dict[str, list[Device]] = {}
    for found in (
        Device.objects.filter(donation__refurbisher=organisation, serial_number__in=serials)
        .select_for_update(of=("self",))
        .order_by("pk")
    ):
        devices.setdefault(found.serial_number, []).append(found)
    ids = [found.pk for group in devices.values() for found in group]
    if chosen is not None:
        chosen = Device.objects.select_for_update().get(pk=chosen.pk)
        ids.append(chosen.pk)
    histories: dict[int, list[ErasureRecord]] = {}
    for record in (
        ErasureRecord.objects.filter(device_id__in=ids)
        .exclude(standard=Std.DESTROY)
        .prefetch_related("drives")
    ):
        histories.setdefault(record.device_id, []).append(record)
    drive_serials = {
        drive.serial for log_file in logs if log_file.log for drive in log_file.log.drives
    } - {None}
    drives_seen: dict[str, set[tuple[int, str]]] = {}
    for serial, device_id, device_serial in (
        DriveErasure.objects.filter(
            serial__in=drive_serials,
            record__organisation=organisation,
            record__source__in=LOG_SOURCES,
        )
        .order_by()
        .values_list("serial", "record__device_id", "record__device__serial_number")
    ):
        drives_seen.setdefault(serial, set()).add((device_id, device_serial))
    return _Batch(earlier, devices, chosen, histories, drives_seen)


def _check_one(log_file: LogFile, organisation, by, source, operator_name, chosen, batch):
    """The log's result; a log that passes every check is planned in the batch, unwritten."""
    result = LogImportResult(log_file.name, LogImportResult.REFUSED)
    sha256 = log_file.sha256
    earlier = batch.earlier.get(sha256)
    if earlier is not None:
        return _duplicate(result, earlier, organisation, chosen)
    try:
        if log_file.refused is not None:
            raise log_file.refused
        log = log_file.log
        if log.refusal:
            raise _Refused(log.refusal)
        if log.other_system_serials:
            raise _Refused(log.failure_reason or _("De log bevat meerdere computers."))
        _refuse_formulas(log)
        _plan(log, log_file, result, organisation, by, source, operator_name, batch)
    except NwipeLogRefused as exc:
        result.reason = str(exc)  # Dutch, then English: "... geen nwipe-log. / ..."
    except _Refused as exc:
        result.reason, result.device = exc.reason, exc.device
    else:
        batch.earlier[sha256] = result.record
    return result


def _recorded_before(shas: list[str]) -> list[ErasureRecord]:
    """The records these exact log files already count for, whoever recorded them."""
    # The filter repeats the unique index's condition, so that index finds them.
    return list(
        ErasureRecord.objects.filter(evidence_sha256__in=shas, source__in=LOG_SOURCES)
        .exclude(evidence_sha256="")
        .select_related("device")
    )


def _refuse_formulas(log: NwipeLog) -> None:
    """What the log puts in records (serials, models) must not run as a spreadsheet formula."""
    values = [log.system_serial, log.method, log.nwipe_version]
    values += [value for drive in log.drives for value in (drive.model, drive.serial)]
    for value in values:
        if problem := uploads.formula_problem(value):
            raise _Refused(f"{value[:40]!r}: {problem}")


def _duplicate(result, earlier: ErasureRecord, organisation, chosen) -> LogImportResult:
    """The same log never counts for two devices: a repeat for the same device is told it is
    there already; for another device (or another refurbisher's) it is refused."""
    if earlier.organisation_id != organisation.pk:
        result.reason = _(
            "Deze log is al vastgelegd als bewijs voor een ander apparaat; dezelfde log telt "
            "maar voor één apparaat."
        )
        return result
    if chosen is not None and earlier.device_id != chosen.pk:
        result.device = earlier.device
        result.reason = _(
            "Deze log telt al als bewijs voor apparaat %(serial)s; dezelfde log telt maar "
            "voor één apparaat."
        ) % {"serial": earlier.device.serial_number}
        return result
    result.status = LogImportResult.DUPLICATE
    result.device = earlier.device
    result.reason = _("Deze log is al eerder vastgelegd (op %(date)s).") % {
        "date": timezone.localtime(earlier.created_at).strftime("%d-%m-%Y %H:%M")
    }
    return result


def _plan(log, log_file, result, organisation, by, source, operator_name, batch):
    device = _match_device(log, organisation, batch)
    problem = erasure_check(device)
    if problem:
        raise _Refused(f"{device.serial_number}: {problem}", device)
    standard, technique, verify_only = classify_method(log.method)
    passed = log.all_erased and not verify_only
    reason = ""
    if not passed:
        reason = log.failure_reason or _(
            "alleen gecontroleerd (Verify), niet gewist / verification only, not an erasure"
        )
    record = erasure_record_new(
        device,
        organisation=organisation,
        operator=by,
        operator_name=operator_name,
        source=source,
        sha256=log_file.sha256,
        log_outcome=str(log.outcome),
        log_system_serial=log.system_serial or "",
        details={
            "rounds": log.rounds if log.rounds is not None and log.rounds < 32768 else None,
            "prng": (log.prng or "")[:50],
            "blanking": log.blanking,
            "flags": _drives_seen_elsewhere(log, device, batch),
        },
        data=ErasureInput(
            standard=standard,
            technique=technique,
            result=ErasureResult.PASSED if passed else ErasureResult.FAILED,
            tool="nwipe",
            tool_version=log.nwipe_version or "",
            method=log.method or "",
            verification=VERIFICATION_LABELS.get(log.verification or "", log.verification or ""),
            started_at=_aware(log.started_at),
            ended_at=_aware(log.ended_at),
            failure_reason=reason,
            evidence_name=log_file.name.rsplit("/", 1)[-1],
            evidence_content=log_file.content,
        ),
    )
    drives = [
        DriveErasure(
            record=record,
            device_path=drive.device[:100],
            model=(drive.model or "")[:150],
            serial=(drive.serial or "")[:100],
            size_bytes=drive.size_bytes,
            status=drive.status[:20],
            pass_errors=drive.pass_errors,
            verify_errors=drive.verify_errors,
            fdatasync_errors=drive.fdatasync_errors,
            duration=drive.duration,
            throughput=(drive.throughput or "")[:20],
            result=ErasureResult.PASSED if drive.erased and not verify_only else "failed",
        )
        for drive in log.drives
    ]
    for drive in drives:
        if drive.serial:
            batch.drives_seen.setdefault(drive.serial, set()).add((device.pk, device.serial_number))
    batch.planned.append(_Planned(result, device, record, drives))
    result.status = LogImportResult.RECORDED_ERASED if passed else LogImportResult.RECORDED_FAILED
    result.reason = reason
    result.device, result.record, result.drives = device, record, drives
    if record.flags:
        result.reason = " ".join(part for part in (reason, record.flags) if part)


def _write(batch: _Batch, *, by, organisation) -> None:
    """The planned logs' records and drive rows in one insert each; then, log by log, what each
    device's evidence so far says (the latest run decides), its moves written together."""
    planned = batch.planned
    ErasureRecord.objects.bulk_create([plan.record for plan in planned])
    DriveErasure.objects.bulk_create([drive for plan in planned for drive in plan.drives])
    moves = DeviceMoves(by=by, organisation=organisation)
    for plan in planned:
        plan.record._prefetched_objects_cache = {"drives": plan.drives}
        history = batch.histories.setdefault(plan.device.pk, [])
        history.append(plan.record)
        move = erasure_next_state(plan.device, plan.record, history)
        if move is not None:
            moves.move(plan.device, *move)
            plan.result.device_erased = move[0] == Device.State.ERASED
    moves.write()


def _drives_seen_elsewhere(log: NwipeLog, device: Device, batch: _Batch) -> str:
    """A flag (not a refusal: drives do move between machines) when a drive of this log was
    erased before as part of another device of this refurbisher."""
    seen = sorted(
        (drive.serial, other_serial)
        for drive in log.drives
        if drive.serial
        for other_id, other_serial in batch.drives_seen.get(drive.serial, ())
        if other_id != device.pk
    )
    return " ".join(
        _(
            "Let op: schijf %(drive)s is eerder gewist als deel van apparaat %(other)s; "
            "controleer of de schijf verhuisd is."
        )
        % {"drive": drive, "other": other}
        for drive, other in dict.fromkeys(seen)
    )


def _match_device(log: NwipeLog, organisation: Organisation, batch: _Batch) -> Device:
    chosen = batch.chosen
    candidates = candidate_serials(log)
    serials = {normalise_serial(serial) for serial in candidates}
    matches = sorted(
        {found.pk: found for s in serials for found in batch.devices.get(s, ())}.values(),
        key=lambda found: found.pk,
    )
    if chosen is not None:
        named = log.dmi.get("system-serial-number", "")
        if not is_placeholder_serial(named) and normalise_serial(named) != normalise_serial(
            chosen.serial_number
        ):
            # Evidence belongs to one machine: only a log that names no machine (a missing or
            # placeholder system serial) may be attached by hand.
            raise _Refused(
                _(
                    "Deze log noemt een andere computer (serienummer %(named)s), niet "
                    "%(chosen)s. Alleen een log zonder bruikbaar systeemserienummer kan met de "
                    "hand gekoppeld worden."
                )
                % {"named": named.strip()[:100], "chosen": chosen.serial_number}
            )
        others = [d for d in matches if d.pk != chosen.pk]
        if others:
            raise _Refused(
                _("Deze log hoort bij apparaat %(serial)s, niet bij %(chosen)s.")
                % {"serial": others[0].serial_number, "chosen": chosen.serial_number}
            )
        return chosen
    if not candidates:
        raise _Refused(
            _(
                "De log heeft geen bruikbaar serienummer (alleen '%(value)s'). Koppel hem "
                "handmatig op de pagina van het apparaat."
            )
            % {"value": log.dmi.get("system-serial-number", "") or _("leeg")}
        )
    if not matches:
        raise _Refused(
            _("Geen apparaat van uw organisatie met serienummer %(serials)s.")
            % {"serials": ", ".join(candidates)}
        )
    if len(matches) > 1:
        raise _Refused(
            _("De log past bij meerdere apparaten (%(serials)s). Koppel hem handmatig.")
            % {"serials": ", ".join(d.serial_number for d in matches)}
        )
    return matches[0]


def _aware(moment: datetime | None) -> datetime | None:
    # nwipe logs the wiping machine's local clock; stations run in the platform's time zone.
    return None if moment is None else timezone.make_aware(moment)
