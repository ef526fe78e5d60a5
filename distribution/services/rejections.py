"""Lifting a rejection: the coordinators' way back from a decision that otherwise sticks."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from allemaal.models import User

from ..models import Allocation
from .locks import decisions_shared


def allocation_rejections_lift(allocation_ids: Iterable[int], *, by: User | None) -> int:
    """Lift the rejections of these rejected allocations, so that later runs may propose what
    they covered again; returns how many were lifted (already lifted ones are left alone)."""
    with transaction.atomic():
        decisions_shared()
        return (
            Allocation.objects.rejections_in_force()
            .filter(pk__in=list(allocation_ids))
            .update(rejection_lifted_at=timezone.now(), rejection_lifted_by=by)
        )
