"""Finding devices in the admin by the codes people type: a serial number or an asset tag, each
by an exact match on its unique index (see `allemaal.admin_speed.FastChangeListMixin`)."""

from __future__ import annotations

from django.db.models import Q

from .models import Device
from .vocabulary import normalise_asset_tag, normalise_serial


def asset_tag_forms(term: str) -> list[str]:
    """A tag as typed, and as printed on the label (7KQ3M-9TXR4 is stored as 7KQ3M9TXR4)."""
    return list({normalise_serial(term), normalise_asset_tag(term)} - {""})


def device_codes(prefix: str = "") -> dict:
    """`exact_search` for a device's serial number and asset tag (both on a unique index), on
    the device itself or through a relation (`prefix="device__"`)."""
    return {f"{prefix}serial_number": normalise_serial, f"{prefix}asset_tag": asset_tag_forms}


def devices_with_code(term: str):
    """Ids of the devices whose serial number or asset tag is `term` as typed (exact, on their
    unique indexes), for `any_of("device_id", ...)` on a list that points at devices."""
    return Device.objects.filter(
        Q(serial_number=normalise_serial(term)) | Q(asset_tag__in=asset_tag_forms(term))
    ).values("pk")
