"""Devices delivered before the outcome fields existed get them from their allocation."""

import importlib

import pytest
from django.apps import apps

from distribution import services
from donations.models import Device

from .factories import shipped_shipment

pytestmark = pytest.mark.django_db

backfill = importlib.import_module(
    "distribution.migrations.0010_backfill_delivered_outcome"
).backfill


def test_the_backfill_names_where_an_earlier_delivery_went(
    allocations, refurbisher, school_board, school_board_org, help_request
):
    shipment = shipped_shipment(allocations, by=refurbisher)
    services.shipment_confirm_delivery(shipment.pk, by=school_board, organisation=school_board_org)
    Device.objects.update(delivered_sector="", delivered_province="", delivered_target_group="")

    backfill(apps, None)

    device = Device.objects.filter(state="delivered").first()
    assert device.delivered_sector == school_board_org.sector
    assert device.delivered_target_group == help_request.target_group
    assert device.delivered_province
