import pytest
from django.core.management import call_command

from allemaal.models import Notification
from donations.models import Device, DeviceEvent, Donation, DonationEvent, Manifest

DEMO_MAIL_KINDS = [
    "donation_registered",
    "donation_pickup_scheduled",
    "donation_pickup_assigned",
    "donation_pickup_withdrawn",
    "donation_received",
    "donation_declined",
]


@pytest.mark.django_db(transaction=True)
def test_the_demo_has_donations_in_every_status_and_loads_twice_without_doubling():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    counts = [m.objects.count() for m in (Donation, DonationEvent, Device, DeviceEvent, Manifest)]
    assert set(Donation.objects.values_list("status", flat=True)) == set(Donation.Status)
    assert Device.objects.filter(state="announced").count() >= 40
    # Loading sends no e-mail of ours (other apps' demos may finish a demo donation).
    assert not Notification.objects.filter(kind__in=DEMO_MAIL_KINDS).exists()
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert [
        m.objects.count() for m in (Donation, DonationEvent, Device, DeviceEvent, Manifest)
    ] == counts
