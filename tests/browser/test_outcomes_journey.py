"""Every serial reaches an end: a listed laptop that never arrived is *not received* when the
refurbisher closes intake, and the donor still gets its certificate; a laptop reported missing
by the school board is *lost* once a coordinator settles the discrepancy."""

import re
from io import BytesIO

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect
from pypdf import PdfReader

from allemaal.models import Notification
from distribution import services as distribution_services
from distribution.tests.factories import (
    ApprovedRequestFactory,
    ProcessedDonationFactory,
    approved_allocations,
    shipped_shipment,
)
from donations.models import Device
from refurbish.models import ErasureCertificate
from refurbish.tests.factories import device_in, nwipe_log_for, received_donation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARRIVED = ["PF0XK2LM", "5CG8341XYZ"]
NEVER_ARRIVED = "7QX4T52"


def pdf_text(content: bytes) -> str:
    return " ".join(p.extract_text() for p in PdfReader(BytesIO(content)).pages)


def scan(page, typed, shown):
    field = page.get_by_label("Serienummer", exact=True)
    field.fill(typed)
    field.press("Enter")
    status = page.locator("#scan-status")
    status.filter(has_text=shown).wait_for()
    return status


def test_a_listed_laptop_that_never_arrived_still_ends_in_a_certificate(
    page, log_in, refurbisher, refurbisher_org, donor, donor_org
):
    donation = received_donation(refurbisher_org, donor=donor_org, laptops=3)
    for serial in [*ARRIVED, NEVER_ARRIVED]:
        device_in(donation, "announced", serial_number=serial, make="Lenovo", model="T480")

    # --- Intake: one serial typed with dashes, one mis-scan undone, then intake complete.
    log_in(refurbisher)
    page.goto(f"/opknappen/donatie/{donation.pk}/inname/")
    page.wait_for_load_state("load")
    assert "ok" in scan(page, "pf0xk2lm", "PF0XK2LM").get_attribute("class")
    assert "ok" in scan(page, "5CG-8341-XYZ", "5CG8341XYZ").get_attribute("class")
    assert "Toegevoegd" in scan(page, "lbl 0001", "LBL0001").inner_text()  # the wrong barcode
    page.reload()
    page.locator("#scan-list tr", has_text="LBL0001").get_by_role(
        "button", name="Verkeerd gescand: verwijderen"
    ).click()
    page.get_by_text("LBL0001 is verwijderd (verkeerd gescand).").wait_for()
    assert Device.objects.filter(donation=donation).count() == 3

    page.get_by_role("link", name="Inname afronden").click()
    expect(page.locator("#not-scanned")).to_contain_text(NEVER_ARRIVED)
    expect(page.locator("#not-scanned tbody tr")).to_have_count(1)
    page.get_by_role("button", name="Inname afronden").click()
    page.get_by_text("1 apparaat staat als niet ontvangen").wait_for()
    assert Device.objects.get(serial_number=NEVER_ARRIVED).state == "not_received"
    mail = Notification.objects.get(kind="donation_not_received", to_email=donor.email)
    assert NEVER_ARRIVED in mail.body_text

    # --- Erase and grade what did arrive.
    page.get_by_role("link", name="Wislogs uploaden").click()
    page.get_by_label("Wislogs (nwipe of ShredOS)").set_input_files(
        [
            {"name": f"{serial}.log", "mimeType": "text/plain", "buffer": nwipe_log_for(serial)}
            for serial in ARRIVED
        ]
    )
    page.get_by_role("button", name="Uploaden").click()
    assert page.get_by_text("Vastgelegd: gewist").count() == 2
    page.goto(f"/opknappen/donatie/{donation.pk}/")
    for serial in ARRIVED:  # the one that never arrived has no work left
        page.get_by_label(serial, exact=True).check()
    page.get_by_text("Testen en beoordelen").click()
    page.get_by_label("Kwaliteit").select_option("A")
    page.get_by_label("Besturingssysteem op de laptops").select_option("windows11")
    page.locator("input[name=grade-charger_included][value=yes]").check()
    page.get_by_label("Alle onderdelen van de checklist werken").check()
    page.get_by_role("button", name="Beoordelen").click()
    page.get_by_text("2 apparaten bijgewerkt.").wait_for()
    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_load_state()

    # --- The donor sees each serial's outcome and gets the certificate.
    log_in(donor)
    page.goto(f"/donaties/{donation.pk}/")
    row = page.locator("table.devices tr", has_text=NEVER_ARRIVED)
    expect(row).to_contain_text("Niet ontvangen")
    expect(page.locator("table.devices tr", has_text=ARRIVED[0])).to_contain_text("Nog bezig")
    certificate = ErasureCertificate.objects.get(donation=donation)
    response = page.request.get(f"/opknappen/certificaat/{donation.pk}/")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = " ".join(pdf_text(response.body()).split())
    assert certificate.display_code in text and NEVER_ARRIVED in text
    assert "Niet ontvangen" in text
    page.goto(f"/opknappen/verify/{certificate.code}/")
    expect(page.get_by_text("Dit certificaat is echt.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(NEVER_ARRIVED))).to_contain_text(
        "Niet ontvangen"
    )


def test_a_laptop_reported_missing_is_lost_once_the_coordinator_settles(
    browser,
    live_server,
    refurbisher,
    refurbisher_org,
    school_board,
    school_board_org,
    coordinator,
):
    donation = ProcessedDonationFactory(refurbisher=refurbisher_org)
    request = ApprovedRequestFactory(organisation=school_board_org, laptops=2)
    shipment = shipped_shipment(approved_allocations(request, 2, donation=donation), by=refurbisher)
    missing, arrived = shipment.items.order_by("pk")
    distribution_services.shipment_confirm_delivery(
        shipment.pk,
        by=school_board,
        organisation=school_board_org,
        outcomes={missing.pk: "missing", arrived.pk: "received"},
    )
    assert Device.objects.get(pk=missing.device_id).state == "shipped"

    client = Client()
    client.force_login(coordinator)
    context = browser.new_context(base_url=live_server.url, locale="nl-NL")
    context.set_default_timeout(15_000)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.goto("/admin/distribution/shipment/")
    row = page.locator("#result_list tbody tr", has_text=shipment.reference)
    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option("resolve")
    page.locator("button[name=index], input[name=index]").first.click()
    page.get_by_label("Reden").fill("Vervoerder kan het pakket niet vinden; vervanging volgt")
    page.get_by_role("button", name="Bevestigen").click()
    page.get_by_text("1 afwijkingen afgehandeld.").wait_for()
    context.close()

    lost = Device.objects.get(pk=missing.device_id)
    assert lost.state == "lost"
    assert lost.events.latest("id").to_state == "lost"
    assert Device.objects.get(pk=arrived.device_id).state == "delivered"
