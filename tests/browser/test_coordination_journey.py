"""A coordinator reads the dashboard, filters it by province and downloads an export; a donor
reads its impact report and downloads it as a PDF."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect

from coordination import snapshot
from coordination.tests.test_reporting_fixture import build
from tests.factories import member_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in_with_session(page, live_server, user):
    """The coordinator uses two-step verification: its browser gets a logged-in session."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def test_a_coordinator_filters_the_dashboard_by_province_and_downloads_an_export(
    page, live_server, coordinator
):
    programme = build()
    snapshot.refresh()
    log_in_with_session(page, live_server, coordinator)

    page.goto("/admin/")
    page.get_by_role("link", name="Coördinatie-dashboard").click()
    page.wait_for_url(re.compile(r"/coordinatie/$"))
    expect(page.get_by_role("heading", name="Coördinatie-dashboard")).to_be_visible()
    funnel = page.locator("#table-funnel")
    assert "Toegezegd" in funnel.inner_text() and "24" in funnel.inner_text()
    assert page.locator("svg.chart").count() == 7

    page.get_by_label("Provincie", exact=True).select_option("Limburg")
    page.get_by_role("button", name="Toon").click()
    page.wait_for_url(re.compile(r"provincie=Limburg"))
    provinces = page.locator("#table-demand-province tbody tr")
    assert provinces.count() == 1 and "Limburg" in provinces.first.inner_text()
    assert page.locator("#table-funnel tbody tr").first.inner_text().split()[-2] == "5"

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Hulpaanvragen (CSV)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("hulpaanvragen-")
    content = Path(download.path()).read_text(encoding="utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(content), delimiter=";"))
    assert [row[0] for row in rows] == [programme.requests["Q2"].reference]
    assert rows[0][header.index("provincie")] == "Limburg"


def test_a_donor_reads_its_impact_report_and_downloads_the_pdf(page, log_in):
    programme = build()
    donor = member_of(programme.d1)
    log_in(donor)

    page.goto("/donaties/")
    page.get_by_role("link", name="Bekijk uw impactrapport").click()
    expect(page.get_by_role("heading", name="Wat uw donaties doen")).to_be_visible()
    assert page.locator("#impact-delivered strong").inner_text() == "2"
    assert page.locator("#impact-emissions strong").inner_text() == "400 kg"
    assert "Leerlingen in het voortgezet onderwijs" in page.locator("#impact-groups").inner_text()
    assert "Stutz" in page.content()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download als PDF").click()
    download = download_info.value
    assert Path(download.path()).read_bytes()[:5] == b"%PDF-"
