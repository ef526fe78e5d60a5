"""A refurbisher takes in a donation, labels, erases, grades; the donor gets the certificate."""

import re
from io import BytesIO
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from allemaal.models import Notification
from donations.models import Device
from refurbish.asset_tags import format_asset_tag
from refurbish.models import ErasureCertificate
from refurbish.tests.factories import device_in, nwipe_log_for, received_donation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ON_LIST = ["PF0XK2LM", "5CG8341XYZ", "7QX4T52"]
NOT_ON_LIST = ["NB-EXTRA-01", "NB-EXTRA-02"]


def pdf_text(content: bytes) -> str:
    return " ".join(p.extract_text() for p in PdfReader(BytesIO(content)).pages)


def scan(page, serial):
    field = page.get_by_label("Serienummer", exact=True)
    field.fill(serial)
    field.press("Enter")
    status = page.locator("#scan-status")
    status.filter(has_text=serial).wait_for()
    assert page.evaluate("document.activeElement.name") == "serial"
    return status


def test_a_refurbisher_processes_a_donation_and_the_donor_verifies_the_certificate(
    page, log_in, refurbisher, refurbisher_org, donor, donor_org
):
    donation = received_donation(refurbisher_org, donor=donor_org, laptops=5)
    for serial in ON_LIST:
        device_in(donation, "announced", serial_number=serial, make="Lenovo", model="T480")

    log_in(refurbisher)
    page.goto("/opknappen/")
    page.get_by_role("link", name="Inname (scannen)").click()
    page.get_by_text("0 van 3 aangekondigde apparaten gescand").wait_for()
    page.wait_for_load_state("load")  # the scan script is attached before the first scan

    for serial in ON_LIST:
        assert "scan-status ok" in scan(page, serial).get_attribute("class")
    refused = scan(page, ON_LIST[0])
    assert "al gescand" in refused.inner_text()
    assert "refused" in refused.get_attribute("class")
    for serial in NOT_ON_LIST:
        assert "Toegevoegd" in scan(page, serial).inner_text()
    page.get_by_text("3 van 3 aangekondigde apparaten gescand, 2 extra").wait_for()
    assert page.locator("#scan-list tr").count() == 5
    assert Device.objects.filter(donation=donation, state="received").count() == 5

    page.get_by_role("link", name="Alle apparaten van deze donatie").click()
    page.wait_for_load_state("load")
    page.locator("#select-all").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Labels printen").click()
    labels = pdf_text(Path(download.value.path()).read_bytes())
    for device in Device.objects.filter(donation=donation):
        assert format_asset_tag(device.asset_tag) in labels

    page.get_by_role("link", name="Wislogs uploaden").click()
    page.get_by_label("Wislogs (nwipe of ShredOS)").set_input_files(
        [
            {"name": f"{serial}.log", "mimeType": "text/plain", "buffer": nwipe_log_for(serial)}
            for serial in ON_LIST + NOT_ON_LIST
        ]
    )
    page.get_by_role("button", name="Uploaden").click()
    assert page.get_by_text("Vastgelegd: gewist").count() == 5

    page.goto(f"/opknappen/donatie/{donation.pk}/")
    page.locator("#select-all").check()
    page.get_by_text("Testen en beoordelen").click()
    page.get_by_label("Kwaliteit").select_option("A")
    page.get_by_label("Besturingssysteem op de laptops").select_option("windows11")
    page.locator("input[name=grade-charger_included][value=yes]").check()
    page.get_by_label("Alle onderdelen van de checklist werken").check()
    page.get_by_role("button", name="Beoordelen").click()
    page.get_by_text("5 apparaten bijgewerkt.").wait_for()
    assert page.get_by_text("Klaar voor gebruik").count() == 5

    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_load_state()
    log_in(donor)
    mail = Notification.objects.get(kind="refurbish_certificate_ready", to_email=donor.email)
    download_url = re.search(r"https?://\S+(/opknappen/certificaat/\d+/)", mail.body_text)[1]
    response = page.request.get(download_url)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    certificate = ErasureCertificate.objects.get(donation=donation)
    text = " ".join(pdf_text(response.body()).split())
    assert certificate.display_code in text and "Certificate of data erasure" in text

    verify_path = re.search(r"https?://[^/\s]+(\S*/verify/\S+)", mail.body_text)[1]
    page.goto(verify_path)
    expect(page.get_by_text("Dit certificaat is echt.")).to_be_visible()
    for serial in ON_LIST + NOT_ON_LIST:
        expect(page.get_by_role("cell", name=serial, exact=True)).to_be_visible()
