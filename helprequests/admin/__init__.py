"""The coordinators' side of help requests. Importing a module registers its admin:

- `requests`: review help requests, spot duplicates, export (decisions in `decisions`,
  change-list filters in `filters`);
- `assignments`: internet assignments of telecom providers;
- `intake`: open and close intake; `digest`: the daily digests that were sent.
"""

from .assignments import ConnectivityAssignmentAdmin
from .digest import CoordinatorDigestAdmin
from .intake import IntakeSwitchAdmin
from .requests import HelpRequestAdmin

__all__ = [
    "ConnectivityAssignmentAdmin",
    "CoordinatorDigestAdmin",
    "HelpRequestAdmin",
    "IntakeSwitchAdmin",
]
