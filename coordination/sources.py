"""What the reports read from the distribution app's shipping and support records: the one
place a report reads shipments, hand-out reports or support contacts."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from django.db.models import Count


@dataclass
class OpenItems:
    """A count of open items and the oldest few, for the dashboard."""

    count: int = 0
    oldest: list = field(default_factory=list)


def open_discrepancies(limit: int = 5) -> OpenItems:
    """Delivered shipments with a missing or damaged device that no coordinator settled."""
    from distribution.models import Shipment

    open_ = Shipment.objects.open_discrepancies()
    oldest = list(
        open_.select_related("organisation", "refurbisher").order_by("delivered_at", "id")[:limit]
    )
    count = len(oldest) if len(oldest) < limit else open_.count()
    return OpenItems(count=count, oldest=oldest)


def open_support_contacts(limit: int = 5) -> OpenItems:
    """Contacts with the support line that still need a follow-up."""
    from distribution.models import SupportContact

    open_ = SupportContact.objects.filter(outcome=SupportContact.Outcome.FOLLOW_UP)
    oldest = list(open_.select_related("device", "organisation").order_by("at", "id")[:limit])
    count = len(oldest) if len(oldest) < limit else open_.count()
    return OpenItems(count=count, oldest=oldest)


def people_reached_by_donor(donor_id: int) -> int | None:
    """People reached with this donor's devices, from the organisations' hand-out reports.

    A report counts the people one request's devices reached; each donor gets the share of
    those people that its devices delivered to that request make up, so devices of several
    donors in one hand-out split its people (the total over all donors is the reported total,
    up to rounding). None while none of those requests has reported its hand-out.
    """
    from distribution.models import Allocation, HandoutReport

    delivered = Allocation.objects.filter(status=Allocation.Status.DELIVERED)
    mine = dict(
        delivered.filter(device__donation__donor_id=donor_id)
        .values_list("request_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    if not mine:
        return 0
    all_donors = dict(
        delivered.filter(request_id__in=list(mine))
        .values_list("request_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    people = list(
        HandoutReport.objects.filter(request_id__in=list(mine)).values_list(
            "request_id", "people_reached"
        )
    )
    if not people:
        return None
    share = sum(
        (Fraction(reached * mine[pk], all_donors[pk]) for pk, reached in people), Fraction(0)
    )
    return round(share)
