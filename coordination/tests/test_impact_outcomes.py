"""The impact report counts where every unit ended, in the donor page's vocabulary."""

import pytest
from django.urls import reverse

from coordination.selectors import donation_impact
from donations.models import Device
from donations.tests.factories import DeviceFactory, DonationFactory

pytestmark = pytest.mark.django_db


def test_the_impact_report_counts_each_outcome_and_never_counts_what_never_arrived(
    client, donor, donor_org
):
    donation = DonationFactory(donor=donor_org, status="received")
    for state in ("delivered", "recycled", "not_received", "lost", "erased", "erased"):
        DeviceFactory(donation=donation, state=state)

    impact = donation_impact(donor_org)

    assert impact.donated == 5  # the unit that never arrived was never in our hands
    assert impact.outcomes == [
        ("Afgeleverd", 1),
        ("Gerecycled", 1),
        ("Niet ontvangen", 1),
        ("Zoekgeraakt", 1),
        ("Nog bezig", 2),
    ]
    client.force_login(donor)
    page = client.get(reverse("coordination:impact")).content.decode()
    assert "Waar elk apparaat eindigde" in page and "Zoekgeraakt" in page
    assert Device.objects.count() == 6
