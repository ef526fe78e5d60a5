"""Allocations move only along their table (Allocation.transitions), also in bulk."""

import pytest

from allemaal.services import DomainError
from allemaal.transitions import transition
from distribution import services
from distribution.models import Allocation
from distribution.services.shipping import _move_allocations

from .factories import ProposalFactory

pytestmark = pytest.mark.django_db


def test_a_rejected_proposal_is_never_approved(coordinator):
    proposal = ProposalFactory()
    services.allocations_reject([proposal.pk], by=coordinator, reason="Verkeerde regio")
    proposal.refresh_from_db()
    with pytest.raises(DomainError, match=f"Toewijzing {proposal.pk} kan niet van 'Afgewezen'"):
        transition(proposal, Allocation.Status.APPROVED, by=coordinator)
    assert Allocation.objects.get(pk=proposal.pk).status == Allocation.Status.REJECTED


def test_an_approved_allocation_cannot_skip_shipping(allocations, coordinator):
    with pytest.raises(DomainError, match="'Goedgekeurd' naar 'Afgeleverd'"):
        _move_allocations(
            allocations, Allocation.Status.DELIVERED, by=coordinator, now=None, note=""
        )
    assert set(Allocation.objects.values_list("status", flat=True)) == {Allocation.Status.APPROVED}
    assert not Allocation.objects.filter(events__isnull=False).exists()


def test_rejecting_writes_one_history_row_per_allocation(coordinator):
    proposals = ProposalFactory.create_batch(3)
    services.allocations_reject([p.pk for p in proposals], by=coordinator, reason="Te ver weg")
    for proposal in proposals:
        event = proposal.events.get()
        assert (event.from_status, event.to_status, event.by, event.note) == (
            Allocation.Status.PROPOSED,
            Allocation.Status.REJECTED,
            coordinator,
            "Te ver weg",
        )
