"""Internet assignments and help requests keep their allowed moves beside their model."""

import pytest

from allemaal.services import DomainError
from allemaal.transitions import transition
from helprequests.models import ConnectivityAssignment, HelpRequest

from .factories import ConnectivityAssignmentFactory, HelpRequestFactory

pytestmark = pytest.mark.django_db


def test_a_provided_internet_assignment_cannot_be_withdrawn_or_reopened(coordinator):
    assignment = ConnectivityAssignmentFactory(fulfilled=True)
    for state in (ConnectivityAssignment.Status.WITHDRAWN, ConnectivityAssignment.Status.ASSIGNED):
        with pytest.raises(DomainError, match=f"Opdracht {assignment.reference} kan niet van"):
            transition(assignment, state, by=coordinator)
    assert (
        ConnectivityAssignment.objects.get(pk=assignment.pk).status
        == ConnectivityAssignment.Status.FULFILLED
    )
    assert not assignment.events.exists()


def test_an_open_internet_assignment_is_withdrawn_through_the_table(coordinator):
    assignment = ConnectivityAssignmentFactory()
    assignment.withdrawal_reason = "Dubbel"
    assignment.withdrawn_at = assignment.assigned_at
    transition(
        assignment,
        ConnectivityAssignment.Status.WITHDRAWN,
        by=coordinator,
        note="Dubbel",
        update_fields=["withdrawal_reason", "withdrawn_at"],
    )
    event = assignment.events.get()
    assert (event.from_status, event.to_status, event.note) == (
        ConnectivityAssignment.Status.ASSIGNED,
        ConnectivityAssignment.Status.WITHDRAWN,
        "Dubbel",
    )


def test_the_help_request_table_refuses_leaving_a_terminal_state():
    from helprequests import services

    table = HelpRequest.transitions
    # While the services keep their own copy of the table, the two must agree.
    if copy := getattr(services, "TRANSITIONS", None):
        assert {s: {t for t in table.states if table.allows(s, t)} for s in table.states} == {
            str(s): {str(t) for t in tos} for s, tos in copy.items()
        }
    request = HelpRequestFactory(status=HelpRequest.Status.CANCELLED)
    with pytest.raises(DomainError, match="kan niet van 'Geannuleerd' naar 'Goedgekeurd'"):
        transition(request, HelpRequest.Status.APPROVED, by=None)
