"""Reading and checking a donor's asset manifest (CSV or XLSX), all or nothing.

`manifest_parse` turns an uploaded file into validated rows, or raises `ManifestInvalid` with
every error found, each with its spreadsheet row number (the header is row 1) and column. It
never writes; `donations.services.manifest_import` does that once the whole file is clean.
"""

import csv
import datetime
import hashlib
import io
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from allemaal import uploads

from . import asset_exports as exports
from .models import Device
from .vocabulary import normalise_serial

MAX_ROWS = 20_000
# Every row read counts against this, empty or not: the devices, the header and some blank rows.
MAX_ROWS_READ = MAX_ROWS + 1_000
MAX_BYTES = 5 * 1024 * 1024
MAX_ERRORS_SHOWN = 200
MIN_YEAR = 1990
# Words for "nothing" that asset lists often hold instead of an empty cell.
EMPTY_MARKERS = {"", "-", "n.v.t.", "nvt", "n/a", "na", "onbekend", "unknown", "none"}
KIND_WORDS = exports.KIND_WORDS
# How many checked rows the preview shows.
PREVIEW_ROWS = 10


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
    personal_columns: list[str] = field(default_factory=list)
    skipped: list[tuple] = field(default_factory=list)


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
        if not math.isfinite(number):  # an XLSX cell may hold inf or nan
            raise _CellError(_("Vul een getal in."))
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


# Fields a file column can become besides COLUMNS: read to derive a value, never stored.
SOURCE_FIELDS = {
    "os": (
        gettext_lazy("besturingssysteem"),
        "besturingssysteem|os|operating system|os type|os name",
    ),
    "date": (
        gettext_lazy("aankoop- of productiedatum"),
        "aankoopdatum|datum aankoop|inkoopdatum|productiedatum|purchase date|date of purchase"
        "|manufacture date|manufacturing date|production date",
    ),
}
FIELD_LABELS = {c.key: c.label for c in COLUMNS} | {k: v[0] for k, v in SOURCE_FIELDS.items()}
_SOURCE_ALIASES = {
    alias: key for key, (_label, aliases) in SOURCE_FIELDS.items() for alias in aliases.split("|")
}
PERSONAL = "personal"
_SLOT = {key: index for index, key in enumerate(COLUMN_KEYS)}
_COLUMN = {c.key: c for c in COLUMNS}


@dataclass
class PlannedColumn:
    """What one column of the file becomes."""

    index: int
    header: str  # as the file spells it
    name: str  # normalised
    key: str  # a field of FIELD_LABELS, "" when ignored, PERSONAL when never read
    unit: str = ""  # "mb", "gb" or "tb" for a size
    where: str = ""  # "B (Serial number)", for errors

    @property
    def letter(self) -> str:
        return _column_letter(self.index)


@dataclass
class HeaderPlan:
    columns: list[PlannedColumn]
    export: exports.Export | None
    signature: str

    @property
    def personal_columns(self) -> list[str]:
        return [c.header for c in self.columns if c.key == PERSONAL]

    @property
    def ignored_columns(self) -> list[str]:
        return [c.header for c in self.columns if not c.key]

    @property
    def mapping(self) -> dict[str, str]:
        return {str(c.index): c.key for c in self.columns if c.key != PERSONAL}

    @property
    def export_label(self) -> str:
        return exports.export_label(self.export)


def header_signature(names: list[str]) -> str:
    """The same header (names in the same order) gives the same signature."""
    return hashlib.sha256("\x1f".join(names).encode()).hexdigest()


def plan_header(header, mapping: dict[str, str] | None = None) -> HeaderPlan:
    """Which field each column becomes: the donor's `mapping` ({"3": "model"}) where it says,
    else the tool's own header names, else our Dutch and English aliases. Columns naming people
    are never read, whatever the mapping says."""
    names = [_normalise_header(raw) for raw in header]
    export = exports.recognise(names)
    vendor = export.aliases if export else {}
    columns = []
    for index, raw in enumerate(header):
        name = names[index]
        if not name:
            continue
        text = str(raw).strip()
        if exports.is_personal(name):
            key = PERSONAL
        elif mapping is not None and str(index) in mapping:
            key = mapping[str(index)] if mapping[str(index)] in FIELD_LABELS else ""
        elif name in vendor:
            key = vendor[name][0]
        elif name in _ALIASES:
            key = _ALIASES[name].key
        elif name in _SOURCE_ALIASES:
            key = _SOURCE_ALIASES[name]
        else:
            # "Geheugen (MB)": the name without its unit.
            base = " ".join(w for w in name.split() if w not in exports.UNITS)
            column = _ALIASES.get(base)
            key = column.key if column and column.key in ("ram_gb", "storage_gb") else ""
        unit = ""
        if key in ("ram_gb", "storage_gb"):
            unit = exports.unit_of_header(name) or vendor.get(name, ("", ""))[1] or "gb"
        columns.append(
            PlannedColumn(index, text, name, key, unit, f"{_column_letter(index)} ({text})")
        )
    return HeaderPlan(columns, export, header_signature(names))


def _check_plan(plan: HeaderPlan, errors: "_Errors", row: int) -> None:
    seen: dict[str, str] = {}
    for column in plan.columns:
        if not column.key or column.key == PERSONAL:
            continue
        if column.key in seen:
            errors.add(
                row,
                column.where,
                _("Deze kolom staat er twee keer in (ook kolom %(other)s).")
                % {"other": seen[column.key]},
            )
            continue
        seen[column.key] = column.where
    if "serial_number" not in seen:
        errors.add(
            row,
            "",
            _("De kolom '%(label)s' ontbreekt. Gebruik de kopregel uit ons voorbeeldbestand.")
            % {"label": _COLUMN["serial_number"].label},
        )
    derivable = {"kind", "model", "os"} & set(seen) or (plan.export and plan.export.default_kind)
    if not derivable:
        errors.add(
            row,
            "",
            _("De kolom '%(label)s' ontbreekt. Gebruik de kopregel uit ons voorbeeldbestand.")
            % {"label": _COLUMN["kind"].label},
        )


def _sized(column: Column, unit: str) -> Callable:
    """A size in MB or TB (as the header says) as whole GB; a unit in the cell wins."""
    pattern = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(mb|gb|tb)?$", re.IGNORECASE)
    low, high = (1, 1024) if column.key == "ram_gb" else (1, 100_000)

    def parse(value):
        if isinstance(value, bool):
            raise _CellError(_("Vul een getal in."))
        if isinstance(value, int | float):
            number, cell_unit = float(value), unit
        else:
            match = pattern.match(value)
            if not match:
                raise _CellError(
                    _("'%(value)s' is geen getal. Vul alleen een getal in, zoals 8.")
                    % {"value": value[:40]}
                )
            number = float(match.group(1).replace(",", "."))
            cell_unit = (match.group(2) or unit).lower()
        gb = round(number * exports.UNITS[cell_unit])
        if not low <= gb <= high:
            raise _CellError(
                _("%(value)d GB kan niet: het getal moet tussen %(low)d en %(high)d liggen.")
                % {"value": gb, "low": low, "high": high}
            )
        return gb

    return parse


_EMPTY_MAX = max(len(m) for m in EMPTY_MARKERS)
SKIPPED = object()
_EXACT_KINDS = {kind.value: kind.value for kind in KIND_WORDS.values()}
_KIND_SLOT, _MODEL_SLOT, _YEAR_SLOT = _SLOT["kind"], _SLOT["model"], _SLOT["year"]


def _not_taken_message(kind: str) -> str:
    return _(
        "Dit is %(what)s; die nemen wij niet aan (alleen laptop, chromebook of tablet). Haal "
        "de rij weg, of kies 'Sla over wat wij niet kunnen aannemen'."
    ) % {"what": exports.NOT_TAKEN[kind]}


def skip_reason(kind: str) -> str:
    return _("%(what)s nemen wij niet aan") % {"what": str(exports.NOT_TAKEN[kind]).capitalize()}


class _RowParser:
    """Turns the cells of one row into a device tuple, deriving what the file leaves out."""

    def __init__(self, plan: HeaderPlan, *, skip_unaccepted: bool):
        self.skip_unaccepted = skip_unaccepted
        self.default_kind = plan.export.default_kind if plan.export else ""
        self.kind_where = ""
        self.readers = []
        for c in plan.columns:
            if not c.key or c.key == PERSONAL:
                continue
            if c.key == "kind":
                self.kind_where = c.where
            column = _COLUMN.get(c.key)
            if column is None:  # os, date: read, not stored
                self.readers.append((c.index, c.key, None, c.where, -1, False, False))
                continue
            parse = column.parse
            if c.unit and c.unit != "gb":
                parse = _sized(column, c.unit)
            required = column.required and c.key != "kind"
            slot = -1 if c.key == "kind" else _SLOT[c.key]
            self.readers.append((c.index, c.key, parse, c.where, slot, required, column.is_text))
        # Sizes converted from MB or TB: marked as derived on the preview.
        self.converted = {c.key for c in plan.columns if c.unit and c.unit != "gb"}

    def parse(self, cells, number: int, errors: "_Errors"):
        """The row as a tuple, SKIPPED, or None after adding its errors; and the derived
        values as {field: note} (or None)."""
        values = list(_DEFAULTS)
        problems = []
        derived = None
        sources = {}
        width = len(cells)
        converted = self.converted
        for index, key, parse, where, slot, required, is_text in self.readers:
            value = cells[index] if index < width else None
            if value.__class__ is str:
                stripped = value.strip()
                if len(stripped) <= _EMPTY_MAX and stripped.lower() in EMPTY_MARKERS:
                    value = None
                elif problem := uploads.text_cell_problem(value, formula=is_text):
                    problems.append((where, problem))
                    continue
                else:
                    value = stripped
            if value is None:
                if required:
                    problems.append((where, _("Deze cel is verplicht en is leeg.")))
                continue
            if slot < 0:
                sources[key] = value
                continue
            try:
                values[slot] = parse(value)
            except _CellError as exc:
                problems.append((where, str(exc)))
                continue
            if converted and key in converted:
                derived = derived or {}
                derived[key] = _("uit %(value)s") % {"value": _as_text(value)[:40]}
        # The kind: a category word, else the model name or the operating system.
        kind_text = sources.get("kind", "")
        if kind_text.__class__ is not str:
            kind_text = _as_text(kind_text)
        # Fast path: the word as our template spells it.
        kind = _EXACT_KINDS.get(kind_text)
        if kind is None and kind_text:
            kind = exports.kind_from_word(kind_text)
        source = kind_text
        if kind is None:
            kind, source = exports.kind_from_texts(
                kind_text, values[_MODEL_SLOT], _as_text(sources.get("os", ""))
            )
        if kind is None and self.default_kind and not kind_text:
            kind, source = self.default_kind, ""
        if kind in exports.NOT_TAKEN:
            if self.skip_unaccepted:
                return SKIPPED, skip_reason(kind)
            problems.append((self.kind_where, _not_taken_message(kind)))
        elif kind is None:
            if kind_text:
                message = _(
                    "Onbekend soort apparaat '%(value)s'. Kies laptop, chromebook of tablet."
                ) % {"value": kind_text[:40]}
            elif self.kind_where:
                message = _("Deze cel is verplicht en is leeg.")
            else:
                message = _(
                    "Het soort apparaat volgt niet uit model of besturingssysteem. Voeg een "
                    "kolom 'type' toe (laptop, chromebook of tablet)."
                )
            problems.append((self.kind_where, message))
        else:
            values[_KIND_SLOT] = kind
            if kind_text != kind and kind_text.lower() != kind:
                derived = derived or {}
                derived["kind"] = (
                    _("uit %(value)s") % {"value": source[:40]}
                    if source
                    else _("uit het soort export")
                )
        # The year: from a purchase or manufacture date when there is no year.
        if values[_YEAR_SLOT] is None and "date" in sources:
            when = sources["date"]
            year = when.year if isinstance(when, datetime.date) else None
            year = year or exports.year_from_date(_as_text(when))
            if year is not None:
                try:
                    values[_YEAR_SLOT] = _year(year)
                except _CellError as exc:
                    problems.append(("", str(exc)))
                else:
                    derived = derived or {}
                    derived["year"] = _("uit %(value)s") % {"value": _as_text(when)[:40]}
        if problems:
            for where, message in problems:
                errors.add(number, where, message)
            return None, None
        return tuple(values), derived


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

    `stored` reads a list kept by `sanitized` instead of an uploaded file; `mapping` is the
    donor's choice of field per column; with `skip_unaccepted`, rows of kinds we do not take
    are listed in `skipped` instead of being errors.
    """

    def __init__(self, uploaded_file=None, *, stored=None, mapping=None, skip_unaccepted=False):
        _latest_year[0] = timezone.now().year + 1
        source = _counted_rows(uploaded_file) if stored is None else _stored_rows(stored)
        # Numbered as a spreadsheet shows them: the first line is row 1.
        self._numbered = enumerate(source, start=1)
        self.errors = _Errors()
        header_row, header = next(
            ((n, c) for n, c in self._numbered if not _is_blank(c)), (0, None)
        )
        if header is None:
            raise _file_error(_("Het bestand is leeg."))
        self.header = [str(cell or "").strip() for cell in header]
        self.plan = plan_header(header, mapping)
        _check_plan(self.plan, self.errors, header_row)
        self.errors.raise_if_any()
        self.ignored_columns = self.plan.ignored_columns
        self.personal_columns = self.plan.personal_columns
        self.serial_where = next(c.where for c in self.plan.columns if c.key == "serial_number")
        self._parser = _RowParser(self.plan, skip_unaccepted=skip_unaccepted)
        self.first_row_of: dict[str, int] = {}
        self.count = 0
        self.skipped: list[tuple[int, str]] = []
        # The first rows as they will be stored: (row number, values, {field: derived from}).
        self.preview: list[tuple[int, tuple, dict]] = []

    def rows(self) -> Iterator[tuple]:
        serial_index = COLUMN_KEYS.index("serial_number")
        errors, first_row_of, parse = self.errors, self.first_row_of, self._parser.parse
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
            row, derived = parse(cells, number, errors)
            if row is None:
                continue
            if row is SKIPPED:
                self.skipped.append((number, derived))
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
            if len(self.preview) < PREVIEW_ROWS:
                self.preview.append((number, row, derived or {}))
            yield row

    def finish(self, *, check_platform: bool = True) -> None:
        if self.count == 0:
            raise _file_error(_("Het bestand bevat geen apparaten: alleen een kopregel."))
        if check_platform:
            _check_platform_duplicates(self.first_row_of, self.errors, self.serial_where)
        self.errors.raise_if_any()


def manifest_parse(uploaded_file=None, **options) -> ParsedManifest:
    """Every row of the file as a checked tuple, or `ManifestInvalid` listing every error."""
    reader = ManifestReader(uploaded_file, **options)
    rows = list(reader.rows())
    reader.finish()
    return ParsedManifest(
        rows=rows,
        ignored_columns=reader.ignored_columns,
        personal_columns=reader.personal_columns,
        skipped=reader.skipped,
    )


# --- A list kept for its preview, without personal data ---------------------------------------


def _jsonable(cell):
    if cell is None or isinstance(cell, str | int | float | bool):
        return cell
    if isinstance(cell, datetime.date | datetime.time):
        return cell.isoformat()
    return str(cell)


def sanitized(uploaded_file) -> tuple[bytes, list[str]]:
    """The uploaded list, read through every limit of `allemaal.uploads`, as JSON lines (one
    row a line, blank rows kept so that row numbers stay), with every cell of a column that
    names people emptied; and the headers of those columns. Only this is ever stored."""
    out = io.StringIO()
    personal: list[int] | None = None
    names: list[str] = []
    for cells in _counted_rows(uploaded_file):
        cells = [_jsonable(cell) for cell in cells]
        if personal is None:
            if not _is_blank(cells):
                personal = [
                    index
                    for index, raw in enumerate(cells)
                    if exports.is_personal(_normalise_header(raw))
                ]
                names = [str(cells[index]).strip() for index in personal]
        else:
            for index in personal:
                if index < len(cells):
                    cells[index] = None
        out.write(json.dumps(cells, ensure_ascii=False))
        out.write("\n")
    if personal is None:
        raise _file_error(_("Het bestand is leeg."))
    return out.getvalue().encode(), names


def stored_plan(stored, mapping: dict | None = None) -> HeaderPlan:
    """The header plan of a kept list (see `sanitized`)."""
    for line in stored:
        cells = json.loads(line)
        if not _is_blank(cells):
            return plan_header(cells, mapping)
    raise _file_error(_("Het bestand is leeg."))


def _stored_rows(stored) -> Iterator[list]:
    for number, line in enumerate(stored, start=1):
        if number > MAX_ROWS_READ:
            raise _file_error(uploads.rows_limit_message(MAX_ROWS_READ))
        yield json.loads(line)


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
