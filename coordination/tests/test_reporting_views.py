"""The coordinators' dashboard page, the admin's link to it and the public home page."""

import re

import pytest
from django.urls import reverse

from coordination import public, snapshot
from coordination.models import DashboardSnapshot
from donations.models import Device
from donations.tests.factories import DeviceFactory, DonationFactory
from helprequests.tests.factories import HelpRequestFactory, RequesterFactory
from tests.factories import OrganisationFactory

from .test_reporting_fixture import build

pytestmark = pytest.mark.django_db
URL = "/coordinatie/"


@pytest.fixture
def programme():
    data = build()
    snapshot.refresh()
    return data


def table(page: str, table_id: str) -> list[list[str]]:
    """The rows of one table of the page as lists of cell texts."""
    body = re.search(rf'<table[^>]*id="{table_id}".*?</table>', page, re.S).group(0)
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in rows
    ]


# --- Who may see it ------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("persona", ["donor", "school_board", "helpdesk"])
def test_only_coordinators_open_the_dashboard(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 403


def test_staff_without_two_step_verification_are_sent_to_set_it_up(client):
    from tests.factories import staff_user

    client.force_login(staff_user("coordinators", with_totp=False))
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url == reverse("mfa_index")


def test_the_admin_home_links_to_the_dashboard_for_coordinators(client, coordinator, helpdesk):
    client.force_login(coordinator)
    assert reverse("coordination:dashboard") in client.get("/admin/").content.decode()
    client.force_login(helpdesk)
    assert reverse("coordination:dashboard") not in client.get("/admin/").content.decode()


# --- What it shows -------------------------------------------------------------------------


def test_before_the_first_run_the_page_says_the_numbers_come_later(client, coordinator):
    client.force_login(coordinator)
    response = client.get(URL)
    assert response.status_code == 200
    assert "nog geen cijfers berekend" in response.content.decode()


def test_the_tables_beside_the_charts_hold_the_hand_counted_numbers(client, coordinator, programme):
    client.force_login(coordinator)
    page = client.get(URL).content.decode()
    assert table(page, "table-funnel")[1:] == [
        ["Toegezegd", "24", "–"],
        ["Aangekondigd", "10", "1"],
        ["Ontvangen", "10", "2"],
        ["Gewist", "8", "1"],
        ["Klaar voor gebruik", "6", "1"],
        ["Toegewezen", "4", "1"],
        ["Verzonden", "3", "0"],
        ["Afgeleverd", "3", "3"],
        ["Gerecycled", "2", "2"],
    ]
    assert table(page, "table-lead-times")[1:] == [
        ["Van aanmelding tot ontvangst", "10", "1", "2,5"],
        ["Van ontvangst tot klaar voor gebruik", "6", "3,5", "7"],
        ["Van klaar voor gebruik tot afgeleverd", "3", "6", "8,4"],
    ]
    assert table(page, "table-supply-demand")[1:] == [
        ["Laptops en Chromebooks", "0", "1"],
        ["Tablets", "1", "1"],
        ["Laptop of tablet (maakt niet uit)", "–", "1"],
    ]
    assert [row[0] for row in table(page, "table-refurbishers")[1:]] == [
        "Opknap Limburg",
        "Opknap Utrecht",
    ]
    assert table(page, "table-refurbishers")[1][-3:] == ["3", "1", "33%"]
    assert len(table(page, "table-throughput")) == 13  # header and 12 weeks


def test_charts_are_inline_svg_without_scripts_or_outside_files(client, coordinator, programme):
    client.force_login(coordinator)
    page = client.get(URL).content.decode()
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 7
    # No script draws a chart; the only scripts are the site's own files (the error summary).
    assert re.findall(r"<script[^>]*>", page) == [
        tag for tag in re.findall(r"<script[^>]*>", page) if 'src="/static/' in tag
    ]
    assert not re.search(r'(src|href)="https?://', page)


def test_a_province_filter_counts_live_from_the_facts(client, coordinator, programme):
    client.force_login(coordinator)
    response = client.get(URL, {"provincie": "Limburg"})
    page = response.content.decode()
    assert response.context["live"] is True
    assert table(page, "table-funnel")[1] == ["Toegezegd", "5", "–"]
    assert table(page, "table-demand-province")[1:] == [["Limburg", "1", "0", "1", "1", "2"]]


def test_a_wrong_filter_value_is_said_beside_its_field_and_the_rest_applies(
    client, coordinator, programme
):
    client.force_login(coordinator)
    response = client.get(URL, {"provincie": "Atlantis", "periode": "4w"})
    assert response.status_code == 200
    assert response.context["form"].errors["provincie"]
    assert response.context["filters"].period == "4w"
    assert response.context["filters"].province == ""
    assert table(response.content.decode(), "table-funnel")[1] == ["Toegezegd", "23", "–"]


def test_the_exports_carry_the_dashboards_filters(client, coordinator, programme):
    client.force_login(coordinator)
    response = client.get(URL, {"provincie": "Limburg", "doelgroep": "isolated_elderly"})
    links = {link["title"]: link["csv"] for link in response.context["exports"]}
    assert "delivery_province__exact=Limburg" in links["Hulpaanvragen"]
    assert "target_group__exact=isolated_elderly" in links["Hulpaanvragen"]


def test_the_dashboard_costs_a_bounded_number_of_queries(
    client, coordinator, programme, django_assert_max_num_queries
):
    client.force_login(coordinator)
    client.get(URL)
    # session, user, coordinator group, refurbishers, snapshot, open discrepancies and
    # support contacts (two each at most)
    with django_assert_max_num_queries(9):
        client.get(URL)
    # filtered: plus pledged donations, the main counts, three lead-time histograms,
    # refurbishers and supply
    with django_assert_max_num_queries(16):
        client.get(URL, {"provincie": "Limburg"})
    donation = DonationFactory(status="received", refurbisher=programme.r2)
    for i in range(18):
        DeviceFactory(donation=donation, serial_number=f"EXTRA{i}", state=Device.State.RECEIVED)
    snapshot.refresh(full=True)
    with django_assert_max_num_queries(9):
        client.get(URL)
    with django_assert_max_num_queries(16):
        client.get(URL, {"provincie": "Limburg"})


# --- The public home page ------------------------------------------------------------------


def test_the_home_page_shows_the_counters_and_what_is_needed(client, programme):
    page = client.get("/").content.decode()
    assert re.search(r'id="counter-donated"><strong>10</strong>', page)
    assert re.search(r'id="counter-delivered"><strong>3</strong>', page)
    assert re.search(r'id="counter-organisations"><strong>2</strong>', page)
    assert table(page, "needed")[1:] == [
        ["Laptops en Chromebooks", "1", "0"],
        ["Tablets", "1", "1"],
        ["Laptop of tablet (maakt niet uit)", "1", "–"],
    ]
    assert (
        "Maak een account voor uw bedrijf" in page
        and "Maak een account voor uw organisatie" in page
    )


def test_the_home_page_reads_the_cache_not_the_tables(client, programme, django_assert_num_queries):
    client.get("/")
    with django_assert_num_queries(0):
        assert client.get("/").status_code == 200


def test_a_cold_cache_is_filled_from_the_latest_snapshot(client, programme):
    from django.core.cache import cache

    cache.delete(public.CACHE_KEY)
    assert client.get("/").context["counters"]["delivered"] == 3
    assert cache.get(public.CACHE_KEY)["delivered"] == 3


def test_before_the_first_run_the_home_page_shows_no_counters(client, db):
    page = client.get("/").content.decode()
    assert "counter-donated" not in page
    assert "Maak een account voor uw bedrijf" in page


def test_public_counters_never_count_unverified_organisations(db):
    from distribution.models import Allocation

    verified_donor = OrganisationFactory(kind="donor")
    pending_donor = OrganisationFactory(kind="donor", status="pending")
    verified_org = RequesterFactory()
    pending_org = RequesterFactory(status="pending")
    rejected_org = RequesterFactory(status="rejected")
    verified_request = HelpRequestFactory(organisation=verified_org, approved=True, laptops=5)
    pending_request = HelpRequestFactory(organisation=pending_org, approved=True, laptops=7)
    HelpRequestFactory(organisation=rejected_org, approved=True, tablets=9, laptops=0)

    def delivered(donor, request, serial):
        device = DeviceFactory(
            donation=DonationFactory(donor=donor), serial_number=serial, state="delivered"
        )
        Allocation.objects.create(
            device=device,
            request=request,
            status="delivered",
            score=1,
            note="x",
            decided_at=device.created_at,
        )

    delivered(verified_donor, verified_request, "OK1")  # the only one that counts
    delivered(pending_donor, verified_request, "PENDINGDONOR")
    delivered(verified_donor, pending_request, "PENDINGORG")
    DeviceFactory(donation=DonationFactory(donor=pending_donor), serial_number="R1", state="ready")
    DeviceFactory(donation=DonationFactory(donor=verified_donor), serial_number="R2", state="ready")

    counters = public.compute()
    assert counters["donated"] == 3  # OK1, PENDINGORG (delivered to it, but donated) and R2
    assert counters["delivered"] == 1
    assert counters["organisations_helped"] == 1
    # verified_request holds 2 of its 5 laptops; the pending and rejected requests do not count
    assert counters["needed"] == [
        {"type": "laptop", "needed": 3, "ready": 1},
        {"type": "tablet", "needed": 0, "ready": 0},
        {"type": "either", "needed": 0, "ready": None},
    ]
    assert DashboardSnapshot.objects.count() == 0


def test_a_coordinator_has_the_numbers_computed_now(
    client, coordinator, programme, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    before = DashboardSnapshot.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("coordination:refresh"))
    assert response.status_code == 302
    assert DashboardSnapshot.objects.count() == before + 1


def test_only_coordinators_have_the_numbers_computed(client, helpdesk, programme):
    client.force_login(helpdesk)
    assert client.post(reverse("coordination:refresh")).status_code == 403
    assert client.get(reverse("coordination:refresh")).status_code == 403
