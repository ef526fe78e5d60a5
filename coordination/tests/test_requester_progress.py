"""The organisation's numbers come from the allocation app: the same numbers the job uses."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from coordination import selectors
from distribution import selectors as allocation_selectors
from distribution.models import Allocation
from distribution.tests.factories import ApprovedRequestFactory, ProposalFactory
from donations.models import DeviceEvent
from donations.tests.factories import DeviceFactory, DonationFactory
from helprequests.tests.factories import HelpRequestFactory

pytestmark = pytest.mark.django_db


def ready_devices(n, kind="laptop", days_ago=3):
    donation = DonationFactory()
    at = timezone.now() - datetime.timedelta(days=days_ago)
    for _ in range(n):
        device = DeviceFactory(donation=donation, kind=kind, state="ready")
        DeviceEvent.objects.create(device=device, from_state="erased", to_state="ready", at=at)


def test_progress_counts_the_requests_allocations_by_stage():
    request = ApprovedRequestFactory(laptops=5)
    now = timezone.now()
    for status in ["approved", "approved", "shipped", "delivered"]:
        ProposalFactory(request=request, status=status, decided_at=now)
    ProposalFactory(request=request, status="proposed")
    ProposalFactory(request=request, status="rejected", decided_at=now, decision_note="te oud")
    progress = selectors.request_progress([request])[request.pk]
    # allocated = approved + shipped + delivered; shipped includes delivered; remaining = 5 - 4
    assert (progress.allocated, progress.shipped, progress.delivered, progress.remaining) == (
        4,
        2,
        1,
        1,
    )


def test_the_queue_is_the_allocation_jobs_order_within_the_target_group():
    now = timezone.now()
    waiting_long = ApprovedRequestFactory(approved_at=now - datetime.timedelta(days=60))
    urgent = ApprovedRequestFactory(urgency="high", approved_at=now - datetime.timedelta(days=1))
    other_group = ApprovedRequestFactory(target_group="isolated_elderly")
    submitted = HelpRequestFactory(submitted=True)
    requests = [waiting_long, urgent, other_group, submitted]
    info = selectors.queue_info(requests)
    expected = allocation_selectors.queue_positions([r.pk for r in requests])
    assert {pk: place.position for pk, place in info.items()} == {
        pk: place.position for pk, place in expected.items()
    }
    assert info[other_group.pk].position == 1
    assert submitted.pk not in info
    assert selectors.queue_position(submitted) is None
    assert selectors.expected_window(submitted) is None


def test_a_fully_allocated_request_leaves_the_queue():
    request = ApprovedRequestFactory(laptops=1)
    ProposalFactory(request=request, status=Allocation.Status.APPROVED, decided_at=timezone.now())
    assert selectors.queue_position(request) is None


def test_the_window_comes_from_recent_supply_or_says_it_cannot_be_estimated():
    request = ApprovedRequestFactory(laptops=6)
    assert not selectors.expected_window(request).estimable
    ready_devices(8, "laptop")
    window = selectors.expected_window(request)
    assert window.estimable and window.devices_ahead == 6 and window.ready_last_weeks == 8


def test_the_dashboard_shows_the_allocation_numbers(client, school_board, school_board_org):
    request = ApprovedRequestFactory(organisation=school_board_org, laptops=3)
    ProposalFactory(request=request, status=Allocation.Status.APPROVED, decided_at=timezone.now())
    client.force_login(school_board)
    page = client.get(reverse("coordination:requester_overview")).content.decode()
    assert "Tot nu toe toegewezen: 1, verzonden: 0, afgeleverd: 0" in page
    assert "Plaats in de wachtrij voor deze doelgroep: 1 van 1" in page
