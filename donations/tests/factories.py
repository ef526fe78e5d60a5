import factory
from django.utils import timezone

from allemaal.models import Organisation
from donations.models import Device, DeviceKind, Donation
from tests.factories import OrganisationFactory

_SCHEDULED_OR_LATER = {"scheduled", "collected", "received", "processed"}
_COUNTED = {"received", "processed"}


def _past(statuses):
    return factory.LazyAttribute(lambda o: o.status in statuses)


class DonationFactory(factory.django.DjangoModelFactory):
    """A pledged donation of 10 laptops; a later `status` fills in what the database requires
    for it (refurbisher and pickup date from scheduled on, counted numbers from received on)."""

    class Meta:
        model = Donation

    donor = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.DONOR)
    status = Donation.Status.PLEDGED
    laptops = 10
    chromebooks = 0
    tablets = 0
    chargers = 10
    pickup_street = "Stationsplein 1"
    pickup_postcode = "3511 ED"
    pickup_city = "Utrecht"
    pickup_province = "Utrecht"
    contact_name = "Alice de Vries"
    contact_phone = "+31301234567"
    consent_transfer = True
    refurbisher = factory.Maybe(
        _past(_SCHEDULED_OR_LATER),
        factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.REFURBISHER),
        None,
    )
    pickup_date = factory.Maybe(
        _past(_SCHEDULED_OR_LATER), factory.LazyFunction(timezone.localdate), None
    )
    received_laptops = factory.Maybe(_past(_COUNTED), factory.SelfAttribute("laptops"), None)
    received_chromebooks = factory.Maybe(
        _past(_COUNTED), factory.SelfAttribute("chromebooks"), None
    )
    received_tablets = factory.Maybe(_past(_COUNTED), factory.SelfAttribute("tablets"), None)
    received_chargers = factory.Maybe(_past(_COUNTED), factory.SelfAttribute("chargers"), None)
    status_reason = factory.Maybe(
        factory.LazyAttribute(lambda o: o.status == "declined"), "Geen opslagruimte", ""
    )


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    donation = factory.SubFactory(DonationFactory)
    serial_number = factory.Sequence(lambda n: f"SN{n:08d}")
    kind = DeviceKind.LAPTOP
    make = "Dell"
    model = "Latitude 5490"
    year = 2019
    ram_gb = 8
    storage_gb = 256
