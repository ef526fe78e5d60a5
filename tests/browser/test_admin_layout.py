"""The coordinators' lists at 1280 px: the columns they decide by are on screen, and the
allocation's *waarom* is wide enough to read."""

import pytest

from distribution.tests.factories import (
    ApprovedRequestFactory,
    ProposalFactory,
    approved_allocations,
    shipped_shipment,
)
from helprequests.tests.factories import HelpRequestFactory
from tests.browser.helpers import log_in_with_session
from tests.factories import OrganisationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 1280


def column_box(page, url, column):
    page.goto(url)
    header = page.locator(f"#result_list th.column-{column}")
    assert header.count() == 1, f"{url}: no column {column}"
    return header.bounding_box()


def test_key_columns_are_on_screen_at_1280_px(browser, live_server, coordinator):
    OrganisationFactory.create_batch(3, name="Stichting Voor Een Heel Lange Naam Van Het Onderwijs")
    HelpRequestFactory.create_batch(3, submitted=True)
    ProposalFactory.create_batch(3)
    request = ApprovedRequestFactory(laptops=1)
    shipped_shipment(approved_allocations(request, 1), by=coordinator)

    context = browser.new_context(
        base_url=live_server.url, locale="nl-NL", viewport={"width": WIDTH, "height": 800}
    )
    context.set_default_timeout(15_000)
    log_in_with_session(context, live_server, coordinator)
    page = context.new_page()
    off_screen = []
    for url, column in [
        ("/admin/allemaal/organisation/", "status"),
        ("/admin/helprequests/helprequest/", "status"),
        ("/admin/distribution/shipment/", "status"),
        ("/admin/distribution/shipment/", "discrepancy"),
        ("/admin/distribution/allocation/?status=proposed", "status"),
    ]:
        box = column_box(page, url, column)
        if box["x"] + box["width"] > WIDTH:
            off_screen.append(f"{url} {column}: right edge at {box['x'] + box['width']:.0f} px")
    assert not off_screen, off_screen

    why = column_box(page, "/admin/distribution/allocation/?status=proposed", "explanation")
    assert why["width"] >= 200
    assert why["x"] + why["width"] <= WIDTH + 1
    context.close()
