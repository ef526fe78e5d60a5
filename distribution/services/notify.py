"""E-mails about allocations, one per organisation per decision (never one per device).

Written to the outbox in the decision's transaction (`notify_organisation`): the requesting
organisation hears what it gets and when to expect it; the refurbisher gets the list of devices
to prepare (apparaatcodes), per destination. Each mail carries an idempotency key (kind, the
decision, the recipient), so a decision carried out again (a retried approval part) queues no
second mail: the decision is named by the caller's `part` when it has one, else by the ids of
the allocations the mail is about.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from allemaal.services import notify_organisations

from .. import selectors
from ..models import Allocation


def _grouped(allocations, owner) -> list[tuple]:
    """(owner, its allocations) pairs, by the owner's id; `owner` maps an allocation to it."""
    owners, groups = {}, {}
    for allocation in allocations:
        item = owner(allocation)
        key = item.pk if item is not None else None
        owners[key] = item
        groups.setdefault(key, []).append(allocation)
    return [(owners[key], groups[key]) for key in sorted(groups, key=lambda k: (k is None, k or 0))]


def _decision_key(kind: str, owner, allocations: list[Allocation], part: str) -> str:
    """The mail's identity without its recipient: kind, addressee and the decision."""
    what = part or ",".join(str(pk) for pk in sorted(a.pk for a in allocations))
    digest = hashlib.sha256(f"{owner.pk}|{what}".encode()).hexdigest()[:32]
    return f"{kind}:{digest}"


def _request_lines(allocations: list[Allocation]) -> list[dict]:
    lines = []
    for request, items in _grouped(allocations, lambda a: a.request):
        kinds = Counter(a.device.kind for a in items)
        lines.append(
            {
                "help_request": request,
                "url": settings.SITE_URL
                + reverse("coordination:request_detail", args=[request.pk]),
                "laptops": kinds["laptop"],
                "chromebooks": kinds["chromebook"],
                "tablets": kinds["tablet"],
                "total": len(items),
            }
        )
    return lines


def _destinations(allocations: list[Allocation]) -> list[dict]:
    lines = []
    for request, items in _grouped(allocations, lambda a: a.request):
        devices = sorted((a.device for a in items), key=lambda d: (d.asset_tag or "", d.pk))
        lines.append(
            {"help_request": request, "organisation": request.organisation, "devices": devices}
        )
    return lines


def notify_allocations_approved(allocations: list[Allocation], *, part: str = "") -> None:
    """Each organisation: what it gets and when; each refurbisher: what to prepare. Once per
    decision (`part`: the caller's name for it, e.g. a run's approval part)."""
    low, high = selectors.delivery_days()
    today = timezone.localdate()
    window = {"start": today + timedelta(days=low), "end": today + timedelta(days=high)}
    kind = "allocation_approved"
    notify_organisations(
        kind,
        [
            (
                organisation,
                {"requests": _request_lines(items), "total": len(items), **window},
                _decision_key(kind, organisation, items, part),
            )
            for organisation, items in _grouped(allocations, lambda a: a.request.organisation)
        ],
    )
    _notify_refurbishers("allocation_prepare", allocations, {}, part)


def notify_allocations_cancelled(
    allocations: list[Allocation], reason: str, *, part: str = ""
) -> None:
    """Each organisation: which devices will not come; each refurbisher: what not to send.
    Once per decision (`part` as for approvals)."""
    kind = "allocation_cancelled"
    notify_organisations(
        kind,
        [
            (
                organisation,
                {"requests": _request_lines(items), "total": len(items), "reason": reason},
                _decision_key(kind, organisation, items, part),
            )
            for organisation, items in _grouped(allocations, lambda a: a.request.organisation)
        ],
    )
    _notify_refurbishers("allocation_prepare_cancelled", allocations, {"reason": reason}, part)


def _notify_refurbishers(kind: str, allocations: list[Allocation], extra: dict, part: str) -> None:
    mails = []
    for refurbisher, items in _grouped(allocations, lambda a: a.device.donation.refurbisher):
        if refurbisher is not None:
            context = {"destinations": _destinations(items), "total": len(items), **extra}
            mails.append((refurbisher, context, _decision_key(kind, refurbisher, items, part)))
    notify_organisations(kind, mails)
