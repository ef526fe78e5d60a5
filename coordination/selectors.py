"""Reads of downstream numbers for upstream people, each a fixed number of queries.

- The donor's impact (`donation_impact`): what its devices have done so far, from the devices,
  their custody events, their erasure records and their allocations.
- The requester's progress and queue (`request_progress`, `queue_info`): the numbers come from
  the allocation app, so that they are the same numbers the matching job works with. Each takes
  a list of requests and costs a fixed number of queries, whatever the length of the list.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from allemaal.models import Organisation
from distribution.models import Allocation
from distribution.selectors import allocation_counts, queue_positions
from donations.models import Device, DeviceEvent
from donations.outcomes import outcome_aggregates, outcome_rows
from helprequests.models import HelpRequest, TargetGroup
from refurbish.models import ErasureRecord, ErasureResult, ErasureStandard

from . import impact, sources

# --- The donor's impact --------------------------------------------------------------------


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
    # (outcome label, devices): where every unit on the donor's lists ended, or still is.
    outcomes: list[tuple[str, int]] = field(default_factory=list)

    @property
    def has_breakdown(self) -> bool:
        return bool(self.target_groups or self.provinces)


def donation_impact(donor: Organisation) -> DonationImpact:
    """The donor's impact from its devices, their custody events and their allocations."""
    devices = Device.objects.filter(donation__donor=donor).annotate(
        was_ready=Exists(
            DeviceEvent.objects.filter(device=OuterRef("pk"), to_state=Device.State.READY)
        ),
        destroyed=Exists(
            ErasureRecord.objects.filter(
                device=OuterRef("pk"),
                standard=ErasureStandard.DESTROY,
                result=ErasureResult.PASSED,
            )
        ),
    )
    per_device = devices.aggregate(
        # Announced or not received: never in our hands.
        donated=Count(
            "id", filter=~Q(state__in=[Device.State.ANNOUNCED, Device.State.NOT_RECEIVED])
        ),
        reused=Count("id", filter=Q(was_ready=True) & ~Q(state=Device.State.RECYCLED)),
        recycled=Count("id", filter=Q(state=Device.State.RECYCLED)),
        storage_destroyed=Count("id", filter=Q(state=Device.State.RECYCLED, destroyed=True)),
        **outcome_aggregates(),
    )
    counts = {key: n for key, n in per_device.items() if not key.startswith("outcome_")}
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
        # Labels as text in the active language (the pages' cache keeps them per language):
        # a lazy label costs ~0.15 ms to unpickle at every cache read.
        target_groups=[
            (str(TargetGroup(group).label), n)
            for group, n in sorted(groups, key=lambda row: order.index(row[0]))
        ],
        provinces=[(province or "", n, orgs) for province, n, orgs in provinces],
        people_reached=sources.people_reached_by_donor(donor.pk),
        delivered_laptops=totals["laptops"],
        avoided_kg=impact.avoided_kg(totals["laptops"]),
        outcomes=outcome_rows(per_device),
        **counts,
    )


# --- The requester's progress and queue ---------------------------------------------------


@dataclass(frozen=True)
class Progress:
    allocated: int = 0
    shipped: int = 0
    delivered: int = 0
    remaining: int = 0


def request_progress(requests: Iterable[HelpRequest]) -> dict[int, Progress]:
    """Devices allocated / shipped / delivered so far and still to come, per request id."""
    return progress_and_queue(list(requests), queue=False)[0]


def queue_info(requests: Sequence[HelpRequest], *, now=None) -> dict:
    """Queue place (within the target group) and expected window of each waiting request, by id,
    in the matching job's priority order under the active policy."""
    return progress_and_queue(requests, now=now)[1]


def progress_and_queue(
    requests: Sequence[HelpRequest], *, now=None, queue: bool = True
) -> tuple[dict[int, Progress], dict]:
    """`request_progress` and `queue_info` of the same loaded requests, from one reading of
    their allocations (the approved numbers are the loaded requests' own)."""
    approved = {r.pk: (r.approved_laptops, r.approved_tablets, r.approved_either) for r in requests}
    # Without the open proposals (not shown here): then every count reads an index.
    counts = allocation_counts(list(approved), proposed=False, approved=approved)
    progress = {
        pk: Progress(
            allocated=c.allocated, shipped=c.shipped, delivered=c.delivered, remaining=c.remaining
        )
        for pk, c in counts.items()
    }
    waiting = [r.pk for r in requests if r.status == HelpRequest.Status.APPROVED]
    if not (queue and waiting):
        return progress, {}
    places = queue_positions(
        waiting, now=now or timezone.now(), counts={pk: counts[pk] for pk in waiting}
    )
    return progress, places


def queue_position(request: HelpRequest) -> int | None:
    """Place in the queue of its target group (1 = next), or None when it is not in the queue."""
    info = queue_info([request]).get(request.pk)
    return info.position if info else None


def expected_window(request: HelpRequest):
    """The expected fulfilment window, or None when the request is not in the queue."""
    info = queue_info([request]).get(request.pk)
    return info.window if info else None
