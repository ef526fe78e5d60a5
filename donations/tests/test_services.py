"""Every donation transition, valid and invalid, called directly."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from allemaal.models import Notification, Organisation
from allemaal.services import DomainError
from donations import services
from donations.models import Device, DeviceEvent, Donation, DonationEvent, DonationPolicy
from donations.tests.factories import DeviceFactory, DonationFactory
from tests.factories import OrganisationFactory

TOMORROW = timezone.localdate() + datetime.timedelta(days=1)
REGISTER = {
    "laptops": 8,
    "chromebooks": 2,
    "tablets": 0,
    "chargers": 8,
    "pickup_street": "Marktplein 3",
    "pickup_postcode": "9711ab",
    "pickup_city": "Groningen",
    "contact_name": "Alice de Vries",
    "contact_phone": "+31501234567",
    "consent_transfer": True,
}


def kinds_sent():
    return sorted((n.kind, n.to_email) for n in Notification.objects.all())


def assert_unchanged(donation, status):
    donation.refresh_from_db()
    assert donation.status == status
    assert not DonationEvent.objects.filter(donation=donation).exists()
    assert not Notification.objects.exists()


# --- Register ------------------------------------------------------------------------------


def test_register_pledges_a_donation_with_history_province_and_mail(
    donor_org, donor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        donation = services.donation_register(donor=donor_org, by=donor, data=REGISTER)
    assert donation.status == Donation.Status.PLEDGED
    assert (donation.pickup_postcode, donation.pickup_province) == ("9711 AB", "Groningen")
    assert donation.reference == f"DON-{timezone.now().year}-{donation.pk:05d}"
    event = donation.events.get()
    assert (event.from_status, event.to_status, event.by) == ("", Donation.Status.PLEDGED, donor)
    assert kinds_sent() == [("donation_registered", donor.email)]
    assert donation.reference in mail.outbox[0].subject


def test_register_refuses_fewer_devices_than_the_minimum_and_says_where_to_go(donor_org, donor):
    with pytest.raises(DomainError, match="minstens 10 apparaten.*kringloopwinkel"):
        services.donation_register(donor=donor_org, by=donor, data={**REGISTER, "laptops": 7})
    assert not Donation.objects.exists()
    assert not Notification.objects.exists()


def test_the_minimum_comes_from_the_setting_then_the_admin_policy(donor_org, donor, settings):
    settings.DONATION_MIN_BATCH_SIZE = 20
    with pytest.raises(DomainError, match="minstens 20"):
        services.donation_register(donor=donor_org, by=donor, data=REGISTER)
    DonationPolicy.objects.update_or_create(pk=1, defaults={"min_batch_size": 5})
    data = {**REGISTER, "laptops": 3, "chromebooks": 2}
    assert services.donation_register(donor=donor_org, by=donor, data=data).pk


def test_the_admin_switch_opens_individual_donations(donor_org, donor):
    DonationPolicy.objects.update_or_create(pk=1, defaults={"individual_donations_open": True})
    data = {**REGISTER, "laptops": 1, "chromebooks": 0}
    assert services.donation_register(donor=donor_org, by=donor, data=data).pledged_devices == 1


def test_register_refuses_without_consent(donor_org, donor):
    with pytest.raises(DomainError, match="toestemming"):
        services.donation_register(
            donor=donor_org, by=donor, data={**REGISTER, "consent_transfer": False}
        )
    assert not Donation.objects.exists()


@pytest.mark.parametrize(
    ("kind", "status"),
    [("requester", "verified"), ("donor", "pending"), ("refurbisher", "verified")],
)
def test_only_a_verified_donor_can_register(db, kind, status):
    org = OrganisationFactory(
        kind=kind, status=status, sector="school" if kind == "requester" else ""
    )
    with pytest.raises(DomainError):
        services.donation_register(donor=org, by=None, data=REGISTER)
    assert not Donation.objects.exists()


# --- Schedule pickup -----------------------------------------------------------------------


def test_schedule_pickup_sets_day_and_refurbisher_and_tells_both(
    coordinator, donor, refurbisher, refurbisher_org
):
    donation = DonationFactory(donor=donor.membership.organisation)
    services.donation_schedule_pickup(
        donation.pk, by=coordinator, pickup_date=TOMORROW, refurbisher=refurbisher_org
    )
    donation.refresh_from_db()
    assert (donation.status, donation.pickup_date, donation.refurbisher) == (
        Donation.Status.SCHEDULED,
        TOMORROW,
        refurbisher_org,
    )
    event = donation.events.get()
    assert (event.from_status, event.to_status, event.by) == (
        Donation.Status.PLEDGED,
        Donation.Status.SCHEDULED,
        coordinator,
    )
    assert refurbisher_org.name in event.note
    assert kinds_sent() == [
        ("donation_pickup_assigned", refurbisher.email),
        ("donation_pickup_scheduled", donor.email),
    ]
    scheduled = Notification.objects.get(kind="donation_pickup_scheduled")
    assert refurbisher_org.name in scheduled.body_text


def test_rescheduling_to_another_refurbisher_tells_the_old_one(
    coordinator, refurbisher, refurbisher_org
):
    donation = DonationFactory(status=Donation.Status.SCHEDULED, refurbisher=refurbisher_org)
    other = OrganisationFactory(kind="refurbisher")
    services.donation_schedule_pickup(
        donation.pk, by=coordinator, pickup_date=TOMORROW, refurbisher=other
    )
    donation.refresh_from_db()
    assert (donation.status, donation.refurbisher) == (Donation.Status.SCHEDULED, other)
    assert donation.events.get().to_status == Donation.Status.SCHEDULED
    assert ("donation_pickup_withdrawn", refurbisher.email) in kinds_sent()


def test_scheduling_the_same_plan_twice_changes_nothing(coordinator, refurbisher_org):
    donation = DonationFactory(
        status=Donation.Status.SCHEDULED, refurbisher=refurbisher_org, pickup_date=TOMORROW
    )
    services.donation_schedule_pickup(
        donation.pk, by=coordinator, pickup_date=TOMORROW, refurbisher=refurbisher_org
    )
    assert_unchanged(donation, Donation.Status.SCHEDULED)


@pytest.mark.parametrize(
    "status",
    [
        Donation.Status.COLLECTED,
        Donation.Status.RECEIVED,
        Donation.Status.PROCESSED,
        Donation.Status.CANCELLED,
        Donation.Status.DECLINED,
    ],
)
def test_schedule_pickup_is_refused_after_pledged_or_scheduled(
    coordinator, refurbisher_org, status
):
    donation = DonationFactory(status=status)
    with pytest.raises(DomainError, match="kan niet van"):
        services.donation_schedule_pickup(
            donation.pk, by=coordinator, pickup_date=TOMORROW, refurbisher=refurbisher_org
        )
    assert_unchanged(donation, status)


def test_schedule_pickup_refuses_a_past_day_or_an_organisation_that_is_no_refurbisher(
    coordinator, refurbisher_org, school_board_org
):
    donation = DonationFactory()
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    with pytest.raises(DomainError, match="verleden"):
        services.donation_schedule_pickup(
            donation.pk, by=coordinator, pickup_date=yesterday, refurbisher=refurbisher_org
        )
    with pytest.raises(DomainError, match="opknappartner"):
        services.donation_schedule_pickup(
            donation.pk, by=coordinator, pickup_date=TOMORROW, refurbisher=school_board_org
        )
    unverified = OrganisationFactory(kind="refurbisher", status=Organisation.Status.PENDING)
    with pytest.raises(DomainError, match="opknappartner"):
        services.donation_schedule_pickup(
            donation.pk, by=coordinator, pickup_date=TOMORROW, refurbisher=unverified
        )
    assert_unchanged(donation, Donation.Status.PLEDGED)


# --- Decline and cancel --------------------------------------------------------------------


def test_decline_records_the_reason_and_tells_donor_and_refurbisher(
    coordinator, donor, refurbisher, refurbisher_org
):
    donation = DonationFactory(
        donor=donor.membership.organisation,
        status=Donation.Status.SCHEDULED,
        refurbisher=refurbisher_org,
    )
    services.donation_decline(donation.pk, by=coordinator, reason="  Te oud: uit 2008  ")
    donation.refresh_from_db()
    assert (donation.status, donation.status_reason) == (
        Donation.Status.DECLINED,
        "Te oud: uit 2008",
    )
    assert donation.events.get().note == "Te oud: uit 2008"
    assert kinds_sent() == [
        ("donation_declined", donor.email),
        ("donation_pickup_withdrawn", refurbisher.email),
    ]
    assert "Te oud: uit 2008" in Notification.objects.get(kind="donation_declined").body_text


def test_decline_needs_a_reason(coordinator):
    donation = DonationFactory()
    with pytest.raises(DomainError, match="reden"):
        services.donation_decline(donation.pk, by=coordinator, reason="  ")
    assert_unchanged(donation, Donation.Status.PLEDGED)


@pytest.mark.parametrize(
    "status",
    [
        Donation.Status.COLLECTED,
        Donation.Status.RECEIVED,
        Donation.Status.PROCESSED,
        Donation.Status.CANCELLED,
    ],
)
def test_decline_is_refused_once_collected_or_closed(coordinator, status):
    donation = DonationFactory(status=status)
    with pytest.raises(DomainError):
        services.donation_decline(donation.pk, by=coordinator, reason="Nee")
    assert_unchanged(donation, status)


@pytest.mark.parametrize("status", [Donation.Status.PLEDGED, Donation.Status.SCHEDULED])
def test_the_donor_cancels_before_collection_and_the_serials_are_free_again(
    donor_org, donor, status
):
    donation = DonationFactory(donor=donor_org, status=status)
    DeviceFactory(donation=donation, serial_number="REUSE1")
    services.donation_cancel(donation.pk, by=donor, donor=donor_org, reason="Toch nodig")
    donation.refresh_from_db()
    assert (donation.status, donation.status_reason) == (Donation.Status.CANCELLED, "Toch nodig")
    assert donation.events.get().from_status == status
    assert not Device.objects.filter(serial_number="REUSE1").exists()
    DeviceFactory(serial_number="REUSE1")


def test_cancelling_a_scheduled_donation_tells_the_refurbisher(donor_org, donor, refurbisher):
    donation = DonationFactory(
        donor=donor_org,
        status=Donation.Status.SCHEDULED,
        refurbisher=refurbisher.membership.organisation,
    )
    services.donation_cancel(donation.pk, by=donor, donor=donor_org)
    assert kinds_sent() == [("donation_pickup_withdrawn", refurbisher.email)]


@pytest.mark.parametrize(
    "status",
    [
        Donation.Status.COLLECTED,
        Donation.Status.RECEIVED,
        Donation.Status.PROCESSED,
        Donation.Status.DECLINED,
    ],
)
def test_cancel_is_refused_once_collected_or_closed(donor_org, donor, status):
    donation = DonationFactory(donor=donor_org, status=status)
    with pytest.raises(DomainError):
        services.donation_cancel(donation.pk, by=donor, donor=donor_org)
    assert_unchanged(donation, status)


def test_cancel_after_collection_says_why(donor_org, donor):
    donation = DonationFactory(donor=donor_org, status=Donation.Status.COLLECTED)
    with pytest.raises(DomainError, match="al opgehaald"):
        services.donation_cancel(donation.pk, by=donor, donor=donor_org)


def test_a_donor_cannot_cancel_another_donors_donation(donor_org, donor, other_donor_org):
    donation = DonationFactory(donor=other_donor_org)
    with pytest.raises(DomainError):
        services.donation_cancel(donation.pk, by=donor, donor=donor_org)
    assert_unchanged(donation, Donation.Status.PLEDGED)


def test_cancelling_twice_is_a_no_op(donor_org, donor):
    donation = DonationFactory(donor=donor_org, status=Donation.Status.CANCELLED)
    services.donation_cancel(donation.pk, by=donor, donor=donor_org)
    assert_unchanged(donation, Donation.Status.CANCELLED)


# --- Collect and receive -------------------------------------------------------------------


def test_the_assigned_refurbisher_confirms_collection(refurbisher, refurbisher_org):
    donation = DonationFactory(status=Donation.Status.SCHEDULED, refurbisher=refurbisher_org)
    services.donation_confirm_collected(donation.pk, by=refurbisher, refurbisher=refurbisher_org)
    donation.refresh_from_db()
    assert donation.status == Donation.Status.COLLECTED
    event = donation.events.get()
    assert (event.from_status, event.to_status, event.by) == (
        Donation.Status.SCHEDULED,
        Donation.Status.COLLECTED,
        refurbisher,
    )


def test_another_refurbisher_cannot_confirm_collection(refurbisher, refurbisher_org):
    donation = DonationFactory(status=Donation.Status.SCHEDULED)
    with pytest.raises(DomainError, match="niet aan uw organisatie"):
        services.donation_confirm_collected(
            donation.pk, by=refurbisher, refurbisher=refurbisher_org
        )
    assert_unchanged(donation, Donation.Status.SCHEDULED)


@pytest.mark.parametrize(
    "status",
    [
        Donation.Status.RECEIVED,
        Donation.Status.PROCESSED,
        Donation.Status.CANCELLED,
        Donation.Status.DECLINED,
    ],
)
def test_collection_is_refused_from_other_states(refurbisher, refurbisher_org, status):
    donation = DonationFactory(status=status, refurbisher=refurbisher_org)
    with pytest.raises(DomainError):
        services.donation_confirm_collected(
            donation.pk, by=refurbisher, refurbisher=refurbisher_org
        )
    assert_unchanged(donation, status)


def test_confirming_collection_twice_is_a_no_op(refurbisher, refurbisher_org):
    donation = DonationFactory(status=Donation.Status.COLLECTED, refurbisher=refurbisher_org)
    services.donation_confirm_collected(donation.pk, by=refurbisher, refurbisher=refurbisher_org)
    assert_unchanged(donation, Donation.Status.COLLECTED)


COUNTS = {"laptops": 9, "chromebooks": 1, "tablets": 0, "chargers": 10}


def test_reception_records_the_counted_numbers_and_the_difference(
    donor, refurbisher, refurbisher_org
):
    donation = DonationFactory(
        donor=donor.membership.organisation,
        status=Donation.Status.COLLECTED,
        refurbisher=refurbisher_org,
    )
    services.donation_confirm_received(
        donation.pk, by=refurbisher, refurbisher=refurbisher_org, counts=COUNTS
    )
    donation.refresh_from_db()
    assert donation.status == Donation.Status.RECEIVED
    assert (donation.received_laptops, donation.received_chromebooks) == (9, 1)
    assert [(d["pledged"], d["received"], d["diff"]) for d in donation.count_differences()] == [
        (10, 9, -1),
        (0, 1, 1),
        (0, 0, 0),
        (10, 10, 0),
    ]
    assert donation.events.get().note == "Laptops: 10 → 9; Chromebooks: 0 → 1"
    assert kinds_sent() == [("donation_received", donor.email)]
    body = Notification.objects.get().body_text
    assert "Laptops: 9 ontvangen (10 aangemeld)" in body


@pytest.mark.parametrize(
    "status",
    [
        Donation.Status.PLEDGED,
        Donation.Status.SCHEDULED,
        Donation.Status.CANCELLED,
        Donation.Status.RECEIVED,
    ],
)
def test_reception_is_refused_before_collection_or_twice(refurbisher, refurbisher_org, status):
    donation = DonationFactory(status=status, refurbisher=refurbisher_org)
    with pytest.raises(DomainError):
        services.donation_confirm_received(
            donation.pk, by=refurbisher, refurbisher=refurbisher_org, counts=COUNTS
        )
    assert_unchanged(donation, status)


def test_reception_by_another_refurbisher_or_with_bad_counts_is_refused(
    refurbisher, refurbisher_org
):
    donation = DonationFactory(status=Donation.Status.COLLECTED)
    with pytest.raises(DomainError, match="niet aan uw organisatie"):
        services.donation_confirm_received(
            donation.pk, by=refurbisher, refurbisher=refurbisher_org, counts=COUNTS
        )
    mine = DonationFactory(status=Donation.Status.COLLECTED, refurbisher=refurbisher_org)
    with pytest.raises(DomainError, match="getelde aantal"):
        services.donation_confirm_received(
            mine.pk, by=refurbisher, refurbisher=refurbisher_org, counts={**COUNTS, "tablets": -1}
        )
    assert_unchanged(donation, Donation.Status.COLLECTED)
    assert_unchanged(mine, Donation.Status.COLLECTED)


def test_processed_follows_once_every_device_has_an_outcome(donor, refurbisher_org):
    donation = DonationFactory(
        donor=donor.membership.organisation,
        status=Donation.Status.RECEIVED,
        refurbisher=refurbisher_org,
    )
    device = DeviceFactory(donation=donation, state=Device.State.RECYCLED)
    assert services.donation_mark_processed(donation.pk, by=None)
    donation.refresh_from_db()
    assert donation.status == Donation.Status.PROCESSED
    assert DeviceEvent.objects.filter(device=device).count() == 0
    assert [n.kind for n in Notification.objects.all()] == ["donation_processed"]
