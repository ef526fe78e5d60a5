"""Reads of the helpdesk pages: find a device by asset tag or serial number, and everything an
agent needs on the phone about it, in a fixed number of queries."""

from __future__ import annotations

from donations.models import Device, DeviceEvent
from donations.vocabulary import normalise_serial
from refurbish.models import DeviceInspection, ErasureRecord, ErasureResult

from ..models import Allocation, DeviceReturn, ShipmentItem, SupportContact


def find_device(*, asset_tag: str = "", serial: str = "") -> Device | None:
    """The device with this (validated, canonical) asset tag, or else this serial number in
    any spelling (`normalise_serial`)."""
    if asset_tag:
        device = Device.objects.filter(asset_tag=asset_tag).first()
        if device is not None:
            return device
    if serial:
        return Device.objects.filter(serial_number=normalise_serial(serial)).first()
    return None


def helpdesk_device(device: Device) -> dict:
    """What the helpdesk page shows about one device: where it came from and went, its last
    allocation and shipment, its erasure and test, its history, contacts and returns."""
    device = Device.objects.select_related("donation__donor", "donation__refurbisher").get(
        pk=device.pk
    )
    allocation = (
        Allocation.objects.filter(device=device)
        .exclude(status__in=[Allocation.Status.PROPOSED, Allocation.Status.REJECTED])
        .select_related("request__organisation")
        .order_by("-pk")
        .first()
    )
    item = None
    if allocation is not None:
        item = (
            ShipmentItem.objects.filter(allocation=allocation)
            .select_related("shipment__refurbisher")
            .first()
        )
    return {
        "device": device,
        "allocation": allocation,
        "shipment_item": item,
        "erasure": ErasureRecord.objects.filter(device=device, result=ErasureResult.PASSED)
        .prefetch_related("drives")
        .order_by("-created_at", "-id")
        .first(),
        "inspection": DeviceInspection.objects.filter(device=device).order_by("-at", "-id").first(),
        "events": list(
            DeviceEvent.objects.filter(device=device)
            .select_related("by", "organisation")
            .order_by("at", "id")
        ),
        "contacts": list(
            SupportContact.objects.filter(device=device)
            .select_related("by", "resolved_by", "organisation")
            .order_by("-at", "-id")
        ),
        "returns": list(
            DeviceReturn.objects.filter(device=device)
            .select_related("organisation", "refurbisher", "by")
            .order_by("-at", "-id")
        ),
        "can_return": device.state in (Device.State.SHIPPED, Device.State.DELIVERED)
        and allocation is not None
        and allocation.status in (Allocation.Status.SHIPPED, Allocation.Status.DELIVERED),
    }


def open_follow_ups(limit: int = 100):
    """Contacts that need a follow-up, oldest first (one query)."""
    return (
        SupportContact.objects.filter(outcome=SupportContact.Outcome.FOLLOW_UP)
        .select_related("device", "organisation", "by")
        .order_by("at", "id")[:limit]
    )


def recent_contacts(limit: int = 20):
    return SupportContact.objects.select_related(
        "device", "organisation", "by", "device_return"
    ).order_by("-at", "-id")[:limit]
