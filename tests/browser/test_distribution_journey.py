"""A refurbisher packs a shipment by scanning, prints its documents and ships it; the school board
confirms delivery with one unit missing; a coordinator sees the discrepancy; a helpdesk agent
finds a device by its tag, logs the call and starts a return."""

import re
from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect
from pypdf import PdfReader

from distribution.models import Allocation, Shipment, SupportContact
from distribution.tests.factories import (
    ApprovedRequestFactory,
    ProcessedDonationFactory,
    approved_allocations,
)
from donations.models import Device
from donations.vocabulary import normalise_asset_tag
from refurbish.asset_tags import format_asset_tag
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pdf_text(path: str) -> str:
    return "\n".join(
        page.extract_text() for page in PdfReader(BytesIO(Path(path).read_bytes())).pages
    )


def log_in_as_staff(context, live_server, user):
    """Staff have two-step verification: take a session made by the test client (which the MFA
    middleware accepts, the user having TOTP) into the browser."""
    client = Client()
    client.force_login(user)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def log_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("E-mailadres").fill(user.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state()


def scan(page, value):
    field = page.get_by_label("Apparaatcode", exact=True)
    field.fill(value)
    field.press("Enter")
    shown = format_asset_tag(normalise_asset_tag(value))
    status = page.locator("#scan-status")
    status.filter(has_text=shown).wait_for()
    assert page.evaluate("document.activeElement.name") == "tag"
    return status


def test_a_shipment_from_scan_to_delivery_to_the_support_line(
    browser,
    live_server,
    refurbisher,
    refurbisher_org,
    school_board,
    school_board_org,
    coordinator,
    helpdesk,
):
    donation = ProcessedDonationFactory(refurbisher=refurbisher_org)
    request = ApprovedRequestFactory(organisation=school_board_org, laptops=3)
    allocations = approved_allocations(request, 3, donation=donation)
    other = approved_allocations(ApprovedRequestFactory(laptops=1), 1, donation=donation)[0]
    tags = [format_asset_tag(a.device.asset_tag) for a in allocations]

    # --- The refurbisher packs and ships.
    context = browser.new_context(base_url=live_server.url, locale="nl-NL", accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in(page, refurbisher)
    page.goto("/verzenden/")
    page.get_by_role("row", name=re.compile(school_board_org.name)).get_by_role(
        "button", name="Zending maken"
    ).click()
    page.get_by_text("0 apparaten in deze zending").wait_for()
    # The scan script is attached at the end of the page: scanning before it runs would post
    # the form the old way instead of answering in place.
    page.wait_for_load_state("load")

    assert "ok" in scan(page, tags[0].lower()).get_attribute("class")
    page.get_by_text("1 apparaat in deze zending").wait_for()
    refused = scan(page, format_asset_tag(other.device.asset_tag))
    assert "refused" in refused.get_attribute("class")
    assert "niet aan Stichting Carla Scholen" in refused.inner_text()
    for tag in tags[1:]:
        assert "ok" in scan(page, tag.replace("-", "")).get_attribute("class")
    page.get_by_text("3 apparaten in deze zending").wait_for()
    assert page.locator("#scan-list tr").count() == 3

    with page.expect_download() as download:
        page.get_by_role("link", name="Paklijst (pdf)").click()
    packing = pdf_text(download.value.path())
    assert school_board_org.name in packing and settings.SUPPORT_PHONE in packing
    for tag in tags:
        assert tag in packing
    with page.expect_download() as download:
        page.get_by_role("link", name="Uitleg per apparaat (pdf)").click()
    sheets = pdf_text(download.value.path())
    for tag in tags:
        assert f"Apparaatcode: {tag}" in sheets
    assert settings.SUPPORT_PHONE in sheets

    page.get_by_label("Vervoerder").select_option("postnl")
    page.get_by_label("Track-and-tracecode").fill("3SALLE0000001")
    page.get_by_role("button", name="Verzonden").click()
    page.get_by_text("is verzonden").wait_for()
    shipment = Shipment.objects.get()
    assert shipment.status == "shipped" and shipment.tracking_code == "3SALLE0000001"
    assert set(
        Device.objects.filter(allocations__in=allocations).values_list("state", flat=True)
    ) == {"shipped"}
    context.close()

    # --- The school board confirms, one laptop missing.
    context = browser.new_context(base_url=live_server.url, locale="nl-NL")
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in(page, school_board)
    page.goto("/zendingen/")
    page.get_by_role("link", name=shipment.reference).click()
    page.get_by_text("Er ontbreekt iets of er is iets beschadigd").click()
    missing_row = page.locator("#delivery-form tr", has_text=tags[2])
    missing_row.get_by_label("Ontbreekt").check()
    page.get_by_role("button", name="Ontvangst bevestigen").click()
    page.get_by_text("De ontvangst is bevestigd").wait_for()
    expect(page.get_by_role("button", name="Toch ontvangen")).to_be_visible()
    context.close()
    shipment.refresh_from_db()
    assert shipment.discrepancy_open

    # --- A coordinator sees the discrepancy in the admin.
    context = browser.new_context(base_url=live_server.url, locale="nl-NL")
    context.set_default_timeout(15_000)
    log_in_as_staff(context, live_server, coordinator)
    page = context.new_page()
    page.goto("/admin/distribution/shipment/")
    page.get_by_role("link", name="open", exact=True).click()
    row = page.locator("#result_list tbody tr", has_text=shipment.reference)
    expect(row.locator("td.field-discrepancy")).to_have_text("open: 1 ontbreken, 0 beschadigd")
    row.get_by_role("link", name=shipment.reference).click()
    expect(page.locator(".field-outcome", has_text="Ontbreekt")).to_have_count(1)
    context.close()

    # --- The helpdesk finds a delivered laptop by its tag, logs the call, starts a return.
    context = browser.new_context(base_url=live_server.url, locale="nl-NL")
    context.set_default_timeout(15_000)
    log_in_as_staff(context, live_server, helpdesk)
    page = context.new_page()
    page.goto("/helpdesk/")
    page.get_by_label("Apparaatcode of serienummer").fill(tags[0].lower().replace("-", ""))
    page.get_by_role("button", name="Zoeken").click()
    page.wait_for_url(re.compile(r"/helpdesk/apparaat/\d+/"))
    expect(page.get_by_text(school_board_org.name).first).to_be_visible()
    expect(page.get_by_text(shipment.reference).first).to_be_visible()

    contact_form = page.locator("#contact-form")
    contact_form.get_by_label("Telefoon").check()
    contact_form.get_by_label("Onderwerp").select_option("hardware")
    contact_form.get_by_label("Vraag en wat u heeft gedaan").fill(
        "Toetsenbord reageert niet. Opnieuw opstarten hielp niet."
    )
    contact_form.get_by_label("Vervolg nodig").check()
    page.get_by_role("button", name="Contact vastleggen").click()
    page.get_by_text("Het contact is vastgelegd.").wait_for()

    return_form = page.locator("#return-form")
    return_form.get_by_label("Reden van de retour").fill("Toetsenbord kapot")
    return_form.get_by_label("Ja, stuur een vervangend apparaat").check()
    return_form.get_by_role("button", name="Retour starten").click()
    page.get_by_text("Retour gestart").wait_for()
    context.close()

    device = allocations[0].device
    device.refresh_from_db()
    assert device.state == "received"
    assert Allocation.objects.get(pk=allocations[0].pk).status == "replaced"
    assert SupportContact.objects.get().device_return is not None
