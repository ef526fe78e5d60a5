"""Reads for the donor's and the refurbisher's pages, each a fixed number of queries."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf

from allemaal.models import Organisation

from .models import Device, DeviceEvent, Donation, DonationEvent

D = Donation.Status
# The normal road of a donation; cancelled and declined end it early.
DONATION_ROAD = [D.PLEDGED, D.SCHEDULED, D.COLLECTED, D.RECEIVED, D.PROCESSED]
DEVICE_STATES = list(Device.State)


def donor_donations(donor: Organisation) -> QuerySet:
    """The donor's donations, newest first, with refurbisher and history in two extra queries."""
    return (
        Donation.objects.filter(donor=donor)
        .select_related("refurbisher", "erasure_certificate")
        .prefetch_related(
            Prefetch("events", queryset=DonationEvent.objects.order_by("at", "id")),
        )
        .order_by("-created_at", "-id")
    )


def device_counts(donation_ids) -> dict[int, dict[str, int]]:
    """Devices per state for each donation, in one aggregate query for all of them."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        Device.objects.filter(donation_id__in=list(donation_ids))
        .order_by()
        .values_list("donation_id", "state")
        .annotate(n=Count("id"))
    )
    for donation_id, state, n in rows:
        counts[donation_id][state] = n
    return counts


def with_device_counts(donations) -> list[Donation]:
    """Attach `device_counts` (a row per state, in lifecycle order) and the total to each."""
    donations = list(donations)
    counts = device_counts(d.pk for d in donations)
    for donation in donations:
        mine = counts.get(donation.pk, {})
        donation.device_counts = [
            {"state": state, "label": state.label, "n": mine.get(state, 0)}
            for state in DEVICE_STATES
        ]
        donation.device_total = sum(mine.values())
    return donations


def donation_timeline(donation: Donation) -> list[dict]:
    """The steps of a donation's road, each done / current / to come, with the date reached.

    Uses the prefetched `events`; a cancelled or declined donation ends at that step.
    """
    reached = {}
    for event in donation.events.all():
        reached.setdefault(event.to_status, event.at)
    if donation.status in (D.CANCELLED, D.DECLINED):
        road = [s for s in DONATION_ROAD if s in reached] + [donation.status]
    else:
        road = DONATION_ROAD
    current = road.index(donation.status)
    return [
        {
            "status": status,
            "label": D(status).label,
            "at": reached.get(status),
            "state": "done" if i < current else "current" if i == current else "todo",
        }
        for i, status in enumerate(road)
    ]


@dataclass
class DonationImpact:
    """What a donor's devices have done so far; counts only, never data of people reached."""

    delivered: int
    donated: int = 0  # in our hands: received by a refurbisher, whatever happened next
    reused: int = 0  # made ready for a second life and not recycled since
    recycled: int = 0
    storage_destroyed: int = 0  # of the recycled: storage physically destroyed
    organisations: int = 0
    # (target group label, devices) and (province, devices, organisations) rows.
    target_groups: list[tuple[str, int]] = field(default_factory=list)
    provinces: list[tuple[str, int, int]] = field(default_factory=list)
    people_reached: int | None = None  # None while there are no hand-out reports
    delivered_laptops: int = 0  # laptops and Chromebooks, for the emission estimate
    avoided_kg: int = 0

    @property
    def has_breakdown(self) -> bool:
        return bool(self.target_groups or self.provinces)


def donation_impact(donor: Organisation) -> DonationImpact:
    """The donor's impact from its devices, their custody events and their allocations."""
    from allemaal.reporting import impact, sources
    from distribution.models import Allocation
    from helprequests.models import TargetGroup
    from refurbish.models import ErasureRecord, ErasureResult, ErasureStandard

    S = Device.State
    devices = Device.objects.filter(donation__donor=donor).annotate(
        was_ready=Exists(DeviceEvent.objects.filter(device=OuterRef("pk"), to_state=S.READY)),
        destroyed=Exists(
            ErasureRecord.objects.filter(
                device=OuterRef("pk"),
                standard=ErasureStandard.DESTROY,
                result=ErasureResult.PASSED,
            )
        ),
    )
    counts = devices.aggregate(
        donated=Count("id", filter=~Q(state=S.ANNOUNCED)),
        reused=Count("id", filter=Q(was_ready=True) & ~Q(state=S.RECYCLED)),
        recycled=Count("id", filter=Q(state=S.RECYCLED)),
        storage_destroyed=Count("id", filter=Q(state=S.RECYCLED, destroyed=True)),
    )
    delivered = Allocation.objects.filter(
        status=Allocation.Status.DELIVERED, device__donation__donor=donor
    ).annotate(
        province=Coalesce(
            NullIf("request__delivery_province", Value("")), "request__organisation__province"
        )
    )
    totals = delivered.aggregate(
        n=Count("id"),
        organisations=Count("request__organisation", distinct=True),
        laptops=Count("id", filter=Q(device__kind__in=impact.EMISSION_KINDS)),
    )
    groups = delivered.values_list("request__target_group").annotate(n=Count("id")).order_by()
    provinces = (
        delivered.values_list("province")
        .annotate(n=Count("id"), organisations=Count("request__organisation", distinct=True))
        .order_by("province")
    )
    order = [g.value for g in TargetGroup]
    return DonationImpact(
        delivered=totals["n"],
        organisations=totals["organisations"],
        target_groups=[
            (TargetGroup(group).label, n)
            for group, n in sorted(groups, key=lambda row: order.index(row[0]))
        ],
        provinces=[(province or "", n, orgs) for province, n, orgs in provinces],
        people_reached=sources.people_reached_by_donor(donor.pk),
        delivered_laptops=totals["laptops"],
        avoided_kg=impact.avoided_kg(totals["laptops"]),
        **counts,
    )


def refurbisher_pickups(refurbisher: Organisation) -> QuerySet:
    """The donations assigned to a refurbisher: still to collect or count first, then done."""
    return (
        Donation.objects.filter(refurbisher=refurbisher)
        .exclude(status__in=[D.CANCELLED, D.DECLINED])
        .select_related("donor")
        .order_by("pickup_date", "id")
    )


OPEN_PICKUP_STATUSES = [D.SCHEDULED, D.COLLECTED]
