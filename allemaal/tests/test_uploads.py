"""The core's upload checks: formulas, text decoding, zip limits, and the 413 middleware."""

import io
import random
import zipfile

import pytest

from allemaal import uploads
from allemaal.uploads import UploadRefused

from . import hostile


@pytest.mark.parametrize(
    "value",
    ["=2+2", "\n=2+2", " \t=1", "\r\n+1", "\u200b=1", "\x00@SUM(A1)", "  -2", "\ufeff=1", "\t1"],
)
def test_it_finds_a_formula_behind_blanks_and_control_characters(value):
    assert "formule" in uploads.formula_problem(value)


@pytest.mark.parametrize("value", ["ABC", "'=1", "Dell", "", "a=b", "5CG-1", None, 3])
def test_it_leaves_text_that_is_no_formula(value):
    assert uploads.formula_problem(value) is None


def test_a_cell_with_a_nul_or_control_character_is_refused():
    assert "stuurteken" in uploads.text_cell_problem("AB\x00C")
    assert "stuurteken" in uploads.text_cell_problem("AB\x07C")
    assert uploads.text_cell_problem("twee\nregels") is None


def test_text_decodes_as_utf8_with_or_without_bom_or_as_windows_1252():
    assert uploads.decode_text("café".encode()) == "café"
    assert uploads.decode_text("\ufeffcafé".encode()) == "café"
    assert uploads.decode_text("café €5".encode("cp1252")) == "café €5"


def test_a_late_nul_byte_is_refused_with_its_row_and_column():
    with pytest.raises(UploadRefused) as caught:
        uploads.decode_text(hostile.csv_nul_late(), delimiter=";")
    assert (caught.value.row, caught.value.column) == (401, "B")
    assert "NUL" in caught.value.message


def test_an_undecodable_byte_is_refused_with_its_row_and_column():
    data = b"a;b\n" * 10 + "c;d€".encode() + b"\x81\n"  # neither UTF-8 nor Windows-1252
    with pytest.raises(UploadRefused) as caught:
        uploads.decode_text(data, delimiter=";")
    assert (caught.value.row, caught.value.column) == (11, "B")
    assert "0x81" in caught.value.message


@pytest.mark.parametrize(
    ("data", "word"),
    [
        (hostile.png_bytes(), "PNG"),
        (hostile.html_bytes(), "webpagina"),
        (b"%PDF-1.7\n", "PDF"),
        (b"a;b\n1;\x07\n", "stuurteken"),
    ],
)
def test_what_is_not_text_is_refused_by_content(data, word):
    with pytest.raises(UploadRefused) as caught:
        uploads.decode_text(data)
    assert word in caught.value.message


def test_csv_lines_and_cells_are_capped_with_their_row():
    with pytest.raises(UploadRefused) as caught:
        list(uploads.csv_rows("a;b\n" + "x" * 30_000 + "\n", ";"))
    assert caught.value.row == 2 and "20.000" in caught.value.message
    with pytest.raises(UploadRefused) as caught:
        list(uploads.csv_rows('a;b\n1;"' + "y\n" * 1_500 + '"\n', ";"))
    assert (caught.value.column, "2.000" in caught.value.message) == ("B", True)


def zip_with(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


NOISE = random.Random(17).randbytes(2_500_000)  # does not compress
LIMITS = uploads.ZipLimits(max_entries=3, max_entry_bytes=3_000_000, max_total_bytes=4_000_000)


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ({f"{n}.log": b"x" for n in range(4)}, ["4 bestanden", "maximum is 3"]),
        ({"a.log": b"\x00" * 3_100_000}, ["a.log", "3 MB"]),
        ({"a.log": NOISE[:2_000_000], "b.log": NOISE[:2_500_000]}, ["4,3 MB", "maximum is 3,8 MB"]),
        ({"a.log": b"0" * 2_000_000}, ["keer samengeperst", "100 keer"]),
    ],
)
def test_a_zip_over_a_limit_is_refused_naming_it(files, words):
    with pytest.raises(UploadRefused) as caught:
        uploads.open_zip(zip_with(files), LIMITS)
    for word in words:
        assert word in caught.value.message


def test_a_broken_zip_is_refused():
    with pytest.raises(UploadRefused, match="kapot"):
        uploads.open_zip(b"PK\x03\x04 broken", LIMITS)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (hostile.xlsx_huge_dimension, ["1.048.576 rijen", "16.384 kolommen"]),
        (hostile.xlsx_empty_rows, ["keer samengeperst"]),
        (lambda: hostile.xlsx_huge_string(40 * hostile.MB), ["uitgepakt 40 MB"]),
        (lambda: zip_with({"a.txt": b"x"}), ["geen geldig Excel-bestand"]),
    ],
)
def test_an_xlsx_is_checked_as_a_zip_before_it_is_parsed(make, words):
    data = make()
    with hostile.within_limits(), pytest.raises(UploadRefused) as caught:
        uploads.check_xlsx(data, max_rows=21_000)
    for word in words:
        assert word in caught.value.message


def test_every_row_read_counts_towards_the_xlsx_row_limit():
    data = hostile.xlsx_row_gap()
    with hostile.within_limits(), pytest.raises(UploadRefused) as caught:
        for _row in uploads.xlsx_rows(data, max_rows=21_000):
            pass
    assert "lege rijen tellen mee" in caught.value.message
