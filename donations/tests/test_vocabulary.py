"""The device vocabulary: one spelling of a serial number and an asset tag, one category."""

import importlib

import pytest
from django.apps import apps

from donations.models import Device
from donations.tests.factories import DeviceFactory
from donations.vocabulary import (
    CATEGORY_OF_KIND,
    DeviceCategory,
    DeviceKind,
    category_of,
    in_category,
    normalise_asset_tag,
    normalise_serial,
)


@pytest.mark.parametrize("typed", ["5cd 1234", " 5CD1234 ", "5cd\t12\u00a034", "5Cd1234\n"])
def test_a_serial_is_spelled_without_whitespace_in_capitals(typed):
    assert normalise_serial(typed) == "5CD1234"


def test_an_asset_tag_is_read_as_printed_on_the_label():
    assert normalise_asset_tag(" 7kq3m-9txr4 ") == "7KQ3M9TXR4"
    assert normalise_asset_tag("OIL") == "011"


def test_a_chromebook_meets_a_laptop_need_and_only_a_tablet_a_tablet_need():
    assert category_of(DeviceKind.LAPTOP) == category_of("chromebook") == DeviceCategory.LAPTOP
    assert category_of("tablet") == DeviceCategory.TABLET
    assert set(CATEGORY_OF_KIND) == set(DeviceKind.values)


@pytest.mark.django_db
def test_the_category_filter_follows_the_same_rule():
    laptop, chromebook, tablet = (DeviceFactory(kind=kind) for kind in DeviceKind.values)
    devices = Device.objects.all()
    assert set(devices.filter(in_category("laptop"))) == {laptop, chromebook}
    assert set(devices.filter(in_category(DeviceCategory.TABLET))) == {tablet}


@pytest.mark.django_db
def test_the_migration_normalises_stored_serials_but_never_merges_two_devices():
    migration = importlib.import_module("donations.migrations.0004_normalise_serial_numbers")
    scanned = DeviceFactory(serial_number="abc 123")
    listed = DeviceFactory(serial_number="PF0XK2LM")
    phantom = DeviceFactory(serial_number="pf0xk2lm")
    twins = [DeviceFactory(serial_number="x 1"), DeviceFactory(serial_number="X1 ")]

    migration.normalise_serial_numbers(apps, None)

    for device in (scanned, listed, phantom, *twins):
        device.refresh_from_db()
    assert (scanned.serial_number, listed.serial_number) == ("ABC123", "PF0XK2LM")
    assert phantom.serial_number == "pf0xk2lm"  # its listed twin exists: settled by hand
    assert [device.serial_number for device in twins] == ["X1", "X1 "]
