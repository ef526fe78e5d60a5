"""The asset manifest: every validation rule, all-or-nothing, CSV and XLSX, Dutch or English."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from allemaal.services import DomainError
from donations import manifest, services
from donations.manifest import ManifestInvalid
from donations.models import Device, DeviceEvent, Manifest
from donations.tests.factories import DeviceFactory, DonationFactory

pytestmark = pytest.mark.django_db

HEADER = "serienummer;type;merk;model;bouwjaar;processor;werkgeheugen (GB);opslag (GB);eigen code"


def csv_file(*lines, header=HEADER, name="lijst.csv", encoding="utf-8"):
    text = "\n".join([header, *lines]) + "\n"
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def xlsx_file(rows, name="lijst.xlsx"):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def good_line(serial="ABC001", kind="laptop", year="2019", ram="8"):
    return f"{serial};{kind};Dell;Latitude 5490;{year};Intel Core i5;{ram};256;IT-1"


def errors_of(uploaded):
    with pytest.raises(ManifestInvalid) as caught:
        manifest.manifest_parse(uploaded)
    return caught.value


def table_counts():
    return (Device.objects.count(), DeviceEvent.objects.count(), Manifest.objects.count())


@pytest.fixture
def donation(donor_org):
    return DonationFactory(donor=donor_org)


def import_(donation, donor, uploaded):
    return services.manifest_import(
        donation.pk, by=donor, donor=donation.donor, uploaded_file=uploaded
    )


# --- Valid files ---------------------------------------------------------------------------


def test_it_turns_each_row_into_an_announced_device_with_one_custody_event(donation, donor):
    result = import_(donation, donor, csv_file(good_line("abc 001"), good_line("ABC002")))
    assert result.rows == 2
    devices = Device.objects.filter(donation=donation).order_by("serial_number")
    assert [d.serial_number for d in devices] == ["ABC001", "ABC002"]
    first = devices[0]
    assert (first.state, first.kind, first.make, first.model, first.year) == (
        "announced",
        "laptop",
        "Dell",
        "Latitude 5490",
        2019,
    )
    assert (first.cpu, first.ram_gb, first.storage_gb, first.donor_asset_tag) == (
        "Intel Core i5",
        8,
        256,
        "IT-1",
    )
    events = DeviceEvent.objects.filter(device__donation=donation)
    assert events.count() == 2
    assert {(e.from_state, e.to_state, e.by, e.organisation) for e in events} == {
        ("", "announced", donor, donation.donor)
    }
    assert Manifest.objects.get().file_name == "lijst.csv"


def test_it_reads_xlsx_with_english_headers_and_numbers_as_cells(donation, donor):
    rows = [
        [
            "Serial Number",
            "Brand",
            "Model",
            "Type",
            "Year",
            "CPU",
            "RAM GB",
            "Storage GB",
            "Asset tag",
        ],
        [12345, "HP", "EliteBook", "Chromebook", 2020, "Celeron", 4.0, 32, "A-1"],
        ["XYZ-9", "Apple", "iPad 7", "iPad", None, None, None, None, None],
    ]
    import_(donation, donor, xlsx_file(rows))
    devices = {d.serial_number: d for d in Device.objects.all()}
    assert devices["12345"].kind == "chromebook" and devices["12345"].ram_gb == 4
    assert devices["XYZ-9"].kind == "tablet" and devices["XYZ-9"].year is None


@pytest.mark.parametrize(
    "header",
    [
        "Serial,Make,Model,Type,Year,Processor,RAM,Storage,Asset tag",
        "serienummer,merk,model,soort,bouwjaar,processor,werkgeheugen,opslag,eigen code",
        "SERIAL_NUMBER,MANUFACTURER,MODEL,DEVICE TYPE,YEAR,CPU,MEMORY (GB),DISK (GB),ASSET TAG",
    ],
)
def test_it_accepts_header_names_in_dutch_or_english_and_commas(donation, donor, header):
    uploaded = csv_file("S1,Dell,E7450,laptop,2016,i5,8 GB,1 TB,X1", header=header)
    import_(donation, donor, uploaded)
    device = Device.objects.get()
    assert (device.serial_number, device.ram_gb, device.storage_gb) == ("S1", 8, 1000)


def test_it_reads_a_csv_that_excel_saved_in_windows_1252(donation, donor):
    uploaded = csv_file("S1;laptop;Dell;Latitude é;2019;i5;8;256;", encoding="cp1252")
    import_(donation, donor, uploaded)
    assert Device.objects.get().model == "Latitude é"


def test_it_ignores_unknown_columns_and_says_which(donation, donor):
    uploaded = csv_file("S1;laptop;Amsterdam", header="serienummer;type;afdeling")
    result = import_(donation, donor, uploaded)
    assert result.ignored_columns == ["afdeling"]
    assert Device.objects.count() == 1


def test_it_skips_blank_rows_but_keeps_spreadsheet_row_numbers():
    uploaded = csv_file(good_line("A1"), ";;;;;;;;", good_line("A2", ram="veel"))
    (error,) = errors_of(uploaded).errors
    assert error.row == 4


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_downloadable_templates_import_as_they_are(donation, donor, fmt):
    content = manifest.template_csv() if fmt == "csv" else manifest.template_xlsx()
    import_(donation, donor, SimpleUploadedFile(f"voorbeeld.{fmt}", content))
    device = Device.objects.get()
    assert (device.serial_number, device.kind, device.ram_gb) == ("5CG1234XYZ", "laptop", 8)


# --- Each rule -----------------------------------------------------------------------------


def test_it_rejects_a_missing_serial_with_row_and_column():
    (error,) = errors_of(csv_file(good_line(""))).errors
    assert (error.row, error.column) == (2, "A (serienummer)")
    assert "verplicht" in error.message
    assert str(error).startswith("Rij 2, kolom A (serienummer): ")


def test_it_rejects_an_unknown_type():
    (error,) = errors_of(csv_file(good_line(kind="desktop"))).errors
    assert (error.row, error.column) == (2, "B (type)")
    assert "laptop, chromebook of tablet" in error.message


def test_it_rejects_a_serial_twice_in_the_file_naming_the_first_row():
    (error,) = errors_of(csv_file(good_line("A1"), good_line("B1"), good_line("a 1"))).errors
    assert error.row == 4
    assert "ook al in rij 2" in error.message


def test_it_rejects_a_serial_already_on_the_platform_in_one_query(django_assert_num_queries):
    DeviceFactory(serial_number="TAKEN1")
    DeviceFactory(serial_number="TAKEN2")
    uploaded = csv_file(good_line("FREE1"), good_line("taken1"), good_line("TAKEN2"))
    # One query: the serial numbers of the whole file looked up at once.
    with django_assert_num_queries(1):
        failure = errors_of(uploaded)
    assert [(e.row, "al op het platform" in e.message) for e in failure.errors] == [
        (3, True),
        (4, True),
    ]


@pytest.mark.parametrize("ram", ["veel", "8 of 16", "8,5", "0", "-4"])
def test_it_rejects_ram_that_is_not_a_whole_positive_number(ram):
    (error,) = errors_of(csv_file(good_line(ram=ram))).errors
    assert (error.row, error.column) == (2, "G (werkgeheugen (GB))")


@pytest.mark.parametrize("year", ["1985", str(timezone.now().year + 2), "twintig"])
def test_it_rejects_an_impossible_year(year):
    (error,) = errors_of(csv_file(good_line(year=year))).errors
    assert (error.row, error.column) == (2, "E (bouwjaar)")


def test_it_accepts_next_year_as_a_build_year(donation, donor):
    import_(donation, donor, csv_file(good_line(year=str(timezone.now().year + 1))))
    assert Device.objects.count() == 1


def test_it_rejects_more_than_20000_rows():
    lines = [f"S{i};laptop" for i in range(manifest.MAX_ROWS + 1)]
    failure = errors_of(csv_file(*lines, header="serienummer;type"))
    assert "meer dan 20.000" in failure.errors[0].message


def test_it_accepts_exactly_20000_rows():
    lines = [f"S{i};laptop" for i in range(manifest.MAX_ROWS)]
    parsed = manifest.manifest_parse(csv_file(*lines, header="serienummer;type"))
    assert len(parsed.rows) == manifest.MAX_ROWS


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("lijst.pdf", b"%PDF-1.4"),
        ("lijst.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
        ("lijst.xlsx", b"serienummer;type\nS1;laptop\n"),
        ("lijst.csv", b"\x00\x01\x02binary"),
    ],
)
def test_it_rejects_a_wrong_file_type(name, content):
    (error,) = errors_of(SimpleUploadedFile(name, content)).errors
    assert error.row == 0


def test_it_rejects_a_file_over_5_mb():
    big = SimpleUploadedFile("lijst.csv", b"x" * (manifest.MAX_BYTES + 1))
    (error,) = errors_of(big).errors
    assert "te groot" in error.message


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_it_rejects_cells_that_would_run_as_a_formula(prefix):
    line = f'S1;laptop;"{prefix}HYPERLINK(""http://x"")";model'
    (error,) = errors_of(csv_file(line, header="serienummer;type;merk;model")).errors
    assert (error.row, error.column) == (2, "C (merk)")
    assert "formule" in error.message


def test_it_rejects_a_real_formula_in_an_xlsx_cell():
    rows = [["serienummer", "type", "model"], ["S1", "laptop", '=HYPERLINK("http://x")']]
    (error,) = errors_of(xlsx_file(rows)).errors
    assert (error.row, error.column) == (2, "C (model)")


def test_it_rejects_a_file_without_the_serial_column():
    (error,) = errors_of(csv_file("laptop;Dell", header="type;merk")).errors
    assert error.row == 1 and "serienummer" in error.message


def test_it_rejects_an_empty_file_and_a_header_without_rows():
    assert "leeg" in errors_of(SimpleUploadedFile("a.csv", b"")).errors[0].message
    assert "geen apparaten" in errors_of(csv_file()).errors[0].message


def test_it_lists_every_error_not_only_the_first():
    uploaded = csv_file(
        good_line(""), good_line("A2", kind="pc"), good_line("A3", ram="x"), good_line("A4")
    )
    failure = errors_of(uploaded)
    assert [(e.row, e.column[0]) for e in failure.errors] == [(2, "A"), (3, "B"), (4, "G")]
    assert failure.total == 3


def test_it_shows_at_most_200_errors_but_counts_them_all():
    failure = errors_of(csv_file(*[good_line(f"S{i}", ram="x") for i in range(250)]))
    assert len(failure.errors) == manifest.MAX_ERRORS_SHOWN
    assert failure.total == 250


# --- All or nothing ------------------------------------------------------------------------


def test_a_file_with_one_bad_row_imports_nothing(donation, donor):
    before = table_counts()
    with pytest.raises(ManifestInvalid):
        import_(donation, donor, csv_file(good_line("OK1"), good_line("OK2", ram="veel")))
    assert table_counts() == before


def test_an_import_with_a_serial_on_the_platform_names_it_and_imports_nothing(donation, donor):
    DeviceFactory(serial_number="TAKEN1")
    before = table_counts()
    with pytest.raises(ManifestInvalid) as caught:
        import_(donation, donor, csv_file(good_line("NEW1"), good_line("TAKEN1")))
    assert [(e.row, "al op het platform" in e.message) for e in caught.value.errors] == [(3, True)]
    assert table_counts() == before


def test_an_import_lists_platform_duplicates_beside_other_errors(donation, donor):
    DeviceFactory(serial_number="TAKEN1")
    before = table_counts()
    uploaded = csv_file(good_line("NEW1"), good_line("TAKEN1"), good_line("NEW2", kind="pc"))
    with pytest.raises(ManifestInvalid) as caught:
        import_(donation, donor, uploaded)
    assert sorted(e.row for e in caught.value.errors) == [3, 4]
    assert table_counts() == before


def test_it_refuses_a_list_for_a_donation_that_is_already_counted(donor_org, donor):
    donation = DonationFactory(donor=donor_org, status="received")
    with pytest.raises(DomainError, match="geen apparatenlijst meer"):
        import_(donation, donor, csv_file(good_line()))
    assert table_counts() == (0, 0, 0)


def test_it_refuses_a_list_for_another_donors_donation(donor, other_donor_org):
    donation = DonationFactory(donor=other_donor_org)
    with pytest.raises(DomainError):
        services.manifest_import(
            donation.pk, by=donor, donor=donor.membership.organisation, uploaded_file=csv_file()
        )
    assert table_counts() == (0, 0, 0)
