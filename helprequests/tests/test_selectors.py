"""Queue position, expected fulfilment window and progress shown to the organisation."""

import datetime

import pytest
from django.utils import timezone

from donations.models import DeviceEvent
from donations.tests.factories import DeviceFactory, DonationFactory
from helprequests import selectors
from helprequests.models import HelpRequest

from .factories import HelpRequestFactory

pytestmark = pytest.mark.django_db


def approved(**kwargs):
    return HelpRequestFactory(approved=True, **kwargs)


def ready_devices(n, kind="laptop", days_ago=3):
    donation = DonationFactory()
    at = timezone.now() - datetime.timedelta(days=days_ago)
    for _ in range(n):
        device = DeviceFactory(donation=donation, kind=kind, state="ready")
        DeviceEvent.objects.create(device=device, from_state="erased", to_state="ready", at=at)


def test_the_queue_puts_pupils_without_home_schooling_first_then_urgency_need_by_and_approval():
    now = timezone.now()
    today = timezone.localdate()
    late_low = approved(urgency="low", approved_at=now - datetime.timedelta(days=9))
    early_normal_later_date = approved(need_by=today + datetime.timedelta(days=40))
    early_normal = approved(
        need_by=today + datetime.timedelta(days=10), approved_at=now - datetime.timedelta(days=1)
    )
    same_but_older = approved(
        need_by=today + datetime.timedelta(days=10), approved_at=now - datetime.timedelta(days=2)
    )
    high = approved(urgency="high")
    no_school = approved(urgency="low", no_home_schooling=True)
    order = [no_school, high, same_but_older, early_normal, early_normal_later_date, late_low]
    info = selectors.queue_info(order)
    assert [info[r.pk].position for r in order] == [1, 2, 3, 4, 5, 6]
    assert {i.queue_length for i in info.values()} == {6}
    assert selectors.queue_position(high) == 2


def test_the_queue_is_per_target_group_and_holds_only_approved_requests():
    approved(target_group="isolated_elderly", urgency="high")
    mine = approved()
    submitted = HelpRequestFactory(submitted=True)
    fulfilled = approved(status=HelpRequest.Status.FULFILLED)
    assert selectors.queue_position(mine) == 1
    assert selectors.queue_position(submitted) is None
    assert selectors.queue_position(fulfilled) is None
    assert selectors.expected_window(submitted) is None


def test_the_window_divides_the_devices_ahead_by_the_weekly_supply():
    ready_devices(6, "laptop")
    ready_devices(2, "chromebook")  # a laptop need is also met by a Chromebook
    ready_devices(20, "tablet")  # does not fill laptops
    first = approved(laptops=4, urgency="high")
    mine = approved(laptops=6)
    window = selectors.expected_window(mine)
    # 10 laptops ahead (4 + its own 6), 8 ready in 4 weeks = 2 a week: 5 weeks.
    assert (window.devices_ahead, window.ready_last_weeks, window.weekly_supply) == (10, 8, 2)
    assert (window.weeks_low, window.weeks_high) == (5, 6)
    today = timezone.localdate()
    assert window.start == today + datetime.timedelta(weeks=5)
    assert window.end == today + datetime.timedelta(weeks=6)
    assert selectors.expected_window(first).weeks_low == 2


def test_the_window_counts_either_against_both_device_kinds():
    ready_devices(4, "tablet")
    ready_devices(4, "laptop")
    approved(laptops=3, urgency="high")
    approved(tablets=5, laptops=0, urgency="high")
    mine = approved(laptops=0, either=2)
    window = selectors.expected_window(mine)
    assert (window.devices_ahead, window.ready_last_weeks) == (10, 8)


@pytest.mark.parametrize(
    ("n", "days_ago"),
    [(0, 1), (3, 1), (10, 30)],  # no supply, too little, only older than 4 weeks
)
def test_the_window_cannot_be_estimated_without_enough_recent_supply(n, days_ago):
    ready_devices(n, "laptop", days_ago=days_ago)
    window = selectors.expected_window(approved())
    assert not window.estimable and window.start is None


def test_nothing_is_allocated_shipped_or_delivered_before_allocation_exists():
    request = approved()
    progress = selectors.request_progress([request])[request.pk]
    assert (progress.allocated, progress.shipped, progress.delivered) == (0, 0, 0)


def test_queue_info_costs_two_queries_whatever_the_number_of_requests(
    django_assert_num_queries,
):
    requests = [approved(target_group=g) for g in ["primary_pupils", "newcomers"] * 5]
    # approved requests of the target groups, recent supply
    with django_assert_num_queries(2):
        selectors.queue_info(requests)
