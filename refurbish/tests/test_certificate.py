"""The certificate of data erasure per donation, its download and the public verify page."""

from io import BytesIO

import pytest
from django.urls import reverse
from pypdf import PdfReader

from allemaal.models import Notification
from donations.models import Device
from refurbish import services
from refurbish.asset_tags import format_asset_tag
from refurbish.erasure_logs import erasure_logs_import
from refurbish.models import ErasureCertificate, ErasureSource
from refurbish.services import InspectionInput, RecycleInput

from .factories import LOGS


@pytest.fixture
def certificate(donation, donor, refurbisher, refurbisher_org, django_capture_on_commit_callbacks):
    """Dirk's workshop takes in Alice's three laptops, erases two with nwipe (one fails), makes
    them ready, and recycles the third with its storage destroyed."""
    user, org = refurbisher, refurbisher_org
    with django_capture_on_commit_callbacks(execute=True):
        for serial in ("PF0XK2LM", "5CG8341XYZ", "7QX4T52"):
            services.device_intake_scan(donation, serial, kind="laptop", by=user, organisation=org)
        erasure_logs_import(
            [
                (name, (LOGS / name).read_bytes())
                for name in (
                    "erased_one_drive.log",
                    "erased_two_drives.log",
                    "one_drive_failed.log",
                )
            ],
            organisation=org,
            by=user,
            source=ErasureSource.UPLOAD,
        )
        ready = [Device.objects.get(serial_number=s).pk for s in ("PF0XK2LM", "5CG8341XYZ")]
        good = InspectionInput.all_working(grade="A", os_installed="windows11")
        services.devices_record_inspection(ready, good, by=user, organisation=org)
        failed = Device.objects.get(serial_number="7QX4T52").pk
        services.device_recycle(
            failed,
            RecycleInput(reason="erasure_failed", storage_destroyed=True),
            by=user,
            organisation=org,
        )
    return ErasureCertificate.objects.get(donation=donation)


def pdf_text(content: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)
    return " ".join(text.split())


def test_the_certificate_is_issued_when_every_device_has_an_outcome(certificate, donation):
    donation.refresh_from_db()
    assert donation.status == "processed"
    summary = certificate.summary
    assert summary["counts"] == {"devices": 3, "erased": 2, "destroyed": 1}
    by_serial = {entry["serial_number"]: entry for entry in summary["devices"]}
    assert by_serial["PF0XK2LM"]["outcome"] == "erased"
    assert by_serial["PF0XK2LM"]["tool"] == "nwipe"
    assert by_serial["7QX4T52"]["outcome"] == "destroyed"
    assert by_serial["7QX4T52"]["standard"] == "destroy"


def test_no_certificate_before_every_device_has_an_outcome(donation, refurbisher, refurbisher_org):
    services.device_intake_scan(
        donation, "PF0XK2LM", kind="laptop", by=refurbisher, organisation=refurbisher_org
    )
    assert services.certificate_issue_if_complete(donation.pk) is None
    assert not ErasureCertificate.objects.exists()


def test_the_donor_is_told_with_the_download_link(certificate, donor):
    mail = Notification.objects.get(kind="refurbish_certificate_ready")
    assert mail.to_email == donor.email
    assert reverse("refurbish:certificate", args=[certificate.donation_id]) in mail.body_text
    assert certificate.display_code in mail.body_text
    assert f"/verify/{certificate.code}/" in mail.body_text


def test_codes_are_random_128_bit_and_unguessable(certificate):
    codes = {services.new_certificate_code() for _ in range(1000)}
    assert len(codes) == 1000
    assert all(len(code) == 26 for code in codes)
    assert len(certificate.code) == 26


def test_the_pdf_lists_each_device_in_dutch_and_english(certificate, client, donor, donor_org):
    client.force_login(donor)
    response = client.get(reverse("refurbish:certificate", args=[certificate.donation_id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for expected in (
        "Certificaat van gegevensverwijdering",
        "Certificate of data erasure",
        donor_org.name,
        "Dirk Opknap ICT BV",
        certificate.display_code,
        "PF0XK2LM",
        "NIST SP 800-88 Clear",
        "Overschrijven",
        "Overwrite",
        "nwipe 0.38",
        "laatste ronde",
        "Geslaagd",
        "Passed",
        "NIST SP 800-88 Destroy",
        "Opslag vernietigd",
        "Storage destroyed",
        "S3YHNX0M412345A",
    ):
        assert expected in text, expected
    device = Device.objects.get(serial_number="PF0XK2LM")
    assert format_asset_tag(device.asset_tag) in text
    assert "Alice de Vries" not in text  # the donor's contact person is personal data


def test_who_may_download_the_certificate(
    certificate, client, donor, refurbisher, coordinator, other_donor, other_refurbisher, outsider
):
    url = reverse("refurbish:certificate", args=[certificate.donation_id])
    assert client.get(url).status_code == 302
    for user in (other_donor, other_refurbisher, outsider):
        client.force_login(user)
        assert client.get(url).status_code == 404, user
    for user in (donor, refurbisher, coordinator):
        client.force_login(user)
        assert client.get(url).status_code == 200, user


def test_the_certificate_is_not_there_before_it_was_issued(client, donation, donor):
    client.force_login(donor)
    assert client.get(reverse("refurbish:certificate", args=[donation.pk])).status_code == 404


def test_the_public_page_confirms_a_genuine_code_without_personal_data(certificate, client):
    response = client.get(services.certificate_verify_url(certificate.code))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Dit certificaat is echt" in page
    assert "PF0XK2LM" in page and "Dirk Opknap ICT BV" in page and "Alice Verzekeringen" in page
    assert "NIST SP 800-88 Destroy" in page and "opslag vernietigd" in page
    for personal in ("Alice de Vries", "dirk@dirk-ict.example", "+31301234567"):
        assert personal not in page


def test_the_public_page_explains_the_erasure_standard_in_plain_dutch(certificate, client):
    page = client.get(services.certificate_verify_url(certificate.code)).content.decode()
    assert "NIST SP 800-88 is een bekende norm voor het veilig wissen van gegevens." in page
    assert "Destroy: de opslag is vernietigd." in page


def test_the_public_page_reads_a_typed_code_leniently(certificate, client):
    typed = certificate.display_code.lower()
    response = client.get(reverse("refurbish:certificate_lookup"), {"code": typed}, follow=True)
    assert "Dit certificaat is echt" in response.content.decode()


def test_the_public_page_refuses_an_unknown_code(certificate, client):
    forged = certificate.code[:-1] + ("0" if certificate.code[-1] != "0" else "1")
    response = client.get(reverse("refurbish:certificate_verify", args=[forged]))
    assert response.status_code == 404
    assert "hoort niet bij een wiscertificaat" in response.content.decode()


def test_the_certificate_does_not_change_after_it_was_issued(certificate, donation):
    Device.objects.filter(donation=donation).update(make="Anders")
    assert services.certificate_issue_if_complete(donation.pk) is None
    certificate.refresh_from_db()
    assert all(entry["make"] != "Anders" for entry in certificate.summary["devices"])


@pytest.mark.urls("refurbish.tests.urls_with_root_verify")
def test_the_public_address_is_verify_code_once_mounted_at_the_root(certificate, client):
    url = services.certificate_verify_url(certificate.code)
    assert url.endswith(f"/verify/{certificate.code}/") and "/opknappen/" not in url
    assert "Dit certificaat is echt" in client.get(f"/verify/{certificate.code}/").content.decode()
    lookup = client.get(reverse("refurbish:certificate_lookup"), {"code": certificate.code})
    assert lookup.url == f"/verify/{certificate.code}/"
