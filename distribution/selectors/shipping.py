"""Reads of the shipping pages: what a refurbisher can send where, its shipments, an
organisation's incoming shipments and hand-out reports, and the donors' impact."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from django.db.models import Count, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from allemaal.models import Organisation
from donations.models import Device
from helprequests.models import HelpRequest, TargetGroup

from ..models import Allocation, HandoutReport, Shipment, ShipmentItem


def waiting_allocations(refurbisher: Organisation):
    """Approved allocations of devices this refurbisher holds that are in no shipment yet."""
    return Allocation.objects.filter(
        status=Allocation.Status.APPROVED,
        device__state=Device.State.ALLOCATED,
        device__donation__refurbisher=refurbisher,
    ).exclude(Q(shipment_items__isnull=False))


@dataclass
class Destination:
    """Where a refurbisher still has allocated devices to send: one organisation's address."""

    organisation_id: int
    organisation_name: str
    street: str
    postcode: str
    city: str
    devices: int
    request_id: int  # one of the requests for this address (a shipment copies its address)
    prepared: Shipment | None = None


def waiting_destinations(refurbisher: Organisation) -> list[Destination]:
    """Per organisation and delivery address: how many allocated devices wait to be shipped,
    and the shipment being packed for it, if any. Two queries."""
    rows = (
        waiting_allocations(refurbisher)
        .values(
            "request__organisation_id",
            "request__organisation__name",
            "request__delivery_street",
            "request__delivery_postcode",
            "request__delivery_city",
        )
        .annotate(devices=Count("id"), some_request=Min("request_id"))
        .order_by("request__organisation__name", "request__delivery_postcode")
    )
    prepared = {
        (s.organisation_id, s.delivery_postcode, s.delivery_street): s
        for s in Shipment.objects.filter(refurbisher=refurbisher, status=Shipment.Status.PREPARED)
    }
    destinations = []
    for row in rows:
        organisation_id = row["request__organisation_id"]
        key = (organisation_id, row["request__delivery_postcode"], row["request__delivery_street"])
        destinations.append(
            Destination(
                organisation_id=organisation_id,
                organisation_name=row["request__organisation__name"],
                street=row["request__delivery_street"],
                postcode=row["request__delivery_postcode"],
                city=row["request__delivery_city"],
                devices=row["devices"],
                request_id=row["some_request"],
                prepared=prepared.get(key),
            )
        )
    return destinations


# The columns of a list of shipments (templates/distribution/_shipment_table.html) and
# nothing else: a full row of each shipment and of its organisation (addresses, two phone
# numbers parsed per row) cost more to load than the 200 rows of the table take to render.
TABLE_COLUMNS = (
    "status",
    "created_at",
    "shipped_at",
    "carrier",
    "tracking_code",
    "has_discrepancy",
    "discrepancy_resolved_at",
)


def refurbisher_shipments(refurbisher: Organisation):
    """The refurbisher's shipments, newest first, with their item counts (one query a page)."""
    return (
        Shipment.objects.filter(refurbisher=refurbisher)
        .select_related("organisation")
        .only(*TABLE_COLUMNS, "refurbisher_id", "organisation__name")
        .with_counts()
        .order_by("-created_at", "-id")
    )


def organisation_shipments(organisation: Organisation):
    """Shipments on their way to or delivered at an organisation (not cancelled ones)."""
    return (
        Shipment.objects.filter(organisation=organisation)
        .exclude(status=Shipment.Status.CANCELLED)
        .select_related("refurbisher")
        .only(*TABLE_COLUMNS, "organisation_id", "refurbisher__name")
        .with_counts()
        .order_by("-created_at", "-id")
    )


def shipment_items(shipment: Shipment):
    return shipment.items.select_related("device", "request").order_by("pk")


def request_cancel_problem(request_id: int) -> str | None:
    """Why an organisation can no longer cancel a request: devices were already sent to it.
    (Devices only packed in a shipment do not stop it: cancelling takes them off.)"""
    sent = Allocation.objects.filter(
        request_id=request_id,
        status__in=[
            Allocation.Status.SHIPPED,
            Allocation.Status.DELIVERED,
            Allocation.Status.RETURNED,
            Allocation.Status.REPLACED,
        ],
    ).exists()
    if sent:
        return _(
            "Voor deze hulpaanvraag zijn al apparaten verzonden; annuleren kan niet meer. Neem "
            "contact op met de coördinatoren als u de apparaten niet meer nodig heeft."
        )
    return None


# --- Hand-out -------------------------------------------------------------------------------------


def handout_requests(organisation: Organisation):
    """The organisation's requests with delivered devices, each with `delivered` and its
    hand-out report (or None). One query; the count per request is a subquery on the index of
    decided allocations (a join counted with a filter read every allocation in the country)."""
    delivered = (
        Allocation.objects.filter(request=OuterRef("pk"), status=Allocation.Status.DELIVERED)
        .order_by()
        .values("request")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        HelpRequest.objects.filter(organisation=organisation)
        .annotate(delivered=Coalesce(Subquery(delivered), 0))
        .filter(delivered__gt=0)
        .select_related("handout_report")
        .order_by("-created_at", "-id")
    )


def delivered_count(request_id: int) -> int:
    return Allocation.objects.filter(
        request_id=request_id, status=Allocation.Status.DELIVERED
    ).count()


# --- Impact ---------------------------------------------------------------------------------------


@dataclass
class DonorImpact:
    """What a donor's devices have done so far; never any personal data of the people reached.

    `people_reached` shares each request's reported people over its delivered devices, so a
    donor is credited for its own devices only (the shares are added up exactly and rounded
    once, so the totals over all donors add up to what was reported, up to rounding)."""

    delivered: int = 0
    organisations: int = 0
    handed_out: int = 0
    people_reached: int = 0
    # (target group label, devices) and (province, devices, organisations) rows, largest first.
    target_groups: list[tuple[str, int]] = field(default_factory=list)
    provinces: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def has_breakdown(self) -> bool:
        return bool(self.target_groups or self.provinces)


def donor_impact(donor_id: int) -> DonorImpact:
    """Devices of the donor delivered to organisations, by target group and province, the
    organisations reached, and the people reached by hand-out reports. Four queries."""
    delivered = Allocation.objects.filter(
        status=Allocation.Status.DELIVERED, device__donation__donor_id=donor_id
    )
    rows = list(
        delivered.values(
            "request_id",
            "request__target_group",
            "request__delivery_province",
            "request__organisation_id",
            "request__organisation__province",
        )
        .annotate(n=Count("id"))
        .order_by()
    )
    if not rows:
        return DonorImpact()
    request_ids = {row["request_id"] for row in rows}
    totals = dict(
        Allocation.objects.filter(status=Allocation.Status.DELIVERED, request_id__in=request_ids)
        .values_list("request_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    reports = {r.request_id: r for r in HandoutReport.objects.filter(request_id__in=request_ids)}
    return _impact(rows, totals, reports)


def _impact(rows, totals, reports) -> DonorImpact:
    impact = DonorImpact()
    people, handed_out = Fraction(0), Fraction(0)
    groups: dict[str, int] = {}
    provinces: dict[str, list] = {}
    organisations = set()
    for row in rows:
        n = row["n"]
        impact.delivered += n
        organisations.add(row["request__organisation_id"])
        group = row["request__target_group"]
        groups[group] = groups.get(group, 0) + n
        province = (
            row["request__delivery_province"]
            or row["request__organisation__province"]
            or _("Onbekend")
        )
        entry = provinces.setdefault(province, [0, set()])
        entry[0] += n
        entry[1].add(row["request__organisation_id"])
        report = reports.get(row["request_id"])
        total = totals.get(row["request_id"], 0)
        if report is not None and total:
            people += Fraction(report.people_reached * n, total)
            handed_out += Fraction(min(report.devices_handed_out, total) * n, total)
    impact.people_reached, impact.handed_out = round(people), round(handed_out)
    impact.organisations = len(organisations)
    impact.target_groups = sorted(
        ((TargetGroup(g).label if g in TargetGroup.values else g, n) for g, n in groups.items()),
        key=lambda item: (-item[1], str(item[0])),
    )
    impact.provinces = sorted(
        ((name, n, len(orgs)) for name, (n, orgs) in provinces.items()),
        key=lambda item: (-item[1], item[0]),
    )
    return impact


def shipment_problem_items(shipment: Shipment):
    return shipment.items.filter(
        outcome__in=[ShipmentItem.Outcome.DAMAGED, ShipmentItem.Outcome.MISSING]
    ).select_related("device")
