"""Reading and checking a donor's asset manifest (CSV or XLSX), all or nothing.

`manifest_parse` turns an uploaded file into validated rows, or raises `ManifestInvalid` with
every error found, each with its spreadsheet row number (the header is row 1) and column. It
never writes; `donations.services.manifest_import` does that once the whole file is clean.
"""

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from allemaal import uploads

from .models import Device, DeviceKind
from .vocabulary import normalise_serial

MAX_ROWS = 20_000
# Every row read counts against this, empty or not: the devices, the header and some blank rows.
MAX_ROWS_READ = MAX_ROWS + 1_000
MAX_BYTES = 5 * 1024 * 1024
MAX_ERRORS_SHOWN = 200
MIN_YEAR = 1990
# Words for "nothing" that asset lists often hold instead of an empty cell.
EMPTY_MARKERS = {"", "-", "n.v.t.", "nvt", "n/a", "na", "onbekend", "unknown", "none"}
KIND_WORDS = {
    "laptop": DeviceKind.LAPTOP,
    "notebook": DeviceKind.LAPTOP,
    "chromebook": DeviceKind.CHROMEBOOK,
    "tablet": DeviceKind.TABLET,
    "ipad": DeviceKind.TABLET,
}


@dataclass(frozen=True)
class ManifestError:
    row: int  # spreadsheet row number; 0 for a problem with the file as a whole
    column: str  # e.g. "B (serienummer)"; empty for a whole row or the file
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


class ManifestInvalid(Exception):
    """The file imports nothing; `errors` holds the first MAX_ERRORS_SHOWN of `total` errors."""

    def __init__(self, errors: list[ManifestError], total: int | None = None):
        self.errors = errors
        self.total = total if total is not None else len(errors)
        super().__init__(f"{self.total} errors in manifest")


@dataclass
class ParsedManifest:
    # One tuple per device, in COLUMNS order.
    rows: list[tuple]
    ignored_columns: list[str] = field(default_factory=list)


class _CellError(ValueError):
    pass


# Each parser gets a stripped, non-empty string, or a number from a spreadsheet cell.


def _as_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if value.__class__ is str else str(value)


def _text(max_length: int) -> Callable:
    def parse(value):
        text = _as_text(value)
        if len(text) > max_length:
            raise _CellError(
                _("Te lang: hooguit %(n)d tekens, deze cel heeft er %(len)d.")
                % {"n": max_length, "len": len(text)}
            )
        return text

    return parse


def _number(*, low: int, high: int, units: dict[str, int] | None = None) -> Callable:
    units = units or {}
    pattern = re.compile(r"^(\d+(?:[.,]0+)?)\s*(" + "|".join(units) + r")?$", re.IGNORECASE)

    def slow(value) -> int:
        if isinstance(value, bool):
            raise _CellError(_("Vul een getal in."))
        if isinstance(value, int | float):
            number = value
        else:
            match = pattern.match(value)
            if not match:
                raise _CellError(
                    _("'%(value)s' is geen getal. Vul alleen een heel getal in, zoals 8.")
                    % {"value": value[:40]}
                )
            number = float(match.group(1).replace(",", ".")) * units.get(
                (match.group(2) or "").lower(), 1
            )
        if number != int(number):
            raise _CellError(_("Vul een heel getal in, zonder komma."))
        return int(number)

    def parse(value):
        # Fast path for the common case, plain digits.
        number = int(value) if value.__class__ is str and value.isdecimal() else slow(value)
        if not low <= number <= high:
            raise _CellError(
                _("%(value)d kan niet: het getal moet tussen %(low)d en %(high)d liggen.")
                % {"value": number, "low": low, "high": high}
            )
        return number

    return parse


def _kind(value):
    kind = KIND_WORDS.get(_as_text(value).lower())
    if kind is None:
        raise _CellError(
            _("Onbekend soort apparaat '%(value)s'. Kies laptop, chromebook of tablet.")
            % {"value": _as_text(value)[:40]}
        )
    return kind


_serial_text = _text(100)


def _serial(value):
    # Serial numbers are compared without spaces and case: "abc 123" and "ABC123" are one device.
    # Capitals can be longer than the letters typed ("ß" becomes "SS").
    return _serial_text(normalise_serial(_serial_text(value)))


_any_year = _number(low=0, high=9999)
# The newest build year accepted (next year's models are sold this autumn); set per file.
_latest_year = [9999]


def _year(value):
    year = _any_year(value)
    high = _latest_year[0]
    if not MIN_YEAR <= year <= high:
        raise _CellError(
            _("Bouwjaar %(value)d kan niet: het moet tussen %(low)d en %(high)d liggen.")
            % {"value": year, "low": MIN_YEAR, "high": high}
        )
    return year


@dataclass(frozen=True)
class Column:
    key: str
    label: object  # lazy Dutch label, shown in errors and in the template
    aliases: str  # accepted header names, normalised, separated by "|"
    parse: Callable
    required: bool = False
    is_text: bool = True


# The order of the template file and of the parsed row tuples.
COLUMNS = [
    Column(
        "serial_number",
        gettext_lazy("serienummer"),
        "serienummer|serie nummer|serial|serial number|serialnumber|serial no|sn|s n",
        _serial,
        required=True,
    ),
    Column(
        "kind",
        gettext_lazy("type"),
        "type|soort|soort apparaat|apparaattype|apparaat|device type|kind|categorie|category",
        _kind,
        required=True,
    ),
    Column(
        "make", gettext_lazy("merk"), "merk|fabrikant|make|brand|manufacturer|vendor", _text(100)
    ),
    Column("model", gettext_lazy("model"), "model|modelnaam|model name|typenummer", _text(150)),
    Column(
        "year",
        gettext_lazy("bouwjaar"),
        "bouwjaar|jaar|productiejaar|year|build year|year of manufacture|manufacture year",
        _year,
        is_text=False,
    ),
    Column("cpu", gettext_lazy("processor"), "processor|cpu", _text(150)),
    Column(
        "ram_gb",
        gettext_lazy("werkgeheugen (GB)"),
        "werkgeheugen|werkgeheugen gb|geheugen|geheugen gb|intern geheugen|ram|ram gb|memory"
        "|memory gb",
        _number(low=1, high=1024, units={"gb": 1}),
        is_text=False,
    ),
    Column(
        "storage_gb",
        gettext_lazy("opslag (GB)"),
        "opslag|opslag gb|schijf|harde schijf|schijfruimte|ssd|hdd|storage|storage gb|disk"
        "|disk gb|disk size",
        _number(low=1, high=100_000, units={"gb": 1, "tb": 1000}),
        is_text=False,
    ),
    Column(
        "donor_asset_tag",
        gettext_lazy("eigen code"),
        "eigen code|eigen nummer|inventarisnummer|asset tag|assettag|asset|asset number|asset id"
        "|inventory number",
        _text(100),
    ),
]
COLUMN_KEYS = [c.key for c in COLUMNS]
# An empty cell: an empty string for text, NULL for numbers.
_DEFAULTS = tuple("" if c.is_text else None for c in COLUMNS)
_ALIASES = {alias: column for column in COLUMNS for alias in column.aliases.split("|")}
TEMPLATE_HEADER = [
    "serienummer",
    "type",
    "merk",
    "model",
    "bouwjaar",
    "processor",
    "werkgeheugen (GB)",
    "opslag (GB)",
    "eigen code",
]
TEMPLATE_EXAMPLE = [
    "5CG1234XYZ",
    "laptop",
    "HP",
    "EliteBook 840 G5",
    2019,
    "Intel Core i5-8250U",
    8,
    256,
    "IT-00123",
]


def _normalise_header(value) -> str:
    text = str(value or "").strip().lower()
    text = re.sub(r"[_\-./()\[\]:#]+", " ", text)
    return " ".join(text.split())


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- Reading the file ----------------------------------------------------------------------


def _file_error(message: str) -> ManifestInvalid:
    return ManifestInvalid([ManifestError(0, "", message)])


def _sniffed_delimiter(data: bytes) -> str:
    return uploads.sniff_delimiter(data[: uploads.MAX_LINE_CHARS].decode("latin-1"))


def _open_rows(uploaded_file) -> Iterator:
    """The file's rows: an XLSX workbook or a CSV text, told apart by content, not by name."""
    name = (getattr(uploaded_file, "name", "") or "").lower()
    if not name.endswith((".csv", ".txt", ".xlsx")):
        raise _file_error(
            _(
                "Dit bestandstype kunnen wij niet lezen. Upload een CSV-bestand of een "
                "Excel-bestand (.xlsx). Een oud .xls-bestand kunt u in Excel opslaan als .xlsx."
            )
        )
    data = uploads.read_limited(uploaded_file, MAX_BYTES)
    if data.startswith(b"PK\x03\x04") or name.endswith(".xlsx"):
        return uploads.xlsx_rows(data, max_rows=MAX_ROWS_READ)
    delimiter = _sniffed_delimiter(data)
    text = uploads.decode_text(data, delimiter=delimiter)
    return uploads.csv_rows(text, delimiter)


def _counted_rows(uploaded_file) -> Iterator:
    """Every row read counts, empty or not; a refusal of the file becomes `ManifestInvalid`."""
    try:
        for number, row in enumerate(_open_rows(uploaded_file), start=1):
            if number > MAX_ROWS_READ:
                raise uploads.UploadRefused(uploads.rows_limit_message(MAX_ROWS_READ))
            yield row
    except uploads.UploadRefused as exc:
        raise ManifestInvalid([ManifestError(exc.row, exc.column, exc.message)]) from None


def _is_blank(cells) -> bool:
    if not any(cells):
        return True
    for cell in cells:
        if cell is not None and (cell.__class__ is not str or cell.strip()):
            return False
    return True


# --- Validation ----------------------------------------------------------------------------


class _Errors:
    """Collects errors, keeping only the first MAX_ERRORS_SHOWN but counting them all."""

    def __init__(self):
        self.shown: list[ManifestError] = []
        self.total = 0

    def add(self, row: int, column: str, message: str) -> None:
        self.total += 1
        if len(self.shown) < MAX_ERRORS_SHOWN:
            self.shown.append(ManifestError(row, column, str(message)))

    def raise_if_any(self):
        if self.total:
            # By row, as the donor reads the file; within a row, left to right.
            raise ManifestInvalid(sorted(self.shown, key=lambda e: e.row), self.total)


def _map_header(header, errors: _Errors, row: int) -> tuple[list[tuple], list[str]]:
    """(file column, Column, "B (merk)", slot in the row tuple) for each known column, and the
    names of the unknown columns, which are ignored."""
    mapping: list[tuple] = []
    seen: dict[str, str] = {}
    ignored = []
    for index, raw in enumerate(header):
        name = _normalise_header(raw)
        if not name:
            continue
        column = _ALIASES.get(name)
        where = f"{_column_letter(index)} ({str(raw).strip()})"
        if column is None:
            ignored.append(str(raw).strip())
            continue
        if column.key in seen:
            errors.add(
                row,
                where,
                _("Deze kolom staat er twee keer in (ook kolom %(other)s).")
                % {"other": seen[column.key]},
            )
            continue
        seen[column.key] = where
        mapping.append((index, column, where, COLUMNS.index(column)))
    for column in COLUMNS:
        if column.required and column.key not in seen:
            errors.add(
                row,
                "",
                _("De kolom '%(label)s' ontbreekt. Gebruik de kopregel uit ons voorbeeldbestand.")
                % {"label": column.label},
            )
    return mapping, ignored


_EMPTY_MAX = max(len(m) for m in EMPTY_MARKERS)


def _parse_row(cells, number: int, mapping, errors: _Errors) -> tuple | None:
    values = list(_DEFAULTS)
    ok = True
    width = len(cells)
    for index, column, where, slot in mapping:
        value = cells[index] if index < width else None
        if value.__class__ is str:
            stripped = value.strip()
            if len(stripped) <= _EMPTY_MAX and stripped.lower() in EMPTY_MARKERS:
                value = None
            elif problem := uploads.text_cell_problem(value, formula=column.is_text):
                errors.add(number, where, problem)
                ok = False
                continue
            else:
                value = stripped
        if value is None:
            if column.required:
                errors.add(number, where, _("Deze cel is verplicht en is leeg."))
                ok = False
            continue
        try:
            values[slot] = column.parse(value)
        except _CellError as exc:
            errors.add(number, where, str(exc))
            ok = False
    return tuple(values) if ok else None


def _check_platform_duplicates(serials: dict[str, int], errors: _Errors, where: str) -> None:
    """One query for all serials: a device can be on the platform only once."""
    if not serials:
        return
    if connection.vendor == "postgresql":
        # One array parameter instead of 20,000 placeholders: about ten times faster.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT serial_number FROM {Device._meta.db_table} "  # noqa: S608
                "WHERE serial_number = ANY(%s)",
                [list(serials)],
            )
            existing = [serial for (serial,) in cursor.fetchall()]
    else:
        existing = Device.objects.filter(serial_number__in=list(serials)).values_list(
            "serial_number", flat=True
        )
    for serial in sorted(existing, key=serials.__getitem__):
        errors.add(
            serials[serial],
            where,
            _("Serienummer %(serial)s staat al op het platform.") % {"serial": serial},
        )


class ManifestReader:
    """Reads a manifest row by row, so that a caller can write rows while the file is read.

    Opening it checks the file and its header (raising `ManifestInvalid`); `rows()` yields each
    valid row and collects the errors of the others; `finish()` raises `ManifestInvalid` with
    every error, after looking all serials up on the platform when asked to.
    """

    def __init__(self, uploaded_file):
        _latest_year[0] = timezone.now().year + 1
        # Numbered as a spreadsheet shows them: the first line is row 1.
        self._numbered = enumerate(_counted_rows(uploaded_file), start=1)
        self.errors = _Errors()
        header_row, header = next(
            ((n, c) for n, c in self._numbered if not _is_blank(c)), (0, None)
        )
        if header is None:
            raise _file_error(_("Het bestand is leeg."))
        self.mapping, self.ignored_columns = _map_header(header, self.errors, header_row)
        self.errors.raise_if_any()
        self.serial_where = next(m[2] for m in self.mapping if m[1].key == "serial_number")
        self.first_row_of: dict[str, int] = {}
        self.count = 0

    def rows(self) -> Iterator[tuple]:
        serial_index = COLUMN_KEYS.index("serial_number")
        mapping, errors, first_row_of = self.mapping, self.errors, self.first_row_of
        for number, cells in self._numbered:
            if _is_blank(cells):
                continue
            self.count += 1
            if self.count > MAX_ROWS:
                raise _file_error(
                    _(
                        "Het bestand heeft meer dan %(max)s apparaten. Verdeel de lijst over "
                        "meerdere bestanden of meerdere donaties."
                    )
                    % {"max": f"{MAX_ROWS:,}".replace(",", ".")}
                )
            row = _parse_row(cells, number, mapping, errors)
            if row is None:
                continue
            serial = row[serial_index]
            if serial in first_row_of:
                errors.add(
                    number,
                    self.serial_where,
                    _("Serienummer %(serial)s staat ook al in rij %(row)d.")
                    % {"serial": serial, "row": first_row_of[serial]},
                )
                continue
            first_row_of[serial] = number
            yield row

    def finish(self, *, check_platform: bool = True) -> None:
        if self.count == 0:
            raise _file_error(_("Het bestand bevat geen apparaten: alleen een kopregel."))
        if check_platform:
            _check_platform_duplicates(self.first_row_of, self.errors, self.serial_where)
        self.errors.raise_if_any()


def manifest_parse(uploaded_file) -> ParsedManifest:
    """Every row of the file as a checked tuple, or `ManifestInvalid` listing every error."""
    reader = ManifestReader(uploaded_file)
    rows = list(reader.rows())
    reader.finish()
    return ParsedManifest(rows=rows, ignored_columns=reader.ignored_columns)


# --- The template to download --------------------------------------------------------------


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(TEMPLATE_HEADER)
    writer.writerow(TEMPLATE_EXAMPLE)
    # utf-8-sig so that Excel shows accented letters correctly.
    return out.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Apparaten"))
    sheet.append(TEMPLATE_HEADER)
    sheet.append(TEMPLATE_EXAMPLE)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
