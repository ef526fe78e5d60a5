"""Reads across devices, help requests and allocations, in four rooms:

- `inputs`: what a matching run works on (ready devices, open requests), as plain rows.
- `progress`: the numbers a requesting organisation sees (`allocation_counts`,
  `queue_positions`): the same open quantities the job uses, and its priority order.
- `explain`: the plain-language reason behind one allocation.
- `whatif`: a preview run compared with the open proposals.
"""

from .explain import (
    allocation_explanation,
    allocation_reasons,
    device_in,
    reason_codes,
    request_in_for,
)
from .inputs import (
    REQUEST_FIELDS,
    DeviceRow,
    RunInputs,
    active_policy,
    allocation_inputs,
    gc_paused,
    held_per_category,
    open_quantities,
    queue_queryset,
    queue_rows,
    read_devices,
    read_requests,
    ready_devices_queryset,
    request_in,
)
from .progress import (
    SUPPLY_MIN_DEVICES,
    SUPPLY_WEEKS,
    AllocationCounts,
    ExpectedWindow,
    QueuePlace,
    allocation_counts,
    delivery_days,
    estimate_window,
    queue_positions,
    recent_supply,
)
from .whatif import Comparison, ComparisonRow, RequestChange, preview_comparison

__all__ = [
    "REQUEST_FIELDS",
    "SUPPLY_MIN_DEVICES",
    "SUPPLY_WEEKS",
    "AllocationCounts",
    "Comparison",
    "ComparisonRow",
    "DeviceRow",
    "ExpectedWindow",
    "QueuePlace",
    "RequestChange",
    "RunInputs",
    "active_policy",
    "allocation_counts",
    "allocation_explanation",
    "allocation_inputs",
    "allocation_reasons",
    "delivery_days",
    "device_in",
    "estimate_window",
    "gc_paused",
    "held_per_category",
    "open_quantities",
    "preview_comparison",
    "queue_positions",
    "queue_queryset",
    "queue_rows",
    "read_devices",
    "read_requests",
    "ready_devices_queryset",
    "reason_codes",
    "recent_supply",
    "request_in",
    "request_in_for",
]
