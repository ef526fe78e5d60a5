import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from helprequests.models import HelpRequest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_school_board_asks_for_laptops_and_sees_its_queue_position_after_approval(
    page, log_in, school_board, browser, live_server, coordinator
):
    log_in(school_board)
    page.goto("/hulpaanvragen/")
    page.get_by_role("link", name="Nieuwe hulpaanvraag").click()

    expect(page.get_by_text("Wij vragen geen persoonsgegevens.")).to_be_visible()
    page.get_by_label("Leerlingen in het basisonderwijs").check()
    page.get_by_label("De leerlingen kunnen nu niet thuis online les volgen").check()
    page.get_by_label("Aantal laptops", exact=True).fill("30")
    page.get_by_label("Aantal laptops of tablets (maakt niet uit)").fill("5")
    page.get_by_label("Aantal mensen dat u met deze apparaten helpt").fill("40")
    page.get_by_label("Huishoudens die ook een internetverbinding nodig hebben").fill("6")
    page.get_by_label("Hoog").check()
    need_by = timezone.localdate() + datetime.timedelta(days=14)
    page.get_by_label("Nodig uiterlijk op").fill(need_by.isoformat())
    page.get_by_label("Korte toelichting").fill("Veel leerlingen hebben thuis geen laptop.")
    assert page.get_by_label("Postcode").input_value() == "4001 AB"  # the organisation's own
    page.get_by_label("Naam contactpersoon").fill("Carla Jansen")
    page.get_by_label(re.compile("^Wij hebben gecontroleerd")).check()
    page.get_by_role("button", name="Verder naar controleren").click()

    page.wait_for_url(re.compile(r"/hulpaanvragen/\d+/controleren/"))
    expect(page.get_by_role("heading", name="Controleer uw hulpaanvraag")).to_be_visible()
    summary = page.locator("dl.details").inner_text()
    for text in ["Leerlingen in het basisonderwijs", "30", "Carla Jansen", "4001 AB Tiel"]:
        assert text in summary
    request = HelpRequest.objects.get()
    assert request.status == "draft"
    page.get_by_role("button", name="Hulpaanvraag indienen").click()

    page.wait_for_url(re.compile(r"/hulpaanvragen/$"))
    row = page.locator(f"#aanvraag-{request.pk}")
    assert request.reference in row.inner_text() and "Ingediend" in row.inner_text()

    # A coordinator approves 20 of the 30 laptops in the admin.
    staff = Client()
    staff.force_login(coordinator)
    admin = browser.new_context(base_url=live_server.url, locale="nl-NL")
    admin.add_cookies(
        [{"name": "sessionid", "value": staff.cookies["sessionid"].value, "url": live_server.url}]
    )
    coordinator_page = admin.new_page()
    coordinator_page.goto(f"/admin/helprequests/helprequest/{request.pk}/change/")
    coordinator_page.get_by_role("link", name="Goedkeuren").click()
    coordinator_page.get_by_label(re.compile(r"^Laptops:?$")).fill("20")
    coordinator_page.get_by_role("button", name="Bevestigen").click()
    coordinator_page.wait_for_url(re.compile(rf"/helprequest/{request.pk}/change/$"))
    admin.close()

    page.reload()
    row = page.locator(f"#aanvraag-{request.pk}")
    text = row.inner_text()
    assert "Goedgekeurd" in text
    assert "Goedgekeurd: 20 laptops, 0 tablets en 5 laptops of tablets." in text
    assert "Plaats in de wachtrij voor deze doelgroep: 1 van 1." in text
    assert "Wij weten nog niet wanneer u de apparaten krijgt." in text
