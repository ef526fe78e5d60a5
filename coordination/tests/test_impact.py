"""The donor's impact report: the numbers of a hand-counted programme, and who may see it."""

import io
from unittest import mock

import pytest
from django.core.cache import cache
from django.urls import reverse
from pypdf import PdfReader

from coordination import selectors, views
from coordination.tests.test_reporting_fixture import build
from distribution.models import Allocation
from donations.tests.factories import DeviceFactory, DonationFactory
from tests.factories import member_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme():
    return build()


def test_the_impact_of_a_donor_matches_the_hand_count(programme):
    impact = selectors.donation_impact(programme.d1)
    # a1..a6 were received (a7 only announced); a1, a2, a3, a5 were made ready; a4 recycled
    # with its storage destroyed; a1 and a2 delivered to Q1 (secondary pupils, Gelderland).
    assert (impact.donated, impact.reused, impact.recycled, impact.storage_destroyed) == (
        6,
        4,
        1,
        1,
    )
    assert (impact.delivered, impact.organisations) == (2, 1)
    assert impact.target_groups == [("Leerlingen in het voortgezet onderwijs", 2)]
    # Text, not a lazy label: the pages keep the figures in the cache per language.
    assert type(impact.target_groups[0][0]) is str
    assert impact.provinces == [("Gelderland", 2, 1)]
    assert (impact.delivered_laptops, impact.avoided_kg) == (2, 400)


def test_the_other_donor_gets_its_own_numbers_only(programme):
    impact = selectors.donation_impact(programme.d2)
    # b1, b2, b3 and z1 received; b1 reused (z1 was ready, then recycled); b1 delivered.
    assert (impact.donated, impact.reused, impact.recycled, impact.storage_destroyed) == (
        4,
        1,
        1,
        0,
    )
    assert (impact.delivered, impact.organisations, impact.avoided_kg) == (1, 1, 200)
    assert impact.target_groups == [("Ouderen in een isolement", 1)]
    assert impact.provinces == [("Limburg", 1, 1)]


def test_tablets_add_no_emission_estimate(donor_org, school_board_org):
    from helprequests.tests.factories import HelpRequestFactory

    request = HelpRequestFactory(organisation=school_board_org, approved=True, tablets=1)
    device = DeviceFactory(donation=DonationFactory(donor=donor_org), kind="tablet")
    Allocation.objects.create(
        device=device,
        request=request,
        status="delivered",
        score=1,
        note="x",
        decided_at=device.created_at,
    )
    impact = selectors.donation_impact(donor_org)
    assert (impact.delivered, impact.avoided_kg) == (1, 0)


# --- Who may see it ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["coordination:impact", "coordination:impact_pdf"])
def test_anonymous_visitors_are_sent_to_log_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("name", ["coordination:impact", "coordination:impact_pdf"])
def test_other_kinds_of_organisation_are_refused(client, school_board, name):
    client.force_login(school_board)
    assert client.get(reverse(name)).status_code == 403


def test_a_donor_reads_its_own_impact_and_not_another(client, programme):
    client.force_login(member_of(programme.d1))
    response = client.get(reverse("coordination:impact"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Donateur Een BV" in page and "Donateur Twee BV" not in page
    assert response.context["impact"].delivered == 2
    assert "O&#x27;Connell" in page or "O'Connell" in page  # the factor's source is stated
    assert "Ouderen in een isolement" not in page  # the other donor's target group


def test_the_donors_overview_links_to_its_impact_report(client, programme):
    client.force_login(member_of(programme.d1))
    page = client.get(reverse("coordination:donor_overview")).content.decode()
    assert reverse("coordination:impact") in page
    assert "Binnenkort" not in page


def test_a_donor_cannot_open_the_coordinators_impact_page(client, programme):
    client.force_login(member_of(programme.d1))
    url = reverse("coordination:donor_impact", args=[programme.d2.pk])
    assert client.get(url).status_code == 403


def test_a_coordinator_reads_any_donors_impact(client, coordinator, programme):
    client.force_login(coordinator)
    response = client.get(reverse("coordination:donor_impact", args=[programme.d2.pk]))
    assert response.status_code == 200
    assert response.context["impact"].delivered == 1
    pdf = client.get(reverse("coordination:donor_impact", args=[programme.d2.pk]) + "?formaat=pdf")
    assert pdf["Content-Type"] == "application/pdf"


def test_the_pdf_states_the_numbers_and_the_source_without_personal_data(client, programme):
    client.force_login(member_of(programme.d1))
    response = client.get(reverse("coordination:impact_pdf"))
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Donateur Een BV" in text
    assert "400 kg CO2e" in text
    assert "Stutz" in text
    assert "Gelderland" in text
    # Contact persons of the donation and the request never appear.
    assert "Alice de Vries" not in text and "Carla Jansen" not in text


def test_the_impact_page_costs_the_same_queries_for_few_or_many_devices(
    client, programme, django_assert_num_queries, monkeypatch
):
    monkeypatch.setattr(views, "IMPACT_SECONDS", 0)  # counted at every view, as uncached
    user = member_of(programme.d1)
    client.force_login(user)
    client.get(reverse("coordination:impact"))

    def page():
        # session, user with membership and organisation, device counts, delivered totals, per
        # target group, per province, and people reached (this donor's delivered devices per
        # request, all donors' per request, the hand-out reports)
        return client.get(reverse("coordination:impact"))

    with django_assert_num_queries(9):
        page()
    _deliver_more(programme, 18)
    with django_assert_num_queries(9):
        response = page()
    assert response.context["impact"].delivered == 20


def _deliver_more(programme, n: int) -> None:
    """`n` more of donation A's devices delivered to Q1."""
    request = programme.requests["Q1"]
    # Room for them: on PostgreSQL a trigger keeps a request within its approved quantities.
    type(request).objects.filter(pk=request.pk).update(laptops=30, approved_laptops=30)
    for i in range(n):
        device = DeviceFactory(donation=programme.donations["A"], serial_number=f"LATER{i}")
        Allocation.objects.create(
            device=device,
            request=request,
            status="delivered",
            score=1,
            note="x",
            decided_at=device.created_at,
        )


def test_the_donors_pages_count_the_impact_once_a_minute(
    client, programme, django_assert_num_queries
):
    """Counted once per minute per donor for its pages (the eight aggregates were half of
    /donaties/), in the page's language; the PDF report always counts anew."""
    client.force_login(member_of(programme.d1))
    pages = [reverse("coordination:impact"), reverse("coordination:donor_overview")]
    with mock.patch.object(views.cache, "set", wraps=views.cache.set) as kept:
        assert client.get(pages[0]).context["impact"].delivered == 2
    kept_for = [c.args[2] for c in kept.call_args_list if c.args[0].startswith("coordination:")]
    assert kept_for == [60]
    _deliver_more(programme, 3)
    with django_assert_num_queries(2):  # the session and the user: no aggregate
        assert client.get(pages[0]).context["impact"].delivered == 2
    assert client.get(pages[1]).context["impact"].delivered == 2
    # The report a donor downloads is exact at its time stamp: counted anew.
    with mock.patch.object(
        views.selectors, "donation_impact", wraps=selectors.donation_impact
    ) as counted:
        assert client.get(reverse("coordination:impact_pdf")).status_code == 200
    assert counted.call_count == 1
    # After the minute (the key gone), counted anew.
    cache.clear()
    client.force_login(member_of(programme.d1))
    assert client.get(pages[0]).context["impact"].delivered == 5
    # In another language its own figures (the labels are translated when counted).
    with mock.patch.object(
        views.selectors, "donation_impact", wraps=selectors.donation_impact
    ) as counted:
        client.get(pages[0], headers={"accept-language": "en"})
        client.get(pages[0], headers={"accept-language": "en"})
    assert counted.call_count == 1
    # Another donor has its own figures.
    client.force_login(member_of(programme.d2))
    assert (
        client.get(pages[0]).context["impact"].delivered
        == selectors.donation_impact(programme.d2).delivered
    )
