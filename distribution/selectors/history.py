"""What earlier decisions tell a run: devices held per organisation, the previous run's open
proposals (kept when nothing better comes along) and the rejections still in force."""

from __future__ import annotations

from django.db.models import Count

from ..models import Allocation, RejectionScope
from ..solver_classes import History
from .inputs import read_columns_packed


def allocation_history() -> tuple[History, set[int]]:
    """The solver's History, and the requests rejected as a whole (no proposals for now)."""
    held_by_org = dict(
        Allocation.objects.filter(
            status__in=[Allocation.Status.APPROVED, Allocation.Status.SHIPPED]
        )
        .values("request__organisation_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("request__organisation_id", "n")
    )
    columns = read_columns_packed(
        Allocation.objects.proposed().order_by().values_list("device_id", "request_id"),
        (("device", "i8"), ("request", "i8")),
    )
    previous = (columns["device"], columns["request"])
    history = History(held_by_org=held_by_org, previous=previous)
    paused: set[int] = set()
    rejections = Allocation.objects.rejections_in_force().values_list(
        "device_id", "request_id", "request__organisation_id", "rejection_scope"
    )
    for device, request, org, scope in rejections:
        if scope == RejectionScope.ORGANISATION:
            history.rejected_for_org.add((device, org))
        elif scope == RejectionScope.REQUEST:
            paused.add(request)
        history.rejected_pairs.add((device, request))
    return history, paused
