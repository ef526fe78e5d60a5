"""A request with devices delivered says what is still to come and why, and offers only the
actions that fit: no cancelling once devices left the refurbisher, the rest may be declined."""

import pytest
from django.urls import reverse

from distribution import services
from distribution.models import Allocation, ShipmentItem
from distribution.tests.factories import (
    ApprovedRequestFactory,
    ProcessedDonationFactory,
    approved_allocations,
    shipped_shipment,
)
from helprequests.models import HelpRequest
from tests.factories import member_of

pytestmark = pytest.mark.django_db


def delivered_with_one_damaged(organisation, user, refurbisher_org, refurbisher, laptops=5):
    request = ApprovedRequestFactory(organisation=organisation, laptops=laptops)
    donation = ProcessedDonationFactory(refurbisher=refurbisher_org)
    shipment = shipped_shipment(approved_allocations(request, 5, donation=donation), by=refurbisher)
    items = list(shipment.items.order_by("pk"))
    outcomes = {item.pk: ShipmentItem.Outcome.RECEIVED for item in items}
    outcomes[items[0].pk] = ShipmentItem.Outcome.DAMAGED
    services.shipment_confirm_delivery(
        shipment.pk,
        by=user,
        organisation=organisation,
        outcomes=outcomes,
        notes={items[0].pk: "Scherm gebarsten"},
    )
    request.refresh_from_db()
    return request


def test_a_delivered_request_with_a_damaged_unit_says_why_it_is_still_open(
    client, school_board, school_board_org, refurbisher_org, refurbisher
):
    request = delivered_with_one_damaged(
        school_board_org, school_board, refurbisher_org, refurbisher
    )
    assert request.status == HelpRequest.Status.APPROVED
    client.force_login(school_board)
    page = client.get(reverse("coordination:request_detail", args=[request.pk])).content.decode()
    assert "4 van 5 apparaten zijn in orde afgeleverd." in page
    assert "1 apparaat is beschadigd gemeld; een coördinator regelt vervanging." in page
    assert reverse("helprequests:cancel", args=[request.pk]) not in page  # no "Annuleren"
    assert reverse("coordination:request_close_rest", args=[request.pk]) in page


def test_a_waiting_request_still_offers_cancel_and_not_close_rest(
    client, school_board, school_board_org
):
    request = ApprovedRequestFactory(organisation=school_board_org, laptops=5)
    client.force_login(school_board)
    page = client.get(reverse("coordination:request_detail", args=[request.pk])).content.decode()
    assert reverse("helprequests:cancel", args=[request.pk]) in page
    assert reverse("coordination:request_close_rest", args=[request.pk]) not in page


def test_declining_the_rest_closes_the_request_and_frees_unshipped_devices(
    client, school_board, school_board_org, refurbisher_org, refurbisher
):
    # Six approved: five delivered (one damaged), the sixth allocated but not shipped yet (on
    # PostgreSQL a trigger keeps allocations within what was approved).
    request = delivered_with_one_damaged(
        school_board_org, school_board, refurbisher_org, refurbisher, laptops=6
    )
    waiting = approved_allocations(request, 1)[0]
    client.force_login(school_board)
    url = reverse("coordination:request_close_rest", args=[request.pk])
    assert "houdt u de apparaten die u al kreeg" in client.get(url).content.decode()
    client.post(url)
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.CLOSED
    assert Allocation.objects.get(pk=waiting.pk).status == Allocation.Status.CANCELLED
    assert Allocation.objects.filter(request=request, status="delivered").count() == 5


def test_close_rest_is_404_for_another_organisation_and_asks_anonymous_to_log_in(
    client, school_board, school_board_org, refurbisher_org, refurbisher
):
    request = delivered_with_one_damaged(
        school_board_org, school_board, refurbisher_org, refurbisher
    )
    url = reverse("coordination:request_close_rest", args=[request.pk])
    assert client.post(url).status_code == 302
    other = ApprovedRequestFactory().organisation
    client.force_login(member_of(other))
    assert client.post(url).status_code == 404
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.APPROVED


def test_a_request_whose_only_shipped_unit_was_lost_has_started(
    client, school_board, school_board_org, refurbisher_org, refurbisher, coordinator
):
    """The unit left the refurbisher and was written off (its allocation replaced): cancelling
    no longer fits, and the replacement still counts as to come."""
    request = ApprovedRequestFactory(organisation=school_board_org, laptops=2)
    donation = ProcessedDonationFactory(refurbisher=refurbisher_org)
    shipment = shipped_shipment(approved_allocations(request, 1, donation=donation), by=refurbisher)
    (item,) = shipment.items.all()
    services.shipment_confirm_delivery(
        shipment.pk,
        by=school_board,
        organisation=school_board_org,
        outcomes={item.pk: ShipmentItem.Outcome.MISSING},
        notes={item.pk: "Niet in de doos"},
    )
    services.shipment_resolve_discrepancy(shipment.pk, by=coordinator, note="Kwijt bij vervoer")
    assert Allocation.objects.get(request=request).status == Allocation.Status.REPLACED
    client.force_login(school_board)
    page = client.get(reverse("coordination:request_detail", args=[request.pk])).content.decode()
    assert reverse("helprequests:cancel", args=[request.pk]) not in page
    assert reverse("coordination:request_close_rest", args=[request.pk]) in page
    assert "2 apparaten krijgt u nog toegewezen." in page
