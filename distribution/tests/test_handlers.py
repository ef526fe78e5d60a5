"""Distribution's answers to the events of the layers below: a withdrawn help request gives up
its allocations (a cancellation is refused once devices were shipped), and new demand or new
supply asks for an allocation run once the change commits."""

import pytest
from django.utils import timezone

from allemaal.services import DomainError
from distribution.models import Allocation
from helprequests import services as helprequests
from refurbish import services as refurbish
from refurbish.services import InspectionInput
from refurbish.tests.factories import ErasureRecordFactory, device_in

from .factories import ApprovedRequestFactory, ProposalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs_asked(monkeypatch):
    asked = []
    monkeypatch.setattr(
        "distribution.services.allocation_request_run_soon", lambda: asked.append(True)
    )
    return asked


def test_closing_a_partly_shipped_request_withdraws_its_open_proposals(coordinator):
    request = ApprovedRequestFactory(laptops=2)
    ProposalFactory(request=request, status="shipped", decided_at=timezone.now())
    open_proposal = ProposalFactory(request=request)
    helprequests.helprequest_close(request, by=coordinator, note="Rest komt niet meer")
    open_proposal.refresh_from_db()
    request.refresh_from_db()
    assert request.status == "closed"
    assert open_proposal.status == Allocation.Status.REJECTED
    assert open_proposal.decision_note == "Rest komt niet meer"


def test_a_fulfilled_request_with_shipped_devices_says_why_it_cannot_be_cancelled(school_board):
    request = ApprovedRequestFactory(
        organisation=school_board.membership.organisation, status="fulfilled"
    )
    ProposalFactory(request=request, status="delivered", decided_at=timezone.now())
    with pytest.raises(DomainError, match="al apparaten verzonden"):
        helprequests.helprequest_cancel(request, by=school_board)
    request.refresh_from_db()
    assert request.status == "fulfilled"


def test_a_refused_cancellation_leaves_the_open_proposals_alone(school_board):
    request = ApprovedRequestFactory(organisation=school_board.membership.organisation, laptops=2)
    ProposalFactory(request=request, status="shipped", decided_at=timezone.now())
    open_proposal = ProposalFactory(request=request)
    with pytest.raises(DomainError):
        helprequests.helprequest_cancel(request, by=school_board)
    open_proposal.refresh_from_db()
    assert open_proposal.status == Allocation.Status.PROPOSED


def test_a_device_made_ready_asks_for_a_run_once_it_commits(
    refurbisher, refurbisher_org, runs_asked, django_capture_on_commit_callbacks
):
    from refurbish.tests.factories import received_donation

    device = device_in(received_donation(refurbisher_org), "erased")
    ErasureRecordFactory(device=device)
    good = InspectionInput.all_working(grade="B", os_installed="ubuntu", charger_included=True)
    with django_capture_on_commit_callbacks(execute=True):
        refurbish.device_record_inspection(
            device.pk, good, by=refurbisher, organisation=refurbisher_org
        )
        assert runs_asked == []  # not before the commit
    device.refresh_from_db()
    assert device.state == "ready"
    assert runs_asked == [True]
