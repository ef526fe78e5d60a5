"""Property tests over every upload parser (issue #17): random bytes, and random CSV and XLSX
files built by the test. Whatever comes in: never an unexpected exception (a 500), never a
partial import, never a saved object that fails full_clean().

Each example runs in a transaction that is rolled back, so examples do not see each other.
"""

import csv
import datetime
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from donations import manifest, services
from donations.models import Device, DeviceEvent, Manifest
from donations.tests.factories import DonationFactory
from helprequests import telecom_csv
from helprequests.models import ConnectivityAssignment
from helprequests.tests.factories import ConnectivityAssignmentFactory, HelpRequestFactory
from refurbish.erasure_logs import erasure_logs_import
from refurbish.models import DriveErasure, ErasureRecord, ErasureSource
from refurbish.tests.factories import LOGS, device_in, received_donation

pytestmark = pytest.mark.django_db(transaction=False)

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text as hostile files hold it: control characters, NUL, formula signs, accents, emoji.
cell_text = st.text(
    alphabet=st.one_of(
        st.sampled_from("=+-@\t\r\n\x00\x07\x1b ;,\"'ß€éİ"),
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
    ),
    max_size=12,
)
number_text = st.one_of(st.integers(-5, 300_000).map(str), st.sampled_from(["8 GB", "1,5", "1TB"]))
kind_text = st.one_of(st.sampled_from(["laptop", "Tablet", "chromebook", "iPad", "pc"]), cell_text)
serial_text = st.one_of(st.text("ABC123 ß", min_size=1, max_size=8), cell_text)
row = st.tuples(
    serial_text, kind_text, cell_text, cell_text, number_text, cell_text, number_text, number_text
)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "cp1252"])


def rolled_back(check):
    """Run `check` in a transaction that is always undone."""
    with transaction.atomic():
        check()
        transaction.set_rollback(True)


def csv_bytes(rows, *, header, delimiter, encoding) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding, errors="replace")


def xlsx_bytes(rows, *, header) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(header)
    for cells in rows:
        # openpyxl refuses what XML cannot hold; such a cell becomes its repr, as text.
        sheet.append([_xml_safe(cell) for cell in cells])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xml_safe(cell):
    if isinstance(cell, str) and any(ord(c) < 32 and c not in "\t\n\r" for c in cell):
        return repr(cell)
    return cell


# --- Asset lists ---------------------------------------------------------------------------


@pytest.fixture
def donation(donor_org):
    return DonationFactory(donor=donor_org)


def assert_manifest_all_or_nothing(donation, donor, uploaded):
    before = (Device.objects.count(), DeviceEvent.objects.count(), Manifest.objects.count())
    try:
        imported = services.manifest_import(
            donation.pk, by=donor, donor=donation.donor, uploaded_file=uploaded
        )
    except manifest.ManifestInvalid as invalid:
        assert invalid.errors
        after = (Device.objects.count(), DeviceEvent.objects.count(), Manifest.objects.count())
        assert after == before
        return
    devices = list(Device.objects.filter(donation=donation))
    assert len(devices) == imported.rows == Device.objects.count() - before[0]
    for device in devices:
        device.full_clean()


@PROPERTY
@given(data=st.binary(max_size=600), name=st.sampled_from(["l.csv", "l.xlsx", "l.txt"]))
def test_an_asset_list_of_random_bytes_imports_all_or_nothing(donation, donor, data, name):
    rolled_back(
        lambda: assert_manifest_all_or_nothing(donation, donor, SimpleUploadedFile(name, data))
    )


@PROPERTY
@given(
    rows=st.lists(row, max_size=6),
    delimiter=st.sampled_from([";", ",", "\t"]),
    encoding=encodings,
)
def test_a_random_csv_asset_list_imports_all_or_nothing(donation, donor, rows, delimiter, encoding):
    data = csv_bytes(
        rows, header=manifest.TEMPLATE_HEADER[:8], delimiter=delimiter, encoding=encoding
    )
    rolled_back(
        lambda: assert_manifest_all_or_nothing(donation, donor, SimpleUploadedFile("l.csv", data))
    )


xlsx_cell = st.one_of(cell_text, st.integers(-5, 3000), st.floats(allow_nan=False), st.none())


@PROPERTY
@given(rows=st.lists(st.one_of(row, st.lists(xlsx_cell, max_size=9)), max_size=5))
@example(rows=[[float("inf")] * 9, [float("-inf")] * 9])  # once a 500 (OverflowError)
def test_a_random_xlsx_asset_list_imports_all_or_nothing(donation, donor, rows):
    data = xlsx_bytes(rows, header=manifest.TEMPLATE_HEADER)
    rolled_back(
        lambda: assert_manifest_all_or_nothing(donation, donor, SimpleUploadedFile("l.xlsx", data))
    )


# --- Telecom CSV ---------------------------------------------------------------------------

TELECOM_HEADER = [
    "opdracht",
    "simkaarten",
    "mobiele hotspots",
    "databundel loopt af op",
    "uw opmerking",
]


@pytest.fixture
def assignment(telecom_org, school_board_org):
    request = HelpRequestFactory(
        organisation=school_board_org, approved=True, connectivity_households=6
    )
    return ConnectivityAssignmentFactory(help_request=request, provider=telecom_org, households=4)


def assert_telecom_all_or_nothing(telecom_org, telecom, uploaded):
    before = list(ConnectivityAssignment.objects.values_list("pk", "status", "sim_cards"))
    try:
        telecom_csv.import_provisions(uploaded, provider=telecom_org, by=telecom)
    except telecom_csv.UploadInvalid as invalid:
        assert invalid.errors
        after = list(ConnectivityAssignment.objects.values_list("pk", "status", "sim_cards"))
        assert after == before
        return
    for assignment in ConnectivityAssignment.objects.all():
        assignment.full_clean()


def _day(offset: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=offset)).strftime("%d-%m-%Y")


@PROPERTY
@given(data=st.binary(max_size=600))
def test_a_telecom_upload_of_random_bytes_records_all_or_nothing(
    telecom_org, telecom, assignment, data
):
    uploaded = SimpleUploadedFile("opdrachten.csv", data)
    rolled_back(lambda: assert_telecom_all_or_nothing(telecom_org, telecom, uploaded))


@PROPERTY
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.just("REF"), cell_text),
            st.one_of(number_text, cell_text),
            st.one_of(number_text, cell_text),
            st.one_of(st.integers(-400, 4000).map(_day), cell_text),
            cell_text,
        ),
        max_size=4,
    ),
    delimiter=st.sampled_from([";", ","]),
    encoding=encodings,
)
def test_a_random_telecom_csv_records_all_or_nothing(
    telecom_org, telecom, assignment, rows, delimiter, encoding
):
    rows = [(assignment.reference if r[0] == "REF" else r[0], *r[1:]) for r in rows]
    data = csv_bytes(rows, header=TELECOM_HEADER, delimiter=delimiter, encoding=encoding)
    uploaded = SimpleUploadedFile("opdrachten.csv", data)
    rolled_back(lambda: assert_telecom_all_or_nothing(telecom_org, telecom, uploaded))


# --- nwipe logs ----------------------------------------------------------------------------

GOOD_LOG = (LOGS / "erased_one_drive.log").read_bytes()


@pytest.fixture
def device(refurbisher_org, donor_org):
    donation = received_donation(refurbisher_org, donor=donor_org, laptops=1)
    return device_in(donation, "received", serial_number="PF0XK2LM")


def assert_logs_each_all_or_nothing(organisation, files):
    results = erasure_logs_import(
        files, organisation=organisation, by=None, source=ErasureSource.API, operator_name="x"
    )
    recorded = [r for r in results if r.recorded]
    assert ErasureRecord.objects.count() == len(recorded)
    assert DriveErasure.objects.count() == sum(len(r.drives) for r in recorded)
    for record in ErasureRecord.objects.all():
        record.full_clean()
    for drive in DriveErasure.objects.all():
        drive.full_clean()


def _mutated(log: bytes, at: int, junk: bytes) -> bytes:
    at %= len(log)
    return log[:at] + junk + log[at + len(junk) :]


logs = st.one_of(
    st.binary(max_size=400),
    st.builds(_mutated, st.just(GOOD_LOG), st.integers(0, 10_000), st.binary(max_size=40)),
)


def zipped(files: list[bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for index, content in enumerate(files):
            archive.writestr(f"{index}.log", content)
    return out.getvalue()


@PROPERTY
@given(
    files=st.lists(
        st.one_of(
            st.tuples(st.sampled_from(["a.log", "b.txt", "c.zip"]), logs),
            st.tuples(st.just("d.zip"), st.lists(logs, max_size=3).map(zipped)),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_random_nwipe_logs_and_zips_are_each_recorded_all_or_nothing(
    refurbisher_org, device, files
):
    rolled_back(lambda: assert_logs_each_all_or_nothing(refurbisher_org, files))
