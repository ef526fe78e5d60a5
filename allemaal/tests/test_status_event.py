"""The history rows every record with a status keeps share one shape (StatusEvent)."""

import pytest

from distribution.tests.factories import ProposalFactory
from donations.models import DonationEvent
from donations.tests.factories import DonationFactory
from helprequests.models import HelpRequestEvent
from helprequests.tests.factories import HelpRequestFactory

pytestmark = pytest.mark.django_db


def test_a_history_row_names_its_record_and_its_new_status():
    donation = DonationFactory()
    event = DonationEvent.objects.create(
        donation=donation, from_status="pledged", to_status="scheduled"
    )
    assert (
        str(event)
        == f"{donation}: {donation.Status.PLEDGED.label} → {donation.Status.SCHEDULED.label}"
    )
    assert event.to_status_label == donation.Status.SCHEDULED.label

    request = HelpRequestFactory()
    event = HelpRequestEvent.objects.create(help_request=request, to_status="approved")
    assert event.to_status_label == "Goedgekeurd"
    assert [e.pk for e in request.events.all()][-1] == event.pk  # oldest first


def test_an_allocation_history_row_names_the_allocation_by_id():
    allocation = ProposalFactory()
    event = allocation.events.create(from_status="proposed", to_status="approved")
    assert str(event) == f"{allocation.pk}: Voorgesteld → Goedgekeurd"
