"""Issue 19's broken items, each walked in a real browser: the admin's history speaks Dutch."""

import pytest
from django.test import Client

from donations.models import Donation, DonationEvent
from donations.tests.factories import DonationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in_with_session(page, live_server, user):
    """Staff use two-step verification: the browser gets a logged-in session."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def test_the_admin_history_names_each_status_in_dutch(page, live_server, coordinator):
    donation = DonationFactory(status=Donation.Status.SCHEDULED)
    DonationEvent.objects.create(donation=donation, from_status="pledged", to_status="scheduled")
    log_in_with_session(page, live_server, coordinator)

    page.goto(f"/admin/donations/donation/{donation.pk}/change/")
    history = page.locator(".inline-group", has_text="geschiedenis").first.inner_text()
    assert "Aangemeld" in history and "Ophalen gepland" in history
    assert "pledged" not in history and "scheduled" not in history
