"""What every uploaded file passes before any parsing work: its size, its type by content (not
by name), zip limits (spreadsheets and archives of logs), decoding as text with NUL bytes and
undecodable bytes refused by row and column, CSV line and cell lengths, and cells that a
spreadsheet would run as a formula.

The checks are cheap and come first, so a hostile file is refused in milliseconds with a Dutch
message naming the limit; the parsers (asset lists, nwipe logs, the telecom CSV) then only see
input whose size and shape are bounded. `upload_limit` marks a view with the largest request
body it accepts; `allemaal.middleware.UploadLimitMiddleware` answers 413 above it before the
body is read.
"""

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _

MB = 1024 * 1024
# Request bodies: room for the form fields and multipart headers beside the file itself.
REQUEST_OVERHEAD_BYTES = 64 * 1024

# Text (CSV): a physical line, and one cell, at most this long.
MAX_LINE_CHARS = 20_000
MAX_CELL_CHARS = 2_000

# XLSX: a spreadsheet is a zip of XML parts; these bound the work before openpyxl opens it.
XLSX_MAX_ENTRIES = 200
XLSX_MAX_UNCOMPRESSED_BYTES = 20 * MB
XLSX_MAX_COLUMNS = 200
# Compression ratio above which a part counts as a zip bomb (only checked for parts over 1 MB,
# as small XML parts compress very well).
MAX_RATIO = 100
RATIO_CHECKED_FROM_BYTES = 1 * MB

# A cell that starts with one of these, once leading blanks and control characters are gone,
# runs as a formula in a spreadsheet (CSV injection, OWASP).
FORMULA_SIGNS = ("=", "+", "-", "@")
# Whitespace, control characters and zero-width characters a spreadsheet skips before "=".
_LEADING_RE = re.compile(r"^[\s\x00-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff]+")
# C0 control characters other than tab, line feed and carriage return never occur in text.
_CONTROL_RE = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Signatures of files that are not text, with the name we give them in a message.
_SIGNATURES = (
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"%PDF", "PDF"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"\xd0\xcf\x11\xe0", "Excel 97-2003 (.xls)"),
    (b"MZ", "Windows-programma"),
    (b"\x7fELF", "Linux-programma"),
    (b"BZh", "bzip2"),
    (b"7z\xbc\xaf", "7-Zip"),
    (b"Rar!", "RAR"),
)
_MARKUP_RE = re.compile(rb"^\s*<(?:!doctype|html|head|body|\?xml|svg|script)\b", re.IGNORECASE)
_XLSX_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
_DIMENSION_RE = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?\"")


class UploadRefused(Exception):
    """The file is refused as a whole; `row` and `column` say where, when that is known."""

    def __init__(self, message: str, row: int = 0, column: str = ""):
        super().__init__(message)
        self.message, self.row, self.column = message, row, column


def upload_limit(max_bytes: int, *, json: bool = False) -> Callable:
    """Mark a view with the largest upload it accepts, in bytes of files (the request body may
    be REQUEST_OVERHEAD_BYTES larger, for the form around them); see UploadLimitMiddleware."""

    def mark(view):
        view.upload_max_bytes = max_bytes
        view.upload_json = json
        return view

    return mark


def too_large_message(max_bytes: int) -> str:
    return _("Het bestand is te groot. Het maximum is %(max)s.") % {"max": size_text(max_bytes)}


def size_text(n: int) -> str:
    if n >= MB:
        return f"{n / MB:.1f}".replace(".0", "").replace(".", ",") + " MB"
    return f"{n // 1024} kB"


def number_text(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: as a spreadsheet names its columns."""
    letters, index = "", index + 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- Reading with a limit ------------------------------------------------------------------


def read_limited(uploaded_file, max_bytes: int) -> bytes:
    """The file's bytes, refused above `max_bytes` without reading more than one byte past it."""
    size = getattr(uploaded_file, "size", None)
    if size is not None and size > max_bytes:
        raise UploadRefused(too_large_message(max_bytes))
    data = uploaded_file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadRefused(too_large_message(max_bytes))
    return data


# --- Type by content -----------------------------------------------------------------------


def binary_kind(data: bytes) -> str | None:
    """The kind of a non-text file by its first bytes ("PNG", "zip", ...), or None."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    return None


def is_markup(data: bytes) -> bool:
    return bool(_MARKUP_RE.match(data[:512].lstrip(b"\xef\xbb\xbf")))


def _position(data: bytes | str, index: int, delimiter: str | None) -> tuple[int, str]:
    """Row (line number) and column of `data[index]`: a spreadsheet column letter when the text
    is CSV, else the character's place on its line."""
    newline = b"\n" if isinstance(data, bytes) else "\n"
    row = data.count(newline, 0, index) + 1
    start = data.rfind(newline, 0, index) + 1
    prefix = data[start:index]
    if isinstance(prefix, bytes):
        prefix = prefix.decode("latin-1")
    if delimiter:
        try:
            fields = next(csv.reader([prefix.replace("\r", " ")], delimiter=delimiter), [""])
        except csv.Error:
            fields = prefix.split(delimiter)
        return row, column_letter(max(len(fields) - 1, 0))
    return row, _("teken %(n)d") % {"n": len(prefix) + 1}


def decode_text(data: bytes, *, delimiter: str | None = None, allow_controls: bool = False) -> str:
    """The bytes as text: UTF-8 with or without BOM, else Windows-1252 (as Dutch Excel writes
    CSV). Refuses NUL bytes, control characters (unless `allow_controls`, for terminal logs)
    and undecodable bytes with their row and column, so nothing binary reaches a parser."""
    kind = binary_kind(data)
    if kind:
        raise UploadRefused(_("Dit is een %(kind)s-bestand, geen tekstbestand.") % {"kind": kind})
    if is_markup(data):
        raise UploadRefused(_("Dit is een webpagina (HTML of XML), geen tekstbestand."))
    nul = data.find(b"\x00")
    if 0 <= nul < 4096:
        # NUL bytes at the start: a binary file (UTF-16 too), not one damaged line.
        raise UploadRefused(_("Dit is geen tekstbestand: het bevat NUL-tekens."))
    if nul >= 0:
        row, column = _position(data, nul, delimiter)
        raise UploadRefused(_("Hier staat een NUL-teken: dit is geen tekstbestand."), row, column)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            row, column = _position(data, exc.start, delimiter)
            raise UploadRefused(
                _("Dit teken kunnen wij niet lezen (byte %(byte)s). Sla het bestand op als UTF-8.")
                % {"byte": f"0x{data[exc.start]:02X}"},
                row,
                column,
            ) from None
    match = None if allow_controls else _CONTROL_RE.search(text)
    if match:
        row, column = _position(text, match.start(), delimiter)
        raise UploadRefused(
            _("Hier staat een stuurteken (%(code)s): dit is geen gewoon tekstbestand.")
            % {"code": f"0x{ord(match.group()):02X}"},
            row,
            column,
        )
    return text


# --- CSV -----------------------------------------------------------------------------------


def sniff_delimiter(text: str) -> str:
    # Dutch Excel separates with semicolons; others use commas or tabs.
    first_line = text[: MAX_LINE_CHARS + 1].split("\n", 1)[0]
    return max([";", ",", "\t"], key=first_line.count)


def _lines(text: str) -> Iterator[str]:
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise UploadRefused(
                _("Deze regel is te lang: hooguit %(max)s tekens.")
                % {"max": number_text(MAX_LINE_CHARS)},
                number,
            )
        yield line


def csv_rows(text: str, delimiter: str) -> Iterator[list[str]]:
    """The rows of a CSV text; a line or a cell over its limit, or a broken quote, is refused
    with its row (and column)."""
    reader = csv.reader(_lines(text), delimiter=delimiter)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UploadRefused(
                _("Deze regel kunnen wij niet lezen (%(reason)s).") % {"reason": exc},
                reader.line_num,
            ) from None
        if row and max(map(len, row)) > MAX_CELL_CHARS:
            check_cell_lengths(row, reader.line_num)
        yield row


def check_cell_lengths(cells, row: int) -> None:
    for index, cell in enumerate(cells):
        if cell.__class__ is str and len(cell) > MAX_CELL_CHARS:
            raise UploadRefused(
                _("Deze cel is te lang: hooguit %(max)s tekens, deze heeft er %(n)s.")
                % {"max": number_text(MAX_CELL_CHARS), "n": number_text(len(cell))},
                row,
                column_letter(index),
            )


# --- Zip archives --------------------------------------------------------------------------


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int
    max_entry_bytes: int
    max_total_bytes: int
    max_ratio: int = MAX_RATIO


def open_zip(data: bytes, limits: ZipLimits) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """The archive and its file entries, after checking its declared sizes against `limits`.

    Python's zipfile never inflates an entry past its declared size, so checking the declared
    sizes bounds the work, whatever the archive really holds."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise UploadRefused(_("Dit zip-bestand is kapot of onvolledig.")) from None
    if len(entries) > limits.max_entries:
        raise UploadRefused(
            _("Het zip-bestand bevat %(n)s bestanden; het maximum is %(max)s.")
            % {"n": number_text(len(entries)), "max": number_text(limits.max_entries)}
        )
    total = 0
    for entry in entries:
        if entry.file_size > limits.max_entry_bytes:
            raise UploadRefused(
                _("%(name)s is uitgepakt %(size)s; het maximum per bestand is %(max)s.")
                % {
                    "name": entry.filename[-100:],
                    "size": size_text(entry.file_size),
                    "max": size_text(limits.max_entry_bytes),
                }
            )
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > RATIO_CHECKED_FROM_BYTES and ratio > limits.max_ratio:
            raise UploadRefused(
                _(
                    "%(name)s is %(ratio)s keer samengeperst; het maximum is %(max)s keer "
                    "(een zip-bom?)."
                )
                % {
                    "name": entry.filename[-100:],
                    "ratio": number_text(int(ratio)),
                    "max": limits.max_ratio,
                }
            )
        total += entry.file_size
    if total > limits.max_total_bytes:
        raise UploadRefused(
            _("Het zip-bestand is uitgepakt %(size)s; het maximum is %(max)s.")
            % {"size": size_text(total), "max": size_text(limits.max_total_bytes)}
        )
    return archive, entries


# --- XLSX ----------------------------------------------------------------------------------

XLSX_LIMITS = ZipLimits(
    max_entries=XLSX_MAX_ENTRIES,
    max_entry_bytes=XLSX_MAX_UNCOMPRESSED_BYTES,
    max_total_bytes=XLSX_MAX_UNCOMPRESSED_BYTES,
)


def _column_number(letters: bytes) -> int:
    number = 0
    for char in letters:
        number = number * 26 + char - 64
    return number


def check_xlsx(data: bytes, *, max_rows: int) -> None:
    """Refuse what is not an .xlsx workbook, or one whose zip or declared sheet size is over
    the limits, before openpyxl parses anything."""
    if not data.startswith(b"PK\x03\x04"):
        raise UploadRefused(_("Dit is geen geldig Excel-bestand (.xlsx)."))
    archive, entries = open_zip(data, XLSX_LIMITS)
    names = {entry.filename for entry in entries}
    sheets = [n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")]
    if not all(part in names for part in _XLSX_PARTS) or not sheets:
        raise UploadRefused(_("Dit is geen geldig Excel-bestand (.xlsx)."))
    for name in sheets:
        try:
            with archive.open(name) as part:
                head = part.read(4096)
        except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, NotImplementedError):
            raise UploadRefused(_("Dit Excel-bestand kunnen wij niet lezen.")) from None
        match = _DIMENSION_RE.search(head)
        if not match:
            continue
        last_column, last_row = match.group(3) or match.group(1), match.group(4) or match.group(2)
        rows = int(last_row or 0)
        columns = _column_number(last_column or b"")
        if rows > max_rows or columns > XLSX_MAX_COLUMNS:
            raise UploadRefused(
                _(
                    "Het werkblad zegt %(rows)s rijen en %(columns)s kolommen te hebben; het "
                    "maximum is %(max_rows)s rijen en %(max_columns)s kolommen."
                )
                % {
                    "rows": number_text(rows),
                    "columns": number_text(columns),
                    "max_rows": number_text(max_rows),
                    "max_columns": XLSX_MAX_COLUMNS,
                }
            )


def xlsx_rows(data: bytes, *, max_rows: int) -> Iterator[tuple]:
    """The first sheet's rows as value tuples, read in streaming mode, after `check_xlsx`.

    Every row read counts against `max_rows`, empty or not, so a sheet of millions of empty
    rows stops at the limit; rows are cut at XLSX_MAX_COLUMNS and cells over MAX_CELL_CHARS
    are refused. Formulas come back as their text ("=SUM(...)"), for the caller to refuse."""
    from openpyxl import load_workbook

    check_xlsx(data, max_rows=max_rows)
    unreadable = _("Dit Excel-bestand kunnen wij niet lezen.")
    errors = (zipfile.BadZipFile, KeyError, OSError, ValueError, IndexError, TypeError, EOFError)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except errors:
        raise UploadRefused(unreadable) from None
    except Exception as exc:  # XML syntax errors come in several classes
        raise UploadRefused(unreadable) from exc
    try:
        if not workbook.worksheets:
            raise UploadRefused(unreadable)
        sheet = workbook.worksheets[0]
        # Never pad rows to the sheet's declared size: only cells that are there count.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(max_col=XLSX_MAX_COLUMNS, values_only=True)
        for number, row in enumerate(rows, start=1):
            if number > max_rows:
                raise UploadRefused(rows_limit_message(max_rows))
            if any(row):  # most rows are short; a row of empty cells needs no look
                check_cell_lengths(row, number)
            yield row
    except UploadRefused:
        raise
    except Exception as exc:  # a broken part shows only while its rows are read
        raise UploadRefused(unreadable) from exc
    finally:
        workbook.close()


def rows_limit_message(max_rows: int) -> str:
    return _("Het bestand heeft meer dan %(max)s rijen (lege rijen tellen mee).") % {
        "max": number_text(max_rows)
    }


# --- Formulas ------------------------------------------------------------------------------


def formula_problem(value) -> str | None:
    """Why a text cell would run as a formula in a spreadsheet, or None: a formula sign first
    once leading whitespace and control characters are gone ("\\n=2+2" too), or a tab or
    carriage return first."""
    if value.__class__ is not str or not value:
        return None
    first = value[0]
    if first not in "\t\r":
        stripped = _LEADING_RE.sub("", value, count=1) if not first.isalnum() else value
        first = stripped[:1]
        if first not in FORMULA_SIGNS:
            return None
    char = {"\t": _("een tab"), "\r": _("een regelterugloop (CR)")}.get(first, f"'{first}'")
    return _(
        "Deze cel begint met %(char)s en zou in een spreadsheet als formule werken. "
        "Haal dat teken weg."
    ) % {"char": char}


# Control characters inside a cell; tab and line breaks are allowed (Alt+Enter in Excel).
_CELL_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text_cell_problem(value: str, *, formula: bool = True) -> str | None:
    """Why a text cell cannot be imported (a formula, a NUL byte or another control character
    that no honest list holds and PostgreSQL may refuse), or None."""
    if formula and (problem := formula_problem(value)):
        return problem
    if match := _CELL_CONTROL_RE.search(value):
        return _("Deze cel bevat een stuurteken (%(code)s). Haal het weg.") % {
            "code": f"0x{ord(match.group()):02X}"
        }
    return None
