"""What-if: a preview run with other weights, compared with the open proposals."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from helprequests.models import HelpRequest, TargetGroup

from ..models import Allocation
from ..solver_classes import PROVINCES


@dataclass(frozen=True)
class ComparisonRow:
    label: str
    current: int
    preview: int

    @property
    def difference(self) -> int:
        return self.preview - self.current


@dataclass(frozen=True)
class RequestChange:
    help_request: HelpRequest
    current: int
    preview: int

    @property
    def difference(self) -> int:
        return self.preview - self.current


@dataclass
class Comparison:
    by_group: list[ComparisonRow]
    by_province: list[ComparisonRow]
    gains: list[RequestChange]
    losses: list[RequestChange]
    requests_gaining: int
    requests_losing: int
    current_total: int
    preview_total: int


def preview_comparison(preview: dict[int, int], *, shown: int = 25) -> Comparison:
    """How a preview (devices per request id) differs from the open proposals: devices per
    target group and per province of the request, and the requests that gain or lose most."""
    current = dict(
        Allocation.objects.proposed()
        .values("request_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("request_id", "n")
    )
    proposed_requests = Allocation.objects.proposed().values("request_id")
    meta = {
        pk: (group, delivery or org_province)
        for pk, group, delivery, org_province in HelpRequest.objects.filter(
            Q(status=HelpRequest.Status.APPROVED) | Q(pk__in=proposed_requests)
        ).values_list("id", "target_group", "delivery_province", "organisation__province")
    }
    groups = {value: str(label) for value, label in TargetGroup.choices}
    by_group = {value: [0, 0] for value in groups}
    by_province = {province: [0, 0] for province in PROVINCES}
    for column, counts in enumerate((current, preview)):
        for pk, units in counts.items():
            group, province = meta.get(pk, ("other", ""))
            by_group.setdefault(group, [0, 0])[column] += units
            by_province.setdefault(province or "?", [0, 0])[column] += units
    changes = {pk: preview.get(pk, 0) - current.get(pk, 0) for pk in set(current) | set(preview)}
    gaining = sorted((pk for pk, d in changes.items() if d > 0), key=lambda pk: (-changes[pk], pk))
    losing = sorted((pk for pk, d in changes.items() if d < 0), key=lambda pk: (changes[pk], pk))
    shown_ids = gaining[:shown] + losing[:shown]
    requests = HelpRequest.objects.select_related("organisation").in_bulk(shown_ids)

    def change(pk):
        return RequestChange(requests[pk], current.get(pk, 0), preview.get(pk, 0))

    return Comparison(
        by_group=[ComparisonRow(groups.get(g, g), *c) for g, c in by_group.items() if any(c)],
        by_province=[ComparisonRow(p, *c) for p, c in by_province.items() if any(c)],
        gains=[change(pk) for pk in gaining[:shown] if pk in requests],
        losses=[change(pk) for pk in losing[:shown] if pk in requests],
        requests_gaining=len(gaining),
        requests_losing=len(losing),
        current_total=sum(current.values()),
        preview_total=sum(preview.values()),
    )
