from io import StringIO

import pytest
from django.core.management import call_command

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
