import factory

from allemaal.models import Organisation
from donations.models import Device, DeviceKind, Donation
from tests.factories import OrganisationFactory


class DonationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Donation

    donor = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.DONOR)
    laptops = 10
    chargers = 10
    pickup_street = "Stationsplein 1"
    pickup_postcode = "3511 ED"
    pickup_city = "Utrecht"
    pickup_province = "Utrecht"
    contact_name = "Alice de Vries"
    contact_phone = "+31301234567"
    consent_transfer = True


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
