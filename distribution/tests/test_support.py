"""The free support line: contacts, follow-ups and returns."""

import pytest

from allemaal.models import Notification
from allemaal.services import DomainError
from distribution import selectors, services
from distribution.models import Allocation, AllocationEvent, DeviceReturn, SupportContact
from donations.models import Device, DeviceEvent
from helprequests import services as helprequests
from helprequests.models import HelpRequest

from .factories import (
    ApprovedRequestFactory,
    ReadyDeviceFactory,
    approved_allocations,
    shipped_shipment,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered(allocations, refurbisher, school_board, school_board_org):
    shipment = shipped_shipment(allocations, by=refurbisher)
    services.shipment_confirm_delivery(shipment.pk, by=school_board, organisation=school_board_org)
    return shipment


def _log(device, helpdesk, **changes):
    data = dict(
        channel="phone",
        category="does_not_start",
        summary="Beller krijgt geen beeld. Accu leeg, opladen geadviseerd.",
        outcome="resolved",
    )
    return services.support_contact_log(device.pk, by=helpdesk, **{**data, **changes})


# --- Contacts -------------------------------------------------------------------------------------


def test_a_contact_is_logged_against_the_device_and_its_organisation(
    delivered, allocations, helpdesk, school_board_org
):
    contact = _log(allocations[0].device, helpdesk)
    assert contact.organisation == school_board_org
    assert contact.outcome == "resolved" and contact.resolved_at is not None
    assert contact.by == helpdesk


def test_a_follow_up_stays_open_until_resolved(allocations, helpdesk, coordinator):
    contact = _log(allocations[0].device, helpdesk, outcome="follow_up", category="wifi")
    assert contact.organisation is None  # not shipped yet: nobody has it
    assert list(selectors.open_follow_ups()) == [contact]
    with pytest.raises(DomainError, match="hoe het is opgelost"):
        services.support_contact_resolve(contact.pk, by=coordinator, note="")
    services.support_contact_resolve(contact.pk, by=coordinator, note="Wachtwoord hersteld")
    contact.refresh_from_db()
    assert contact.outcome == "resolved" and contact.resolved_by == coordinator
    assert list(selectors.open_follow_ups()) == []


def test_it_refuses_a_contact_without_summary_or_with_an_unknown_category(allocations, helpdesk):
    device = allocations[0].device
    with pytest.raises(DomainError, match="wat de vraag was"):
        _log(device, helpdesk, summary="  ")
    with pytest.raises(DomainError, match="kanaal en het onderwerp"):
        _log(device, helpdesk, category="weer")
    assert SupportContact.objects.count() == 0


# --- Returns --------------------------------------------------------------------------------------


def test_a_return_with_replacement_reopens_the_request_for_the_next_run(
    delivered,
    allocations,
    helpdesk,
    help_request,
    refurbisher_org,
    django_capture_on_commit_callbacks,
):
    # The request was fulfilled by the delivery; a replacement needs it open again.
    help_request.refresh_from_db()
    assert help_request.status == "fulfilled"
    device = allocations[0].device
    contact = _log(device, helpdesk, category="hardware", outcome="follow_up")
    with django_capture_on_commit_callbacks(execute=True):
        services.device_return_start(
            device.pk,
            by=helpdesk,
            reason="Toetsenbord kapot",
            replacement=True,
            contact_id=contact.pk,
        )
    help_request.refresh_from_db()
    assert help_request.status == HelpRequest.Status.APPROVED
    assert selectors.allocation_counts([help_request.pk])[help_request.pk].remaining == 1
    assert help_request.pk in {r.id for r in selectors.allocation_inputs().requests}


def test_a_return_sends_the_device_back_to_its_refurbisher_and_frees_it(
    allocations,
    refurbisher,
    helpdesk,
    help_request,
    refurbisher_org,
    school_board,
    django_capture_on_commit_callbacks,
):
    # Shipped, not yet confirmed: the request is still approved.
    shipped_shipment(allocations, by=refurbisher)
    device = allocations[0].device
    with django_capture_on_commit_callbacks(execute=True):
        device_return = services.device_return_start(
            device.pk, by=helpdesk, reason="Teruggestuurd door de vervoerder", replacement=True
        )
    device.refresh_from_db()
    assert device.state == "received"
    last = DeviceEvent.objects.filter(device=device).last()
    assert (last.from_state, last.to_state, last.organisation) == (
        "shipped",
        "received",
        refurbisher_org,
    )
    assert DeviceEvent.objects.filter(device=device).count() >= 2  # the trail is kept
    allocation = Allocation.objects.get(pk=allocations[0].pk)
    assert allocation.status == "replaced"
    assert AllocationEvent.objects.filter(allocation=allocation, to_status="replaced").exists()
    assert device_return.refurbisher == refurbisher_org and device_return.replacement
    counts = selectors.allocation_counts([help_request.pk])[help_request.pk]
    assert (counts.allocated, counts.remaining) == (2, 1)
    assert help_request.pk in {r.id for r in selectors.allocation_inputs().requests}
    assert Notification.objects.filter(kind="distribution_return_started").exists()
    assert Notification.objects.filter(kind="distribution_return_incoming").exists()
    # Once erased and tested again it can be allocated anew: no live allocation holds it.
    Device.objects.filter(pk=device.pk).update(state="ready")
    again = services.allocation_allocate_by_hand(
        device_id=device.pk,
        request_id=ApprovedRequestFactory(laptops=1).pk,
        by=helpdesk,
        reason="Na herstel",
    )
    assert again.status == "approved"


def test_a_return_without_replacement_keeps_the_place_taken(
    delivered, allocations, helpdesk, help_request
):
    device = allocations[0].device
    services.device_return_start(
        device.pk, by=helpdesk, reason="Niet meer nodig", replacement=False
    )
    assert Allocation.objects.get(pk=allocations[0].pk).status == "returned"
    counts = selectors.allocation_counts([help_request.pk])[help_request.pk]
    assert (counts.allocated, counts.remaining, counts.delivered) == (3, 0, 2)
    help_request.refresh_from_db()
    assert help_request.status == "fulfilled"


def test_a_missing_unit_written_off_without_replacement_completes_the_request(
    allocations, refurbisher, school_board, school_board_org, helpdesk, coordinator, help_request
):
    shipment = shipped_shipment(allocations, by=refurbisher)
    items = list(shipment.items.order_by("pk"))
    services.shipment_confirm_delivery(
        shipment.pk,
        by=school_board,
        organisation=school_board_org,
        outcomes={items[0].pk: "received", items[1].pk: "received", items[2].pk: "missing"},
    )
    services.device_return_start(
        items[2].device_id, by=helpdesk, reason="Kwijt, school heeft genoeg", replacement=False
    )
    services.shipment_resolve_discrepancy(shipment.pk, by=coordinator, note="Afgeschreven")
    help_request.refresh_from_db()
    assert help_request.status == "fulfilled"


def test_it_refuses_a_return_of_a_device_no_organisation_has(allocations, helpdesk, donation):
    ready = ReadyDeviceFactory(donation=donation)
    for device in (ready, allocations[0].device):
        with pytest.raises(DomainError, match="niet bij een organisatie"):
            services.device_return_start(device.pk, by=helpdesk, reason="Kapot", replacement=False)
    with pytest.raises(DomainError, match="reden"):
        services.device_return_start(ready.pk, by=helpdesk, reason=" ", replacement=False)
    assert DeviceReturn.objects.count() == 0


def test_it_refuses_a_replacement_for_a_closed_request(
    allocations, refurbisher, helpdesk, help_request, coordinator
):
    shipped_shipment(allocations, by=refurbisher)
    helprequests.helprequest_close(help_request, by=coordinator, note="Project gestopt")
    device = allocations[0].device
    with pytest.raises(DomainError, match="geen vervanging meer"):
        services.device_return_start(device.pk, by=helpdesk, reason="Kapot", replacement=True)
    device.refresh_from_db()
    assert device.state == "shipped"
    services.device_return_start(device.pk, by=helpdesk, reason="Kapot", replacement=False)
    assert Device.objects.get(pk=device.pk).state == "received"


@pytest.mark.postgres
def test_the_database_counts_a_device_returned_without_replacement_as_held(donation):
    """PostgreSQL trigger (migration 0003): `returned` keeps the place, `replaced` frees it."""
    from django.db import IntegrityError, transaction

    request = ApprovedRequestFactory(laptops=1)
    first = approved_allocations(request, 1, donation=donation)[0]
    Allocation.objects.filter(pk=first.pk).update(status="returned")
    with pytest.raises(IntegrityError, match="more than approved"), transaction.atomic():
        approved_allocations(request, 1, donation=donation)
    Allocation.objects.filter(pk=first.pk).update(status="replaced")
    assert approved_allocations(request, 1, donation=donation)[0].status == "approved"
