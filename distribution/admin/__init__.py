"""The coordinators' allocation pages: the priority policy (versions), the runs (start one now,
preview changed weights), and the allocations (explanations, approve, reject, cancel, by hand).
Every change goes through `distribution.services`; refusals are reported with `message_user`."""

from .allocations import AllocationAdmin
from .policy import PriorityPolicyAdmin
from .runs import AllocationRunAdmin

__all__ = ["AllocationAdmin", "AllocationRunAdmin", "PriorityPolicyAdmin"]
