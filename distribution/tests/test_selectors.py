"""The numbers a requesting organisation sees: allocated / remaining, queue place, window."""

import datetime

import pytest
from django.utils import timezone

from distribution import selectors, services
from distribution.models import Allocation
from donations.models import DeviceEvent

from .factories import ApprovedRequestFactory, ProposalFactory, ready_devices

pytestmark = pytest.mark.django_db


def _set(allocation_ids, status):
    Allocation.objects.filter(pk__in=allocation_ids).update(status=status)


def test_allocation_counts_per_request_in_two_queries(coordinator, django_assert_num_queries):
    request = ApprovedRequestFactory(laptops=5, tablets=2, either=1)
    other = ApprovedRequestFactory(laptops=1)
    run = ProposalFactory().run
    laptops = [ProposalFactory(request=request, run=run) for _ in range(6)]
    tablet = ProposalFactory(request=request, run=run, device__kind="tablet")
    services.allocations_approve([p.pk for p in laptops[:5]] + [tablet.pk], by=coordinator)
    _set([laptops[1].pk, laptops[2].pk], "shipped")
    _set([laptops[3].pk], "delivered")
    # queries: the approved quantities; the allocations grouped by request, status and type
    with django_assert_num_queries(2):
        counts = selectors.allocation_counts([request.pk, other.pk])
    mine = counts[request.pk]
    assert (mine.approved, mine.allocated, mine.shipped, mine.delivered, mine.proposed) == (
        8,
        6,
        3,
        1,
        1,
    )
    assert (mine.remaining, mine.open_laptops, mine.open_tablets, mine.open_either) == (2, 0, 1, 1)
    assert counts[other.pk] == selectors.AllocationCounts(approved=1, remaining=1, open_laptops=1)


def test_rejected_and_cancelled_allocations_do_not_count(coordinator):
    proposal = ProposalFactory()
    services.allocations_reject([proposal.pk], by=coordinator, reason="nee")
    counts = selectors.allocation_counts([proposal.request_id])[proposal.request_id]
    assert (counts.allocated, counts.proposed, counts.remaining) == (0, 0, 10)


def _ready_events(kind, count, days_ago=3):
    for device in ready_devices(count, kind=kind):
        DeviceEvent.objects.create(
            device=device,
            from_state="erased",
            to_state="ready",
            at=timezone.now() - datetime.timedelta(days=days_ago),
        )


def test_queue_positions_follow_the_allocation_priority_within_the_target_group(
    django_assert_num_queries,
):
    old = timezone.now() - datetime.timedelta(days=40)
    urgent = ApprovedRequestFactory(laptops=4, urgency="high")
    waiting_long = ApprovedRequestFactory(laptops=4, approved_at=old)
    newest = ApprovedRequestFactory(laptops=4, urgency="low")
    no_home = ApprovedRequestFactory(laptops=2, no_home_schooling=True, urgency="high")
    elderly = ApprovedRequestFactory(laptops=0, tablets=3, target_group="isolated_elderly")
    _ready_events("laptop", 8)
    # queries: the policy, the queue, its approved quantities, its allocations, recent supply
    with django_assert_num_queries(5):
        places = selectors.queue_positions(
            [urgent.pk, waiting_long.pk, newest.pk, no_home.pk, elderly.pk]
        )
    # group + urgency + waiting (+ 9 for the need-by date): no home schooling 100+20+10,
    # long wait 70+0+40, urgent 70+20+10, newest 70-10+10
    order = [no_home.pk, waiting_long.pk, urgent.pk, newest.pk]
    assert [places[pk].position for pk in order] == [1, 2, 3, 4]
    assert {places[pk].queue_length for pk in order} == {4}
    assert (places[elderly.pk].position, places[elderly.pk].queue_length) == (1, 1)
    # 8 laptops ready in 4 weeks: 2 a week; ahead of and with "urgent": 2 + 4 + 4 = 10 -> 5 weeks
    window = places[urgent.pk].window
    assert (window.devices_ahead, window.weeks_low) == (10, 5)
    assert window.start > timezone.localdate()
    assert not places[elderly.pk].window.estimable  # no tablets became ready lately


def test_a_fully_allocated_request_is_out_of_the_queue_and_proposals_shorten_the_wait(
    coordinator,
):
    full = ApprovedRequestFactory(laptops=1)
    services.allocation_allocate_by_hand(
        device_id=ready_devices(1)[0].pk, request_id=full.pk, by=coordinator, reason="x"
    )
    proposed = ApprovedRequestFactory(laptops=2)
    run = ProposalFactory(request=proposed).run
    ProposalFactory(request=proposed, run=run)
    places = selectors.queue_positions([full.pk, proposed.pk])
    assert full.pk not in places
    window = places[proposed.pk].window
    assert window.estimable and window.devices_ahead == 0 and window.weeks_low == 0


def test_the_queue_uses_the_active_policy(coordinator):
    elderly = ApprovedRequestFactory(laptops=1, target_group="isolated_elderly")
    pupils = ApprovedRequestFactory(laptops=1, target_group="primary_pupils")
    places = selectors.queue_positions([elderly.pk, pupils.pk])
    assert places[pupils.pk].position_overall < places[elderly.pk].position_overall
    policy = services.policy_current().policy
    policy.group_weights["isolated_elderly"] = 200
    services.policy_save_version(policy, by=coordinator)
    places = selectors.queue_positions([elderly.pk, pupils.pk])
    # Points order requests within a tier only: the pupils' tier still comes first.
    assert places[pupils.pk].position_overall < places[elderly.pk].position_overall
    policy.tiers = [["pupils_no_home_schooling", "isolated_elderly"], ["pupils"], policy.tiers[2]]
    policy.tiers[2] = [k for k in policy.tiers[2] if k != "isolated_elderly"]
    services.policy_save_version(policy, by=coordinator)
    places = selectors.queue_positions([elderly.pk, pupils.pk])
    assert places[elderly.pk].position_overall < places[pupils.pk].position_overall
