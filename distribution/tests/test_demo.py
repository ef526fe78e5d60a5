from io import StringIO

import pytest
from django.core.management import call_command

from coordination.demo import MARKER as HISTORY_DONOR
from distribution.models import Allocation, AllocationRun, PriorityPolicy
from donations.models import Device

pytestmark = pytest.mark.django_db


def _counts():
    return (
        PriorityPolicy.objects.count(),
        AllocationRun.objects.count(),
        Allocation.objects.count(),
        Allocation.objects.proposed().count(),
        Allocation.objects.committed().count(),
        Device.objects.filter(donation__brands__startswith="Demo toewijzing").count(),
    )


def test_seed_demo_twice_shows_a_policy_a_run_awaiting_approval_and_approved_allocations():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    counts = _counts()
    call_command("seed_demo", stdout=out)
    assert _counts() == counts
    policies, runs, _all, proposed, approved, devices = counts
    assert policies == 1 and runs >= 1 and devices == 60
    assert proposed > 0 and approved > 0
    run = AllocationRun.objects.filter(status="completed").get()
    assert Allocation.objects.proposed().filter(run=run).count() == proposed
    assert set(
        Device.objects.filter(allocations__status="approved").values_list("state", flat=True)
    ) == {"allocated"}
    assert "proposals awaiting approval" in out.getvalue()


def test_seed_demo_shows_shipments_in_every_state_a_hand_out_contacts_and_a_return():
    from distribution.models import DeviceReturn, HandoutReport, Shipment, SupportContact

    def counts():
        return (
            sorted(Shipment.objects.values_list("status", "has_discrepancy")),
            # this app's demo only: the reporting demo's months of history have their own
            HandoutReport.objects.exclude(
                request__allocations__device__donation__donor__name=HISTORY_DONOR
            ).count(),
            SupportContact.objects.count(),
            DeviceReturn.objects.count(),
        )

    call_command("seed_demo", stdout=StringIO())
    first = counts()
    call_command("seed_demo", stdout=StringIO())
    assert counts() == first
    shipments, handouts, contacts, returns = first
    assert shipments == [
        ("cancelled", False),
        ("delivered", False),
        ("delivered", True),
        ("delivered", True),
        ("prepared", False),
        ("shipped", False),
    ]
    assert handouts == 1 and contacts == 2 and returns == 1
    assert Shipment.objects.open_discrepancies().count() == 1


# The demos that take their data through the services; the dashboard's months of history (its
# own demo) write their past directly and are left out here.
SERVICE_DEMOS = ["donations", "helprequests", "refurbish", "distribution"]


def _not_at_last_step(model, status_field, events, to_field="to_status"):
    """Rows whose status is not the `to` of their latest history row (or that have none)."""
    from django.db.models import OuterRef, Subquery

    fk = model.events.field.name
    last = events.objects.filter(**{fk: OuterRef("pk")}).order_by("-at", "-id").values(to_field)
    rows = model.objects.annotate(last=Subquery(last[:1])).values_list("pk", status_field, "last")
    return [row for row in rows if row[1] != row[2]]


def test_seed_demo_reaches_every_state_through_the_services(monkeypatch):
    """Nothing in the demo was written around the services: every status is the last step of
    its history, and every device that left the pool has the allocation that took it there."""
    from config.management.commands import seed_demo
    from distribution.models import AllocationEvent, Shipment, ShipmentEvent
    from donations.models import DeviceEvent, Donation, DonationEvent
    from helprequests.models import (
        ConnectivityAssignment,
        ConnectivityEvent,
        HelpRequest,
        HelpRequestEvent,
    )

    apps = [app for app in seed_demo.DEMO_APPS if app in SERVICE_DEMOS]
    assert apps == SERVICE_DEMOS
    monkeypatch.setattr(seed_demo, "DEMO_APPS", apps)
    call_command("seed_demo", stdout=StringIO())

    assert _not_at_last_step(Device, "state", DeviceEvent, "to_state") == []
    assert _not_at_last_step(Donation, "status", DonationEvent) == []
    assert _not_at_last_step(HelpRequest, "status", HelpRequestEvent) == []
    assert _not_at_last_step(ConnectivityAssignment, "status", ConnectivityEvent) == []
    assert _not_at_last_step(Shipment, "status", ShipmentEvent) == []
    decided = _not_at_last_step(Allocation, "status", AllocationEvent)
    assert [row for row in decided if row[1] != Allocation.Status.PROPOSED] == []
    # Every state of each kind of record is there to see.
    assert set(Device.objects.values_list("state", flat=True)) == set(Device.State)
    assert set(Donation.objects.values_list("status", flat=True)) == set(Donation.Status)
    assert set(HelpRequest.objects.values_list("status", flat=True)) == set(HelpRequest.Status)
    assert set(Shipment.objects.values_list("status", flat=True)) == set(Shipment.Status)

    holding = {"allocated": "approved", "shipped": "shipped", "delivered": "delivered"}
    for state, status in holding.items():
        devices = Device.objects.filter(state=state)
        assert devices.exists()
        assert not devices.exclude(allocations__status=status).exists(), state
    # A device held for a request (approved or shipped) is in the matching state.
    for status, state in [("approved", "allocated"), ("shipped", "shipped")]:
        held = Device.objects.filter(allocations__status=status)
        assert set(held.values_list("state", flat=True)) == {state}
