"""The coordinators' distribution pages: the priority policy (versions), the runs (start one now,
preview changed weights), the allocations (explanations, approve, reject, cancel, by hand), and
shipments (discrepancies), hand-out reports, support contacts and returns. Every change goes
through `distribution.services`; refusals are reported with `message_user`."""

from . import exports  # noqa: F401 - registers the export columns
from .allocations import AllocationAdmin
from .policy import PriorityPolicyAdmin
from .runs import AllocationRunAdmin
from .shipping import DeviceReturnAdmin, HandoutReportAdmin, ShipmentAdmin, SupportContactAdmin
from .unserved import UnservedRequestAdmin

__all__ = [
    "AllocationAdmin",
    "AllocationRunAdmin",
    "DeviceReturnAdmin",
    "HandoutReportAdmin",
    "PriorityPolicyAdmin",
    "ShipmentAdmin",
    "SupportContactAdmin",
    "UnservedRequestAdmin",
]
