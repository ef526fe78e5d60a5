"""The phone number field parses a stored number when it is read, not when its row loads."""

import phonenumbers
import pytest
from phonenumber_field.phonenumber import PhoneNumber

from allemaal.models import Organisation
from donations.models import Donation
from donations.tests.factories import DonationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def parses(monkeypatch):
    calls = []
    parse = phonenumbers.parse

    def counted(*args, **kwargs):
        calls.append(args)
        return parse(*args, **kwargs)

    monkeypatch.setattr(phonenumbers, "parse", counted)
    return calls


def test_loading_rows_parses_no_number_until_one_is_read(parses):
    DonationFactory.create_batch(3, contact_phone="+31501234567")
    parses.clear()
    donations = list(Donation.objects.select_related("donor"))
    assert parses == []
    number = donations[0].contact_phone
    assert isinstance(number, PhoneNumber) and number.as_e164 == "+31501234567"
    assert donations[0].contact_phone is number  # parsed once
    assert len(parses) == 1


def test_a_read_number_is_the_one_the_library_gives():
    donation = DonationFactory(contact_phone="050 123 4567")  # assigned text: parsed with NL
    loaded = Donation.objects.get(pk=donation.pk)
    assert loaded.contact_phone == donation.contact_phone
    assert str(loaded.contact_phone) == "+31501234567"
    loaded.save()  # unchanged on a save
    assert Donation.objects.get(pk=donation.pk).contact_phone.as_e164 == "+31501234567"


def test_a_stored_number_that_is_not_valid_reads_as_the_library_reads_it():
    donation = DonationFactory()
    Donation.objects.filter(pk=donation.pk).update(contact_phone="not a number")
    number = Donation.objects.get(pk=donation.pk).contact_phone
    assert isinstance(number, PhoneNumber) and not number.is_valid()
    assert number.raw_input == "not a number"


def test_values_give_the_stored_text_and_empty_stays_empty():
    donation = DonationFactory(contact_phone="+31501234567")
    assert list(
        Donation.objects.filter(pk=donation.pk).values_list("contact_phone", flat=True)
    ) == ["+31501234567"]
    Organisation.objects.filter(pk=donation.donor_id).update(phone="")
    assert Organisation.objects.get(pk=donation.donor_id).phone == ""
