"""The donor's overview: only its own donations, their timelines and counts, its impact."""

import pytest
from django.urls import reverse

from donations.models import Donation
from donations.tests.factories import DeviceFactory, DonationFactory


@pytest.fixture
def donation(donor_org):
    return DonationFactory(donor=donor_org)


def test_another_donor_does_not_see_a_donation_or_its_devices_on_its_dashboard(
    client, donation, other_donor
):
    DeviceFactory(donation=donation, serial_number="SECRET-SERIAL")
    client.force_login(other_donor)
    page = client.get(reverse("coordination:donor_overview")).content.decode()
    assert donation.reference not in page
    assert "SECRET-SERIAL" not in page


def _donations_with_devices(donor_org, refurbisher_org, n):
    statuses = [
        Donation.Status.PLEDGED,
        Donation.Status.SCHEDULED,
        Donation.Status.RECEIVED,
        Donation.Status.CANCELLED,
    ]
    for i in range(n):
        donation = DonationFactory(
            donor=donor_org, status=statuses[i % 4], refurbisher=refurbisher_org
        )
        donation.events.create(to_status=Donation.Status.PLEDGED)
        donation.events.create(from_status=Donation.Status.PLEDGED, to_status=donation.status)
        for state in ["announced", "received", "delivered"]:
            device = DeviceFactory(donation=donation, state=state)
        _delivered(device)


def _delivered(device):
    """The delivered allocation behind a delivered device (the impact counts those)."""
    from distribution.models import Allocation
    from helprequests.tests.factories import HelpRequestFactory

    Allocation.objects.create(
        device=device,
        request=HelpRequestFactory(approved=True),
        status="delivered",
        score=1,
        note="Test",
        decided_at=device.created_at,
    )


@pytest.mark.parametrize("n", [2, 20])
def test_the_dashboard_query_count_is_constant(
    client, donor, donor_org, refurbisher_org, django_assert_num_queries, n
):
    _donations_with_devices(donor_org, refurbisher_org, n)
    client.force_login(donor)
    # session, user with membership and organisation, count (paginator), donations with their
    # refurbishers, their events (prefetch), device counts (one aggregate); the impact: device
    # counts, delivered totals, per target group, per province, people reached (this donor's
    # delivered devices per request, all donors' per request, the hand-out reports)
    with django_assert_num_queries(13):
        response = client.get(reverse("coordination:donor_overview"))
    assert len(response.context["donations"]) == n


def test_the_dashboard_shows_timeline_counts_differences_and_impact(
    client, donor, donor_org, refurbisher_org
):
    donation = DonationFactory(
        donor=donor_org,
        status=Donation.Status.RECEIVED,
        refurbisher=refurbisher_org,
        received_laptops=8,
    )
    donation.events.create(to_status=Donation.Status.PLEDGED)
    donation.events.create(
        from_status=Donation.Status.COLLECTED, to_status=Donation.Status.RECEIVED
    )
    for device in DeviceFactory.create_batch(2, donation=donation, state="delivered"):
        _delivered(device)
    DeviceFactory(donation=donation, state="erased")
    client.force_login(donor)
    response = client.get(reverse("coordination:donor_overview"))
    page = response.content.decode()
    (shown,) = response.context["donations"]
    assert [s["state"] for s in shown.timeline] == ["done", "done", "done", "current", "todo"]
    counts = {c["state"]: c["n"] for c in shown.device_counts}
    assert (counts["delivered"], counts["erased"], counts["announced"]) == (2, 1, 0)
    assert response.context["impact"].delivered == 2
    assert "2 apparaten zijn afgeleverd" in page
    assert "<td>-2</td>" in page  # 10 laptops pledged, 8 received


def test_a_cancelled_donation_ends_its_timeline_at_cancelled(client, donor, donor_org):
    donation = DonationFactory(donor=donor_org, status=Donation.Status.CANCELLED)
    donation.events.create(to_status=Donation.Status.PLEDGED)
    donation.events.create(from_status=Donation.Status.PLEDGED, to_status=Donation.Status.CANCELLED)
    client.force_login(donor)
    (shown,) = client.get(reverse("coordination:donor_overview")).context["donations"]
    assert [(s["status"], s["state"]) for s in shown.timeline] == [
        ("pledged", "done"),
        ("cancelled", "current"),
    ]
