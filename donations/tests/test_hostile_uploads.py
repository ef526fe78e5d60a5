"""The hostile asset lists of issue #17: each is refused clearly, fast, and imports nothing."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from allemaal.tests import hostile
from donations.models import Device, DeviceEvent, Manifest, ManifestImport
from donations.tests.factories import DonationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def donation(donor_org):
    return DonationFactory(donor=donor_org)


def upload(client, donation, name, content):
    return client.post(
        reverse("donations:manifest_upload", args=[donation.pk]),
        {"file": SimpleUploadedFile(name, content)},
    )


def preview_errors(client, response) -> str:
    """The errors the preview of an uploaded list shows (nothing is imported before)."""
    assert response.status_code == 302
    preview = client.get(response.url).context["preview"]
    assert Device.objects.count() == 0
    return " ".join(str(error) for error in preview.errors)


def import_previewed(client, url, **extra):
    form = client.get(url).context["form"]
    data = {name: field.initial or "" for name, field in form.fields.items()}
    data.update(importeren="1", **extra)
    return client.post(url, data)


def refusal(response) -> str:
    assert response.status_code == 200
    assert Device.objects.count() == DeviceEvent.objects.count() == Manifest.objects.count() == 0
    return " ".join(str(error) for error in response.context["failure"].errors)


@pytest.mark.parametrize(
    ("name", "make", "words"),
    [
        ("groot.xlsx", hostile.xlsx_huge_dimension, ["1.048.576 rijen"]),
        ("leeg.xlsx", hostile.xlsx_empty_rows, ["keer samengeperst"]),
        ("gat.xlsx", hostile.xlsx_row_gap, ["meer dan 21.000 rijen"]),
        ("tekst.xlsx", lambda: hostile.xlsx_huge_string(40 * hostile.MB), ["uitgepakt 40 MB"]),
        ("veld.csv", hostile.csv_long_field, ["Rij 2", "te lang"]),
        ("regel.csv", hostile.csv_long_line, ["Rij 1", "te lang"]),
        ("nul.csv", hostile.csv_nul_late, ["Rij 401, kolom B", "NUL"]),
        ("plaatje.csv", hostile.png_bytes, ["PNG"]),
        ("pagina.csv", hostile.html_bytes, ["webpagina"]),
        ("lijst.xlsx", lambda: b"serienummer;type\nS1;laptop\n", ["geen geldig Excel"]),
    ],
)
def test_a_hostile_asset_list_is_refused_within_the_limits(
    client, donor, donation, settings, name, make, words
):
    settings.MANIFEST_BACKGROUND_BYTES = 10 * hostile.MB  # within the request (the job: below)
    content = make()
    client.force_login(donor)
    upload(client, donation, "warm.csv", b"serienummer\n")  # imports and templates, once
    with hostile.within_limits():
        response = upload(client, donation, name, content)
    text = refusal(response)
    for word in words:
        assert word in text


def test_a_formula_behind_a_line_break_is_refused_in_csv_and_xlsx(client, donor, donation):
    client.force_login(donor)
    csv_text = b'serienummer;type;model\nS1;laptop;"\n=2+2"\n'
    response = upload(client, donation, "lijst.csv", csv_text)
    assert "formule" in preview_errors(client, response)
    import_previewed(client, response.url)
    assert Device.objects.count() == 0
    workbook = Workbook()
    for row in (["serienummer", "type", "model"], ["S1", "laptop", "\n=2+2"]):
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    response = upload(client, donation, "l.xlsx", out.getvalue())
    assert "Rij 2, kolom C (model)" in preview_errors(client, response)


def test_a_zip_with_a_csv_name_is_read_as_the_spreadsheet_it_is(client, donor, donation):
    workbook = Workbook()
    for row in (["serienummer", "type"], ["S1", "laptop"]):
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    client.force_login(donor)
    response = upload(client, donation, "lijst.csv", out.getvalue())
    import_previewed(client, response.url)
    assert Device.objects.filter(serial_number="S1").exists()


def test_a_request_over_the_maximum_is_413_before_the_body_is_read(client, donor, donation):
    client.force_login(donor)
    response = client.generic(
        "POST",
        reverse("donations:manifest_upload", args=[donation.pk]),
        b"--x--",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(100 * hostile.MB),
    )
    assert response.status_code == 413
    assert "te groot" in response.content.decode() and "5 MB" in response.content.decode()


# --- Large lists: a background job -----------------------------------------------------------


def test_a_large_list_is_imported_by_a_background_job_with_its_progress(
    client, donor, donation, settings, django_capture_on_commit_callbacks
):
    settings.MANIFEST_BACKGROUND_BYTES = 100
    lines = "".join(f"S{n:05d};laptop\n" for n in range(1500))
    client.force_login(donor)
    with django_capture_on_commit_callbacks(execute=True):  # in-process, as without a broker
        response = upload(client, donation, "lijst.csv", f"serienummer;type\n{lines}".encode())
    job = ManifestImport.objects.get()
    assert response.url == reverse("donations:manifest_job", args=[donation.pk, job.pk])
    # Read by the job and kept for its preview; imported once the donor confirms.
    assert "1500 rijen gelezen" in client.get(response.url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        import_previewed(client, response.url)
    job.refresh_from_db()
    page = client.get(response.url).content.decode()
    assert "1500 apparaten zijn aangekondigd" in page and "1500 rijen gecontroleerd" in page
    assert Device.objects.filter(donation=donation).count() == 1500
    assert (job.status, job.rows_read, job.manifest.rows, job.file.name) == ("done", 1500, 1500, "")


def test_a_large_list_with_errors_imports_nothing_and_lists_them_by_row_and_column(
    client, donor, donation, settings, django_capture_on_commit_callbacks
):
    settings.MANIFEST_BACKGROUND_BYTES = 100
    lines = "".join(f"S{n:05d};laptop\n" for n in range(1500)) + "S1;pc\n"
    client.force_login(donor)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, donation, "lijst.csv", f"serienummer;type\n{lines}".encode())
    page = client.get(response.url).content.decode()
    assert "1 fout in de lijst" in page and "B (type)" in page
    (error,) = client.get(response.url).context["preview"].errors
    assert error.row == 1502
    with django_capture_on_commit_callbacks(execute=True):
        import_previewed(client, response.url)
    assert ManifestImport.objects.get().status == "preview"
    assert Device.objects.count() == 0 and Manifest.objects.count() == 0


def test_another_donor_cannot_open_a_list_job(client, donation, other_donor):
    job = ManifestImport.objects.create(donation=donation, file_name="l.csv")
    client.force_login(other_donor)
    response = client.get(reverse("donations:manifest_job", args=[donation.pk, job.pk]))
    assert response.status_code == 404


def test_a_hostile_list_large_enough_for_the_job_is_refused_by_it_within_the_limits(
    client, donor, donation, django_capture_on_commit_callbacks
):
    content = hostile.csv_long_line()
    client.force_login(donor)
    with hostile.within_limits(), django_capture_on_commit_callbacks(execute=True):
        response = upload(client, donation, "regel.csv", content)
    job = ManifestImport.objects.get()
    assert response.url == reverse("donations:manifest_job", args=[donation.pk, job.pk])
    assert (job.status, job.errors[0]["row"]) == ("failed", 1)
    assert "te lang" in job.errors[0]["message"] and Device.objects.count() == 0
    assert "te lang" in client.get(response.url).content.decode()
