"""What the reports read from the distribution app's shipping and support records.

Each function is the one place a report reads shipments, hand-out reports or support contacts;
while a model does not exist yet it answers zero or empty, so the pages work either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from django.db.models import Count


def distribution_model(name: str):
    """The distribution model called `name`, or None while it does not exist."""
    from distribution import models

    return getattr(models, name, None)


@dataclass
class OpenItems:
    """A count of open items and the oldest few, for the dashboard."""

    available: bool  # False: the records do not exist yet
    count: int = 0
    oldest: list = field(default_factory=list)


def open_discrepancies(limit: int = 5) -> OpenItems:
    """Delivered shipments with a missing or damaged device that no coordinator settled."""
    shipment = distribution_model("Shipment")
    if shipment is None:
        return OpenItems(available=False)
    open_ = shipment.objects.open_discrepancies()
    oldest = list(
        open_.select_related("organisation", "refurbisher").order_by("delivered_at", "id")[:limit]
    )
    count = len(oldest) if len(oldest) < limit else open_.count()
    return OpenItems(available=True, count=count, oldest=oldest)


def open_support_contacts(limit: int = 5) -> OpenItems:
    """Contacts with the support line that still need a follow-up."""
    contact = distribution_model("SupportContact")
    if contact is None:
        return OpenItems(available=False)
    open_ = contact.objects.filter(outcome=contact.Outcome.FOLLOW_UP)
    oldest = list(open_.select_related("device", "organisation").order_by("at", "id")[:limit])
    count = len(oldest) if len(oldest) < limit else open_.count()
    return OpenItems(available=True, count=count, oldest=oldest)


def people_reached_by_donor(donor_id: int) -> int | None:
    """People reached with this donor's devices, from the organisations' hand-out reports.

    A report counts the people one request's devices reached; each donor gets the share of
    those people that its devices delivered to that request make up, so devices of several
    donors in one hand-out split its people (the total over all donors is the reported total,
    up to rounding). None while hand-out reports do not exist yet.
    """
    report = distribution_model("HandoutReport")
    allocation = distribution_model("Allocation")
    if report is None:
        return None
    delivered = allocation.objects.filter(status=allocation.Status.DELIVERED)
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
    people = report.objects.filter(request_id__in=list(mine)).values_list(
        "request_id", "people_reached"
    )
    share = sum(
        (Fraction(reached * mine[pk], all_donors[pk]) for pk, reached in people), Fraction(0)
    )
    return round(share)
