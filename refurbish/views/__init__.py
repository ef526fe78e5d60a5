"""The refurbisher's workshop pages, the donor's certificate download and the public verify page.

Every page of a refurbisher loads its donations and devices through `donation__refurbisher` /
`refurbisher` = the member's organisation, so another refurbisher's data is a 404.
"""

from .device import (
    device,
    device_erasure,
    device_find,
    device_inspection,
    device_log,
    device_recycle,
    log_job,
    log_upload,
)
from .documents import (
    certificate,
    certificate_lookup,
    certificate_verify,
    erasure_evidence,
    station_token_revoke,
    station_tokens,
)
from .workshop import (
    dashboard,
    device_list,
    donation_devices,
    intake,
    intake_complete,
    intake_undo,
    labels,
)

__all__ = [
    "certificate",
    "certificate_lookup",
    "certificate_verify",
    "dashboard",
    "device",
    "device_erasure",
    "device_find",
    "device_inspection",
    "device_list",
    "device_log",
    "device_recycle",
    "donation_devices",
    "erasure_evidence",
    "intake",
    "intake_complete",
    "intake_undo",
    "labels",
    "log_job",
    "log_upload",
    "station_token_revoke",
    "station_tokens",
]
