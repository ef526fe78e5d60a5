"""Asset lists as IT departments export them: Intune, Snipe-IT, Jamf Pro, Google Admin,
Lansweeper and our own template. Header sets and rows are written from each tool's public
documentation; every person, address and number below is made up."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from donations import asset_exports, manifest, services
from donations.manifest import ManifestInvalid
from donations.models import ColumnMapping, Device, ManifestImport
from donations.tests.factories import DonationFactory

pytestmark = pytest.mark.django_db


def csv_upload(rows, *, name="export.csv", sep=",", encoding="utf-8"):
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\n").writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(encoding))


def xlsx_upload(rows, name="export.xlsx"):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile(name, out.getvalue())


INTUNE = [
    ["Device name", "Managed by", "Ownership", "Compliance", "OS", "OS version",
     "Last check-in", "Primary user UPN", "Primary user email address",
     "Primary user display name", "Serial number", "Manufacturer", "Model", "Total storage",
     "Free storage", "Category", "IMEI", "MEID", "Wi-Fi MAC", "Phone number"],
    ["LPT-0001", "Intune", "Corporate", "Compliant", "Windows", "10.0.19045.3803",
     "2026-10-01 08:12", "j.jansen@voorbeeld.nl", "jan.jansen@voorbeeld.nl", "Jan Jansen",
     "5CG1234ABC", "HP", "HP EliteBook 840 G8", "238475", "120000", "Laptops",
     "", "", "A4B1C2D3E4F5", "+31612345678"],
    ["CB-0002", "Intune", "Corporate", "Compliant", "ChromeOS", "118", "2026-10-02 09:00",
     "p.pieters@voorbeeld.nl", "piet.pieters@voorbeeld.nl", "Piet Pieters", "NXHQEEH001",
     "Acer", "Chromebook Spin 311", "32768", "20000", "", "", "", "B4B1C2D3E4F6", ""],
    ["IPAD-0003", "Intune", "Corporate", "Compliant", "iPadOS", "17.2", "2026-10-03 10:00",
     "k.klaassen@voorbeeld.nl", "kees.klaassen@voorbeeld.nl", "Kees Klaassen", "DMPXK1234",
     "Apple", "iPad (9th generation)", "65536", "30000", "Finance", "356938035643809",
     "35693803564380", "C4B1C2D3E4F7", "+31687654321"],
]  # fmt: skip
SNIPE_IT = [
    ["Asset Tag", "Asset Name", "Serial", "Model", "Model No.", "Category", "Manufacturer",
     "Status", "Checked Out To", "Location", "Purchase Date", "Purchase Cost", "Supplier",
     "Notes"],
    ["IT-0042", "Laptop Marketing", "PF1ABC23", "ThinkPad T480", "20L5", "Notebooks",
     "Lenovo", "Ready to Deploy", "Sanne de Boer", "Utrecht", "2019-04-15", "899.00",
     "Leverancier BV", ""],
    ["IT-0043", "Werkplek 3", "PF1ABC24", "OptiPlex 7070", "D10S", "Desktops", "Dell",
     "Ready to Deploy", "", "Utrecht", "2019-05-01", "699.00", "Leverancier BV", ""],
]  # fmt: skip
JAMF = [
    ["Computer Name", "Serial Number", "Model", "Model Identifier", "Operating System",
     "Operating System Version", "Processor Type", "Total RAM MB", "Drive Capacity MB",
     "Username", "Full Name", "Email Address", "IP Address", "MAC Address", "Asset Tag",
     "PO Date"],
    ["MBP-Design-01", "C02ZK1ABMD6T", "MacBook Pro (13-inch, 2020)", "MacBookPro16,2",
     "macOS", "14.2.1", "Intel Core i5", "16384", "500277", "lvisser", "Lotte Visser",
     "lotte.visser@voorbeeld.nl", "10.0.4.21", "3C:22:FB:00:11:22", "MAC-7", "2020-06-30"],
]  # fmt: skip
JAMF_MOBILE = [
    ["Display Name", "Serial Number", "Model", "Model Identifier", "OS Version", "Capacity MB",
     "Available MB", "UDID", "Wi-Fi MAC Address", "Bluetooth MAC Address", "IMEI", "ICCID",
     "Phone Number", "Username", "Full Name", "Email Address", "Last Inventory Update"],
    ["iPad Klas 4B", "DMPZK0001", "iPad (9th generation)", "iPad12,1", "17.2", "65536",
     "40000", "00008030-001A2B3C4D5E", "AA:BB:CC:00:11:22", "AA:BB:CC:00:11:23", "",
     "", "", "mjanssen", "Mila Janssen", "mila.janssen@school.example", "2026-10-01"],
]  # fmt: skip
GOOGLE = [
    ["Serial Number", "Status", "Last Sync", "Annotated User", "Annotated Location",
     "Annotated Asset ID", "Model", "OS Version", "Org Unit Path", "Most Recent User",
     "MAC Address", "Manufacture Date"],
    ["5CD0123XYZ", "ACTIVE", "2026-09-30T12:00:00Z", "leerling42@school.example",
     "Lokaal 3", "CB-42", "HP Chromebook 11 G8 EE", "14541.0.0", "/Leerlingen",
     "leerling42@school.example", "a0b1c2d3e4f5", "2020-11-20"],
]  # fmt: skip
LANSWEEPER = [
    ["AssetName", "AssetType", "Domain", "Username", "Userdomain", "IPAddress", "Mac",
     "Manufacturer", "Model", "Serialnumber", "OS", "Processor", "Memory", "Lastseen",
     "Purchasedate"],
    ["WS-OFFICE-12", "Windows", "KANTOOR", "bdekker", "KANTOOR", "192.168.1.12",
     "00:1A:2B:3C:4D:5E", "Dell Inc.", "Latitude 5490", "8XYZ123", "Win 10 Pro",
     "Intel(R) Core(TM) i5-8350U", "8192", "2026-10-01 07:00", "2018-09-01"],
]  # fmt: skip
PERSONAL_VALUES = [
    "j.jansen@voorbeeld.nl", "jan.jansen@voorbeeld.nl", "Jan Jansen", "A4B1C2D3E4F5",
    "+31612345678", "Piet Pieters", "356938035643809", "35693803564380", "Kees Klaassen",
    "Sanne de Boer", "lvisser", "Lotte Visser", "lotte.visser@voorbeeld.nl", "10.0.4.21",
    "3C:22:FB:00:11:22", "leerling42@school.example", "a0b1c2d3e4f5", "bdekker",
    "192.168.1.12", "00:1A:2B:3C:4D:5E", "mjanssen", "Mila Janssen",
    "mila.janssen@school.example", "AA:BB:CC:00:11:22", "00008030-001A2B3C4D5E",
]  # fmt: skip


def parse(upload, **options):
    data, personal = manifest.sanitized(upload)
    reader = manifest.ManifestReader(stored=io.BytesIO(data), **options)
    rows = [dict(zip(manifest.COLUMN_KEYS, row, strict=True)) for row in reader.rows()]
    reader.finish()
    return reader, rows, personal


@pytest.mark.parametrize(
    ("rows", "tool"),
    [
        (INTUNE, "Microsoft Intune"),
        (SNIPE_IT, "Snipe-IT"),
        (JAMF, "Jamf Pro"),
        (JAMF_MOBILE, "Jamf Pro"),
        (GOOGLE, "Google Admin (ChromeOS)"),
        (LANSWEEPER, "Lansweeper"),
        ([manifest.TEMPLATE_HEADER, [str(c) for c in manifest.TEMPLATE_EXAMPLE]],
         "ons voorbeeldbestand"),
    ],
)  # fmt: skip
def test_each_tools_export_is_recognised_by_its_header(rows, tool):
    reader, _rows, _personal = parse(csv_upload(rows), skip_unaccepted=True)
    assert reader.plan.export_label == tool


def test_an_intune_export_derives_kind_and_storage_and_drops_personal_columns():
    reader, rows, personal = parse(csv_upload(INTUNE))
    assert personal == [
        "Primary user UPN",
        "Primary user email address",
        "Primary user display name",
        "IMEI",
        "MEID",
        "Wi-Fi MAC",
        "Phone number",
    ]
    assert [(r["serial_number"], r["kind"], r["storage_gb"]) for r in rows] == [
        ("5CG1234ABC", "laptop", 233),  # "Laptops", 238475 MB
        ("NXHQEEH001", "chromebook", 32),  # model name "Chromebook"
        ("DMPXK1234", "tablet", 64),  # model "iPad"; the category "Finance" says nothing
    ]
    derived = {number: d for number, _values, d in reader.preview}
    assert set(derived[2]) == {"kind", "storage_gb"} and "238475" in derived[2]["storage_gb"]
    assert "Chromebook" in derived[3]["kind"]


def test_snipe_it_skips_desktops_when_asked_and_takes_the_year_from_the_purchase_date():
    with pytest.raises(ManifestInvalid) as caught:
        parse(csv_upload(SNIPE_IT))
    (error,) = caught.value.errors
    assert error.row == 3 and "desktop" in error.message

    reader, rows, personal = parse(csv_upload(SNIPE_IT), skip_unaccepted=True)
    assert personal == ["Checked Out To"]
    assert [(r["serial_number"], r["kind"], r["year"], r["donor_asset_tag"]) for r in rows] == [
        ("PF1ABC23", "laptop", 2019, "IT-0042")
    ]
    assert reader.skipped == [(3, "Een desktop nemen wij niet aan")]


def test_jamf_memory_and_disk_in_mb_from_the_header():
    _reader, (row,), personal = parse(csv_upload(JAMF))
    assert (row["kind"], row["ram_gb"], row["storage_gb"], row["cpu"], row["year"]) == (
        "laptop",
        16,
        489,
        "Intel Core i5",
        2020,
    )
    assert set(personal) == {"Username", "Full Name", "Email Address", "IP Address", "MAC Address"}


def test_a_jamf_mobile_device_export_gives_tablets_with_capacity_in_mb():
    _reader, (row,), personal = parse(csv_upload(JAMF_MOBILE))
    assert (row["kind"], row["storage_gb"], row["model"]) == ("tablet", 64, "iPad (9th generation)")
    assert "Display Name" not in personal and "Full Name" in personal and "UDID" in personal


def test_a_google_admin_export_is_all_chromebooks():
    _reader, (row,), personal = parse(xlsx_upload(GOOGLE))
    assert (row["kind"], row["donor_asset_tag"], row["year"]) == ("chromebook", "CB-42", 2020)
    assert {"Annotated User", "Most Recent User", "MAC Address"} == set(personal)


def test_lansweeper_windows_asset_type_and_memory_in_mb():
    _reader, (row,), personal = parse(csv_upload(LANSWEEPER))
    assert (row["kind"], row["ram_gb"], row["make"], row["year"]) == (
        "laptop",
        8,
        "Dell Inc.",
        2018,
    )
    assert {"Username", "Userdomain", "IPAddress", "Mac"} == set(personal)


def test_a_dutch_excel_csv_with_semicolons_windows_1252_and_decimal_commas():
    rows = [
        ["Serienummer", "Categorie", "Merk", "Model", "Geheugen (MB)", "Opslag (TB)",
         "Aankoopdatum", "Gebruiker"],
        ["ABC1", "Laptops", "Dell", "Latitude 5490", "8192", "0,5", "15-03-2019", "Jörg Müller"],
        ["ABC2", "Tabletten", "Samsung", "Galaxy Tab A8", "4096,0", "0,064", "1-2-2022", "Zoë"],
    ]  # fmt: skip
    _reader, rows, personal = parse(csv_upload(rows, sep=";", encoding="cp1252"))
    assert personal == ["Gebruiker"]
    assert [(r["kind"], r["ram_gb"], r["storage_gb"], r["year"]) for r in rows] == [
        ("laptop", 8, 500, 2019),
        ("tablet", 4, 64, 2022),
    ]


@pytest.mark.parametrize(
    ("category", "model", "os", "kind"),
    [
        ("Laptops", "", "", "laptop"),
        ("notebooks", "", "", "laptop"),
        ("Chromebooks", "", "", "chromebook"),
        ("Tablets", "", "", "tablet"),
        ("", "", "Windows 11 Pro", "laptop"),
        ("", "", "macOS 14.2", "laptop"),
        ("", "", "Ubuntu 22.04", "laptop"),
        ("", "", "ChromeOS", "chromebook"),
        ("", "", "iPadOS 17", "tablet"),
        ("", "", "Android 13", "tablet"),
        ("", "iPad Air (5th generation)", "", "tablet"),
        ("", "Galaxy Tab S7", "", "tablet"),
        ("", "Acer Chromebook 314", "Windows", "chromebook"),
        ("Desktops", "", "", "desktop"),
        ("", "OptiPlex 7090", "Windows 10", "desktop"),
        ("", "iPhone 12", "iOS", "phone"),
        ("Finance", "", "", None),
    ],
)
def test_the_kind_follows_from_category_model_or_operating_system(category, model, os, kind):
    found = asset_exports.kind_from_word(category) if category else None
    if found is None:
        found, _source = asset_exports.kind_from_texts(category, model, os)
    assert found == kind


@pytest.mark.parametrize(
    "header",
    ["Primary user UPN", "E-mailadres", "Telefoonnummer", "IMEI", "ICCID", "MEID", "Wi-Fi MAC",
     "IP Address", "Checked Out To", "Full Name", "Gebruikersnaam", "Annotated User"],
)  # fmt: skip
def test_columns_that_name_people_are_recognised(header):
    assert asset_exports.is_personal(manifest._normalise_header(header))


@pytest.mark.parametrize("header", ["Serial number", "Model", "OS", "Device name", "Category"])
def test_device_columns_are_not_personal(header):
    assert not asset_exports.is_personal(manifest._normalise_header(header))


def test_a_mapping_chosen_for_a_column_wins_and_personal_columns_cannot_be_chosen():
    # Intune's "Device name" as the donor's own code; "Primary user UPN" (index 7) stays out.
    reader, rows, _personal = parse(
        csv_upload(INTUNE), mapping={"0": "donor_asset_tag", "7": "model"}
    )
    assert [r["donor_asset_tag"] for r in rows] == ["LPT-0001", "CB-0002", "IPAD-0003"]
    assert rows[0]["model"] == "HP EliteBook 840 G8"
    assert reader.plan.columns[7].key == manifest.PERSONAL


# --- Through the services: nothing personal is kept -------------------------------------------


def all_text_in_database():
    from django.db import connection

    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                yield from (str(value) for value in row if value is not None)


def media_text(settings):
    from pathlib import Path

    root = Path(settings.MEDIA_ROOT)
    return "".join(
        p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file()
    )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return settings


@pytest.mark.parametrize(
    ("rows", "make_upload"),
    [
        (INTUNE, csv_upload),
        (SNIPE_IT, csv_upload),
        (JAMF, xlsx_upload),
        (JAMF_MOBILE, csv_upload),
        (GOOGLE, csv_upload),
        (LANSWEEPER, xlsx_upload),
    ],
)
def test_no_personal_value_is_in_the_database_or_media_after_an_import(
    donor, donor_org, media, rows, make_upload
):
    donation = DonationFactory(donor=donor_org)
    job = services.manifest_preview_start(
        donation.pk, by=donor, donor=donor_org, uploaded_file=make_upload(rows)
    )
    kept = media_text(media)
    job = services.manifest_import_confirm(
        job.pk, by=donor, donor=donor_org, mapping=job.mapping or {}, skip_unaccepted=True,
        background=False,
    )  # fmt: skip
    assert job.status == ManifestImport.Status.DONE, job.errors
    assert Device.objects.filter(donation=donation).exists()
    stored = "\n".join(all_text_in_database())
    for value in PERSONAL_VALUES:
        assert value not in kept
        assert value not in stored
        assert value not in media_text(media)


def test_the_chosen_mapping_is_remembered_for_the_organisations_next_file(
    donor, donor_org, other_donor_org, media
):
    from donations import selectors

    donation = DonationFactory(donor=donor_org)
    job = services.manifest_preview_start(
        donation.pk, by=donor, donor=donor_org, uploaded_file=csv_upload(INTUNE)
    )
    mapping = selectors.manifest_preview(job, donor_org).plan.mapping
    mapping["0"] = "donor_asset_tag"  # Device name
    services.manifest_import_confirm(
        job.pk, by=donor, donor=donor_org, mapping=mapping, skip_unaccepted=False,
        background=False,
    )  # fmt: skip
    assert ColumnMapping.objects.get(organisation=donor_org).mapping["0"] == "donor_asset_tag"

    second = DonationFactory(donor=donor_org)
    rows = [INTUNE[0], [c.replace("5CG1234ABC", "NEW1") for c in INTUNE[1]]]
    job = services.manifest_preview_start(
        second.pk, by=donor, donor=donor_org, uploaded_file=csv_upload(rows)
    )
    preview = selectors.manifest_preview(job, donor_org)
    assert preview.remembered
    assert preview.rows[0][1][manifest.COLUMN_KEYS.index("donor_asset_tag")][1] == "LPT-0001"
    # Another organisation with the same export starts from our own reading.
    other = DonationFactory(donor=other_donor_org)
    job = services.manifest_preview_start(
        other.pk, by=donor, donor=other_donor_org, uploaded_file=csv_upload(rows)
    )
    assert not selectors.manifest_preview(job, other_donor_org).remembered


def test_a_preview_nobody_confirms_ends_after_the_set_days_and_its_file_is_deleted(
    donor, donor_org, media, settings, django_capture_on_commit_callbacks, client
):
    from datetime import timedelta

    from django.urls import reverse
    from django.utils import timezone

    from donations import tasks

    settings.MANIFEST_PREVIEW_MAX_AGE_DAYS = 14
    donation = DonationFactory(donor=donor_org)
    abandoned, fresh = (
        services.manifest_preview_start(
            donation.pk, by=donor, donor=donor_org, uploaded_file=csv_upload(INTUNE)
        )
        for _ in range(2)
    )
    ManifestImport.objects.filter(pk=abandoned.pk).update(
        created_at=timezone.now() - timedelta(days=15)
    )
    kept = abandoned.file.name
    assert abandoned.file.storage.exists(kept)

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.expire_manifest_previews() == 1
    assert tasks.expire_manifest_previews() == 0  # again: nothing left to do

    abandoned.refresh_from_db()
    fresh.refresh_from_db()
    assert abandoned.status == ManifestImport.Status.FAILED and not abandoned.file
    assert not abandoned.file.storage.exists(kept)
    assert fresh.status == ManifestImport.Status.PREVIEW and fresh.file.storage.exists(
        fresh.file.name
    )
    with pytest.raises(services.DomainError):  # it can no longer be confirmed
        services.manifest_import_confirm(
            abandoned.pk, by=donor, donor=donor_org, mapping={}, skip_unaccepted=False,
            background=False,
        )  # fmt: skip
    client.force_login(donor)
    page = client.get(reverse("donations:manifest_job", args=[donation.pk, abandoned.pk]))
    assert "langer dan 14 dagen" in page.content.decode()
