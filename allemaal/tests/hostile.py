"""The hostile and broken files of issue #17, generated (never committed), for the tests and for
bench/bench_hostile_uploads.py. Large ones are written in chunks, so that making them costs
little memory: only the server side should be measured.
"""

import io
import time
import tracemalloc
import zipfile
from contextlib import contextmanager

# Imported here, before any measurement: the server has it loaded after its first upload.
import openpyxl  # noqa: F401

MB = 1024 * 1024

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Apparaten" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
_HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>serienummer</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>type</t></is></c></row>'
)


def _xlsx(sheet_chunks, shared_chunks=None) -> bytes:
    """A minimal workbook whose sheet (and shared strings) are written from chunks of text."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        for name, chunks in (
            ("xl/worksheets/sheet1.xml", sheet_chunks),
            ("xl/sharedStrings.xml", shared_chunks or [_EMPTY_SHARED]),
        ):
            with archive.open(name, "w", force_zip64=True) as part:
                for chunk in chunks:
                    part.write(chunk.encode())
    return out.getvalue()


_EMPTY_SHARED = (
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" '
    'uniqueCount="0"/>'
)


def xlsx_huge_dimension() -> bytes:
    """~1.5 kB declaring a sheet of 1,048,576 rows by 16,384 columns (190 s of CPU before)."""
    return _xlsx(
        [
            _SHEET_HEAD,
            '<dimension ref="A1:XFD1048576"/><sheetData>',
            _HEADER_ROW,
            '<row r="2"><c r="A2" t="inlineStr"><is><t>S1</t></is></c>'
            '<c r="B2" t="inlineStr"><is><t>laptop</t></is></c></row>',
            "</sheetData></worksheet>",
        ]
    )


def xlsx_row_gap(last_row: int = 3_000_000) -> bytes:
    """A header, then one cell at row 3,000,000: the reader yields every empty row between."""
    return _xlsx(
        [
            _SHEET_HEAD,
            "<sheetData>",
            _HEADER_ROW,
            f'<row r="{last_row}"><c r="A{last_row}" t="inlineStr"><is><t>S1</t></is></c></row>',
            "</sheetData></worksheet>",
        ]
    )


def xlsx_empty_rows(rows: int = 3_000_000) -> bytes:
    """Millions of empty rows in about 30 kB (14 s before: empty rows did not count)."""

    def chunks():
        yield _SHEET_HEAD + "<sheetData>" + _HEADER_ROW
        step = 100_000
        for start in range(0, rows, step):
            yield "<row/>" * min(step, rows - start)
        yield "</sheetData></worksheet>"

    return _xlsx(chunks())


def xlsx_huge_string(size: int = 400 * MB) -> bytes:
    """One shared string of 400 MB in a file of about 400 kB (926 MB of memory before)."""

    def shared():
        yield (
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
            'uniqueCount="1"><si><t>'
        )
        block = "A" * MB
        for _ in range(size // MB):
            yield block
        yield "</t></si></sst>"

    return _xlsx(
        [
            _SHEET_HEAD,
            "<sheetData>",
            _HEADER_ROW,
            '<row r="2"><c r="A2" t="s"><v>0</v></c>'
            '<c r="B2" t="inlineStr"><is><t>laptop</t></is></c></row>',
            "</sheetData></worksheet>",
        ],
        shared(),
    )


def zip_bomb(entries: int = 25, entry_size: int = 19 * MB + 512 * 1024) -> bytes:
    """About 500 KB holding 25 logs of nearly 20 MB each (57 s before)."""
    out = io.BytesIO()
    line = b"[2025/01/01 00:00:00] info: " + b"0" * 100 + b"\n"
    block = line * (MB // len(line))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for index in range(entries):
            with archive.open(f"log{index:02d}.log", "w", force_zip64=True) as member:
                written = 0
                while written < entry_size:
                    piece = block[: entry_size - written]
                    member.write(piece)
                    written += len(piece)
    return out.getvalue()


def zip_of_many(count: int = 1001) -> bytes:
    """A zip with 1,001 small files."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(count):
            archive.writestr(f"log{index:04d}.log", b"not a log\n")
    return out.getvalue()


def csv_long_field(chars: int = 131_073) -> bytes:
    """A CSV whose second row holds one quoted field over the csv module's 131,072 limit."""
    return b"serienummer;type\n" + b'"' + b"A" * chars + b'";laptop\n'


def csv_long_line(size: int = 5 * MB - 100) -> bytes:
    """A CSV of one line of nearly 5 MB."""
    return b"serienummer;type;" + b"x;" * (size // 2)


def csv_nul_late(header: bytes = b"serienummer;type\n") -> bytes:
    """A NUL byte in row 401, column B, after the first 4 KB."""
    rows = b"".join(b"S%05d;laptop\n" % n for n in range(399))
    return header + rows + b"S99999;lap\x00top\n"


def png_bytes() -> bytes:
    return (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    )


def html_bytes() -> bytes:
    return b"<!DOCTYPE html>\n<html><head><title>Login</title></head><body>Hi</body></html>\n"


@contextmanager
def within_limits(seconds: float = 5.0, megabytes: int = 200):
    """Asserts that the block (the server's handling of one file) stays under 200 MB (Python
    allocations, measured with tracemalloc) and a CPU guard. The issue's 2 s is measured by
    bench/bench_hostile_uploads.py without tracemalloc (0.01-0.46 s per file); here tracemalloc
    slows every allocation, so the guard is 5 s of CPU: it still catches the minutes the
    hostile files took before, without flaking on a busy CI machine."""
    tracemalloc.start()
    started = time.process_time()
    try:
        yield
    finally:
        elapsed = time.process_time() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.2f} s of CPU"
    assert peak < megabytes * MB, f"peaked at {peak / MB:.0f} MB"
