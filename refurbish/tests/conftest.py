import pytest

from tests.factories import member_of

from .factories import device_in, received_donation, refurbisher_factory


@pytest.fixture
def other_refurbisher_org(db):
    return refurbisher_factory(name="Bert Herstel BV")


@pytest.fixture
def other_refurbisher(other_refurbisher_org):
    return member_of(other_refurbisher_org, user__email="bert@bert-herstel.example")


@pytest.fixture
def donation(refurbisher_org, donor_org):
    """A received donation of Alice's company, assigned to Dirk's workshop, with 3 announced
    devices on its list."""
    donation = received_donation(refurbisher_org, donor=donor_org, laptops=3)
    for serial in ("PF0XK2LM", "5CG8341XYZ", "7QX4T52"):
        device_in(donation, "announced", serial_number=serial)
    return donation


@pytest.fixture
def other_donation(other_refurbisher_org, other_donor_org):
    return received_donation(other_refurbisher_org, donor=other_donor_org, laptops=1)
