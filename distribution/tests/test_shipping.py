"""Shipments from the refurbisher's side: start, scan on, take off, cancel, ship."""

import pytest

from allemaal.models import Notification
from allemaal.services import DomainError
from distribution import services
from distribution.models import Allocation, AllocationEvent, Shipment, ShipmentEvent, ShipmentItem
from donations.models import Device, DeviceEvent
from refurbish.asset_tags import format_asset_tag, generate_asset_tag

from .factories import (
    ApprovedRequestFactory,
    ProcessedDonationFactory,
    ProposalFactory,
    ReadyDeviceFactory,
    approved_allocations,
    packed_shipment,
    shipped_shipment,
)

pytestmark = pytest.mark.django_db


def _start(allocations, refurbisher):
    return services.shipment_create(
        refurbisher=allocations[0].device.donation.refurbisher,
        request_id=allocations[0].request_id,
        by=refurbisher,
    )


# --- Start ----------------------------------------------------------------------------------------


def test_a_shipment_copies_the_delivery_address_and_contact_of_the_request(
    allocations, refurbisher, help_request
):
    shipment = _start(allocations, refurbisher)
    assert shipment.status == Shipment.Status.PREPARED
    assert shipment.organisation_id == help_request.organisation_id
    assert (shipment.delivery_street, shipment.delivery_postcode, shipment.contact_name) == (
        help_request.delivery_street,
        help_request.delivery_postcode,
        help_request.contact_name,
    )
    assert shipment.reference.startswith("ZND-")
    assert ShipmentEvent.objects.get(shipment=shipment).to_status == "prepared"


def test_starting_twice_for_one_address_reuses_the_open_shipment(allocations, refurbisher):
    first = _start(allocations, refurbisher)
    assert _start(allocations, refurbisher) == first
    assert Shipment.objects.count() == 1


def test_it_refuses_to_start_a_shipment_without_allocated_devices_here(
    refurbisher_org, refurbisher, help_request
):
    approved_allocations(help_request, 2)  # at another refurbisher
    with pytest.raises(DomainError, match="geen toegewezen apparaten"):
        services.shipment_create(
            refurbisher=refurbisher_org, request_id=help_request.pk, by=refurbisher
        )
    assert Shipment.objects.count() == 0


# --- Scan -----------------------------------------------------------------------------------------


def test_scanning_tags_puts_the_allocations_on_the_shipment(allocations, refurbisher):
    shipment = _start(allocations, refurbisher)
    for allocation in allocations:
        tag = format_asset_tag(allocation.device.asset_tag).lower()  # as typed by a person
        item = services.shipment_add_device(shipment.pk, tag, by=refurbisher)
        assert (item.allocation_id, item.request_id) == (allocation.pk, allocation.request_id)
    assert shipment.items.count() == 3
    assert set(Allocation.objects.values_list("status", flat=True)) == {"approved"}


def test_it_refuses_a_tag_with_a_wrong_check_symbol(allocations, refurbisher):
    shipment = _start(allocations, refurbisher)
    tag = allocations[0].device.asset_tag
    wrong = tag[:-1] + ("0" if tag[-1] != "0" else "1")
    with pytest.raises(DomainError, match="klopt niet"):
        services.shipment_add_device(shipment.pk, wrong, by=refurbisher)
    assert ShipmentItem.objects.count() == 0


def test_it_refuses_an_unknown_tag_and_a_device_of_another_refurbisher(
    allocations, refurbisher, school_board_org
):
    shipment = _start(allocations, refurbisher)
    same_school = ApprovedRequestFactory(organisation=school_board_org, laptops=1)
    elsewhere = approved_allocations(same_school, 1)[0].device  # another refurbisher's
    for tag in (generate_asset_tag(), elsewhere.asset_tag):
        with pytest.raises(DomainError, match="Geen apparaat van uw organisatie"):
            services.shipment_add_device(shipment.pk, tag, by=refurbisher)
    assert ShipmentItem.objects.count() == 0


def test_it_refuses_a_device_that_is_not_allocated_or_only_proposed(
    allocations, refurbisher, donation
):
    shipment = _start(allocations, refurbisher)
    ready = ReadyDeviceFactory(donation=donation, asset_tag=generate_asset_tag())
    with pytest.raises(DomainError, match="niet toegewezen"):
        services.shipment_add_device(shipment.pk, ready.asset_tag, by=refurbisher)
    proposed = ProposalFactory(
        device=ReadyDeviceFactory(donation=donation, asset_tag=generate_asset_tag()),
        request=allocations[0].request,
    )
    with pytest.raises(DomainError, match="nog maar voorgesteld"):
        services.shipment_add_device(shipment.pk, proposed.device.asset_tag, by=refurbisher)
    assert ShipmentItem.objects.count() == 0


def test_it_refuses_a_device_allocated_to_another_organisation(allocations, refurbisher, donation):
    shipment = _start(allocations, refurbisher)
    other = approved_allocations(ApprovedRequestFactory(laptops=1), 1, donation=donation)[0]
    with pytest.raises(DomainError, match="is toegewezen aan .*, niet aan Stichting Carla"):
        services.shipment_add_device(shipment.pk, other.device.asset_tag, by=refurbisher)
    assert ShipmentItem.objects.count() == 0


def test_it_refuses_a_device_for_another_address_of_the_same_organisation(
    allocations, refurbisher, donation, school_board_org
):
    shipment = _start(allocations, refurbisher)
    other_school = ApprovedRequestFactory(
        organisation=school_board_org, laptops=1, delivery_street="Kerkweg 9"
    )
    other = approved_allocations(other_school, 1, donation=donation)[0]
    with pytest.raises(DomainError, match="ander adres"):
        services.shipment_add_device(shipment.pk, other.device.asset_tag, by=refurbisher)


def test_it_refuses_the_same_device_twice_and_a_device_in_another_shipment(
    allocations, refurbisher
):
    shipment = _start(allocations, refurbisher)
    tag = allocations[0].device.asset_tag
    services.shipment_add_device(shipment.pk, tag, by=refurbisher)
    with pytest.raises(DomainError, match="zit al in deze zending"):
        services.shipment_add_device(shipment.pk, tag, by=refurbisher)
    services.shipment_cancel(shipment.pk, by=refurbisher, reason="Verkeerde doos")
    second = _start(allocations, refurbisher)
    services.shipment_add_device(second.pk, tag, by=refurbisher)
    Shipment.objects.filter(pk=second.pk).update(delivery_street="Elders 1")
    third = _start(allocations, refurbisher)
    with pytest.raises(DomainError, match=f"zit al in zending {second.reference}"):
        services.shipment_add_device(third.pk, tag, by=refurbisher)


def test_taking_a_device_off_keeps_its_allocation_approved(allocations, refurbisher):
    shipment = packed_shipment(allocations, by=refurbisher)
    item = shipment.items.first()
    device = services.shipment_remove_item(shipment.pk, item.pk, by=refurbisher)
    assert device == item.device
    assert shipment.items.count() == 2
    assert Allocation.objects.get(pk=item.allocation_id).status == "approved"


# --- Cancel ---------------------------------------------------------------------------------------


def test_cancelling_a_prepared_shipment_frees_its_devices_for_another(allocations, refurbisher):
    shipment = packed_shipment(allocations, by=refurbisher)
    services.shipment_cancel(shipment.pk, by=refurbisher, reason="Doos beschadigd")
    shipment.refresh_from_db()
    assert shipment.status == "cancelled" and shipment.items.count() == 0
    assert "Doos beschadigd" in shipment.events.last().note
    again = packed_shipment(allocations, by=refurbisher)
    assert again.pk != shipment.pk and again.items.count() == 3


def test_it_refuses_to_cancel_a_shipped_shipment_or_without_reason(allocations, refurbisher):
    shipment = shipped_shipment(allocations, by=refurbisher)
    with pytest.raises(DomainError, match="Geef een reden op"):
        services.shipment_cancel(shipment.pk, by=refurbisher, reason=" ")
    with pytest.raises(DomainError, match="kan niet van 'Verzonden' naar 'Geannuleerd'"):
        services.shipment_cancel(shipment.pk, by=refurbisher, reason="Te laat")
    assert Shipment.objects.get().status == "shipped"


def test_cancelling_an_allocation_takes_its_device_off_a_prepared_shipment(
    allocations, refurbisher, coordinator
):
    shipment = packed_shipment(allocations, by=refurbisher)
    decision = services.allocations_cancel(
        [allocations[0].pk], by=coordinator, reason="Aanvraag gewijzigd"
    )
    assert len(decision.done) == 1
    assert shipment.items.count() == 2
    assert Device.objects.get(pk=allocations[0].device_id).state == "ready"


def test_a_shipped_allocation_cannot_be_cancelled(allocations, refurbisher, coordinator):
    shipped_shipment(allocations, by=refurbisher)
    decision = services.allocations_cancel([allocations[0].pk], by=coordinator, reason="Nee")
    assert decision.done == [] and "al verzonden" in decision.refused[0][1]


# --- Ship -----------------------------------------------------------------------------------------


def test_shipping_moves_devices_and_allocations_and_tells_the_organisation(
    allocations, refurbisher, school_board, django_capture_on_commit_callbacks
):
    shipment = packed_shipment(allocations, by=refurbisher)
    with django_capture_on_commit_callbacks(execute=True):
        services.shipment_ship(
            shipment.pk, carrier="postnl", tracking_code="3s abc 123", by=refurbisher
        )
    shipment.refresh_from_db()
    assert shipment.status == "shipped" and shipment.tracking_code == "3SABC123"
    assert shipment.shipped_at is not None
    ids = [a.pk for a in allocations]
    assert set(Allocation.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        "shipped"
    }
    assert set(Device.objects.filter(allocations__in=ids).values_list("state", flat=True)) == {
        "shipped"
    }
    assert AllocationEvent.objects.filter(to_status="shipped").count() == 3
    assert DeviceEvent.objects.filter(to_state="shipped").count() == 3
    mail = Notification.objects.get(kind="shipment_shipped")
    assert mail.to_email == school_board.email
    assert "3SABC123" in mail.body_text and shipment.reference in mail.subject
    assert f"/zendingen/{shipment.pk}/" in mail.body_text


def test_shipping_twice_with_the_same_code_changes_nothing(allocations, refurbisher, school_board):
    shipment = shipped_shipment(allocations, by=refurbisher, tracking_code="ABC")
    services.shipment_ship(shipment.pk, carrier="postnl", tracking_code="ABC", by=refurbisher)
    assert ShipmentEvent.objects.filter(to_status="shipped").count() == 1
    assert Notification.objects.filter(kind="shipment_shipped").count() == 1


def test_it_refuses_to_ship_an_empty_shipment_or_without_tracking_code(allocations, refurbisher):
    shipment = _start(allocations, refurbisher)
    with pytest.raises(DomainError, match="nog geen apparaten"):
        services.shipment_ship(shipment.pk, carrier="dhl", tracking_code="X1", by=refurbisher)
    services.shipment_add_device(shipment.pk, allocations[0].device.asset_tag, by=refurbisher)
    with pytest.raises(DomainError, match="track-and-tracecode"):
        services.shipment_ship(shipment.pk, carrier="dhl", tracking_code="", by=refurbisher)
    with pytest.raises(DomainError, match="Kies een vervoerder"):
        services.shipment_ship(shipment.pk, carrier="kameel", tracking_code="X", by=refurbisher)
    assert Shipment.objects.get().status == "prepared"
    # The refurbisher's own van needs no tracking code.
    services.shipment_ship(shipment.pk, carrier="own", by=refurbisher)
    assert Shipment.objects.get().status == "shipped"


def test_it_refuses_to_ship_when_an_allocation_was_cancelled_meanwhile(allocations, refurbisher):
    shipment = packed_shipment(allocations, by=refurbisher)
    # As if the cancellation came in between reading the items and locking them.
    Allocation.objects.filter(pk=allocations[1].pk).update(
        status="cancelled", decision_note="Vervallen"
    )
    with pytest.raises(DomainError, match="is ingetrokken"):
        services.shipment_ship(shipment.pk, carrier="dhl", tracking_code="X1", by=refurbisher)
    assert Shipment.objects.get().status == "prepared"
    assert Device.objects.filter(state="shipped").count() == 0


def test_a_delivered_or_cancelled_shipment_takes_no_more_scans(allocations, refurbisher):
    shipment = shipped_shipment(allocations[:2], by=refurbisher)
    with pytest.raises(DomainError, match="al verzonden"):
        services.shipment_add_device(shipment.pk, allocations[2].device.asset_tag, by=refurbisher)
    with pytest.raises(DomainError, match="al verzonden"):
        services.shipment_remove_item(shipment.pk, shipment.items.first().pk, by=refurbisher)


def test_shipments_of_two_refurbishers_for_one_request_stay_apart(
    help_request, refurbisher, refurbisher_org
):
    mine = approved_allocations(
        help_request, 1, donation=ProcessedDonationFactory(refurbisher=refurbisher_org)
    )
    theirs = approved_allocations(help_request, 1)
    shipment = packed_shipment(mine, by=refurbisher)
    with pytest.raises(DomainError, match="Geen apparaat van uw organisatie"):
        services.shipment_add_device(shipment.pk, theirs[0].device.asset_tag, by=refurbisher)
