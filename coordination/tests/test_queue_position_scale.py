"""An organisation's queue positions come from the latest run's stored rows: the same figures
as reading the whole queue, in a number of queries that does not grow with the nation."""

import datetime
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from distribution import selectors, services
from distribution.models import Allocation, AllocationRun
from distribution.tests.factories import ApprovedRequestFactory, ready_devices
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

GROUPS = ["primary_pupils", "secondary_pupils", "isolated_elderly", "other"]


def _run():
    return services.allocation_run(trigger=AllocationRun.Trigger.MANUAL)


def _requests(count, rnd, **kwargs):
    now = timezone.now()
    return [
        ApprovedRequestFactory(
            target_group=rnd.choice(GROUPS),
            urgency=rnd.choice(["high", "normal", "low"]),
            approved_at=now - datetime.timedelta(days=rnd.randint(0, 90)),
            laptops=rnd.randint(0, 3),
            tablets=rnd.randint(0, 2),
            either=rnd.randint(1, 2),
            **kwargs,
        )
        for _ in range(count)
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_stored_places_equal_the_places_read_from_the_whole_queue(seed):
    rnd = random.Random(seed)
    requests = _requests(25, rnd)
    ready_devices(12, kind="laptop")
    ready_devices(4, kind="tablet")
    _run()
    ids = [r.pk for r in requests]
    stored = selectors.queue_positions(ids)
    live = selectors.queue_positions_live(ids)
    assert stored == live
    assert stored  # the run left requests waiting


def test_a_request_approved_after_the_run_waits_at_the_back_of_its_group():
    first = ApprovedRequestFactory(target_group="other", laptops=2)
    _run()
    later = ApprovedRequestFactory(target_group="other", laptops=1)
    places = selectors.queue_positions([first.pk, later.pk])
    assert (places[first.pk].position, places[first.pk].queue_length) == (1, 1)
    assert (places[later.pk].position, places[later.pk].queue_length) == (2, 2)
    assert places[later.pk].position_overall == 2
    assert places[later.pk].window.devices_ahead == 3


def _list_queries(client, school_board_org, others: int) -> int:
    rnd = random.Random(others)
    for _ in range(others):
        _requests(1, rnd, organisation=OrganisationFactory(kind="requester"))
    _run()
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("coordination:requester_overview"))
    assert page.status_code == 200
    assert "Plaats in de wachtrij voor deze doelgroep" in page.content.decode()
    return len(queries)


def test_the_request_list_reads_as_many_queries_with_2_or_200_other_organisations(
    client, school_board, school_board_org
):
    ApprovedRequestFactory(organisation=school_board_org, target_group="other", laptops=3)
    ApprovedRequestFactory(organisation=school_board_org, target_group="primary_pupils", tablets=2)
    client.force_login(school_board)
    few = _list_queries(client, school_board_org, 2)
    many = _list_queries(client, school_board_org, 198)
    assert few == many


def test_decisions_after_the_run_move_a_requests_own_figures_until_the_next_run(coordinator):
    """Between runs the places and the devices ahead are the run's; what a request itself still
    waits for follows the decisions on its own proposals."""
    rnd = random.Random(7)
    requests = _requests(10, rnd)
    ready_devices(10, kind="laptop")
    _run()
    proposals = list(Allocation.objects.proposed().order_by("id"))
    rejected, approved = proposals[0], proposals[1]
    services.allocations_reject([rejected.pk], by=coordinator, reason="te oud")
    services.allocations_approve([approved.pk], by=coordinator, notify=False)
    ids = [r.pk for r in requests]
    stored, live = selectors.queue_positions(ids), selectors.queue_positions_live(ids)
    assert {pk: place.position for pk, place in stored.items()} == {
        pk: place.position for pk, place in live.items()
    }
    first = min(stored, key=lambda pk: stored[pk].position_overall)
    assert stored[first] == live[first]  # nothing ahead of the first that could have changed
    _run()
    assert selectors.queue_positions(ids) == selectors.queue_positions_live(ids)


def test_the_stored_places_read_the_supply_the_run_counted_not_the_countrys_events():
    rnd = random.Random(5)
    requests = _requests(6, rnd)
    ready_devices(12, kind="laptop")
    _run()
    ids = [r.pk for r in requests]
    with CaptureQueriesContext(connection) as queries:
        stored = selectors.queue_positions(ids)
    assert not [q for q in queries if "donations_deviceevent" in q["sql"]]
    assert stored == selectors.queue_positions_live(ids)
