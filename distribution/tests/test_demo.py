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
        ("prepared", False),
        ("shipped", False),
    ]
    assert handouts == 1 and contacts == 2 and returns == 1
    assert Shipment.objects.open_discrepancies().count() == 1
