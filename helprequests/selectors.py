"""Reads across help requests, devices and (later) allocations.

The numbers an organisation sees on its dashboard live here so that allocation (the distribution
app) can plug its own in: `request_progress` (allocated / shipped / delivered so far) and
`queue_info` (queue position and expected fulfilment window). Each takes a list of requests and
costs a fixed number of queries, whatever the length of the list.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count
from django.utils import timezone

from donations.models import DeviceEvent, DeviceKind

from .models import HelpRequest, IntakeSwitch

# Recent supply: devices that became ready for use in the last SUPPLY_WEEKS weeks. With fewer
# than SUPPLY_MIN_EVENTS such devices the weekly average says too little to promise a window.
SUPPLY_WEEKS = 4
SUPPLY_MIN_EVENTS = 4
URGENCY_RANK = {"high": 0, "normal": 1, "low": 2}
# A laptop need is also met by a Chromebook (the same rule as the allocation solver).
CATEGORY_OF_KIND = {
    DeviceKind.LAPTOP: "laptop",
    DeviceKind.CHROMEBOOK: "laptop",
    DeviceKind.TABLET: "tablet",
}


# --- Progress ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    allocated: int = 0
    shipped: int = 0
    delivered: int = 0


def request_progress(requests: Iterable[HelpRequest]) -> dict[int, Progress]:
    """Devices allocated / shipped / delivered so far, per request id.

    Allocation (issue 6) does not exist yet, so every count is 0. The distribution app replaces
    this body with one grouped query over its allocations (by status, per request).
    """
    return {r.pk: Progress() for r in requests}


# --- Queue position and expected window ----------------------------------------------------


@dataclass(frozen=True)
class OpenNeed:
    """What an approved request still waits for, per category."""

    laptops: int
    tablets: int
    either: int

    @property
    def total(self) -> int:
        return self.laptops + self.tablets + self.either

    @property
    def categories(self) -> frozenset[str]:
        wanted = set()
        if self.laptops or self.either:
            wanted.add("laptop")
        if self.tablets or self.either:
            wanted.add("tablet")
        return frozenset(wanted)

    def for_categories(self, categories: frozenset[str]) -> int:
        """Units of this need that devices of `categories` could fill."""
        return (
            (self.laptops if "laptop" in categories else 0)
            + (self.tablets if "tablet" in categories else 0)
            + self.either
        )


@dataclass(frozen=True)
class Window:
    """The expected fulfilment window, or why it cannot be estimated (`weeks_low` is None)."""

    devices_ahead: int  # open devices of the requests before it, plus its own
    ready_last_weeks: int  # matching devices that became ready in the last SUPPLY_WEEKS weeks
    weeks_low: int | None = None
    weeks_high: int | None = None
    start: date | None = None
    end: date | None = None

    @property
    def estimable(self) -> bool:
        return self.weeks_low is not None

    @property
    def weekly_supply(self) -> float:
        return self.ready_last_weeks / SUPPLY_WEEKS


@dataclass(frozen=True)
class QueueInfo:
    position: int  # 1 = next in line within its target group
    queue_length: int
    window: Window


def open_need(request, progress: Progress) -> OpenNeed:
    """Approved quantities minus what is allocated already.

    Allocation does not exist yet (allocated is always 0); until it reports per category, an
    allocated device is taken off "either" first, then laptops, then tablets.
    """
    left = progress.allocated
    counts = []
    for approved in (request.approved_either, request.approved_laptops, request.approved_tablets):
        taken = min(left, approved)
        counts.append(approved - taken)
        left -= taken
    either, laptops, tablets = counts
    return OpenNeed(laptops=laptops, tablets=tablets, either=either)


def priority_key(request) -> tuple:
    """The simple queue order until allocation's priority policy exists: pupils without access
    to home schooling first, then urgency, then the need-by date, then the approval time."""
    return (
        not request.no_home_schooling,
        URGENCY_RANK[request.urgency],
        request.need_by or date.max,
        request.approved_at,
        request.pk,
    )


def recent_supply(now=None) -> dict[str, int]:
    """Devices per category ("laptop", "tablet") that became ready in the last weeks."""
    now = now or timezone.now()
    rows = (
        DeviceEvent.objects.filter(to_state="ready", at__gte=now - timedelta(weeks=SUPPLY_WEEKS))
        .values("device__kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    supply = {"laptop": 0, "tablet": 0}
    for row in rows:
        supply[CATEGORY_OF_KIND[row["device__kind"]]] += row["n"]
    return supply


def estimate_window(devices_ahead: int, ready: int, today: date) -> Window:
    """Divide the devices ahead (plus its own) by the recent weekly supply of matching kinds."""
    if ready < SUPPLY_MIN_EVENTS:
        return Window(devices_ahead=devices_ahead, ready_last_weeks=ready)
    weeks = devices_ahead / (ready / SUPPLY_WEEKS)
    low, high = math.floor(weeks), math.ceil(weeks) + 1
    return Window(
        devices_ahead=devices_ahead,
        ready_last_weeks=ready,
        weeks_low=low,
        weeks_high=high,
        start=today + timedelta(weeks=low),
        end=today + timedelta(weeks=high),
    )


class _QueueRow:
    """The fields of an approved request that its place in the queue depends on."""

    FIELDS = (
        "id",
        "target_group",
        "no_home_schooling",
        "urgency",
        "need_by",
        "approved_at",
        "approved_laptops",
        "approved_tablets",
        "approved_either",
    )

    def __init__(self, values: dict):
        self.pk = values["id"]
        for name in self.FIELDS[1:]:
            setattr(self, name, values[name])


def queue_info(requests: Sequence[HelpRequest], *, now=None) -> dict[int, QueueInfo]:
    """Queue position and expected window of each approved request in `requests`, by id.

    The queue is per target group: approved, not yet fulfilled requests ordered by
    `priority_key`. Two queries, whatever the number of requests.
    """
    now = now or timezone.now()
    groups = {r.target_group for r in requests if r.status == HelpRequest.Status.APPROVED}
    if not groups:
        return {}
    rows = [
        _QueueRow(values)
        for values in HelpRequest.objects.in_queue()
        .filter(target_group__in=groups)
        .values(*_QueueRow.FIELDS)
    ]
    progress = request_progress(rows)
    supply = recent_supply(now)
    today = timezone.localdate(now)
    wanted = {r.pk for r in requests}
    result = {}
    for group in groups:
        queue = sorted((r for r in rows if r.target_group == group), key=priority_key)
        needs = [open_need(r, progress[r.pk]) for r in queue]
        for index, row in enumerate(queue):
            if row.pk not in wanted:
                continue
            categories = needs[index].categories
            ahead = sum(need.for_categories(categories) for need in needs[: index + 1])
            ready = sum(supply[c] for c in categories)
            result[row.pk] = QueueInfo(
                position=index + 1,
                queue_length=len(queue),
                window=estimate_window(ahead, ready, today),
            )
    return result


def queue_position(request: HelpRequest) -> int | None:
    """Place in the queue of its target group (1 = next), or None when it is not in the queue."""
    info = queue_info([request]).get(request.pk)
    return info.position if info else None


def expected_window(request: HelpRequest) -> Window | None:
    """The expected fulfilment window, or None when the request is not in the queue."""
    info = queue_info([request]).get(request.pk)
    return info.window if info else None


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
