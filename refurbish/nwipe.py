"""Reader for nwipe / ShredOS erasure log files (standard library only, no Django).

ICT partners erase donated laptops with nwipe (usually booted from ShredOS) and upload the
log file nwipe writes. This module turns such a log into a :class:`NwipeLog` and decides,
conservatively, whether every drive nwipe worked on was erased.

The format follows nwipe's own source (github.com/martijnvanbrummelen/nwipe, nwipe 0.3x):

* ``src/logging.c`` ``nwipe_log()``: every line starts with ``[%i/%02i/%02i %02i:%02i:%02i] ``
  followed by a level label padded to 9 characters (``"   info: "``, ``" notice: "``,
  ``"warning: "``, ``"  error: "``, ``"  fatal: "``); early versions wrote
  ``"nwipe: info: "``. ``NWIPE_LOG_NOTIMESTAMP`` lines (the summary tables) have no prefix.
* ``src/logging.c`` ``nwipe_log_sysinfo()``: one line per ``dmidecode -s <keyword>`` as
  ``"%s = %s"``, e.g. ``system-serial-number = PF1ABCDE``; with ``-q`` the serial keywords
  are logged as ``XXXXXXXXXXXXXXX``.
* ``src/logging.c`` ``nwipe_log_summary()``: the "Error Summary" table
  (``"%s %s |  %10llu |           %10llu |           %10llu"``: flag, device without
  ``/dev/``, pass errors, verification errors, fdatasync errors) and the "Drive Status" table
  (``"%s %s |%s| %s/s | %02i:%02i:%02i | %s/%s"``: flag, device, 8-character status,
  throughput, duration, model (17 chars) / serial), closed by
  ``"[date time] Total Throughput %s/s, <method label>, %iR+<B|NB>+<NV|VL|VA>"``.
  The status is ``" Erased "`` (no errors and the wipe finished), ``"-FAILED-"`` (any pass,
  verification or fdatasync error), ``"UABORTED"`` (user abort while wiping) or
  ``"INSANITY"`` (never started / nwipe bug); the example comment in that function still
  shows ``--FAIL--``. Any status other than ``Erased`` counts as not erased. The Error
  Summary table exists since mid-2021 (nwipe PR #325; first with two error columns).
* ``src/options.c`` ``nwipe_options_log()``: ``"  method   = %s"``, ``"  rounds   = %i"``,
  ``"  verify   = %i (last pass)"`` and friends; ``src/method.c`` ``nwipe_method_label()``
  holds the method labels ("DoD Short", "PRNG Stream", "Fill With Zeros", ...).
* ``src/device.c`` ``check_device()``: ``"Found %s, %s, %s, %s, S/N=%s"`` (device, bus type,
  model, size, serial).
* ``src/nwipe.c`` ``main()``: the closing one-liner, "Nwipe successfully completed. See
  summary table for details.", "Nwipe was aborted by the user...", or "Nwipe exited with
  errors...". nwipe also prints "successfully completed" when no drive was wiped at all,
  so that line is never taken as proof of erasure: only the Drive Status table counts.

Timestamps are the machine's local clock as nwipe saw it, so they are returned naive.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from donations.vocabulary import normalise_serial

__all__ = [
    "PLACEHOLDER_SERIALS",
    "TablesWithoutLog",
    "DriveResult",
    "NotAnNwipeLog",
    "NwipeLogRefused",
    "NwipeLog",
    "NwipeOutcome",
    "candidate_serials",
    "is_placeholder_serial",
    "parse_nwipe_log",
]


class NwipeLogRefused(ValueError):
    """The text is not usable as erasure evidence. The message is Dutch, then English after
    " / "."""


class NotAnNwipeLog(NwipeLogRefused):
    """The text is not an nwipe log."""


class TablesWithoutLog(NwipeLogRefused):
    """Only nwipe's summary tables, without the log lines that produced them (pasted)."""


class NwipeOutcome(StrEnum):
    """What a log proves, from best to worst-understood."""

    ERASED = "erased"  # at least one drive, every drive Erased with zero errors
    FAILED = "failed"  # a drive failed, had errors, or the log contradicts itself
    ABORTED = "aborted"  # the user stopped nwipe before every drive was done
    NO_DRIVES = "no_drives"  # the Drive Status table is there but lists no drive
    INCOMPLETE = "incomplete"  # no Drive Status table, or a drive's status/counts missing


# Serial numbers vendors leave in the DMI tables (and nwipe/dmidecode stand-ins) that identify
# nothing. Compared trimmed, whitespace-collapsed and case-insensitively.
PLACEHOLDER_SERIALS: frozenset[str] = frozenset(
    {
        "",
        "0",
        "0123456789",
        "123456789",
        "1234567890",
        "n/a",
        "na",
        "none",
        "null",
        "unknown",
        "not available",
        "not applicable",
        "not specified",
        "not set",
        "default string",
        "to be filled by o.e.m.",
        "to be filled by oem",
        "system serial number",
        "chassis serial number",
        "base board serial number",
        "baseboard serial number",
        "serial number",
        "serial",
        "invalid",
        "empty",
        "oem",
        "o.e.m.",
    }
)


def is_placeholder_serial(value: str | None) -> bool:
    """True when ``value`` is not a usable serial number.

    Covers :data:`PLACEHOLDER_SERIALS`, empty or whitespace-only strings, strings of only
    zeros, strings without a single letter or digit, nwipe's anonymised serials (``-q``:
    only ``X`` or only ``?``), nwipe's own stand-ins in parentheses such as
    ``(S/N: unknown)`` and ``(no ATA pass thru)``, and dmidecode comments (``# No SMBIOS
    nor DMI entry point found, sorry.``).
    """
    if value is None:
        return True
    normalised = " ".join(value.split()).casefold()
    if normalised in PLACEHOLDER_SERIALS:
        return True
    compact = normalised.replace(" ", "")
    if not any(ch.isalnum() for ch in compact):
        return True
    chars = set(compact)
    if chars <= {"0"} or chars <= {"x"} or chars <= {"?"}:
        return True
    if normalised.startswith("(") and normalised.endswith(")"):
        return True
    return normalised.startswith("#")


@dataclass(frozen=True, slots=True)
class DriveResult:
    """One drive from the Drive Status table, with its Error Summary counts."""

    device: str  # "/dev/sda"
    model: str | None
    serial: str | None  # None when missing or a placeholder
    size: str | None  # as nwipe printed it, e.g. "500 GB"
    size_bytes: int | None
    status: str  # as logged, trimmed: "Erased", "-FAILED-", "UABORTED", "INSANITY"; "" if absent
    throughput: str | None  # e.g. "140 MB/s"
    duration: timedelta | None
    pass_errors: int
    verify_errors: int
    fdatasync_errors: int
    in_error_summary: bool  # False when the counts were not logged (they read 0, but unknown)

    @property
    def status_word(self) -> str:
        """The status without nwipe's padding dashes: "FAILED" for "-FAILED-"."""
        return self.status.strip(" -")

    @property
    def error_count(self) -> int:
        return self.pass_errors + self.verify_errors + self.fdatasync_errors

    @property
    def erased(self) -> bool:
        """Status ``Erased`` and zero pass, verification and fdatasync errors.

        The error counts must have been logged: a drive missing from the Error Summary table
        (a cut-off log, or nwipe from before mid-2021 without that table) is not erased.
        """
        return (
            self.status_word.casefold() == "erased"
            and self.in_error_summary
            and self.error_count == 0
        )


@dataclass(frozen=True)
class NwipeLog:
    """Everything read from one nwipe log file."""

    system_serial: str | None  # dmidecode system-serial-number, None when missing/placeholder
    system_manufacturer: str | None
    system_product: str | None
    nwipe_version: str | None  # "0.38"
    method: str | None  # nwipe's label: "PRNG Stream", "DoD Short", "Fill With Zeros", ...
    verification: str | None  # "off", "last pass" or "all passes"
    rounds: int | None
    blanking: bool | None  # final zero (blank) pass on or off, when logged
    prng: str | None
    started_at: datetime | None  # when the wipe started (first "Invoking method" line)
    ended_at: datetime | None  # last timestamp in the log
    drives: list[DriveResult]
    dmi: dict[str, str]  # every dmidecode keyword nwipe logged, first value, as logged
    summary_found: bool  # a "Drive Status" table header is present
    error_summary_found: bool
    final_message: str | None  # "completed", "aborted" or "errors": nwipe's closing line
    other_system_serials: list[str]  # further *different* real system serials (merged logs)
    warnings: list[str]
    log_started_at: datetime | None = None  # first timestamp in the log
    # nwipe before 0.31 (2019-2020) wrote no Error Summary table: its log cannot show that
    # the drive had no pass or verification errors.
    no_error_summary_version: bool = False

    @property
    def refusal(self) -> str | None:
        """Why this log cannot count as evidence at all (Dutch / English), or None."""
        if self.no_error_summary_version:
            version = f" (nwipe {self.nwipe_version})" if self.nwipe_version else ""
            return (
                f"Deze nwipe-versie schrijft geen foutoverzicht{version}: de log toont niet dat "
                "het wissen zonder fouten ging. Wis opnieuw met nwipe 0.31 of nieuwer. / "
                f"This nwipe version's log has no error summary{version}: it cannot show that "
                "the erasure had no errors. Erase again with nwipe 0.31 or later."
            )
        return None

    @property
    def all_erased(self) -> bool:
        """True only with at least one drive and every drive ``Erased`` with zero errors.

        Also False when the file mixes logs of several computers, or when nwipe's closing
        line after the last summary says it exited with errors.
        """
        return not self._problems()

    @property
    def failure_reason(self) -> str | None:
        """Why the log does not prove erasure (Dutch / English), or None when it does."""
        problems = self._problems()
        if not problems:
            return None
        dutch = "; ".join(nl for nl, _ in problems)
        english = "; ".join(en for _, en in problems)
        return f"{dutch} / {english}"

    @property
    def outcome(self) -> NwipeOutcome:
        """One word for the result; ``ERASED`` exactly when :attr:`all_erased`."""
        if not self._problems():
            return NwipeOutcome.ERASED
        if not self.drives:
            if self.final_message == "aborted":
                return NwipeOutcome.ABORTED
            return NwipeOutcome.NO_DRIVES if self.summary_found else NwipeOutcome.INCOMPLETE
        not_erased = [d for d in self.drives if not d.erased]
        if any(
            d.error_count or d.status_word.casefold() not in ("", "uaborted", "erased")
            for d in not_erased
        ):
            return NwipeOutcome.FAILED
        if any(d.status_word.casefold() == "uaborted" for d in not_erased):
            return NwipeOutcome.ABORTED
        if not_erased:
            return NwipeOutcome.INCOMPLETE  # status or error counts missing from the log
        return NwipeOutcome.FAILED

    @property
    def aborted(self) -> bool:
        return self.final_message == "aborted" or any(
            d.status_word == "UABORTED" for d in self.drives
        )

    def _problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if not self.drives:
            if self.summary_found:
                problems.append(
                    ("geen schijf in de Drive Status-tabel", "no drive in the Drive Status table")
                )
            elif self.final_message == "aborted":
                problems.append(
                    (
                        "afgebroken door de gebruiker voordat een schijf gewist was",
                        "aborted by the user before any drive was erased",
                    )
                )
            else:
                problems.append(
                    (
                        "geen Drive Status-tabel: wipe niet afgerond of log onvolledig",
                        "no Drive Status table: wipe not finished or log incomplete",
                    )
                )
        for drive in self.drives:
            problem = _drive_problem(drive)
            if problem:
                problems.append(problem)
        if self.other_system_serials:
            serials = ", ".join([self.system_serial or "?", *self.other_system_serials])
            problems.append(
                (
                    f"log bevat meerdere computers (serienummers {serials})",
                    f"log covers several computers (serial numbers {serials})",
                )
            )
        if not problems and self.final_message == "errors":
            problems.append(
                ("nwipe meldde aan het eind fouten", "nwipe reported errors when it exited")
            )
        return problems


def candidate_serials(log: NwipeLog) -> list[str]:
    """Serial numbers to match the log to a registered device, best first.

    The system (DMI) serial if real, then each real drive serial from the Drive Status table,
    without duplicates (compared as `normalise_serial` spells them). Placeholders never appear.
    """
    result: list[str] = []
    seen: set[str] = set()
    for serial in [log.system_serial, *(drive.serial for drive in log.drives)]:
        if serial is None or is_placeholder_serial(serial):
            continue
        key = normalise_serial(serial)
        if key not in seen:
            seen.add(key)
            result.append(serial.strip())
    return result


def parse_nwipe_log(text: str | bytes) -> NwipeLog:
    """Parse the contents of an nwipe log file.

    Raises :class:`NotAnNwipeLog` when the text is not an nwipe log (empty, binary, CSV,
    other text). A real but unfinished or failed log parses fine; ask ``all_erased``.
    """
    if isinstance(text, bytes | bytearray | memoryview):
        text = _decode(bytes(text))
    elif not isinstance(text, str):
        raise TypeError(f"parse_nwipe_log() needs str or bytes, not {type(text).__name__}")
    text = _normalise(text)
    if not _looks_like_nwipe(text):
        raise NotAnNwipeLog(_rejection_message(text))
    log = _Parser(text).parse()
    if (log.summary_found or log.error_summary_found) and not _tables_have_log_lines(text, log):
        raise TablesWithoutLog(
            "Dit zijn alleen de samenvattingstabellen van nwipe, zonder de logregels die ze "
            "maakten; dat is geen bewijs. Upload het hele logbestand. / These are only nwipe's "
            "summary tables, without the log lines that produced them; that is not evidence. "
            "Upload the whole log file."
        )
    return log


def _tables_have_log_lines(text: str, log: NwipeLog) -> bool:
    """Every drive in the tables is named by a timestamped nwipe line (found, wiped...)."""
    for drive in log.drives:
        name = drive.device.rsplit("/", 1)[-1]
        if not any(_LEVEL_LINE_RE.match(line) for _, line in _lines_containing(text, name)):
            return False
    return bool(_LEVEL_LINE_RE.search(text))


# --------------------------------------------------------------------------- internals

_ANSI_RE = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The bracketed timestamp nwipe_log() writes ("[%i/%02i/%02i %02i:%02i:%02i]").
_STAMP_RE = re.compile(r"\[(\d{4})/(\d{1,2})/(\d{1,2}) (\d{1,2}):(\d{2}):(\d{2})\]")
_LEVELS = "debug|info|notice|warning|error|fatal|sanity"
# A timestamped line with a level label; proves nwipe_log() wrote it.
_LEVEL_LINE_RE = re.compile(
    r"\[\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}:\d{2}\][ \t]*(?:nwipe:[ \t]*)?(?:" + _LEVELS + r"):"
)
# Prefix of a log line, to cut off before reading the message.
_PREFIX_RE = re.compile(
    r"[ \t]*\[\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}:\d{2}\][ \t]*(?:nwipe:[ \t]*)?"
    r"(?:(?:" + _LEVELS + r"):)?[ \t]*"
)
_KEY_VALUE_RE = re.compile(r"([A-Za-z][\w-]*)[ \t]*=[ \t]*(.*)")
_BANNER_RE = re.compile(r"(?:banner[ \t]*=[ \t]*)?nwipe v?(\d+\.\d+[0-9A-Za-z.+_-]*)")
# ShredOS replaces nwipe's banner: "ShredOS v<buildroot>_<release>_<arch>_<nwipe version>".
_SHREDOS_BANNER_RE = re.compile(
    r"(?:banner[ \t]*=[ \t]*)?ShredOS v?[0-9][\w.-]*_v?(\d+\.\d+[0-9A-Za-z.+-]*)"
)
_OLD_PREFIX_RE = re.compile(
    r"^\[\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}:\d{2}\] nwipe: (?:" + _LEVELS + r"):", re.M
)
# The Drive Status column titles; nwipe 0.29-0.30 printed them without the table's title.
_STATUS_TITLES_RE = re.compile(r"^!?[ \t]*Device[ \t]*\|[ \t]*Status[ \t]*\|[ \t]*Thru-put", re.M)
_SIZE_RE = re.compile(r"\d+(?:[.,]\d+)?[ \t]*[KMGTPE]?i?B", re.IGNORECASE)
_SERIAL_LINE_RE = re.compile(r"(?:Device[ \t]+)?(\S+)[ \t]+has serial number[ \t]*(.*)")
_SECT_BLK_DEV_RE = re.compile(r"(\S+?),?[ \t]+sect/blk/dev[ \t]+-?\d+/-?\d+/(\d{1,20})")
_IS_SIZE_RE = re.compile(r"Device[ \t]+'([^']+)'[ \t]+is size[ \t]+(\d{1,20})")
_INVOKING_RE = re.compile(r"Invoking method '([^'\n]+)'")
_TOTAL_RE = re.compile(
    r"Total Throughput[ \t]+([^,]*),[ \t]*(.+),[ \t]*(\d{1,9})R\+(N?B)\+(NV|VL|VA)\b"
)
_ERROR_ROW_RE = re.compile(
    r"[ \t]*(!?)[ \t]*([^\s|]+)[ \t]*\|[ \t]*(\d{1,20})[ \t]*\|[ \t]*(\d{1,20})[ \t]*"
    r"(?:\|[ \t]*(\d{1,20})[ \t]*)?\|?[ \t]*$"
)
_STATUS_ROW_RE = re.compile(
    r"[ \t]*(!?)[ \t]*([^\s|]+)[ \t]*\|([^|]*)\|([^|]*)\|[ \t]*(\d{1,6}):(\d{2}):(\d{2})[ \t]*"
    r"\|(.*)$"
)
# nwipe_log() lines are at most 512 characters (MAX_LOG_LINE_CHARS); longer lines are not
# nwipe's and are skipped, which also keeps every regex below linear in the input size.
_MAX_LINE = 4096
_MAX_TABLE_ROWS = 10_000

_DMI_KEYS = frozenset(
    {
        "bios-version",
        "bios-release-date",
        "system-manufacturer",
        "system-product-name",
        "system-version",
        "system-serial-number",
        "system-uuid",
        "baseboard-manufacturer",
        "baseboard-product-name",
        "baseboard-version",
        "baseboard-serial-number",
        "baseboard-asset-tag",
        "chassis-manufacturer",
        "chassis-type",
        "chassis-version",
        "chassis-serial-number",
        "chassis-asset-tag",
        "processor-family",
        "processor-manufacturer",
        "processor-version",
        "processor-frequency",
    }
)
_VENDOR_PLACEHOLDERS = frozenset(
    {"system manufacturer", "system product name", "system name", "product name", "oem"}
)
_VERIFY_ABBREVIATIONS = {"NV": "off", "VL": "last pass", "VA": "all passes"}
_FINAL_MESSAGES = (
    ("Nwipe successfully completed", "completed"),
    ("Nwipe successfully exited", "completed"),  # nwipe before 0.30
    ("Nwipe was aborted by the user", "aborted"),
    ("Nwipe exited with errors", "errors"),
    ("Nwipe exited with fatal errors", "errors"),  # nwipe 0.30 - 0.32
    ("Nwipe exited with non fatal errors", "errors"),
)
# Text that only nwipe writes; one of them plus a level line makes a log.
_MARKERS = (
    "Error Summary",
    "Drive Status",
    "Program options are set as follows",
    "Invoking method '",
    "system-serial-number",
    "Automatically enumerated",
    ", S/N=",
    "Nwipe ",
    "info: nwipe ",  # the banner, first line of every log since nwipe 0.30
)


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8-sig", errors="replace")


def _normalise(text: str) -> str:
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x1b" in text:
        text = _ANSI_RE.sub("", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_RE.sub("", text)


def _looks_like_nwipe(text: str) -> bool:
    if _LEVEL_LINE_RE.search(text) and any(marker in text for marker in _MARKERS):
        return True
    # Only the summary tables pasted (no prefixed lines): accept a real table header.
    return bool(_header_positions(text, "Drive Status"))


def _rejection_message(text: str) -> str:
    if not text.strip():
        return (
            "Het bestand is leeg; dit is geen nwipe-log. / "
            "The file is empty; this is not an nwipe log."
        )
    sample = text[:4096]
    odd = sum(1 for ch in sample if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\n"))
    if odd > len(sample) // 10:
        return (
            "Het bestand bevat binaire gegevens; dit is geen nwipe-log. / "
            "The file contains binary data; this is not an nwipe log."
        )
    return (
        "Dit is geen nwipe-log: er staan geen nwipe-regels in zoals "
        "'[2023/01/05 10:11:12] info: ...' met een Drive Status-tabel. / "
        "This is not an nwipe log: it has no nwipe lines such as "
        "'[2023/01/05 10:11:12] info: ...' and no Drive Status table."
    )


def _line_bounds(text: str, pos: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, (len(text) if end == -1 else end)


def _lines_containing(text: str, needle: str) -> list[tuple[int, str]]:
    """(start offset, line) for each line containing ``needle``, in order, once per line.

    Lines longer than nwipe ever writes are skipped.
    """
    found: list[tuple[int, str]] = []
    pos = text.find(needle)
    while pos != -1:
        start, end = _line_bounds(text, pos)
        if end - start <= _MAX_LINE:
            found.append((start, text[start:end]))
        pos = text.find(needle, end)
    return found


def _message(line: str) -> str:
    """The text after nwipe's "[date time] level:" prefix (the whole line if none)."""
    match = _PREFIX_RE.match(line)
    return (line[match.end() :] if match else line).strip()


def _header_positions(text: str, title: str) -> list[int]:
    """Offsets of lines that are a summary table header, e.g. "*** Drive Status ***"."""
    return [
        start
        for start, line in _lines_containing(text, title)
        if line.strip().strip("*").strip() == title
    ]


def _column_title_positions(text: str) -> list[int]:
    return [match.start() for match in _STATUS_TITLES_RE.finditer(text)]


def _stamp_to_datetime(match: re.Match[str]) -> datetime | None:
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    try:
        # nwipe logs the machine's local time without a zone; naive on purpose.
        return datetime(year, month, day, hour, minute, second)  # noqa: DTZ001
    except ValueError:
        return None


def _is_rule(stripped: str) -> bool:
    return len(stripped) >= 10 and (set(stripped) == {"-"} or set(stripped) == {"*"})


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _drive_problem(drive: DriveResult) -> tuple[str, str] | None:
    nl: list[str] = []
    en: list[str] = []
    word = drive.status_word
    if not word:
        nl.append("ontbreekt in de Drive Status-tabel")
        en.append("missing from the Drive Status table")
    elif word.casefold() != "erased":
        upper = word.upper()
        if upper in ("FAILED", "FAIL"):
            nl.append(f"mislukt ({word})")
            en.append(f"failed ({word})")
        elif upper == "UABORTED":
            nl.append("afgebroken door de gebruiker (UABORTED)")
            en.append("aborted by the user (UABORTED)")
        elif upper == "INSANITY":
            nl.append("niet gewist, interne nwipe-fout (INSANITY)")
            en.append("not erased, internal nwipe error (INSANITY)")
        else:
            nl.append(f"niet gewist (status {word})")
            en.append(f"not erased (status {word})")
    counts_nl: list[str] = []
    counts_en: list[str] = []
    if drive.pass_errors:
        counts_nl.append(_plural(drive.pass_errors, "schrijffout", "schrijffouten"))
        counts_en.append(_plural(drive.pass_errors, "pass error", "pass errors"))
    if drive.verify_errors:
        counts_nl.append(_plural(drive.verify_errors, "verificatiefout", "verificatiefouten"))
        counts_en.append(_plural(drive.verify_errors, "verification error", "verification errors"))
    if drive.fdatasync_errors:
        counts_nl.append(_plural(drive.fdatasync_errors, "fdatasync-fout", "fdatasync-fouten"))
        counts_en.append(_plural(drive.fdatasync_errors, "fdatasync error", "fdatasync errors"))
    if counts_nl:
        if word.casefold() == "erased":
            nl.append(f"status {word} maar " + ", ".join(counts_nl))
            en.append(f"status {word} but " + ", ".join(counts_en))
        else:
            nl.extend(counts_nl)
            en.extend(counts_en)
    if not nl and not drive.in_error_summary:
        nl.append("ontbreekt in de Error Summary-tabel")
        en.append("missing from the Error Summary table")
    if not nl:
        return None
    label = drive.device + (f" ({drive.serial})" if drive.serial else "")
    return f"schijf {label}: " + ", ".join(nl), f"drive {label}: " + ", ".join(en)


def _real_or_none(value: str | None, *, vendor: bool = False) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if is_placeholder_serial(value):
        return None
    if vendor and " ".join(value.split()).casefold() in _VENDOR_PLACEHOLDERS:
        return None
    return value


@dataclass(slots=True)
class _Found:
    device: str
    model: str | None
    size: str | None
    serial: str | None


@dataclass(slots=True)
class _ErrorRow:
    pass_errors: int
    verify_errors: int
    fdatasync_errors: int


@dataclass(slots=True)
class _StatusRow:
    name: str
    status: str
    throughput: str | None
    duration: timedelta
    model_serial: str


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.warnings: list[str] = []

    def parse(self) -> NwipeLog:
        text = self.text
        dmi, system_serials, options, flags = self._key_values()
        found = self._found_devices()
        sizes = self._sizes()
        total = self._total_throughput()
        drives, summary_found, error_summary_found, last_summary = self._drives(found, sizes)

        system_serial = system_serials[0] if system_serials else None
        first = normalise_serial(system_serial or "")
        others = [s for s in system_serials[1:] if normalise_serial(s) != first]
        other_system_serials = list(dict.fromkeys(others))

        method = options.get("method") or None
        if method is None and total:
            method = total[1]
        if method is None:
            invoked = _INVOKING_RE.findall(text)
            method = invoked[-1].strip() if invoked else None

        verification = None
        if "verify" in options:
            raw = options["verify"]
            inner = re.search(r"\(([^)]*)\)", raw)
            verification = (inner.group(1) if inner else raw).strip() or None
        elif total:
            verification = _VERIFY_ABBREVIATIONS.get(total[4])

        rounds = None
        raw_rounds = options.get("rounds", "")
        if raw_rounds.isdigit() and len(raw_rounds) < 10:
            rounds = int(raw_rounds)
        elif total:
            rounds = int(total[2])

        version = self._version(options)
        blanking = None
        if total:
            blanking = total[3] == "B"
        elif "noblank" in flags:
            blanking = False

        return NwipeLog(
            system_serial=system_serial,
            system_manufacturer=_real_or_none(dmi.get("system-manufacturer"), vendor=True),
            system_product=_real_or_none(dmi.get("system-product-name"), vendor=True),
            nwipe_version=version,
            method=method,
            verification=verification,
            rounds=rounds,
            blanking=blanking,
            prng=options.get("prng") or None,
            started_at=self._wipe_start(),
            ended_at=self._last_timestamp(),
            log_started_at=self._first_timestamp(),
            drives=drives,
            dmi=dmi,
            summary_found=summary_found,
            error_summary_found=error_summary_found,
            final_message=self._final_message(last_summary),
            other_system_serials=other_system_serials,
            warnings=self.warnings,
            no_error_summary_version=not error_summary_found
            and self._before_error_summary(version, summary_found),
        )

    # -- simple lines -------------------------------------------------------------------

    def _key_values(self) -> tuple[dict[str, str], list[str], dict[str, str], set[str]]:
        """dmidecode lines and nwipe_options_log() lines, both "key = value"."""
        dmi: dict[str, str] = {}
        system_serials: list[str] = []
        options: dict[str, str] = {}
        for _, line in _lines_containing(self.text, "="):
            match = _KEY_VALUE_RE.fullmatch(_message(line))
            if not match:
                continue
            key, value = match.group(1), match.group(2).strip()
            if key in _DMI_KEYS:
                dmi.setdefault(key, value)
                if key == "system-serial-number" and not is_placeholder_serial(value):
                    system_serials.append(value)
            elif key in ("method", "rounds", "verify", "prng", "banner"):
                options[key] = value  # the last run's options win
        flags = set()
        if "do not perform a final blank pass" in self.text:
            flags.add("noblank")
        return dmi, system_serials, options, flags

    def _version(self, options: dict[str, str]) -> str | None:
        """nwipe's banner: "nwipe 0.38", or ShredOS's "ShredOS v2021.08.2_21_x86-64_0.32.023"
        whose last part is the nwipe version."""
        banners = [options.get("banner", "")]
        banners += [_message(line) for _, line in _lines_containing(self.text, "nwipe ")]
        banners += [_message(line) for _, line in _lines_containing(self.text, "ShredOS v")]
        for banner in banners:
            match = _BANNER_RE.fullmatch(banner) or _SHREDOS_BANNER_RE.fullmatch(banner)
            if match:
                return match.group(1)
        return None

    def _wipe_start(self) -> datetime | None:
        """The moment the first drive's wipe began, not the log's first line."""
        for needle in ("Invoking method '", "Starting round ", "Starting pass "):
            for _, line in _lines_containing(self.text, needle):
                match = _STAMP_RE.search(line)
                if match and (stamp := _stamp_to_datetime(match)) is not None:
                    return stamp
        return None

    def _before_error_summary(self, version: str | None, summary_found: bool) -> bool:
        """nwipe from before the Error Summary table (0.31, mid-2021)."""
        if _OLD_PREFIX_RE.search(self.text):
            return True  # "[...] nwipe: info:" lines: nwipe up to 0.28 (2019-2020)
        numbers = re.match(r"(\d+)\.(\d+)", version or "")
        if numbers and (int(numbers.group(1)), int(numbers.group(2))) < (0, 31):
            return True
        # nwipe 0.29-0.30 printed the Drive Status table without its title
        return not summary_found and bool(_column_title_positions(self.text))

    def _found_devices(self) -> dict[str, _Found]:
        """check_device(): "Found /dev/sda, ATA, <model>, <size>, S/N=<serial>"."""
        devices: dict[str, _Found] = {}
        for _, line in _lines_containing(self.text, "Found /"):
            message = _message(line)
            if not message.startswith("Found /"):
                continue
            head, has_serial, serial = message[len("Found ") :].partition(", S/N=")
            parts = [part.strip() for part in head.split(",")]
            device, middle = parts[0], parts[1:]
            size = middle[-1] if middle and _SIZE_RE.fullmatch(middle[-1]) else None
            if size is not None:
                middle = middle[:-1]
            if len(middle) >= 2:
                middle = middle[1:]  # drop the bus type (" ATA", "NVME", " USB"...)
            model = ", ".join(middle).strip() or None
            devices[device] = _Found(
                device=device,
                model=model,
                size=size,
                serial=serial.strip() if has_serial else None,
            )
        for _, line in _lines_containing(self.text, " has serial number"):
            match = _SERIAL_LINE_RE.fullmatch(_message(line))
            if match and match.group(1).startswith("/"):
                entry = devices.setdefault(match.group(1), _Found(match.group(1), None, None, None))
                if not entry.serial:
                    entry.serial = match.group(2).strip()
        return devices

    def _sizes(self) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for _, line in _lines_containing(self.text, "sect/blk/dev"):
            match = _SECT_BLK_DEV_RE.search(_message(line))
            if match and int(match.group(2)) > 0:
                sizes[match.group(1)] = int(match.group(2))
        for _, line in _lines_containing(self.text, "' is size "):
            match = _IS_SIZE_RE.search(line)
            if match and int(match.group(2)) > 0:
                sizes[match.group(1)] = int(match.group(2))
        return sizes

    def _total_throughput(self) -> tuple[str, str, str, str, str] | None:
        """The last "Total Throughput <x>/s, <method>, <n>R+<B|NB>+<NV|VL|VA>" line."""
        result = None
        for _, line in _lines_containing(self.text, "Total Throughput"):
            match = _TOTAL_RE.search(line)
            if match:
                groups = [group.strip() for group in match.groups()]
                result = (groups[0], groups[1], groups[2], groups[3], groups[4])
        return result

    def _first_timestamp(self) -> datetime | None:
        for match in _STAMP_RE.finditer(self.text):
            stamp = _stamp_to_datetime(match)
            if stamp is not None:
                return stamp
        return None

    def _last_timestamp(self) -> datetime | None:
        pos = len(self.text)
        while True:
            pos = self.text.rfind("[", 0, pos)
            if pos == -1:
                return None
            match = _STAMP_RE.match(self.text, pos)
            if match:
                stamp = _stamp_to_datetime(match)
                if stamp is not None:
                    return stamp

    def _final_message(self, after: int) -> str | None:
        """nwipe's closing one-liner that follows the last summary table."""
        best_pos, best = -1, None
        for needle, meaning in _FINAL_MESSAGES:
            pos = self.text.rfind(needle)
            if pos >= after and pos > best_pos:
                best_pos, best = pos, meaning
        return best

    # -- the summary tables -------------------------------------------------------------

    def _table_rows(self, header: int, row_re: re.Pattern[str]) -> list[re.Match[str]]:
        """Rows of the table whose header line starts at offset ``header``."""
        rows: list[re.Match[str]] = []
        text = self.text
        start = text.find("\n", header)
        while start != -1 and len(rows) < _MAX_TABLE_ROWS:
            end = text.find("\n", start + 1)
            line = text[start + 1 : (len(text) if end == -1 else end)]
            start = end
            if len(line) > _MAX_LINE:
                self.warnings.append(
                    "te lange regel in een samenvattingstabel / overlong table line"
                )
                break
            match = row_re.match(line)
            if match:
                rows.append(match)
                continue
            stripped = line.strip()
            if not stripped or _LEVEL_LINE_RE.match(stripped):
                continue  # blank line, or a log line written while the table was printed
            if _is_rule(stripped):
                if stripped[0] == "*" or rows:
                    break
                continue  # the dashes under the column titles
            if "|" in stripped and "Device" in stripped:
                continue  # column titles
            if _STAMP_RE.match(stripped):
                continue  # "[...] Total Throughput" of an empty Drive Status table
            self.warnings.append(
                "onverwachte regel in een samenvattingstabel / unexpected table line: "
                + stripped[:80]
            )
            break
        return rows

    def _drives(
        self, found: dict[str, _Found], sizes: dict[str, int]
    ) -> tuple[list[DriveResult], bool, bool, int]:
        error_headers = _header_positions(self.text, "Error Summary")
        status_headers = _header_positions(self.text, "Drive Status")
        if not status_headers:
            status_headers = _column_title_positions(self.text)  # nwipe 0.29-0.30

        # Pair each Drive Status table with the Error Summary printed just before it.
        runs: list[tuple[int | None, int | None]] = []
        previous = -1
        for status_pos in status_headers:
            index = bisect.bisect_left(error_headers, status_pos) - 1
            if index >= 0 and error_headers[index] > previous:
                runs.append((error_headers[index], status_pos))
            else:
                runs.append((None, status_pos))
            previous = status_pos
        if error_headers and error_headers[-1] > previous:
            # an Error Summary without its Drive Status table: the log was cut off
            runs.append((error_headers[-1], None))

        merged: dict[str, DriveResult] = {}
        for error_pos, status_pos in runs:
            errors: dict[str, _ErrorRow] = {}
            if error_pos is not None:
                for row in self._table_rows(error_pos, _ERROR_ROW_RE):
                    errors[row.group(2)] = _ErrorRow(
                        int(row.group(3)), int(row.group(4)), int(row.group(5) or 0)
                    )
            statuses: dict[str, _StatusRow] = {}
            if status_pos is not None:
                for row in self._table_rows(status_pos, _STATUS_ROW_RE):
                    hours, minutes, seconds = (int(row.group(i)) for i in (5, 6, 7))
                    throughput = row.group(4).strip() or None
                    statuses[row.group(2)] = _StatusRow(
                        name=row.group(2),
                        status=row.group(3).strip(),
                        throughput=throughput,
                        duration=timedelta(hours=hours, minutes=minutes, seconds=seconds),
                        model_serial=row.group(8).strip(),
                    )
            for name in [*statuses, *(n for n in errors if n not in statuses)]:
                drive = self._drive(name, statuses.get(name), errors.get(name), found, sizes)
                merged[drive.device] = drive  # a later run replaces an earlier result

        last_summary = max([*status_headers, *error_headers], default=-1)
        return list(merged.values()), bool(status_headers), bool(error_headers), last_summary

    def _drive(
        self,
        name: str,
        status: _StatusRow | None,
        errors: _ErrorRow | None,
        found: dict[str, _Found],
        sizes: dict[str, int],
    ) -> DriveResult:
        info = _match_found(name, found)
        device = info.device if info else (name if name.startswith("/") else f"/dev/{name}")
        model, serial = None, None
        if status is not None:
            model, serial = _split_model_serial(status.model_serial, info)
        elif info is not None:
            model, serial = info.model, info.serial
        errors_row = errors if errors is not None else _ErrorRow(0, 0, 0)
        return DriveResult(
            device=device,
            model=model or None,
            serial=_real_or_none(serial),
            size=info.size if info else None,
            size_bytes=sizes.get(device),
            status=status.status if status else "",
            throughput=status.throughput if status else None,
            duration=status.duration if status else None,
            pass_errors=errors_row.pass_errors,
            verify_errors=errors_row.verify_errors,
            fdatasync_errors=errors_row.fdatasync_errors,
            in_error_summary=errors is not None,
        )


def _match_found(name: str, found: dict[str, _Found]) -> _Found | None:
    """The "Found" entry for a table name ("sda"; long names keep their last 8 characters)."""
    if name in found:
        return found[name]
    by_base = [info for path, info in found.items() if path.rsplit("/", 1)[-1] == name]
    if len(by_base) == 1:
        return by_base[0]
    by_tail = [info for path, info in found.items() if path.rsplit("/", 1)[-1].endswith(name)]
    return by_tail[0] if len(by_tail) == 1 else None


def _split_model_serial(cell: str, info: _Found | None) -> tuple[str | None, str | None]:
    """Split the "model/serial" column; the model is cut to 17 characters by nwipe."""
    if info and info.serial and cell.endswith("/" + info.serial):
        model, serial = cell[: -len(info.serial) - 1], info.serial
    elif "/" in cell:
        model, _, serial = cell.rpartition("/")
    else:
        model, serial = cell, ""
    model = model.strip()
    if info and info.model and (not model or info.model.startswith(model)):
        model = info.model  # the untruncated model from the "Found" line
    return model or None, serial.strip() or None
