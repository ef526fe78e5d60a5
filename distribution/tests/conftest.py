"""Shipping fixtures: a school board's approved request for three laptops, allocated from a
donation at the refurbisher persona, with real asset tags."""

import pytest

from .factories import ApprovedRequestFactory, ProcessedDonationFactory, approved_allocations


@pytest.fixture
def donation(refurbisher_org):
    return ProcessedDonationFactory(refurbisher=refurbisher_org)


@pytest.fixture
def help_request(school_board_org):
    return ApprovedRequestFactory(organisation=school_board_org, laptops=3)


@pytest.fixture
def allocations(help_request, donation):
    return approved_allocations(help_request, 3, donation=donation)
