"""The dashboard's numbers against a programme counted by hand (test_reporting_fixture)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from coordination import dashboard, demand, facts, snapshot
from coordination.dashboard import Filters, percentile
from coordination.models import DashboardSnapshot, DeviceFact
from donations.models import Device
from donations.tests.factories import DeviceFactory
from refurbish import selectors as refurbish_selectors

from .test_reporting_fixture import build, monday

pytestmark = pytest.mark.django_db

FUNNEL_ALL = {
    "pledged": 24,
    "announced": 10,
    "received": 10,
    "erased": 8,
    "ready": 6,
    "allocated": 4,
    "shipped": 3,
    "delivered": 3,
    "recycled": 2,
}
NOW = {
    "announced": 1,
    "received": 2,
    "erased": 1,
    "ready": 1,
    "allocated": 1,
    "shipped": 0,
    "delivered": 3,
    "recycled": 2,
}
FUNNEL_4W = {**FUNNEL_ALL, "pledged": 23, "announced": 9, "received": 9, "erased": 7}
FUNNEL_4W.update({"ready": 5, "recycled": 1})
LEAD_ALL = {
    "pledge_received": (10, 1.0, 2.5),
    "received_ready": (6, 3.5, 7.0),
    "ready_delivered": (3, 6.0, 8.4),
}
LEAD_4W = {
    "pledge_received": (9, 1.0, 3.0),
    "received_ready": (5, 4.0, 7.4),
    "ready_delivered": (3, 6.0, 8.4),
}
# Weeks before this one (M-7 is last week) -> counts of received, ready, delivered, recycled.
THROUGHPUT = {
    70: (1, 1, 0, 0),
    63: (0, 0, 0, 1),
    21: (6, 2, 0, 1),
    14: (2, 3, 1, 0),
    7: (1, 0, 2, 0),
}


@pytest.fixture
def programme():
    return build()


def compute(filters: Filters | None = None):
    return dashboard.compute(
        filters or Filters(), demand_cube=demand.cube(), refurbishers=snapshot.refurbisher_names()
    )


def funnel(data, column="reached"):
    return {row["stage"]: row[column] for row in data["funnel"]}


def lead_times(data):
    return {r["step"]: (r["devices"], r["median"], r["p90"]) for r in data["lead_times"]}


def test_facts_place_each_device_where_it_is_or_goes(programme):
    assert facts.rebuild_all() == 11
    by_serial = {
        Device.objects.get(pk=f.device_id).serial_number: f for f in DeviceFact.objects.all()
    }
    assert {s: (f.province, f.target_group) for s, f in by_serial.items()} == {
        "A1": ("Gelderland", "secondary_pupils"),
        "A2": ("Gelderland", "secondary_pupils"),
        "A3": ("Limburg", "isolated_elderly"),
        "A4": ("Utrecht", ""),
        "A5": ("Utrecht", ""),  # its proposal was rejected
        "A6": ("Utrecht", ""),
        "A7": ("Utrecht", ""),
        "B1": ("Limburg", "isolated_elderly"),
        "B2": ("Limburg", ""),
        "B3": ("Limburg", ""),
        "Z1": ("Utrecht", ""),
    }
    assert {s for s, f in by_serial.items() if f.waiting} == {"A6", "A7", "B2", "B3"}
    a1 = by_serial["A1"]
    assert (a1.lead_pledge_received, a1.lead_received_ready, a1.lead_ready_delivered) == (1, 2, 6)
    assert a1.received_on == monday() - timedelta(days=20)
    assert by_serial["B3"].announced_on is None


def test_the_funnel_matches_the_hand_count(programme):
    facts.rebuild_all()
    data = compute()
    assert funnel(data) == FUNNEL_ALL
    assert {k: v for k, v in funnel(data, "now").items() if k != "pledged"} == NOW
    assert funnel(compute(Filters(period="4w"))) == FUNNEL_4W


def test_lead_times_match_the_hand_count(programme):
    facts.rebuild_all()
    assert lead_times(compute()) == LEAD_ALL
    assert lead_times(compute(Filters(period="4w"))) == LEAD_4W


def test_weekly_throughput_matches_the_hand_count(programme):
    facts.rebuild_all()
    rows = compute()["throughput"]
    assert len(rows) == 12
    assert rows[-1]["week"] == monday().isoformat()
    expected = {
        (monday() - timedelta(days=days)).isoformat(): counts for days, counts in THROUGHPUT.items()
    }
    for row in rows:
        counts = (row["received"], row["ready"], row["delivered"], row["recycled"])
        assert counts == expected.get(row["week"], (0, 0, 0, 0)), row["week"]


def test_refurbisher_backlog_and_yield_match_the_hand_count(programme):
    facts.rebuild_all()
    weekday = timezone.localdate().weekday()
    rows = compute()["refurbishers"]
    assert [r["name"] for r in rows] == ["Opknap Limburg", "Opknap Utrecht"]
    limburg, utrecht = rows
    assert (limburg["waiting"], limburg["ages"], limburg["oldest_days"]) == (
        2,
        [0, 2, 0, 0],
        weekday + 8,
    )
    assert (limburg["received"], limburg["ready"], limburg["yield_pct"]) == (3, 1, 33)
    assert (utrecht["waiting"], utrecht["ages"], utrecht["oldest_days"]) == (
        2,
        [0, 0, 2, 0],
        weekday + 21,
    )
    assert (utrecht["received"], utrecht["ready"], utrecht["yield_pct"]) == (7, 5, 71)


def test_refurbisher_numbers_agree_with_the_refurbishers_own_workspace(programme):
    facts.rebuild_all()
    rows = {r["refurbisher_id"]: r for r in compute()["refurbishers"]}
    for org in (programme.r1, programme.r2):
        own = refurbish_selectors.refurbisher_yield(org)
        assert (rows[org.pk]["received"], rows[org.pk]["ready"]) == (own.received, own.ready)
        waiting = sum(b.count for b in refurbish_selectors.backlog(org))
        assert rows[org.pk]["waiting"] == waiting


def test_demand_and_supply_match_the_hand_count(programme):
    facts.rebuild_all()
    data = compute()
    # Q3's organisation is not verified; Q4 is not approved.
    assert data["demand"]["totals"] == {"requests": 2, "laptops": 1, "tablets": 1, "either": 1}
    assert [(r["target_group"], r["devices"]) for r in data["demand"]["by_group"]] == [
        ("secondary_pupils", 1),
        ("isolated_elderly", 2),
    ]
    assert [(r["province"], r["devices"]) for r in data["demand"]["by_province"]] == [
        ("Gelderland", 1),
        ("Limburg", 2),
    ]
    assert data["supply_demand"] == [
        {"type": "laptop", "supply": 0, "demand": 1},
        {"type": "tablet", "supply": 1, "demand": 1},
        {"type": "either", "supply": None, "demand": 1},
    ]


def test_a_province_filter_counts_devices_going_or_standing_there(programme):
    facts.rebuild_all()
    data = compute(Filters(province="Limburg"))
    assert funnel(data) == {
        "pledged": 5,
        "announced": 3,
        "received": 4,
        "erased": 3,
        "ready": 2,
        "allocated": 2,
        "shipped": 1,
        "delivered": 1,
        "recycled": 0,
    }
    assert data["demand"]["totals"] == {"requests": 1, "laptops": 0, "tablets": 1, "either": 1}
    assert [(r["name"], r["waiting"], r["received"]) for r in data["refurbishers"]] == [
        ("Opknap Limburg", 2, 3),
        ("Opknap Utrecht", 0, 1),
    ]


def test_a_target_group_filter_counts_only_devices_allocated_to_it(programme):
    facts.rebuild_all()
    data = compute(Filters(target_group="isolated_elderly"))
    assert funnel(data) == {
        "pledged": None,
        "announced": 2,
        "received": 2,
        "erased": 2,
        "ready": 2,
        "allocated": 2,
        "shipped": 1,
        "delivered": 1,
        "recycled": 0,
    }
    assert data["demand"]["totals"]["requests"] == 1


def test_a_refurbisher_filter_counts_its_donations(programme):
    facts.rebuild_all()
    data = compute(Filters(refurbisher_id=programme.r2.pk))
    assert funnel(data)["pledged"] == 5
    assert funnel(data)["received"] == 3
    assert [r["name"] for r in data["refurbishers"]] == ["Opknap Limburg"]


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        ([7], 7.0, 7.0),
        ([1, 2], 1.5, 1.9),
        ([2, 3, 3, 4, 5, 9], 3.5, 7.0),
        ([4, 6, 9], 6.0, 8.4),
    ],
)
def test_percentiles_interpolate_between_the_nearest_values(values, median, p90):
    histogram = {}
    for value in values:
        histogram[value] = histogram.get(value, 0) + 1
    assert percentile(histogram, 0.5) == pytest.approx(median)
    assert percentile(histogram, 0.9) == pytest.approx(p90)
    assert percentile({}, 0.5) is None


def test_the_job_stores_every_period_and_the_demand(programme):
    stored = snapshot.refresh()
    assert stored.full_rebuild and stored.facts_refreshed == 11
    assert set(stored.data["views"]) == set(dashboard.PERIODS)
    assert funnel(stored.data["views"]["all"]) == FUNNEL_ALL
    assert funnel(stored.data["views"]["4w"]) == FUNNEL_4W
    assert stored.data["public"]["delivered"] == 3


def test_the_next_run_refreshes_only_changed_donations(programme):
    first = snapshot.refresh()
    DashboardSnapshot.objects.filter(pk=first.pk).update(
        started_at=timezone.now() - timedelta(hours=2)
    )
    from donations.services import device_transition

    a6 = Device.objects.get(serial_number="A6")
    device_transition(a6, Device.State.ERASED, by=None, organisation=programme.r1)
    second = snapshot.refresh()
    assert not second.full_rebuild
    assert second.facts_refreshed == 7  # the devices of donation A
    assert DeviceFact.objects.get(device_id=a6.pk).state == "erased"
    assert funnel(second.data["views"]["all"])["erased"] == 9


def test_a_cancelled_donation_loses_its_facts(programme):
    snapshot.refresh()
    from donations.services import donation_cancel

    donation = programme.donations["C"]
    DeviceFactory(donation=donation, serial_number="C1")
    facts.refresh_donations([donation.pk])
    assert DeviceFact.objects.filter(donation_id=donation.pk).count() == 1
    donation_cancel(donation.pk, by=None, donor=programme.d1, reason="Toch niet")
    facts.refresh_donations(facts.changed_donations(timezone.now() - timedelta(minutes=5)))
    assert not DeviceFact.objects.filter(donation_id=donation.pk).exists()


def test_two_runs_never_overlap(programme):
    from django.core.cache import cache

    cache.add(snapshot.LOCK_KEY, "1")
    assert snapshot.refresh() is None
    assert not DashboardSnapshot.objects.exists()
