"""The plain-language reasons behind an allocation, in Dutch or English."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import get_language

from donations.models import Device
from helprequests.models import HelpRequest

from ..models import Allocation
from ..solver_classes import (
    PROVINCES,
    Assignment,
    DeviceIn,
    Policy,
    RequestIn,
    explain,
    priority_parts,
    reasons_for,
)
from .inputs import request_in


def device_in(device: Device) -> DeviceIn:
    """Solver input for one device (its province is the province of the refurbisher holding it);
    needs `donation__refurbisher` loaded."""
    refurbisher = device.donation.refurbisher
    return DeviceIn(
        id=device.pk,
        kind=device.kind,
        grade=device.grade,
        ram_gb=device.ram_gb or 0,
        storage_gb=device.storage_gb or 0,
        province=refurbisher.province if refurbisher else "",
        refurbisher_id=refurbisher.pk if refurbisher else 0,
    )


def request_in_for(help_request: HelpRequest) -> RequestIn | None:
    """Solver input for one request (open quantities left at the approved ones)."""
    row = [
        help_request.pk,
        help_request.organisation_id,
        help_request.target_group,
        help_request.no_home_schooling,
        help_request.delivery_province,
        help_request.organisation.province,
        help_request.urgency,
        help_request.need_by,
        timezone.localdate(help_request.approved_at or timezone.now()),
        help_request.approved_laptops,
        help_request.approved_tablets,
        help_request.approved_either,
    ]
    return request_in(row)


def reason_codes(
    device: Device, help_request: HelpRequest, policy: Policy, today: date
) -> tuple[str, ...]:
    """The reason codes the job gives this pair under `policy` on `today`."""
    request = request_in_for(help_request)
    item = device_in(device)
    if request is None or item.province not in PROVINCES:
        return ()
    parts = priority_parts(request, policy, today)
    return reasons_for(parts, request, item.kind, item.grade, item.province, policy)


def allocation_reasons(allocation: Allocation, policies: dict[int, Policy] | None = None):
    """Reason codes of an allocation: stored once decided; for a proposal, derived from its
    run's policy and date (which gives what the run computed). Needs device__donation__refurbisher,
    request__organisation and run loaded; `policies` caches parsed policies by id."""
    if allocation.reasons:
        return allocation.reason_codes
    run = allocation.run
    if run is None or run.policy_id is None:
        return ()
    policies = {} if policies is None else policies
    if run.policy_id not in policies:
        policies[run.policy_id] = run.policy.policy
    today = timezone.localdate(run.started_at)
    return reason_codes(allocation.device, allocation.request, policies[run.policy_id], today)


def allocation_explanation(
    allocation: Allocation, lang: str | None = None, policies: dict[int, Policy] | None = None
) -> str:
    """The reasons of one allocation as a sentence, in Dutch or English (default: the active
    language)."""
    lang = lang or ("en" if (get_language() or "nl").startswith("en") else "nl")
    codes = allocation_reasons(allocation, policies)
    if not codes:
        return ""
    assignment = Assignment(allocation.device_id, allocation.request_id, allocation.score, codes)
    return explain(assignment, device_in(allocation.device), lang=lang)
