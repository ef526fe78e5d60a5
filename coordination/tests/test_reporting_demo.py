"""`seed_demo` with the dashboard's history: months of it, once, and a snapshot to show."""

from io import StringIO

import pytest
from django.core.management import call_command

from allemaal.models import Organisation
from config.management.commands import seed_demo
from coordination.models import DashboardSnapshot, DeviceFact
from coordination.selectors import donation_impact
from distribution.models import Allocation
from donations.models import Device, DeviceEvent

pytestmark = pytest.mark.django_db


def _counts():
    history = Device.objects.filter(serial_number__startswith="HIST-")
    return (
        history.count(),
        DeviceEvent.objects.filter(device__in=history).count(),
        Allocation.objects.filter(device__in=history).count(),
    )


def test_seed_demo_twice_gives_months_of_history_once(monkeypatch):
    monkeypatch.setattr(seed_demo, "DEMO_APPS", [*seed_demo.DEMO_APPS, "coordination"])
    out = StringIO()
    call_command("seed_demo", stdout=out)
    counts = _counts()
    call_command("seed_demo", stdout=out)
    assert _counts() == counts
    devices, events, allocations = counts
    assert devices > 500 and events > 3 * devices and allocations > 100
    assert "/coordinatie/" in out.getvalue()

    snapshot = DashboardSnapshot.latest()
    assert DeviceFact.objects.count() == Device.objects.count()
    view = snapshot.data["views"]["all"]
    # Every chart has something to show: history in most of the last twelve weeks, a backlog
    # at two refurbishers, lead times and open demand.
    weeks_with_deliveries = [w for w in view["throughput"] if w["delivered"]]
    assert len(weeks_with_deliveries) >= 8
    assert len([r for r in view["refurbishers"] if r["received"]]) >= 2
    assert all(step["devices"] for step in view["lead_times"])
    assert view["demand"]["devices"] > 0
    assert snapshot.data["public"]["delivered"] > 0
    history_donor = Organisation.objects.get(name="Historie Demo BV")
    impact = donation_impact(history_donor)
    assert impact.delivered > 0 and impact.people_reached >= impact.delivered * 9 // 10
