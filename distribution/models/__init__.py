"""The distribution app's models, in three rooms: `allocation` (policy, runs, allocations),
`shipping` (shipments, their items and history, hand-out reports) and `support` (the free
support line: contacts and returns)."""

from .allocation import (
    Allocation,
    AllocationEvent,
    AllocationQuerySet,
    AllocationRun,
    PriorityPolicy,
    QueuePlaceRecord,
    RejectionScope,
    UnservedRequest,
)
from .shipping import (
    CARRIERS_WITHOUT_TRACKING,
    Carrier,
    HandoutReminder,
    HandoutReport,
    Shipment,
    ShipmentEvent,
    ShipmentItem,
    ShipmentQuerySet,
    normalise_tracking_code,
)
from .support import DeviceReturn, SupportContact

__all__ = [
    "CARRIERS_WITHOUT_TRACKING",
    "Allocation",
    "AllocationEvent",
    "AllocationQuerySet",
    "AllocationRun",
    "Carrier",
    "DeviceReturn",
    "HandoutReminder",
    "HandoutReport",
    "PriorityPolicy",
    "RejectionScope",
    "Shipment",
    "ShipmentEvent",
    "ShipmentItem",
    "ShipmentQuerySet",
    "SupportContact",
    "QueuePlaceRecord",
    "UnservedRequest",
    "normalise_tracking_code",
]
