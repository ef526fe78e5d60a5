"""Reads across devices, help requests, allocations and shipments, in eight rooms:

- `inputs`: what a matching run works on (ready devices, open requests), as plain rows.
- `history`: what earlier decisions tell a run (held devices, open proposals, rejections).
- `whynot`: why the latest run left a request without a device, for coordinators and, kindly,
  for the requester (`request_wait_explanation`).
- `progress`: the numbers a requesting organisation sees (`allocation_counts`,
  `queue_positions`): the same open quantities the job uses, and its priority order.
- `explain`: the plain-language reason behind one allocation.
- `whatif`: a preview run compared with the open proposals.
- `shipping`: shipments of a refurbisher or an organisation, hand-out reports, donor impact.
- `support`: the helpdesk's view of one device.
"""

from .explain import (
    allocation_explanation,
    allocation_reasons,
    device_in,
    reason_codes,
    request_in_for,
)
from .history import allocation_history
from .inputs import (
    REQUEST_FIELDS,
    DeviceRow,
    RunInputs,
    active_policy,
    allocation_inputs,
    alongside,
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
    held_annotations,
    held_counts,
    queue_positions,
    queue_positions_live,
    queue_records,
    recent_supply,
    request_delivery_state,
)
from .shipping import (
    Destination,
    DonorImpact,
    delivered_count,
    donor_impact,
    handout_requests,
    organisation_shipments,
    refurbisher_shipments,
    request_cancel_problem,
    shipment_items,
    shipment_problem_items,
    waiting_allocations,
    waiting_destinations,
)
from .support import find_device, helpdesk_device, open_follow_ups, recent_contacts
from .whatif import Comparison, ComparisonRow, RequestChange, preview_comparison
from .whynot import request_wait_explanation, unserved_text

__all__ = [
    "allocation_history",
    "request_wait_explanation",
    "unserved_text",
    "Destination",
    "DonorImpact",
    "delivered_count",
    "donor_impact",
    "find_device",
    "handout_requests",
    "helpdesk_device",
    "open_follow_ups",
    "organisation_shipments",
    "recent_contacts",
    "refurbisher_shipments",
    "request_cancel_problem",
    "shipment_items",
    "shipment_problem_items",
    "waiting_allocations",
    "waiting_destinations",
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
    "alongside",
    "allocation_reasons",
    "delivery_days",
    "device_in",
    "estimate_window",
    "held_annotations",
    "held_counts",
    "gc_paused",
    "held_per_category",
    "open_quantities",
    "preview_comparison",
    "queue_positions",
    "queue_positions_live",
    "queue_records",
    "queue_queryset",
    "queue_rows",
    "read_devices",
    "read_requests",
    "ready_devices_queryset",
    "reason_codes",
    "recent_supply",
    "request_delivery_state",
    "request_in",
    "request_in_for",
]
