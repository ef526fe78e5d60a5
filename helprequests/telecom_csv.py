"""The telecom provider's CSV: download its assignments, fill in what was provided, upload it.

`write_assignments` writes the download (formula-safe: no cell runs as a formula when opened
in a spreadsheet). `import_provisions` reads an upload and records it all or nothing: every
problem is reported with its spreadsheet row (the header is row 1) and column, and when there
is any, nothing changes. Lines whose provision columns are empty are left alone (not provided
yet), so the same file can be uploaded again as more connections are provided.
"""

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from allemaal import uploads
from allemaal.exports import safe_cell
from allemaal.models import Organisation, User

from .models import ConnectivityAssignment
from .services import connectivity
from .services.connectivity import Provision, ProvisionRow

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10_000
MAX_ERRORS_SHOWN = 200
DATE_FORMATS = ("%d-%m-%Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y")
REFERENCE_RE = re.compile(r"^(?:INT-?)?0*(\d{1,12})$", re.IGNORECASE)


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # lazily translated header
    english: str  # also accepted in an upload, whatever the language of the download
    value: object = None  # assignment -> cell, for the download


def _address(a):
    return a.help_request.delivery_street


def _phone(a):
    phone = a.help_request.contact_phone
    # National format ("0344 123 456"): no leading "+" a spreadsheet would take for a formula.
    return phone.as_national if phone else ""


def _date(value):
    return value.strftime("%d-%m-%Y") if value else ""


COLUMNS = [
    Column("assignment", gettext_lazy("opdracht"), "assignment", lambda a: a.reference),
    Column(
        "request", gettext_lazy("hulpaanvraag"), "help request", lambda a: a.help_request.reference
    ),
    Column(
        "organisation",
        gettext_lazy("organisatie"),
        "organisation",
        lambda a: a.help_request.organisation.name,
    ),
    Column("households", gettext_lazy("huishoudens"), "households", lambda a: a.households),
    Column("street", gettext_lazy("straat en huisnummer"), "street", _address),
    Column(
        "postcode", gettext_lazy("postcode"), "postcode", lambda a: a.help_request.delivery_postcode
    ),
    Column("city", gettext_lazy("plaats"), "city", lambda a: a.help_request.delivery_city),
    Column(
        "contact", gettext_lazy("contactpersoon"), "contact", lambda a: a.help_request.contact_name
    ),
    Column("phone", gettext_lazy("telefoon"), "phone", _phone),
    Column("note", gettext_lazy("toelichting coördinator"), "coordinator note", lambda a: a.note),
    Column(
        "assigned_at",
        gettext_lazy("toegewezen op"),
        "assigned on",
        lambda a: _date(timezone.localdate(a.assigned_at)),
    ),
    Column("sim_cards", gettext_lazy("simkaarten"), "sim cards", lambda a: _count(a, "sim_cards")),
    Column(
        "hotspots",
        gettext_lazy("mobiele hotspots"),
        "mobile hotspots",
        lambda a: _count(a, "hotspots"),
    ),
    Column(
        "bundle_ends_on",
        gettext_lazy("databundel loopt af op"),
        "data bundle ends on",
        lambda a: _date(a.bundle_ends_on),
    ),
    Column("provider_note", gettext_lazy("uw opmerking"), "your note", lambda a: a.provider_note),
]
# What the upload reads; the other columns are there to help the provider and are ignored.
REQUIRED = ("assignment", "sim_cards", "hotspots", "bundle_ends_on")
PROVISION_KEYS = ("sim_cards", "hotspots", "bundle_ends_on")


def _count(assignment, field):
    # An open assignment's provision cells stay empty, for the provider to fill in.
    if assignment.status != ConnectivityAssignment.Status.FULFILLED:
        return ""
    return getattr(assignment, field)


# --- Download ------------------------------------------------------------------------------


def write_assignments(out, assignments: Iterable[ConnectivityAssignment]) -> None:
    """The provider's assignments as CSV (semicolons, as Dutch Excel expects) into `out`."""
    # utf-8 BOM so that Excel shows accented letters correctly.
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    writer.writerow([str(c.label) for c in COLUMNS])
    for assignment in assignments:
        writer.writerow([safe_cell(c.value(assignment)) for c in COLUMNS])


# --- Upload --------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadError:
    row: int  # spreadsheet row number; 0 for the file as a whole
    column: str  # e.g. "L (simkaarten)"; empty for a whole line or the file
    message: str

    def __str__(self):
        where = []
        if self.row:
            where.append(_("rij %(row)d") % {"row": self.row})
        if self.column:
            where.append(_("kolom %(column)s") % {"column": self.column})
        if not where:
            return self.message
        text = ", ".join(where)
        return f"{text[0].upper()}{text[1:]}: {self.message}"


class UploadInvalid(Exception):
    """Nothing was recorded; `errors` holds the first MAX_ERRORS_SHOWN of `total` errors."""

    def __init__(self, errors: list[UploadError]):
        self.total = len(errors)
        self.errors = errors[:MAX_ERRORS_SHOWN]
        super().__init__(f"{self.total} errors in upload")


def _file_error(message: str) -> UploadInvalid:
    return UploadInvalid([UploadError(0, "", message)])


def _normalise(header) -> str:
    return " ".join(str(header or "").replace("\ufeff", "").strip().lower().split())


def _column_letter(index: int) -> str:
    letters, index = "", index + 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _rows(uploaded_file) -> Iterator[list[str]]:
    name = (getattr(uploaded_file, "name", "") or "").lower()
    if not name.endswith((".csv", ".txt")):
        raise _file_error(
            _(
                "Dit bestandstype kunnen wij niet lezen. Upload het CSV-bestand dat u hier heeft "
                "gedownload (in Excel: Opslaan als, CSV)."
            )
        )
    try:
        data = uploads.read_limited(uploaded_file, MAX_BYTES)
        if b"\x00" in data[:4096] or data.startswith(b"PK\x03\x04"):
            raise _file_error(
                _("Dit is geen CSV-bestand. Sla het in Excel op als CSV en upload het opnieuw.")
            )
        delimiter = uploads.sniff_delimiter(data[: uploads.MAX_LINE_CHARS].decode("latin-1"))
        text = uploads.decode_text(data, delimiter=delimiter)
    except uploads.UploadRefused as exc:
        raise _refused(exc) from None
    return uploads.csv_rows(text, delimiter)


def _refused(exc: uploads.UploadRefused) -> UploadInvalid:
    return UploadInvalid([UploadError(exc.row, exc.column, exc.message)])


def _header_map(header: list[str]) -> dict[str, int]:
    """Column index per key, from the header row in Dutch or English (any order)."""
    with override("nl"):
        names = {_normalise(c.label): c.key for c in COLUMNS}
    names.update({_normalise(c.label): c.key for c in COLUMNS})
    names.update({_normalise(c.english): c.key for c in COLUMNS})
    found = {}
    for index, cell in enumerate(header):
        key = names.get(_normalise(cell))
        if key and key not in found:
            found[key] = index
    missing = [c for c in COLUMNS if c.key in REQUIRED and c.key not in found]
    if missing:
        raise _file_error(
            _(
                "In de eerste rij ontbreken deze kolommen: %(columns)s. Gebruik het bestand dat "
                "u hier downloadt en laat de eerste rij staan."
            )
            % {"columns": ", ".join(str(c.label) for c in missing)}
        )
    return found


class _RowReader:
    """Reads one line's cells; collects each problem with its row and column."""

    def __init__(self, cells: list[str], number: int, columns: dict[str, int]):
        self.cells, self.number, self.columns = cells, number, columns
        self.errors: list[UploadError] = []

    def cell(self, key: str) -> str:
        index = self.columns.get(key)
        if index is None or index >= len(self.cells):
            return ""
        return (self.cells[index] or "").strip()

    def where(self, key: str) -> str:
        label = next(str(c.label) for c in COLUMNS if c.key == key)
        return f"{_column_letter(self.columns[key])} ({label})"

    def error(self, key: str, message: str) -> None:
        self.errors.append(UploadError(self.number, self.where(key) if key else "", message))

    def assignment_id(self) -> int | None:
        match = REFERENCE_RE.match(self.cell("assignment").replace(" ", ""))
        if not match:
            self.error(
                "assignment",
                _(
                    "Dit is geen opdrachtnummer. Laat het nummer uit de download staan, zoals "
                    "INT-00042."
                ),
            )
            return None
        return int(match.group(1))

    def count(self, key: str) -> int | None:
        value = self.cell(key)
        if not value:
            return 0
        if re.fullmatch(r"-\s*\d+", value):
            self.error(key, _("Vul 0 of meer in."))
            return None
        if not (value.isascii() and value.isdigit()):  # "¹" is a digit to Python, not to int()
            self.error(key, _("Vul een heel getal in (0 of meer)."))
            return None
        return int(value)

    def day(self) -> date | None:
        value = self.cell("bundle_ends_on").split(" ")[0]
        if not value:
            return None
        for pattern in DATE_FORMATS:
            try:
                return datetime.strptime(value, pattern).date()  # noqa: DTZ007 - a date, no time
            except ValueError:
                continue
        self.error("bundle_ends_on", _("Dit is geen datum. Schrijf de datum zo: 31-12-2026."))
        return None


def _read_line(reader: _RowReader, today: date) -> ProvisionRow | None:
    if not any(reader.cell(key) for key in PROVISION_KEYS):
        return None  # not provided yet, or a blank line
    if reader.cell("assignment"):
        assignment_id = reader.assignment_id()
    else:
        assignment_id = None
        reader.error("assignment", _("Vul het opdrachtnummer in."))
    refused = len(reader.errors)
    sim_cards, hotspots, day = reader.count("sim_cards"), reader.count("hotspots"), reader.day()
    reported = {e.column for e in reader.errors[refused:]}
    # A count that could not be read stands in as 1, so that the other rules still run and
    # every problem of the line is listed at once.
    problems = connectivity.provision_errors(
        1 if sim_cards is None else sim_cards,
        1 if hotspots is None else hotspots,
        day,
        today=today,
    )
    for key, message in problems.items():
        if reader.where(key) not in reported:
            reader.error(key, message)
    if problem := uploads.text_cell_problem(reader.cell("provider_note")):
        reader.error("provider_note", problem)
    provision = None
    if len(reader.errors) == refused:
        provision = Provision(sim_cards, hotspots, day, reader.cell("provider_note")[:2000])
    if assignment_id is None:
        return None
    return ProvisionRow(reader.number, assignment_id, provision)


@dataclass
class ParsedUpload:
    rows: list[ProvisionRow]
    errors: list[UploadError]
    assignment_column: str  # where the assignment numbers are, e.g. "A (opdracht)"


def read_provisions(uploaded_file, *, today: date, progress=None) -> ParsedUpload:
    """The filled-in lines of an upload, and every problem with their values (nothing is
    looked up: which assignment a line is about is checked by the service). `progress` is
    called with the number of lines read, every 1,000 lines."""
    lines = _rows(uploaded_file)
    try:
        header = next(lines)
    except StopIteration:
        raise _file_error(_("Het bestand is leeg.")) from None
    except csv.Error as exc:
        raise _file_error(_("Dit CSV-bestand kunnen wij niet lezen.")) from exc
    except uploads.UploadRefused as exc:
        raise _refused(exc) from None
    columns = _header_map(header)
    parsed = ParsedUpload([], [], _RowReader([], 1, columns).where("assignment"))
    try:
        for number, cells in enumerate(lines, start=2):
            if number > MAX_ROWS + 1:
                raise _file_error(
                    _("Het bestand heeft meer dan %(max)d regels.") % {"max": MAX_ROWS}
                )
            if progress and number % 1000 == 0:
                progress(number - 1)
            reader = _RowReader(cells, number, columns)
            row = _read_line(reader, today)
            parsed.errors += reader.errors
            if row is not None:
                parsed.rows.append(row)
    except csv.Error as exc:
        raise _file_error(_("Dit CSV-bestand kunnen wij niet lezen.")) from exc
    except uploads.UploadRefused as exc:
        raise _refused(exc) from None
    return parsed


def import_provisions(
    uploaded_file,
    *,
    provider: Organisation,
    by: User,
    parsed: ParsedUpload | None = None,
    progress=None,
    before_recording=None,
):
    """Record every filled-in line of an upload, or nothing: raises `UploadInvalid` with all
    problems (values, unknown or other providers' assignments, withdrawn ones, provided ones
    with other values). Returns the service's `FulfilResult`. `parsed` is the upload already
    read by `read_provisions`; a background job passes `progress` (lines read) and
    `before_recording` (the file is clean) to show how far it is."""
    if parsed is None:
        parsed = read_provisions(uploaded_file, today=timezone.localdate(), progress=progress)
    column = parsed.assignment_column
    problems = connectivity.connectivity_check_rows(provider, parsed.rows)
    errors = parsed.errors + [UploadError(row, column, message) for row, message in problems]
    if errors:
        raise UploadInvalid(sorted(errors, key=lambda e: e.row))
    if not parsed.rows:
        raise _file_error(
            _(
                "In dit bestand is niets ingevuld. Vul per opdracht het aantal simkaarten of "
                "hotspots en de einddatum van de databundel in."
            )
        )
    if before_recording:
        before_recording()
    try:
        return connectivity.connectivity_fulfil_many(provider=provider, by=by, rows=parsed.rows)
    except connectivity.ConnectivityRowsInvalid as exc:
        # Changed between the check and the lock (a coordinator withdrew one meanwhile).
        raise UploadInvalid(
            [UploadError(row, column, message) for row, message in exc.problems]
        ) from exc
