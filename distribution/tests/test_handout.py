"""Hand-out reports, their reminder, the donors' impact, and the cancel check for requests."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from allemaal.models import Notification
from allemaal.services import DomainError
from distribution import selectors, services, tasks
from distribution.models import HandoutReminder, HandoutReport, Shipment

from .factories import (
    ApprovedRequestFactory,
    ProcessedDonationFactory,
    approved_allocations,
    packed_shipment,
    shipped_shipment,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered(allocations, refurbisher, school_board, school_board_org):
    shipment = shipped_shipment(allocations, by=refurbisher)
    services.shipment_confirm_delivery(shipment.pk, by=school_board, organisation=school_board_org)
    return shipment


def _save(request, user, org, devices, people, note=""):
    return services.handout_report_save(
        request.pk,
        by=user,
        organisation=org,
        devices_handed_out=devices,
        people_reached=people,
        note=note,
    )


# --- Report ---------------------------------------------------------------------------------------


def test_an_organisation_reports_and_corrects_its_hand_out(
    delivered, help_request, school_board, school_board_org
):
    report = _save(help_request, school_board, school_board_org, 2, 5)
    assert (report.devices_handed_out, report.people_reached) == (2, 5)
    again = _save(help_request, school_board, school_board_org, 3, 7, note="Alle drie uitgedeeld")
    assert again.pk == report.pk and HandoutReport.objects.count() == 1
    report.refresh_from_db()
    assert (report.devices_handed_out, report.people_reached) == (3, 7)


def test_it_refuses_more_devices_than_delivered_and_fewer_people_than_devices(
    delivered, help_request, school_board, school_board_org
):
    with pytest.raises(ValidationError) as error:
        _save(help_request, school_board, school_board_org, 4, 1)
    assert "vul 0 tot en met 3 in" in error.value.message_dict["devices_handed_out"][0]
    assert "minstens 4" in error.value.message_dict["people_reached"][0]
    assert HandoutReport.objects.count() == 0


def test_it_refuses_a_report_before_delivery_and_for_another_organisation(
    allocations, help_request, school_board, school_board_org, other_donor, other_donor_org
):
    with pytest.raises(DomainError, match="nog geen apparaten afgeleverd"):
        _save(help_request, school_board, school_board_org, 0, 0)
    with pytest.raises(DomainError, match="niet van uw organisatie"):
        _save(help_request, other_donor, other_donor_org, 0, 0)
    assert HandoutReport.objects.count() == 0


# --- Reminder -------------------------------------------------------------------------------------


def _age(shipment, days):
    Shipment.objects.filter(pk=shipment.pk).update(
        delivered_at=timezone.now() - timedelta(days=days)
    )


def test_a_reminder_goes_out_14_days_after_delivery_while_the_report_is_missing(
    delivered, help_request, school_board
):
    _age(delivered, 13)
    assert tasks.send_handout_reminders() == 0
    _age(delivered, 14)
    assert tasks.send_handout_reminders() == 1
    mail = Notification.objects.get(kind="distribution_handout_reminder")
    assert mail.to_email == school_board.email
    assert f"/uitgifte/{help_request.pk}/" in mail.body_text
    assert tasks.send_handout_reminders() == 0  # not again within 14 days
    HandoutReminder.objects.update(last_sent_at=timezone.now() - timedelta(days=15))
    assert tasks.send_handout_reminders() == 1
    assert HandoutReminder.objects.get().sent == 2


def test_no_reminder_once_reported_and_at_most_three(
    delivered, help_request, school_board, school_board_org
):
    _age(delivered, 30)
    HandoutReminder.objects.create(
        request=help_request, sent=3, last_sent_at=timezone.now() - timedelta(days=20)
    )
    assert tasks.send_handout_reminders() == 0
    HandoutReminder.objects.update(sent=1)
    _save(help_request, school_board, school_board_org, 3, 3)
    assert tasks.send_handout_reminders() == 0
    assert not Notification.objects.filter(kind="distribution_handout_reminder").exists()


def test_the_reminder_delay_is_a_setting(delivered, settings, school_board):
    settings.HANDOUT_REMINDER_DAYS = 3
    _age(delivered, 4)
    assert tasks.send_handout_reminders() == 1


# --- Impact ---------------------------------------------------------------------------------------


def test_donor_impact_counts_delivered_devices_per_target_group_and_province(
    refurbisher, refurbisher_org, school_board, school_board_org, donor_org
):
    donation = ProcessedDonationFactory(refurbisher=refurbisher_org, donor=donor_org)
    other = ProcessedDonationFactory(refurbisher=refurbisher_org)
    request = ApprovedRequestFactory(organisation=school_board_org, laptops=4)
    mine = approved_allocations(request, 3, donation=donation)
    theirs = approved_allocations(request, 1, donation=other)
    shipment = shipped_shipment(mine + theirs, by=refurbisher)
    services.shipment_confirm_delivery(shipment.pk, by=school_board, organisation=school_board_org)
    services.handout_report_save(
        request.pk,
        by=school_board,
        organisation=school_board_org,
        devices_handed_out=4,
        people_reached=8,
    )
    elderly = ApprovedRequestFactory(
        target_group="isolated_elderly", laptops=1, delivery_province="Utrecht"
    )
    approved_allocations(elderly, 1, donation=donation)  # approved only: not counted

    impact = selectors.donor_impact(donor_org.pk)
    assert impact.delivered == 3 and impact.organisations == 1
    assert impact.people_reached == 6 and impact.handed_out == 3  # 3 of the request's 4 devices
    assert impact.target_groups == [("Leerlingen in het basisonderwijs", 3)]
    assert impact.provinces == [("Gelderland", 3, 1)]
    assert impact.has_breakdown
    assert selectors.donor_impact(0).delivered == 0


def test_donor_impact_takes_a_constant_number_of_queries(
    django_assert_num_queries, refurbisher, refurbisher_org, donor_org
):
    donation = ProcessedDonationFactory(refurbisher=refurbisher_org, donor=donor_org)
    for _ in range(3):
        request = ApprovedRequestFactory(laptops=2)
        shipment = shipped_shipment(
            approved_allocations(request, 2, donation=donation), by=refurbisher
        )
        services.shipment_confirm_delivery(
            shipment.pk, by=refurbisher, organisation=request.organisation
        )
    # delivered rows per request, totals per request, hand-out reports
    with django_assert_num_queries(3):
        assert selectors.donor_impact(donor_org.pk).delivered == 6


# --- Cancel check for help requests ---------------------------------------------------------------


def test_a_request_can_be_cancelled_until_devices_are_sent(allocations, refurbisher, help_request):
    assert selectors.request_cancel_problem(help_request.pk) is None
    shipment = packed_shipment(allocations, by=refurbisher)
    assert selectors.request_cancel_problem(help_request.pk) is None
    services.shipment_ship(shipment.pk, carrier="dhl", tracking_code="JD01", by=refurbisher)
    assert "al apparaten verzonden" in selectors.request_cancel_problem(help_request.pk)
