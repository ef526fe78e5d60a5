"""Writes with business meaning for distribution: allocation (runs, decisions, the policy),
shipping, delivery, hand-out reports and the support line.

Split by subject (`runs`, `decisions`, `approve_sets`, `policy`, `notify`, `locks`, `shipping`,
`delivery`, `handout`, `support`); import from here.
"""

from .approve_sets import (
    allocations_approve_requests_set,
    allocations_approve_run_part_set,
    allocations_approve_run_set,
    allocations_approve_set,
    approval_parts,
    part_start,
)
from .decisions import (
    Decision,
    allocation_allocate_by_hand,
    allocations_allocate_by_hand,
    allocations_approve,
    allocations_approve_requests,
    allocations_approve_run,
    allocations_approve_run_part,
    allocations_cancel,
    allocations_reject,
    allocations_withdraw_for_request,
)
from .delivery import (
    requests_fulfil_if_complete,
    shipment_confirm_delivery,
    shipment_item_found,
    shipment_resolve_discrepancy,
)
from .handout import (
    handout_reminder_days,
    handout_reminder_send,
    handout_reminders_due,
    handout_report_save,
)
from .locks import AllocationRunBusy
from .policy import policy_current, policy_save_version
from .rejections import allocation_rejections_lift
from .runs import (
    AllocationRunFailed,
    DryRun,
    allocation_dry_run,
    allocation_request_run_soon,
    allocation_run,
)
from .shipping import (
    shipment_add_device,
    shipment_cancel,
    shipment_create,
    shipment_remove_item,
    shipment_ship,
)
from .support import (
    device_holder,
    device_return_start,
    support_contact_log,
    support_contact_resolve,
)

__all__ = [
    "AllocationRunBusy",
    "AllocationRunFailed",
    "Decision",
    "DryRun",
    "allocation_allocate_by_hand",
    "allocations_allocate_by_hand",
    "allocation_dry_run",
    "allocation_rejections_lift",
    "allocation_request_run_soon",
    "allocation_run",
    "allocations_approve",
    "allocations_approve_requests",
    "allocations_approve_run",
    "allocations_approve_run_part",
    "allocations_approve_run_part_set",
    "allocations_approve_run_set",
    "allocations_approve_requests_set",
    "allocations_approve_set",
    "allocations_cancel",
    "allocations_reject",
    "approval_parts",
    "part_start",
    "allocations_withdraw_for_request",
    "device_holder",
    "device_return_start",
    "handout_reminder_days",
    "handout_reminder_send",
    "handout_reminders_due",
    "handout_report_save",
    "policy_current",
    "policy_save_version",
    "requests_fulfil_if_complete",
    "shipment_add_device",
    "shipment_cancel",
    "shipment_confirm_delivery",
    "shipment_create",
    "shipment_item_found",
    "shipment_remove_item",
    "shipment_resolve_discrepancy",
    "shipment_ship",
    "support_contact_log",
    "support_contact_resolve",
]
