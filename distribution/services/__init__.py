"""Writes with business meaning for allocation: runs, decisions, the policy.

Split by subject (`runs`, `decisions`, `policy`, `notify`, `locks`); import from here.
"""

from .decisions import (
    Decision,
    allocation_allocate_by_hand,
    allocations_approve,
    allocations_approve_requests,
    allocations_approve_run,
    allocations_approve_run_part,
    allocations_cancel,
    allocations_reject,
    allocations_withdraw_for_request,
)
from .locks import AllocationRunBusy
from .policy import policy_current, policy_save_version
from .runs import (
    AllocationRunFailed,
    DryRun,
    allocation_dry_run,
    allocation_request_run_soon,
    allocation_run,
)

__all__ = [
    "AllocationRunBusy",
    "AllocationRunFailed",
    "Decision",
    "DryRun",
    "allocation_allocate_by_hand",
    "allocation_dry_run",
    "allocation_request_run_soon",
    "allocation_run",
    "allocations_approve",
    "allocations_approve_requests",
    "allocations_approve_run",
    "allocations_approve_run_part",
    "allocations_cancel",
    "allocations_reject",
    "allocations_withdraw_for_request",
    "policy_current",
    "policy_save_version",
]
