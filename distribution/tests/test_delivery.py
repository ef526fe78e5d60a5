"""The organisation confirms what arrived; discrepancies go to the coordinators; a request
whose approved devices all arrived becomes fulfilled."""

import pytest

from allemaal.models import Notification
from allemaal.services import DomainError
from distribution import services
from distribution.models import Allocation, Shipment, ShipmentItem
from donations.models import Device, DeviceEvent
from helprequests.models import HelpRequest

from .factories import (
    ApprovedRequestFactory,
    approved_allocations,
    packed_shipment,
    shipped_shipment,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipment(allocations, refurbisher):
    return shipped_shipment(allocations, by=refurbisher)


def _outcomes(shipment, *outcomes):
    items = list(shipment.items.order_by("pk"))
    return {item.pk: outcome for item, outcome in zip(items, outcomes, strict=True)}


def test_all_received_delivers_every_device_and_fulfils_the_request(
    shipment, school_board, school_board_org, help_request, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.shipment_confirm_delivery(
            shipment.pk, by=school_board, organisation=school_board_org
        )
    shipment.refresh_from_db()
    assert shipment.status == "delivered" and not shipment.has_discrepancy
    assert shipment.confirmed_by == school_board and shipment.delivered_at is not None
    assert set(shipment.items.values_list("outcome", flat=True)) == {"received"}
    assert set(Device.objects.values_list("state", flat=True)) == {"delivered"}
    assert set(Allocation.objects.values_list("status", flat=True)) == {"delivered"}
    event = DeviceEvent.objects.filter(to_state="delivered").first()
    assert event.organisation == school_board_org
    help_request.refresh_from_db()
    assert help_request.status == HelpRequest.Status.FULFILLED
    assert Notification.objects.filter(kind="helprequest_fulfilled").count() == 1
    assert not Notification.objects.filter(kind="shipment_discrepancy").exists()


def test_a_missing_and_a_damaged_unit_flag_the_shipment_for_the_coordinators(
    shipment, school_board, school_board_org, coordinator, help_request
):
    outcomes = _outcomes(
        shipment,
        ShipmentItem.Outcome.RECEIVED,
        ShipmentItem.Outcome.DAMAGED,
        ShipmentItem.Outcome.MISSING,
    )
    damaged, missing = list(outcomes)[1:]
    services.shipment_confirm_delivery(
        shipment.pk,
        by=school_board,
        organisation=school_board_org,
        outcomes=outcomes,
        notes={damaged: "Scherm gebarsten"},
        note="Doos was open",
    )
    shipment.refresh_from_db()
    assert shipment.status == "delivered" and shipment.discrepancy_open
    states = dict(ShipmentItem.objects.values_list("pk", "device__state"))
    assert states[damaged] == "delivered" and states[missing] == "shipped"
    assert ShipmentItem.objects.get(pk=damaged).note == "Scherm gebarsten"
    mail = Notification.objects.get(kind="shipment_discrepancy")
    assert mail.to_email == coordinator.email
    assert "1 ontvangen, 1 beschadigd, 1 ontbreken" in mail.body_text
    assert "Scherm gebarsten" in mail.body_text and "Doos was open" in mail.body_text
    assert f"/admin/distribution/shipment/{shipment.pk}/" in mail.body_text
    help_request.refresh_from_db()
    assert help_request.status == "approved"  # one device still missing


def test_it_refuses_a_damaged_unit_without_a_note_and_an_incomplete_answer(
    shipment, school_board, school_board_org
):
    outcomes = _outcomes(
        shipment,
        ShipmentItem.Outcome.RECEIVED,
        ShipmentItem.Outcome.DAMAGED,
        ShipmentItem.Outcome.RECEIVED,
    )
    with pytest.raises(DomainError, match="wat er beschadigd is"):
        services.shipment_confirm_delivery(
            shipment.pk, by=school_board, organisation=school_board_org, outcomes=outcomes
        )
    outcomes = _outcomes(
        shipment,
        ShipmentItem.Outcome.RECEIVED,
        ShipmentItem.Outcome.RECEIVED,
        ShipmentItem.Outcome.RECEIVED,
    )
    outcomes.popitem()
    with pytest.raises(DomainError, match="ontvangen, beschadigd is of ontbreekt"):
        services.shipment_confirm_delivery(
            shipment.pk, by=school_board, organisation=school_board_org, outcomes=outcomes
        )
    assert Shipment.objects.get().status == "shipped"
    assert Device.objects.filter(state="delivered").count() == 0


def test_it_refuses_another_organisation_a_second_confirmation_and_an_unsent_box(
    shipment, school_board, school_board_org, allocations, refurbisher, other_donor, other_donor_org
):
    with pytest.raises(DomainError, match="niet voor uw organisatie"):
        services.shipment_confirm_delivery(
            shipment.pk, by=other_donor, organisation=other_donor_org
        )
    services.shipment_confirm_delivery(shipment.pk, by=school_board, organisation=school_board_org)
    with pytest.raises(DomainError, match="al bevestigd"):
        services.shipment_confirm_delivery(
            shipment.pk, by=school_board, organisation=school_board_org
        )


def test_it_refuses_to_confirm_a_shipment_that_is_still_being_packed(
    allocations, refurbisher, school_board, school_board_org
):
    shipment = packed_shipment(allocations, by=refurbisher)
    with pytest.raises(DomainError, match="nog niet verzonden"):
        services.shipment_confirm_delivery(
            shipment.pk, by=school_board, organisation=school_board_org
        )
    assert set(Device.objects.values_list("state", flat=True)) == {"allocated"}


def test_a_missing_unit_found_later_is_delivered_and_settles_the_discrepancy(
    shipment, school_board, school_board_org, help_request
):
    outcomes = _outcomes(
        shipment,
        ShipmentItem.Outcome.RECEIVED,
        ShipmentItem.Outcome.RECEIVED,
        ShipmentItem.Outcome.MISSING,
    )
    services.shipment_confirm_delivery(
        shipment.pk, by=school_board, organisation=school_board_org, outcomes=outcomes
    )
    missing = list(outcomes)[2]
    services.shipment_item_found(
        shipment.pk, missing, by=school_board, organisation=school_board_org
    )
    item = ShipmentItem.objects.get(pk=missing)
    assert item.outcome == "received" and item.device.state == "delivered"
    shipment.refresh_from_db()
    assert shipment.has_discrepancy and not shipment.discrepancy_open
    help_request.refresh_from_db()
    assert help_request.status == "fulfilled"
    with pytest.raises(DomainError, match="niet als ontbrekend"):
        services.shipment_item_found(
            shipment.pk, missing, by=school_board, organisation=school_board_org
        )


def test_settling_a_discrepancy_makes_a_missing_unit_lost_and_frees_its_place(
    shipment,
    school_board,
    school_board_org,
    coordinator,
    help_request,
    django_capture_on_commit_callbacks,
):
    outcomes = _outcomes(
        shipment,
        ShipmentItem.Outcome.RECEIVED,
        ShipmentItem.Outcome.RECEIVED,
        ShipmentItem.Outcome.MISSING,
    )
    services.shipment_confirm_delivery(
        shipment.pk, by=school_board, organisation=school_board_org, outcomes=outcomes
    )
    missing = ShipmentItem.objects.get(pk=list(outcomes)[2])
    assert Device.objects.get(pk=missing.device_id).state == "shipped"
    with pytest.raises(DomainError, match="Schrijf op hoe"):
        services.shipment_resolve_discrepancy(shipment.pk, by=coordinator, note=" ")
    with django_capture_on_commit_callbacks(execute=True):
        services.shipment_resolve_discrepancy(
            shipment.pk, by=coordinator, note="Vervoerder vergoedt, vervanging volgt"
        )
    shipment.refresh_from_db()
    assert not shipment.discrepancy_open and shipment.discrepancy_resolved_by == coordinator
    device = Device.objects.get(pk=missing.device_id)
    assert device.state == "lost"
    event = device.events.order_by("at", "id").last()
    assert (event.from_state, event.to_state, event.by) == ("shipped", "lost", coordinator)
    assert "Vervoerder vergoedt" in event.note
    # The request still waits: the lost unit's place goes to the next run.
    assert Allocation.objects.get(pk=missing.allocation_id).status == "replaced"
    help_request.refresh_from_db()
    assert help_request.status == HelpRequest.Status.APPROVED
    with pytest.raises(DomainError, match="geen open afwijking"):
        services.shipment_resolve_discrepancy(shipment.pk, by=coordinator, note="Nog eens")


def test_a_missing_unit_returned_before_settling_goes_back_into_the_flow_not_lost(
    shipment, school_board, school_board_org, coordinator, helpdesk
):
    outcomes = _outcomes(
        shipment,
        ShipmentItem.Outcome.RECEIVED,
        ShipmentItem.Outcome.RECEIVED,
        ShipmentItem.Outcome.MISSING,
    )
    services.shipment_confirm_delivery(
        shipment.pk, by=school_board, organisation=school_board_org, outcomes=outcomes
    )
    missing = ShipmentItem.objects.get(pk=list(outcomes)[2])
    services.device_return_start(
        missing.device_id, by=helpdesk, reason="Teruggestuurd door de vervoerder", replacement=True
    )
    services.shipment_resolve_discrepancy(shipment.pk, by=coordinator, note="Retour ontvangen")
    assert Device.objects.get(pk=missing.device_id).state == "received"
    assert not DeviceEvent.objects.filter(to_state="lost").exists()


def test_a_delivered_unit_carries_where_it_went_for_the_donor_never_a_person(
    shipment, school_board, school_board_org, help_request
):
    services.shipment_confirm_delivery(shipment.pk, by=school_board, organisation=school_board_org)
    device = Device.objects.filter(state="delivered").first()
    assert device.delivered_sector == school_board_org.sector
    assert device.delivered_target_group == help_request.target_group
    assert device.delivered_province == (
        help_request.delivery_province or school_board_org.province
    )


def test_a_request_with_a_damaged_unit_is_fulfilled_once_the_coordinator_settles_it(
    shipment, school_board, school_board_org, coordinator, help_request
):
    outcomes = _outcomes(
        shipment,
        ShipmentItem.Outcome.RECEIVED,
        ShipmentItem.Outcome.RECEIVED,
        ShipmentItem.Outcome.DAMAGED,
    )
    services.shipment_confirm_delivery(
        shipment.pk,
        by=school_board,
        organisation=school_board_org,
        outcomes=outcomes,
        notes={list(outcomes)[2]: "Kras op de klep"},
    )
    help_request.refresh_from_db()
    assert help_request.status == "approved"
    services.shipment_resolve_discrepancy(
        shipment.pk, by=coordinator, note="Alleen een kras; de school houdt hem"
    )
    help_request.refresh_from_db()
    assert help_request.status == "fulfilled"


def test_a_request_is_not_fulfilled_before_all_its_approved_devices_arrived(
    school_board, school_board_org, refurbisher, donation
):
    request = ApprovedRequestFactory(organisation=school_board_org, laptops=5)
    allocations = approved_allocations(request, 3, donation=donation)
    shipment = shipped_shipment(allocations, by=refurbisher)
    services.shipment_confirm_delivery(shipment.pk, by=school_board, organisation=school_board_org)
    request.refresh_from_db()
    assert request.status == "approved"
    assert services.requests_fulfil_if_complete({request.pk: request}, by=None) == []
