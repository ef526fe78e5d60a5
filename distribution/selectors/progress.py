"""The numbers a requesting organisation sees: allocated, shipped, delivered and remaining per
request, its place in the queue and the expected window, from the numbers the job uses."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from allemaal.compiled import CompiledQuery
from donations.models import DeviceEvent
from donations.vocabulary import CATEGORIES, category_of
from helprequests.models import HelpRequest

from ..models import Allocation, AllocationRun, QueuePlaceRecord, ShipmentItem
from ..models.allocation import DECIDED_STATUSES
from ..solver_classes import Policy, RequestIn, request_priority
from .inputs import (
    LAPTOP,
    TABLET,
    active_policy,
    held_counts_by_category,
    open_quantities,
    queue_rows,
    request_in,
)

# Recent supply for the expected window: devices that became ready in the last SUPPLY_WEEKS weeks;
# with fewer than SUPPLY_MIN_DEVICES of them the average says too little to promise a window.
SUPPLY_WEEKS = 4
SUPPLY_MIN_DEVICES = 4


@dataclass(frozen=True)
class AllocationCounts:
    """Devices of one request by stage. `allocated` counts everything the request holds
    (approved, shipped, delivered, returned without replacement); `shipped` includes delivered;
    `proposed` awaits a coordinator; `remaining` = approved quantities minus allocated."""

    approved: int = 0
    allocated: int = 0
    shipped: int = 0
    delivered: int = 0
    proposed: int = 0
    remaining: int = 0
    open_laptops: int = 0
    open_tablets: int = 0
    open_either: int = 0


def _held_per_status(statuses: list[str]) -> CompiledQuery:
    """(request id, status, laptops, tablets) of the given requests' allocations in `statuses`:
    built and written once per number of requests (every organisation page asks it)."""
    return CompiledQuery(
        lambda ids: (
            # Named statuses, not NOT IN: the planner can then use the partial indexes.
            Allocation.objects.filter(request_id__in=ids, status__in=statuses)
            .values("request_id", "status")
            .annotate(**held_counts_by_category())
            .order_by()
        )
    )


_HELD = _held_per_status([*Allocation.COMMITTED_STATUSES])
_HELD_WITH_PROPOSED = _held_per_status([Allocation.Status.PROPOSED, *Allocation.COMMITTED_STATUSES])

# Decided allocations per request of one run (the open proposals are what it proposed minus these).
_DECIDED_OF_RUN = CompiledQuery(
    lambda ids, run_id: (
        Allocation.objects.filter(request_id__in=ids, status__in=DECIDED_STATUSES, run_id=run_id)
        .values("request_id")
        .annotate(n=Count("id"))
        .order_by()
    )
)


def allocation_counts(
    request_ids: Iterable[int],
    *,
    proposed: bool = True,
    approved: dict[int, tuple[int, int, int]] | None = None,
) -> dict[int, AllocationCounts]:
    """Allocation numbers per request id, in two queries whatever the number of requests.
    With proposed=False the open proposals are not counted (`proposed` is 0): both queries
    then use indexes only (proposals are not indexed by request: a run writes a million)."""
    ids = list(dict.fromkeys(request_ids))
    if not ids:
        return {}
    approved = (
        approved
        if approved is not None
        else {
            pk: (laptops, tablets, either)
            for pk, laptops, tablets, either in HelpRequest.objects.filter(pk__in=ids).values_list(
                "id", "approved_laptops", "approved_tablets", "approved_either"
            )
        }
    )
    counted = _HELD_WITH_PROPOSED if proposed else _HELD
    per_status: dict[int, dict[str, tuple[int, int]]] = {}
    for request_id, status, laptops, tablets in counted(ids):
        per_status.setdefault(request_id, {})[status] = (laptops, tablets)
    return {pk: _counts(approved.get(pk, (0, 0, 0)), per_status.get(pk, {})) for pk in ids}


def _counts(approved: tuple[int, int, int], by_status: dict[str, tuple[int, int]]):
    def total(*statuses):
        return sum(sum(by_status.get(s, (0, 0))) for s in statuses)

    held_laptops = sum(by_status.get(s, (0, 0))[0] for s in Allocation.COMMITTED_STATUSES)
    held_tablets = sum(by_status.get(s, (0, 0))[1] for s in Allocation.COMMITTED_STATUSES)
    return replace(
        held_counts(approved, held_laptops, held_tablets),
        shipped=total("shipped", "delivered"),
        delivered=total("delivered"),
        proposed=total("proposed"),
    )


def held_counts(
    approved: tuple[int, int, int], held_laptops: int, held_tablets: int
) -> AllocationCounts:
    """Approved, allocated and still open for one request from what it holds per category."""
    laptops, tablets, either = open_quantities(approved, held_laptops, held_tablets)
    return AllocationCounts(
        approved=sum(approved),
        allocated=held_laptops + held_tablets,
        remaining=laptops + tablets + either,
        open_laptops=laptops,
        open_tablets=tablets,
        open_either=either,
    )


def held_annotations(request_field: str = "request_id") -> dict[str, Coalesce]:
    """`held_laptops` and `held_tablets` of each row's request, as annotations: two correlated
    counts on the index of decided allocations, so a page of rows reads them in its own query."""

    def held(category: Q) -> Coalesce:
        rows = (
            Allocation.objects.committed()
            .filter(category, request_id=OuterRef(request_field))
            .order_by()
            .values("request_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Coalesce(Subquery(rows), 0)

    return {"held_laptops": held(LAPTOP), "held_tablets": held(TABLET)}


@dataclass(frozen=True)
class ExpectedWindow:
    """When the rest of a request may arrive (weeks from today), or why that is unknown."""

    devices_ahead: int  # devices still to come for the requests before it, plus its own
    ready_last_weeks: int  # matching devices that became ready in the last SUPPLY_WEEKS weeks
    weeks_low: int | None = None
    weeks_high: int | None = None
    start: date | None = None
    end: date | None = None

    @property
    def estimable(self) -> bool:
        return self.weeks_low is not None


@dataclass(frozen=True)
class QueuePlace:
    position: int  # 1 = next in line among the waiting requests of its target group
    queue_length: int  # waiting requests of its target group
    position_overall: int  # among all waiting requests, in the matching job's priority order
    window: ExpectedWindow


def queue_positions(
    request_ids: Iterable[int], *, now=None, counts: dict[int, AllocationCounts] | None = None
) -> dict[int, QueuePlace]:
    """Queue place and expected window of each waiting request in `request_ids`, by id: from
    the rows the latest completed run stored (`QueuePlaceRecord`) and the recent supply it
    counted, in a fixed number of indexed queries, whatever the size of the national queue.
    Before any run, computed from the queue itself (`queue_positions_live`). A request still
    waiting that the latest run did not place (approved since) is placed at the back of its
    group's queue as that run left it. `counts`: `allocation_counts(..., proposed=False)` of
    these requests, when the caller has read them already."""
    now = now or timezone.now()
    wanted = list(dict.fromkeys(request_ids))
    if not wanted:
        return {}
    latest = (
        AllocationRun.objects.filter(status=AllocationRun.Status.COMPLETED)
        .order_by("-id")
        .only("id", "stats")
        .first()
    )
    queue = (latest.stats or {}).get("queue") if latest else None
    if queue is None:
        return queue_positions_live(wanted, now=now)
    today = timezone.localdate(now)
    records = {r.request_id: r for r in QueuePlaceRecord.objects.filter(request_id__in=wanted)}
    if counts is None:
        counts = allocation_counts(wanted, proposed=False)
    # Open proposals are the latest run's: what it proposed minus what has been decided since.
    decided = dict(_DECIDED_OF_RUN(list(records), latest.pk)) if records else {}
    # Runs before the supply was stored beside the queue: counted now.
    supply = queue.get("supply") or recent_supply(now)
    groups = (
        dict(
            HelpRequest.objects.filter(
                pk__in=[pk for pk in wanted if pk not in records]
            ).values_list("id", "target_group")
        )
        if len(records) < len(wanted)
        else {}
    )
    places = {}
    for pk in wanted:
        count = counts.get(pk)
        if count is None or count.remaining == 0:
            continue
        record = records.get(pk)
        if record is not None:
            count = replace(count, proposed=max(0, record.proposed - decided.get(pk, 0)))
        coming = _minus_proposed(count)
        if record is not None:
            position, length, overall = (
                record.position,
                record.queue_length,
                record.position_overall,
            )
            to_come = {
                "laptop": record.to_come_laptops,
                "tablet": record.to_come_tablets,
                "either": record.to_come_either,
            }
        elif pk in groups:
            length = queue["lengths"].get(groups[pk], 0) + 1
            position, overall = length, queue["total"] + 1
            to_come = {
                c: queue["to_come"][c] + units
                for c, units in zip(("laptop", "tablet", "either"), coming, strict=True)
            }
        else:
            continue
        categories = _categories(count)
        ahead = to_come["either"] + sum(to_come[c] for c in categories)
        ready = sum(supply[c] for c in categories)
        places[pk] = QueuePlace(
            position=position,
            queue_length=length,
            position_overall=overall,
            window=estimate_window(ahead, ready, today, own_to_come=sum(coming)),
        )
    return places


def queue_records(
    requests: Iterable[RequestIn], proposed: dict[int, int], policy: Policy, today: date
) -> tuple[list[tuple[int, ...]], dict]:
    """What a run stores for the pages: per waiting request (open quantity > 0) its
    (request id, position in its group, group length, overall position, laptops, tablets and
    either still to come up to and including it), in the order `queue_positions_live` uses;
    and the totals (group lengths, queue length, devices to come) for requests placed later."""
    keyed = []
    for request in requests:
        if request.open_total <= 0:
            continue
        waited = (today - request.approved_on).days
        tier = policy.tier_of(request.target_group, request.no_home_schooling, waited)
        key = (tier, -request_priority(request, policy, today), request.approved_on, request.id)
        keyed.append((key, request))
    keyed.sort(key=lambda item: item[0])
    lengths: dict[str, int] = {}
    for _key, request in keyed:
        lengths[request.target_group] = lengths.get(request.target_group, 0) + 1
    seen: dict[str, int] = {}
    laptops = tablets = either = 0
    rows = []
    for overall, (_key, request) in enumerate(keyed, start=1):
        group = request.target_group
        seen[group] = seen.get(group, 0) + 1
        left = proposed.get(request.id, 0)
        coming = []
        for units in (request.open_laptops, request.open_tablets, request.open_either):
            taken = min(left, units)
            coming.append(units - taken)
            left -= taken
        laptops, tablets, either = laptops + coming[0], tablets + coming[1], either + coming[2]
        rows.append(
            (
                request.id,
                seen[group],
                lengths[group],
                overall,
                laptops,
                tablets,
                either,
                proposed.get(request.id, 0),
            )
        )
    totals = {
        "lengths": lengths,
        "total": len(keyed),
        "to_come": {"laptop": laptops, "tablet": tablets, "either": either},
    }
    return rows, totals


def queue_positions_live(request_ids: Iterable[int], *, now=None) -> dict[int, QueuePlace]:
    """Queue place and expected window of each waiting request in `request_ids`, by id.

    The queue is every approved request that still waits for devices (remaining > 0), in the
    matching job's order: its priority tier, then its priority under the active policy (target
    group, urgency, need-by date, waiting time), then approval date, then id. The window
    divides the devices still to come for the requests up to and including this one (remaining
    minus what is proposed, for the device types it wants) by the weekly number of such
    devices that became ready lately.
    Four queries, whatever the number of requests (queue_positions asks for the latest run
    first).
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    wanted = set(request_ids)
    if not wanted:
        return {}
    rows = queue_rows()
    # The approved quantities come with the queue's rows: one query less.
    counts = allocation_counts(
        [row[0] for row in rows], approved={row[0]: tuple(row[9:12]) for row in rows}
    )
    policy = active_policy()
    queue = []
    for row in rows:
        request = request_in(row)
        count = counts[row[0]]
        if request is None or count.remaining == 0:
            continue
        waited = (today - request.approved_on).days
        tier = policy.tier_of(request.target_group, request.no_home_schooling, waited)
        key = (tier, -request_priority(request, policy, today), request.approved_on, request.id)
        queue.append((key, request, count))
    queue.sort(key=lambda item: item[0])
    supply = recent_supply(now)
    return _places(queue, wanted, supply, today)


def _places(queue, wanted, supply, today) -> dict[int, QueuePlace]:
    group_sizes: dict[str, int] = {}
    for _key, request, _count in queue:
        group_sizes[request.target_group] = group_sizes.get(request.target_group, 0) + 1
    group_seen: dict[str, int] = {}
    to_come = {"laptop": 0, "tablet": 0, "either": 0}
    places = {}
    for overall, (_key, request, count) in enumerate(queue, start=1):
        group_seen[request.target_group] = group_seen.get(request.target_group, 0) + 1
        # What is proposed already needs no new supply; take it off "either" last.
        coming = _minus_proposed(count)
        for category, units in zip(("laptop", "tablet", "either"), coming, strict=True):
            to_come[category] += units
        if request.id not in wanted:
            continue
        categories = _categories(count)
        ahead = to_come["either"] + sum(to_come[c] for c in categories)
        ready = sum(supply[c] for c in categories)
        places[request.id] = QueuePlace(
            position=group_seen[request.target_group],
            queue_length=group_sizes[request.target_group],
            position_overall=overall,
            window=estimate_window(ahead, ready, today, own_to_come=sum(coming)),
        )
    return places


def _minus_proposed(count: AllocationCounts) -> tuple[int, int, int]:
    left = count.proposed
    result = []
    for units in (count.open_laptops, count.open_tablets, count.open_either):
        taken = min(left, units)
        result.append(units - taken)
        left -= taken
    return tuple(result)


def _categories(count: AllocationCounts) -> tuple[str, ...]:
    if count.open_either or (count.open_laptops and count.open_tablets):
        return CATEGORIES
    return ("tablet",) if count.open_tablets else ("laptop",)


def recent_supply(now=None) -> dict[str, int]:
    """Devices per category ("laptop", "tablet") that became ready in the last weeks."""
    now = now or timezone.now()
    rows = (
        DeviceEvent.objects.filter(to_state="ready", at__gte=now - timedelta(weeks=SUPPLY_WEEKS))
        .values("device__kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    supply = dict.fromkeys(CATEGORIES, 0)
    for row in rows:
        supply[category_of(row["device__kind"])] += row["n"]
    return supply


def delivery_days() -> tuple[int, int]:
    """Days from approval to delivery the organisation is told to expect (settings)."""
    return (
        int(getattr(settings, "ALLOCATION_DELIVERY_DAYS_MIN", 5)),
        int(getattr(settings, "ALLOCATION_DELIVERY_DAYS_MAX", 14)),
    )


def estimate_window(ahead: int, ready: int, today: date, *, own_to_come: int) -> ExpectedWindow:
    """Until the devices still to come for the requests ahead (and its own) have become ready at
    the recent weekly rate, plus the delivery time; in whole weeks and as dates."""
    low_days, high_days = delivery_days()
    if own_to_come == 0:
        # Everything it still needs is proposed: only approval and delivery are left.
        waiting_low = waiting_high = 0
        ahead = 0
    elif ready < SUPPLY_MIN_DEVICES:
        return ExpectedWindow(devices_ahead=ahead, ready_last_weeks=ready)
    else:
        weeks = ahead / (ready / SUPPLY_WEEKS)
        waiting_low, waiting_high = math.floor(weeks * 7), math.ceil(weeks * 7)
    first, last = waiting_low + low_days, waiting_high + high_days
    return ExpectedWindow(
        devices_ahead=ahead,
        ready_last_weeks=ready,
        weeks_low=first // 7,
        weeks_high=max(1, math.ceil(last / 7)),
        start=today + timedelta(days=first),
        end=today + timedelta(days=last),
    )


# A request's allocations per status, of those that left the refurbisher or hold its place.
# Replaced too: a unit lost on the way or returned for a replacement also left the refurbisher,
# though it no longer holds the request's place.
_LEFT_PER_STATUS = CompiledQuery(
    lambda request_id: (
        Allocation.objects.filter(
            request_id=request_id,
            status__in=[*Allocation.COMMITTED_STATUSES, Allocation.Status.REPLACED],
        )
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
)


# A request's damaged and missing units in shipments whose discrepancy is still open.
_OPEN_PROBLEMS = CompiledQuery(
    lambda request_id: (
        ShipmentItem.objects.filter(
            request_id=request_id,
            outcome__in=[ShipmentItem.Outcome.DAMAGED, ShipmentItem.Outcome.MISSING],
            shipment__has_discrepancy=True,
            shipment__discrepancy_resolved_at__isnull=True,
        )
        .values("outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
)


@dataclass(frozen=True)
class DeliveryState:
    """What an approved request has received and what is still to come, for its organisation.

    `started` once any device left the refurbisher for it (then cancelling no longer makes
    sense); `explanation` says in plain words why the request is still open, or is empty."""

    started: bool
    explanation: str


def request_delivery_state(help_request: HelpRequest) -> DeliveryState:
    """Delivered (well or damaged), missing, on the way and still to allocate for one request,
    with the open shipment problems that keep it open."""
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    S = Allocation.Status
    statuses = dict(_LEFT_PER_STATUS(help_request.pk))
    problems = dict(_OPEN_PROBLEMS(help_request.pk))
    delivered = statuses.get(S.DELIVERED, 0) + statuses.get(S.RETURNED, 0)
    shipped = statuses.get(S.SHIPPED, 0) - problems.get(ShipmentItem.Outcome.MISSING, 0)
    started = bool(delivered or statuses.get(S.SHIPPED) or statuses.get(S.REPLACED))
    if help_request.status != HelpRequest.Status.APPROVED or not started:
        return DeliveryState(started=started, explanation="")
    damaged = problems.get(ShipmentItem.Outcome.DAMAGED, 0)
    missing = problems.get(ShipmentItem.Outcome.MISSING, 0)
    total = help_request.approved_devices
    parts = [
        _("%(ok)d van %(total)d apparaten zijn in orde afgeleverd.")
        % {"ok": delivered - damaged, "total": total}
    ]
    if damaged:
        parts.append(
            ngettext(
                "%(n)d apparaat is beschadigd gemeld; een coördinator regelt vervanging.",
                "%(n)d apparaten zijn beschadigd gemeld; een coördinator regelt vervanging.",
                damaged,
            )
            % {"n": damaged}
        )
    if missing:
        parts.append(
            ngettext(
                "%(n)d apparaat ontbreekt; een coördinator zoekt het uit.",
                "%(n)d apparaten ontbreken; een coördinator zoekt het uit.",
                missing,
            )
            % {"n": missing}
        )
    if shipped > 0:
        parts.append(
            ngettext("%(n)d apparaat is onderweg.", "%(n)d apparaten zijn onderweg.", shipped)
            % {"n": shipped}
        )
    waiting = total - sum(n for status, n in statuses.items() if status != S.REPLACED)
    if waiting > 0:
        parts.append(
            ngettext(
                "%(n)d apparaat krijgt u nog toegewezen.",
                "%(n)d apparaten krijgt u nog toegewezen.",
                waiting,
            )
            % {"n": waiting}
        )
    parts.append(_("Daarom staat uw aanvraag nog op goedgekeurd."))
    return DeliveryState(started=True, explanation=" ".join(parts))
