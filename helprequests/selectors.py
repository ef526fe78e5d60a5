"""Reads across help requests: intake switches, duplicates and internet assignments.

The progress and queue position a requesting organisation sees come from the allocation app
and live in `coordination.selectors`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from .models import ConnectivityAssignment, HelpRequest, IntakeSwitch

# --- Intake --------------------------------------------------------------------------------


def closed_intake() -> dict[tuple[str, str], IntakeSwitch]:
    """Closed (device type, target group) pairs with their switch; a missing pair is open."""
    return {(s.device_type, s.target_group): s for s in IntakeSwitch.objects.filter(is_open=False)}


# --- Duplicates ----------------------------------------------------------------------------


def find_twin(request: HelpRequest) -> tuple[HelpRequest | None, str]:
    """An open request that may be the same need asked twice, and why ("" when none).

    The same need is the same target group, asked by the same organisation, by another
    organisation with the same BRIN code (a school registered twice, or a school and its board),
    or by another organisation for the same delivery postcode. An organisation asking for two
    different target groups is not a duplicate: the issue asks for one request per target group.
    Checked in that order; the oldest open request wins.
    """
    reason = HelpRequest.DuplicateReason
    others = (
        HelpRequest.objects.open()
        .filter(target_group=request.target_group)
        .exclude(pk=request.pk)
        .order_by("submitted_at", "id")
    )
    twin = others.filter(organisation_id=request.organisation_id).first()
    if twin:
        return twin, reason.ORGANISATION
    others = others.exclude(organisation_id=request.organisation_id)
    brin = request.organisation.brin_code
    if brin:
        twin = others.filter(organisation__brin_code=brin).first()
        if twin:
            return twin, reason.BRIN
    if request.delivery_postcode:
        twin = others.filter(delivery_postcode=request.delivery_postcode).first()
        if twin:
            return twin, reason.POSTCODE
    return None, ""


def open_request_count(organisation_id: int, *, exclude_pk: int | None = None) -> int:
    requests = HelpRequest.objects.open().filter(organisation_id=organisation_id)
    if exclude_pk is not None:
        requests = requests.exclude(pk=exclude_pk)
    return requests.count()


# --- Internet connections ------------------------------------------------------------------


def connectivity_assigned(request_ids: Iterable[int]) -> dict[int, int]:
    """Households given to a telecom provider (assigned or provided), per request id."""
    request_ids = list(request_ids)
    totals = dict.fromkeys(request_ids, 0)
    rows = (
        ConnectivityAssignment.objects.counting()
        .filter(help_request_id__in=request_ids)
        .values("help_request_id")
        .annotate(n=Sum("households"))
        .order_by()
    )
    for row in rows:
        totals[row["help_request_id"]] = row["n"]
    return totals


def with_connectivity_assigned(requests: QuerySet) -> QuerySet:
    """Annotate `connectivity_assigned` (households with a provider) in the same query."""
    assigned = (
        ConnectivityAssignment.objects.counting()
        .filter(help_request=OuterRef("pk"))
        .values("help_request")
        .annotate(n=Sum("households"))
        .values("n")
    )
    return requests.annotate(
        connectivity_assigned=Coalesce(Subquery(assigned), Value(0)),
    )


@dataclass(frozen=True)
class ProviderAssignments:
    """What a telecom provider's page lists; each list is one query."""

    open: list[ConnectivityAssignment]
    ending: list[ConnectivityAssignment]
    fulfilled: list[ConnectivityAssignment]
    fulfilled_total: int


PROVIDER_FULFILLED_SHOWN = 50


def provider_assignments(provider_id: int, *, today: date) -> ProviderAssignments:
    """A telecom provider's open assignments (oldest first), its bundles that end within the
    reminder period (soonest first) and its most recently provided connections."""
    mine = ConnectivityAssignment.objects.filter(provider_id=provider_id).select_related(
        "help_request__organisation"
    )
    fulfilled = mine.filter(status=ConnectivityAssignment.Status.FULFILLED)
    return ProviderAssignments(
        open=list(mine.open().order_by("assigned_at", "id")),
        ending=list(
            mine.bundles_ending(today, days=ConnectivityAssignment.REMINDER_DAYS).order_by(
                "bundle_ends_on", "id"
            )
        ),
        fulfilled=list(fulfilled.order_by("-fulfilled_at", "-id")[:PROVIDER_FULFILLED_SHOWN]),
        fulfilled_total=fulfilled.count(),
    )


def provider_csv_assignments(provider_id: int, *, include_fulfilled: bool) -> QuerySet:
    """The rows of a telecom provider's download: open ones first, then provided ones."""
    statuses = [ConnectivityAssignment.Status.ASSIGNED]
    if include_fulfilled:
        statuses.append(ConnectivityAssignment.Status.FULFILLED)
    return (
        ConnectivityAssignment.objects.filter(provider_id=provider_id, status__in=statuses)
        .select_related("help_request__organisation")
        .order_by("status", "assigned_at", "id")  # "assigned" before "fulfilled"
    )
