"""The requesting organisation's overview and request page: progress and queue position."""

import pytest
from django.urls import reverse
from django.utils import timezone

from helprequests import services
from helprequests.models import HelpRequest
from helprequests.tests.factories import HelpRequestFactory, RequesterFactory


@pytest.fixture
def carla(client, school_board):
    client.force_login(school_board)
    return school_board


@pytest.fixture
def other_request(db):
    return HelpRequestFactory(organisation=RequesterFactory(name="Bob Welzijn"))


def test_the_dashboard_shows_only_the_own_requests(client, carla, school_board_org, other_request):
    mine = HelpRequestFactory(organisation=school_board_org)
    page = client.get(reverse("coordination:requester_overview")).content.decode()
    assert mine.reference in page and other_request.reference not in page


def test_the_dashboard_shows_approved_quantities_progress_and_queue_position(
    client, carla, school_board_org
):
    HelpRequestFactory(approved=True, no_home_schooling=True)
    request = HelpRequestFactory(organisation=school_board_org, approved=True, laptops=8)
    HelpRequest.objects.filter(pk=request.pk).update(approved_laptops=5)
    page = client.get(reverse("coordination:requester_overview")).content.decode()
    assert "Goedgekeurd: 5 laptops, 0 tablets en 0 laptops of tablets." in page
    assert "toegewezen: 0, verzonden: 0, afgeleverd: 0" in page
    assert "Plaats in de wachtrij voor deze doelgroep: 2 van 2." in page
    assert "Wij weten nog niet wanneer u de apparaten krijgt." in page


def test_the_detail_page_shows_the_history_and_the_reason_of_a_rejection(
    client, carla, school_board_org, coordinator
):
    request = services.helprequest_submit(
        HelpRequestFactory(organisation=school_board_org), by=carla
    )
    services.helprequest_reject(request, by=coordinator, reason="Al geholpen via de gemeente")
    page = client.get(reverse("coordination:request_detail", args=[request.pk])).content.decode()
    assert "Al geholpen via de gemeente" in page
    assert "Ingediend" in page and "Afgewezen" in page
    assert "Annuleren" not in page and "Wijzigen" not in page


def test_the_dashboard_query_count_is_constant(
    client, carla, school_board_org, django_assert_num_queries
):
    def make(n):
        for i in range(n):
            status = [
                HelpRequest.Status.APPROVED,
                HelpRequest.Status.SUBMITTED,
                HelpRequest.Status.DRAFT,
            ][i % 3]
            HelpRequestFactory(
                organisation=school_board_org,
                status=status,
                submitted_at=None if status == HelpRequest.Status.DRAFT else timezone.now(),
                approved_at=timezone.now() if status == HelpRequest.Status.APPROVED else None,
                approved_laptops=10 if status == HelpRequest.Status.APPROVED else 0,
                target_group=["primary_pupils", "newcomers", "disability"][i % 3],
            )

    url = reverse("coordination:requester_overview")
    make(2)
    client.get(url)
    # session, user with membership and organisation, the requests (their open ones counted
    # from them), closed intake switches; progress: allocations by status (the approved
    # quantities are the loaded requests'); queue: active policy, the waiting requests, their
    # approved quantities and allocations, recent supply (ready events)
    with django_assert_num_queries(10):
        client.get(url)
    make(18)
    with django_assert_num_queries(10):
        client.get(url)


def test_the_dashboard_links_to_shipments_and_hand_out(client, carla):
    assert (
        reverse("distribution:shipments")
        in client.get(reverse("coordination:requester_overview")).content.decode()
    )


def test_the_request_page_says_kindly_why_the_latest_run_left_it_without_a_device(
    client, carla, school_board_org
):
    from distribution import services as distribution
    from distribution.models import AllocationRun

    request = HelpRequestFactory(organisation=school_board_org, approved=True, laptops=2)
    distribution.allocation_run(trigger=AllocationRun.Trigger.MANUAL)  # no device is ready
    page = client.get(reverse("coordination:request_detail", args=[request.pk])).content.decode()
    assert 'id="waiting-why"' in page
    assert "plaats 1 van de wachtrij voor laptops" in page
    assert "er zijn nu geen geschikte laptops vrij" in page
