"""Writes with business meaning for help requests; views, admin and tasks call these.

- `rules`: who may ask, the limits, what a complete request holds, whether intake is open;
- `requests`: create, edit, and every status change of a help request;
- `digest`: the coordinators' daily digest of new requests;
- `connectivity`: the internet connections of a request (telecom providers).
"""

from allemaal.services import DomainError

from . import connectivity
from .digest import helprequest_send_coordinator_digest
from .requests import (
    helprequest_approve,
    helprequest_cancel,
    helprequest_close,
    helprequest_close_rest,
    helprequest_create,
    helprequest_fulfil,
    helprequest_lock,
    helprequest_reject,
    helprequest_reopen,
    helprequest_submit,
    helprequest_update,
)
from .rules import (
    REQUEST_FIELDS,
    REQUIRED_TO_SUBMIT,
    check_can_request,
    check_complete,
    check_open_limit,
    device_limit_error,
    intake_errors,
    max_devices,
    max_open_requests,
)

__all__ = [
    "REQUEST_FIELDS",
    "REQUIRED_TO_SUBMIT",
    "DomainError",
    "check_can_request",
    "check_complete",
    "check_open_limit",
    "connectivity",
    "device_limit_error",
    "helprequest_approve",
    "helprequest_cancel",
    "helprequest_close_rest",
    "helprequest_close",
    "helprequest_create",
    "helprequest_fulfil",
    "helprequest_lock",
    "helprequest_reject",
    "helprequest_reopen",
    "helprequest_send_coordinator_digest",
    "helprequest_submit",
    "helprequest_update",
    "intake_errors",
    "max_devices",
    "max_open_requests",
]
