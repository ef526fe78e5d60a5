import re

import pytest
from django.core import mail as django_mail
from playwright.sync_api import expect

from allemaal.models import Notification, Organisation, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_organisation_signs_up_verifies_its_address_and_awaits_verification(page):
    page.goto("/")
    page.get_by_role("link", name="Account aanmaken").first.click()
    expect(page.get_by_role("heading", name="Account aanmaken")).to_be_visible()
    page.get_by_label("Voornaam").fill("Fatima")
    page.get_by_label("Achternaam").fill("El Amrani")
    page.get_by_label("E-mailadres").fill("info@buurthuis-oost.example")
    page.locator("#id_password1").fill("Buurthuis-Oost-2026!")
    page.get_by_label("Wachtwoord (bevestigen)").fill("Buurthuis-Oost-2026!")
    page.get_by_role("button", name="Account aanmaken").click()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/"))

    mail = Notification.objects.get(to_email="info@buurthuis-oost.example")
    assert mail.status == Notification.Status.SENT
    sent = next(m for m in django_mail.outbox if mail.to_email in m.to)
    link = re.search(r"https?://\S+(/accounts/confirm-email/\S+)", sent.body).group(1)
    page.goto(link)
    page.get_by_role("button", name="Bevestigen").click()

    page.wait_for_url(re.compile(r"/organisatie/nieuw/"))
    page.get_by_label("Aanvragende organisatie").check()
    page.get_by_label("Naam").fill("Buurthuis Oost")
    page.get_by_label("KvK-nummer").fill("87654321")
    page.get_by_label("Sector").select_option("welfare")
    page.get_by_label("Straat en huisnummer").fill("Oosterstraat 4")
    page.get_by_label("Postcode").fill("9711ab")
    page.get_by_label("Plaats").fill("Groningen")
    page.get_by_label("Telefoonnummer").fill("050 123 4567")
    page.get_by_role("button", name="Organisatie aanmelden").click()

    page.wait_for_url(re.compile(r"/organisatie/wacht-op-controle/"))
    assert User.objects.get(email="info@buurthuis-oost.example").get_full_name() == (
        "Fatima El Amrani"
    )
    expect(page.get_by_role("heading", name="Uw organisatie wacht op controle")).to_be_visible()
    org = Organisation.objects.get(name="Buurthuis Oost")
    assert (org.status, org.postcode, org.province) == ("pending", "9711 AB", "Groningen")


def test_a_visitor_switches_the_site_to_english_and_back(page):
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "nl"
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("link", name="Create account").first).to_be_visible()
    page.get_by_role("button", name="Nederlands").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "nl"
