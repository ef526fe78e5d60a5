"""Writes with business meaning for refurbishment; views, admin, the API and commands call these.

Every step that changes a device's state goes through `donations.services.device_transition`
(which writes the custody event). Steps on one device and bulk steps share the same check and
apply functions, so the rules are the same per device; a bulk step locks its rows in id order
and is all-or-nothing: when one device breaks a rule nothing changes and every refusal is listed.
"""

from .certificates import (
    certificate_issue_if_complete,
    certificate_verify_path,
    certificate_verify_url,
    new_certificate_code,
)
from .erasure import (
    ErasureInput,
    device_record_erasure,
    devices_record_erasure,
    erasure_check,
    erasure_mark_device,
    save_erasure_record,
)
from .inspection import (
    InspectionInput,
    device_mark_ready,
    device_record_inspection,
    devices_record_inspection,
    inspection_check,
)
from .intake import (
    IntakeRefused,
    IntakeResult,
    device_intake_scan,
    device_intake_undo,
    donation_intake_complete,
)
from .recycling import RecycleInput, device_recycle, devices_recycle, recycle_check
from .steps import (
    BulkStepError,
    clean_serial,
    evidence_files_removed_on_failure,
    lock_devices,
)
from .tokens import (
    TOKEN_PREFIX,
    station_token_authenticate,
    station_token_create,
    station_token_revoke,
)

__all__ = [
    "TOKEN_PREFIX",
    "BulkStepError",
    "ErasureInput",
    "InspectionInput",
    "IntakeRefused",
    "IntakeResult",
    "RecycleInput",
    "certificate_issue_if_complete",
    "certificate_verify_path",
    "certificate_verify_url",
    "clean_serial",
    "device_intake_scan",
    "device_intake_undo",
    "device_mark_ready",
    "device_record_erasure",
    "device_record_inspection",
    "device_recycle",
    "devices_record_erasure",
    "devices_record_inspection",
    "devices_recycle",
    "donation_intake_complete",
    "erasure_check",
    "erasure_mark_device",
    "evidence_files_removed_on_failure",
    "inspection_check",
    "lock_devices",
    "new_certificate_code",
    "recycle_check",
    "save_erasure_record",
    "station_token_authenticate",
    "station_token_create",
    "station_token_revoke",
]
