"""Which ready device goes to which approved help request: an optimal, deterministic allocation.

Pure Python + OR-Tools, no Django. The objective (OBJECTIVE.md) is lexicographic: first the
units within each tier's reserved share of the run, then the units per priority tier from the
first tier down (a device goes to a lower tier only when no higher-tier request can use it),
then the units within the organisations' fair shares, then all units (no usable device stays
idle while a request it fits has room), then the sum of score(device, request) = priority +
fit, then the previous run's open proposals kept, then earlier approval. All of it is one
min-cost maximum flow with one multiplier per level (`_scales`, proof in `_Graph`).

`solve` is the one to call. It groups devices into classes that keep every distinction the score
and the rules make (kind, grade, province, which target groups' rules the device meets, which
requests it was rejected for) and routes them through one hub per (province, target group,
category) to the requests, then to their outlet: a share node per (organisation, tier) when the
organisation's demand exceeds its share, a tier node when the tier has a reserve, or the sink.
Because a pair's score splits into a part that depends only on (device class, hub) and a part
that depends only on the request, this small graph has exactly the optimum of the full device x
request graph; it is exact, not an approximation.

`solve_exact` builds that full graph literally (every device class to every request slot it may
fill) and is the reference the tests and the benchmark compare `solve` against.

Inputs are sorted by id before the graph is built and OR-Tools is deterministic, so the same
input, in any order, gives the same output. Within a class, devices go first to the request the
previous run proposed them to, then grouped by refurbisher and by id, so one request's devices
tend to come from few refurbishers.
"""

from __future__ import annotations

import functools
import gc
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from time import perf_counter

import numpy as np
from ortools.graph.python import min_cost_flow

from donations.vocabulary import CATEGORIES, CATEGORY_OF_KIND

from .solver_arrays import (
    GRADE_ORDER,
    KIND_ORDER,
    DeviceArrays,
    dense_ranks,
    group_starts,
    lookup,
    sort_rows,
    unique_rows,
)
from .solver_classes import (
    NEIGHBOURS,
    PROVINCES,
    TARGET_GROUPS,
    URGENCIES,
    Assignment,
    Deferred,
    DeviceIn,
    History,
    Policy,
    PriorityParts,
    Proposals,
    RequestIn,
    Solution,
    Unserved,
    device_fit,
    explain,
    meets_rules,
    pair_score,
    priority_parts,
    reasons_for,
    region_relation,
    request_priority,
)
from .solver_queue import RequestColumns, priorities, tiers
from .solver_whynot import ORDER_BITS, why_not

__all__ = [
    "NEIGHBOURS",
    "PROVINCES",
    "Assignment",
    "DeviceIn",
    "History",
    "Policy",
    "RequestIn",
    "Solution",
    "explain",
    "pair_score",
    "request_priority",
    "solve",
    "solve_exact",
]

SOURCE, SINK = 0, 1
_ID = attrgetter("id")
# OR-Tools refuses arc costs above int64_max / (2 * (nodes + 1)) (it scales costs by nodes + 1).
_COST_LIMIT = 2**62


@dataclass(slots=True)
class _DeviceClass:
    kind: str
    grade: str
    province: str
    # The class's devices as positions in _Prepared.devices, in hand-out order.
    positions: np.ndarray
    sample: DeviceIn  # its first device: every rule and score is the same for all of them
    eligible_groups: frozenset[str] = frozenset()
    # Open requests these devices must not go to (rejected for the request or its organisation).
    forbidden: frozenset[int] = frozenset()
    previous: int = 0  # solve_exact only: the request all these devices were proposed to before

    @property
    def category(self) -> str:
        return CATEGORY_OF_KIND[self.kind]

    @property
    def size(self) -> int:
        return len(self.positions)


@dataclass(slots=True)
class _Bounds:
    """How much each level of the objective can change along one simple cycle of a residual
    graph (the proof is in `_Graph.max_flow_max_score`)."""

    tie_pairs: int  # pairs of tie-ranked arcs a cycle can cross
    keep_pairs: int  # keep arcs a cycle can cross forward
    score_bound: int  # largest change of the score
    share_pairs: int  # share arcs a cycle can cross
    tiers: int


def _scales(bounds: _Bounds, levels: int) -> tuple[int, int, int, int, int]:
    """(keep, score, share, tier, reserve) multipliers: each exceeds the largest change all the
    levels below it can make along one simple cycle."""
    tie = bounds.tie_pairs * (levels - 1)
    keep = tie + 1
    low = bounds.keep_pairs * keep + tie
    score = low + 1
    below_share = bounds.score_bound * score + low
    share = below_share + 1
    below_tier = bounds.share_pairs * share + below_share
    tier = below_tier + 1
    reserve = (bounds.tiers - 1) * tier + below_tier + 1
    return keep, score, share, tier, reserve


@dataclass(slots=True)
class _Graph:
    """Arcs as parallel lists. Per arc: the score one unit of flow earns, and the levels of the
    lexicographic objective it counts for: reserve (a unit within a tier's reserved share),
    tier weight (tiers - 1 for the first tier, 0 for the last), share (a unit within its
    organisation's fair share), keep (a unit that keeps a previous proposal) and the tie rank
    (earlier approved, then lower id, first)."""

    tails: list[int] = field(default_factory=list)
    heads: list[int] = field(default_factory=list)
    capacities: list[int] = field(default_factory=list)
    scores: list[int] = field(default_factory=list)
    ranks: list[int] = field(default_factory=list)
    # arc -> (tier weight, share, reserve, keep), only for arcs where one is not 0
    levels: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)
    # (first arc, tier weights, shares) of runs of arcs added at once (`arcs_with_levels`)
    level_runs: list[tuple[int, np.ndarray, np.ndarray]] = field(default_factory=list)
    nodes: int = 2
    # (largest tier weight, largest absolute score), once the arcs are all there
    _extremes: tuple[int, int] | None = None

    def node(self) -> int:
        self.nodes += 1
        return self.nodes - 1

    def arc(
        self,
        tail: int,
        head: int,
        capacity: int,
        score: int = 0,
        rank: int = 0,
        *,
        tier: int = 0,
        share: int = 0,
        reserve: int = 0,
        keep: int = 0,
    ) -> int:
        self.tails.append(tail)
        self.heads.append(head)
        self.capacities.append(capacity)
        self.scores.append(score)
        self.ranks.append(rank)
        if tier or share or reserve or keep:
            self.levels[len(self.tails) - 1] = (tier, share, reserve, keep)
        return len(self.tails) - 1

    def arcs_with_levels(
        self,
        tails: np.ndarray,
        heads: np.ndarray,
        capacities: np.ndarray,
        scores: np.ndarray,
        ranks: np.ndarray,
        weights: np.ndarray,
        shares: np.ndarray,
    ) -> int:
        """`arc` for many arcs at once (arrays, one entry per arc, no reserve or keep);
        returns the first one's number."""
        first = len(self.tails)
        self.tails.extend(tails.tolist())
        self.heads.extend(heads.tolist())
        self.capacities.extend(capacities.tolist())
        self.scores.extend(scores.tolist())
        self.ranks.extend(ranks.tolist())
        self.level_runs.append((first, np.asarray(weights, np.int64), np.asarray(shares, np.int64)))
        return first

    def max_flow_max_score(
        self, supply: int, bounds: _Bounds, ranked: int
    ) -> tuple[list[int], int, int]:
        """Flow on every arc of a maximum source-sink flow that is best lexicographically in
        (reserved units, tier counts, units within the shares, score, kept proposals, ties);
        its score; and the number of tie levels used.

        Why one min-cost flow gives exactly that order: let f be optimal for the composite cost
        and f* lexicographically better. f* - f is a sum of simple cycles of f's residual graph
        and the lexicographic order adds up, so one cycle C is lexicographically positive. Each
        multiplier of `_scales` exceeds what every lower level can change along one simple cycle
        (`bounds`, built from the graph's shape by each solver), so C has negative composite
        cost, and f was not optimal. The tier level needs one more fact: request arcs end at a
        node of one tier (an organisation's share node or a tier node) or at the sink, so a
        simple cycle changes the tier counts by at most +1 in one tier and -1 in another.
        Ties: level(rank) = rank * levels // ranked; with fewer levels than requests (int64
        costs), neighbours in approval order share a level."""
        if not self.tails:
            return [], 0, 1
        ranked = max(1, ranked)
        per_arc = _COST_LIMIT // (self.nodes + 1)
        low, high = 1, ranked
        if self._largest(bounds, 1) > per_arc:
            raise RuntimeError("min-cost flow failed: the objective needs too large costs")
        while low < high:  # the most tie levels whose costs still fit
            middle = (low + high + 1) // 2
            if self._largest(bounds, middle) <= per_arc:
                low = middle
            else:
                high = middle - 1
        # Should potentials overflow inside OR-Tools (BAD_COST_RANGE), retry with coarser ties.
        for attempt in dict.fromkeys((low, max(1, low // 1024), 1)):
            flows = self._solve(supply, bounds, attempt, ranked)
            if flows is not None:
                score = sum(f * s for f, s in zip(flows, self.scores, strict=True) if f)
                return flows, score, attempt
        raise RuntimeError("min-cost flow failed: cost range")

    def _largest(self, bounds: _Bounds, levels: int) -> int:
        keep, score, share, tier, reserve = _scales(bounds, levels)
        if self._extremes is None:  # the same for every number of levels
            most_tier = max(
                (
                    *(level[0] for level in self.levels.values()),
                    *(int(w.max()) for _first, w, _shares in self.level_runs if len(w)),
                ),
                default=0,
            )
            self._extremes = (most_tier, max(map(abs, self.scores)))
        most_tier, most_score = self._extremes
        return reserve + most_tier * tier + share + most_score * score + keep + levels

    def costs(self, bounds: _Bounds, levels: int, ranked: int) -> np.ndarray:
        """Per arc, its composite cost. In int64 without overflow: every cost is at most
        `_largest` <= _COST_LIMIT in size (checked before), and rank * levels < 2**48."""
        keep, score, share, tier, reserve = _scales(bounds, levels)
        ranks = np.array(self.ranks, np.int64)
        costs = ranks * levels // ranked - np.array(self.scores, np.int64) * score
        for arc, (t, h, r, k) in self.levels.items():
            costs[arc] -= r * reserve + t * tier + h * share + k * keep
        for first, weights, shares in self.level_runs:
            costs[first : first + len(weights)] -= weights * tier + shares * share
        return costs

    def _solve(self, supply: int, bounds: _Bounds, levels: int, ranked: int) -> list[int] | None:
        smcf = min_cost_flow.SimpleMinCostFlow()
        costs = self.costs(bounds, levels, ranked)
        smcf.add_arcs_with_capacity_and_unit_cost(self.tails, self.heads, self.capacities, costs)
        smcf.set_nodes_supplies([SOURCE, SINK], [supply, -supply])
        status = smcf.solve_max_flow_with_min_cost()
        if status == smcf.BAD_COST_RANGE and levels > 1:
            return None
        if status != smcf.OPTIMAL:
            raise RuntimeError(f"min-cost flow failed: {status}")
        return smcf.flows(list(range(len(self.tails)))).tolist()


@dataclass(slots=True)
class _Prepared:
    # The devices in id order; within a class they are handed out by (refurbisher, RAM,
    # storage, id), so one request's devices come from few refurbishers, in a fixed order.
    devices: DeviceArrays
    # Per device, the rank of its set of forbidden open requests among `barred_sets` (sorted;
    # rank 0 is the empty set).
    barred: np.ndarray
    barred_sets: list[tuple[int, ...]]
    requests: list[RequestIn]
    parts: dict[int, PriorityParts]
    priority: dict[int, int]  # request id -> its priority (the total of its parts)
    rank: dict[int, int]  # request id -> position by (approved_on, id), for tie-breaks
    tier: dict[int, int]  # request id -> tier (0 first), after cross-tier aging
    tiers: int
    open_units: int
    share_cap: int
    # (organisation, tier) -> units of its share left for that tier, for those whose demand in
    # the tier exceeds it (the others get every unit within their share)
    share_rooms: dict[tuple[int, int], int]
    reserved: dict[int, int]  # tier -> reserved units, for tiers with a reserve
    # Per device, the request of its open proposal (open requests only), else -1.
    previous: np.ndarray
    supply: int
    seconds: float

    order_keys: dict[int, int]  # request id -> ORDER_BITS-packed (tier, -priority, rank)
    request_arrays: _RequestArrays  # per request of `requests`

    def order(self, request: RequestIn) -> int:
        """Who goes first: tier, then priority, then approval order (smaller first)."""
        return self.order_keys[request.id]


@dataclass(slots=True)
class PreparedRequests:
    """The request side of a solve (`prepare_requests`), which needs no device: a run computes
    it while the database sends the devices. `solve` uses it only for the same arguments."""

    requests: Sequence[RequestIn]
    policy: Policy
    today: date
    history: History | None
    open_requests: list[RequestIn]
    forbidden: dict[int, tuple[int, ...]]
    parts: dict[int, PriorityParts]
    priority: dict[int, int]  # request id -> its priority (the total of its parts)
    tier: dict[int, int]
    demand: dict[tuple[int, int], int]
    tier_demand: dict[int, int]
    rank: dict[int, int]
    order_keys: dict[int, int]
    seconds: float
    # Per open request, in the order of `open_requests` (by id): its priority, tier, rank,
    # organisation and open units, as arrays (the graph's request arcs are built from them).
    arrays: _RequestArrays | None = None

    def fits(self, requests, policy, today, history) -> bool:
        return (
            self.requests is requests
            and self.policy is policy
            and self.today == today
            and self.history is history
        )


def prepare_requests(
    requests: Sequence[RequestIn], policy: Policy, today: date, history: History | None = None
) -> PreparedRequests:
    """Check the requests and compute their priorities, tiers, demand and order (with the
    cyclic garbage collector paused by the caller, as `solve` does: 100,000 requests)."""
    started = perf_counter()
    if len({r.id for r in requests}) != len(requests):
        raise ValueError("request ids must be unique")
    _check_requests(requests)
    open_requests = sorted((r for r in requests if r.open_total > 0), key=_ID)
    forbidden = _forbidden(open_requests, history or History())
    # Priorities and tiers as arrays (solver_queue computes them as priority_parts and
    # Policy.tier_of do, tested against them); the parts themselves only when asked for.
    columns = RequestColumns.of(open_requests)
    ids = columns.id.tolist()
    totals = priorities(columns, policy, today)
    waiting = np.maximum(0, today.toordinal() - columns.approved_on)
    levels = tiers(columns, policy, waiting).tolist()
    priority = dict(zip(ids, totals.tolist(), strict=True))
    tier = dict(zip(ids, levels, strict=True))
    demand: dict[tuple[int, int], int] = {}
    tier_demand: dict[int, int] = {}
    for request, level in zip(open_requests, levels, strict=True):
        key = (request.organisation_id, level)
        units = request.open_total
        demand[key] = demand.get(key, 0) + units
        tier_demand[level] = tier_demand.get(level, 0) + units
    in_order = np.lexsort((columns.id, columns.approved_on))  # ids are unique
    ranks = np.empty(len(ids), np.int64)
    ranks[in_order] = np.arange(len(ids))
    rank = dict(zip(ids, ranks.tolist(), strict=True))
    return PreparedRequests(
        requests=requests,
        policy=policy,
        today=today,
        history=history,
        open_requests=open_requests,
        forbidden=forbidden,
        parts=_Parts(open_requests, policy, today),
        priority=priority,
        tier=tier,
        demand=demand,
        tier_demand=tier_demand,
        rank=rank,
        order_keys=_order_keys(priority, tier, rank),
        seconds=perf_counter() - started,
        arrays=_RequestArrays(
            priority=totals,
            tier=np.asarray(levels, np.int64).reshape(-1),
            rank=ranks,
            organisation=np.fromiter(
                (r.organisation_id for r in open_requests), np.int64, len(open_requests)
            ),
            open_total=columns.open_laptops + columns.open_tablets + columns.open_either,
            open_laptops=columns.open_laptops,
            open_tablets=columns.open_tablets,
            open_either=columns.open_either,
        ),
    )


@dataclass(slots=True)
class _RequestArrays:
    priority: np.ndarray
    tier: np.ndarray
    rank: np.ndarray
    organisation: np.ndarray
    open_total: np.ndarray
    open_laptops: np.ndarray
    open_tablets: np.ndarray
    open_either: np.ndarray


class _Parts(dict):
    """request id -> its PriorityParts, computed on first use (a run needs them only for the
    requests that receive devices, for the reasons)."""

    def __init__(self, requests: list[RequestIn], policy: Policy, today: date) -> None:
        super().__init__()
        self.by_id = {request.id: request for request in requests}
        self.policy, self.today = policy, today

    def __missing__(self, rid: int) -> PriorityParts:
        part = self[rid] = priority_parts(self.by_id[rid], self.policy, self.today)
        return part


def _prepare(
    devices: Sequence[DeviceIn] | DeviceArrays,
    requests: Sequence[RequestIn],
    policy: Policy,
    today: date,
    history: History | None,
    ready: PreparedRequests | None = None,
) -> _Prepared:
    started = perf_counter()
    earlier = 0.0  # the request side's time, when it was computed before
    if ready is None or not ready.fits(requests, policy, today, history):
        ready = prepare_requests(requests, policy, today, history)
    else:
        earlier = ready.seconds
    history = history or History()
    open_requests, forbidden = ready.open_requests, ready.forbidden
    # Sorting by id first makes everything after it independent of the input order.
    devices = DeviceArrays.of(devices)
    devices = devices.take(np.argsort(devices.id, kind="stable"))
    if len(devices) > 1 and not (devices.id[1:] != devices.id[:-1]).all():
        raise ValueError("device ids must be unique")
    barred_sets = sorted(set(forbidden.values()) | {()})
    barred = np.zeros(len(devices), np.int64)
    if forbidden:
        rank_of = {ids: rank for rank, ids in enumerate(barred_sets)}
        keys = np.fromiter(forbidden, np.int64, len(forbidden))
        ranks = np.fromiter((rank_of[ids] for ids in forbidden.values()), np.int64, len(keys))
        barred = lookup(keys, ranks, devices.id, 0)
    previous = _previous_array(history.previous, devices.id, open_requests)
    share_cap = policy.share_cap(len(devices), history.held_total)
    reserved = {
        level: units
        for level in sorted(ready.tier_demand)
        if (units := policy.tier_reserve_units(level, len(devices)))
    }
    return _Prepared(
        devices=devices,
        barred=barred,
        barred_sets=barred_sets,
        requests=open_requests,
        parts=ready.parts,
        priority=ready.priority,
        rank=ready.rank,
        tier=ready.tier,
        tiers=len(policy.tiers),
        open_units=int(ready.arrays.open_total.sum()),
        share_cap=share_cap,
        share_rooms=_share_rooms(ready.demand, share_cap, history.held_by_org),
        reserved=reserved,
        previous=previous,
        supply=len(devices),
        seconds=perf_counter() - started + earlier,
        order_keys=ready.order_keys,
        request_arrays=ready.arrays,
    )


def _order_keys(
    totals: dict[int, int], tier: dict[int, int], rank: dict[int, int]
) -> dict[int, int]:
    if not totals:
        return {}
    highest = max(totals.values())
    if highest - min(totals.values()) >= 1 << ORDER_BITS or len(rank) >= 1 << ORDER_BITS:
        raise ValueError("too many requests or too wide a priority range to order")
    return {
        rid: (tier[rid] << (2 * ORDER_BITS)) | ((highest - total) << ORDER_BITS) | rank[rid]
        for rid, total in totals.items()
    }


def _previous_array(
    previous: dict[int, int] | tuple[np.ndarray, np.ndarray],
    ids: np.ndarray,
    open_requests: list[RequestIn],
) -> np.ndarray:
    """Per device (of `ids`), the open request the previous run proposed it to, else -1.
    `previous` maps device ids to request ids, as a dict or as two arrays."""
    if isinstance(previous, dict):
        keys = np.fromiter(previous.keys(), np.int64, len(previous))
        values = np.fromiter(previous.values(), np.int64, len(previous))
    else:
        keys, values = (np.asarray(a, np.int64) for a in previous)
    if not len(keys) or not open_requests:
        return np.full(len(ids), -1, np.int64)
    opened = np.fromiter((r.id for r in open_requests), np.int64, len(open_requests))
    values = np.where(np.isin(values, opened), values, -1)
    return lookup(keys, values, ids, -1)


def _forbidden(requests: list[RequestIn], history: History) -> dict[int, tuple[int, ...]]:
    """device id -> the open requests it must not go to, from the rejections in force."""
    if not history.rejected_pairs and not history.rejected_for_org:
        return {}
    by_org: dict[int, list[int]] = {}
    open_ids = set()
    for request in requests:
        by_org.setdefault(request.organisation_id, []).append(request.id)
        open_ids.add(request.id)
    forbidden: dict[int, set[int]] = {}
    for device_id, request_id in history.rejected_pairs:
        if request_id in open_ids:
            forbidden.setdefault(device_id, set()).add(request_id)
    for device_id, org in history.rejected_for_org:
        if org in by_org:
            forbidden.setdefault(device_id, set()).update(by_org[org])
    return {device_id: tuple(sorted(ids)) for device_id, ids in forbidden.items()}


def _share_rooms(
    demand: dict[tuple[int, int], int], cap: int, held: dict[int, int]
) -> dict[tuple[int, int], int]:
    """An organisation's room under its share is the cap minus what it holds; within each tier
    its units up to that room count as within its share (the tiers are served first anyway, so
    the share orders organisations that compete within one tier). Only (organisation, tier)
    pairs whose demand exceeds the room are returned; the others fit entirely."""
    rooms: dict[tuple[int, int], int] = {}
    for (org, level), units in sorted(demand.items()):
        room = max(0, cap - held.get(org, 0))
        if units > room:
            rooms[org, level] = room
    return rooms


def _check_choice(what: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}")


def _check_requests(requests: Sequence[RequestIn]) -> None:
    """`_check_request` for each request; the values every request has in common are checked
    once (the first faulty request raises, as the loop would)."""
    groups = {r.target_group for r in requests}
    urgencies = {r.urgency for r in requests}
    provinces = {r.province for r in requests}
    lowest = min((min(r.open_laptops, r.open_tablets, r.open_either) for r in requests), default=0)
    if (
        groups <= set(TARGET_GROUPS)
        and urgencies <= set(URGENCIES)
        and provinces <= set(PROVINCES)
        and lowest >= 0
    ):
        return
    for request in requests:
        _check_request(request)


def _check_request(request: RequestIn) -> None:
    _check_choice("target group", request.target_group, TARGET_GROUPS)
    _check_choice("urgency", request.urgency, URGENCIES)
    _check_choice("request province", request.province, PROVINCES)
    if min(request.open_laptops, request.open_tablets, request.open_either) < 0:
        raise ValueError(f"request {request.id} has a negative open quantity")


def _gc_paused(solver: Callable[..., Solution]) -> Callable[..., Solution]:
    """Run without the cyclic garbage collector: a national run allocates millions of objects
    (and no cycles), and each full collection would walk all of them, doubling the run time."""

    @functools.wraps(solver)
    def wrapper(*args: object, **kwargs: object) -> Solution:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return solver(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return wrapper


class _Outlets:
    """Where request arcs end: an (organisation, tier) share node when its demand exceeds its
    room, else a tier node when the tier has a reserve, else the sink."""

    def __init__(self, prepared: _Prepared, graph: _Graph) -> None:
        self.prepared = prepared
        self.tier_nodes: dict[int, int] = {}
        for level, units in prepared.reserved.items():
            node = self.tier_nodes[level] = graph.node()
            graph.arc(node, SINK, units, reserve=1)
            graph.arc(node, SINK, prepared.open_units)
        self.share_nodes: dict[tuple[int, int], int] = {}
        for (org, level), room in sorted(prepared.share_rooms.items()):
            node = self.share_nodes[org, level] = graph.node()
            out = self.tier_nodes.get(level, SINK)
            if room:
                graph.arc(node, out, room, share=1)
            graph.arc(node, out, prepared.open_units)

    def request_arc(
        self,
        graph: _Graph,
        node: int,
        request: RequestIn,
        capacity: int,
        score: int,
        *,
        ranked: bool = True,
    ) -> int:
        """The arc that counts a request's units: its tier, its share, its priority and rank."""
        prepared = self.prepared
        level = prepared.tier[request.id]
        key = (request.organisation_id, level)
        out = self.share_nodes.get(key) or self.tier_nodes.get(level, SINK)
        return graph.arc(
            node,
            out,
            capacity,
            score,
            prepared.rank[request.id] if ranked else 0,
            tier=prepared.tiers - 1 - level,
            share=int(key not in self.share_nodes),
        )

    @property
    def junctions(self) -> int:
        return len(self.share_nodes) + len(self.tier_nodes) + 1

    @property
    def share_pairs(self) -> int:
        return 2 * (len(self.tier_nodes) + 1)


# ---------------------------------------------------------------------------------------------
# solve: device classes -> (province, group, category) hubs -> requests -> organisations
# ---------------------------------------------------------------------------------------------


@_gc_paused
def solve(
    devices: Sequence[DeviceIn],
    requests: Sequence[RequestIn],
    policy: Policy,
    today: date,
    history: History | None = None,
    *,
    explain: bool = True,
    ready: PreparedRequests | None = None,
) -> Solution:
    """The best allocation under the policy's lexicographic objective (see OBJECTIVE.md).
    With `explain=False` the why-not reasons wait for `Solution.explain()`; `ready` is
    `prepare_requests` of the same arguments, computed earlier."""
    prepared = _prepare(devices, requests, policy, today, history, ready)
    started = perf_counter()
    network = _HubNetwork(prepared, policy)
    built = perf_counter()
    flows, score, levels = network.graph.max_flow_max_score(
        prepared.supply, network.bounds(), len(prepared.requests)
    )
    solved = perf_counter()
    pairs = network.pairs(flows)
    proposals = _hand_out(network.classes, pairs, prepared, policy)
    stats = {
        "solver": "solve",
        "device_classes": len(network.classes),
        "hubs": len(network.hub_nodes),
        "share_nodes": len(network.outlets.share_nodes),
    }
    times = (started, built, solved)
    if explain:
        unserved = why_not(prepared, network.classes, pairs, policy)
        return _solution(stats, proposals, score, levels, prepared, network.graph, times, unserved)
    solution = _solution(stats, proposals, score, levels, prepared, network.graph, times, {})
    solution.stats["unserved_requests"] = None
    solution._why_not = functools.partial(why_not, prepared, network.classes, pairs, policy)
    return solution


class _HubNetwork:
    """source -> device class -> hub (province, target group, category) -> request -> outlet
    (share node, tier node or sink) -> sink.

    A class-to-hub arc carries the fit (region + grade bonus) and exists only when the class
    meets the hub's group rules; a hub-to-request arc carries the request's most units of that
    category; the request's arc to its outlet carries its total, priority, tier and share.

    Two additions keep decisions: a class with rejected requests in a hub reaches that hub's
    other requests through a hub of its own; and a class holding devices the previous run
    proposed to a request has a keep arc straight to it (the same fit, plus the keep level).
    A request reached by such arcs gets one entry node per category, so that its per-category
    limit holds over all the arcs into it."""

    def __init__(self, prepared: _Prepared, policy: Policy) -> None:
        self.prepared = prepared
        self.policy = policy
        self.classes = _coarse_classes(prepared, policy)
        self.graph = graph = _Graph()
        self.outlets = _Outlets(prepared, graph)
        class_nodes = [graph.node() for _ in self.classes]
        for node, cls in zip(class_nodes, self.classes, strict=True):
            graph.arc(SOURCE, node, cls.size)
        self._group_hubs()
        self.hub_nodes = {key: graph.node() for key in sorted(self.hub_requests)}
        # Which (class, hub) pairs need a hub of their own: the class is barred from one of
        # the hub's requests.
        self.own_hubs: list[tuple[int, tuple[str, str, str]]] = []
        plain: list[tuple[int, tuple[str, str, str]]] = []
        hubs_of = {c: [key for key in self.hub_nodes if key[2] == c] for c in CATEGORIES}
        for index, cls in enumerate(self.classes):
            eligible = cls.eligible_groups
            for key in hubs_of[cls.category]:  # in the hubs' order
                if key[1] not in eligible:
                    continue
                if cls.forbidden and any(r.id in cls.forbidden for r in self.hub_requests[key]):
                    self.own_hubs.append((index, key))
                else:
                    plain.append((index, key))
        keeps = self._keep_units()
        entry_needed = {(rid, cat) for (_index, rid, cat) in keeps}
        for _index, key in self.own_hubs:
            entry_needed.update((r.id, key[2]) for r in self.hub_requests[key])
        self._add_requests(entry_needed)
        # hub node -> [(arc, class index, fit)]
        self.class_arcs: dict[int, list[tuple[int, int, int]]] = {}
        fits: list[int] = []
        for index, key in plain:
            hub, cls = self.hub_nodes[key], self.classes[index]
            fit = self._fit(cls, key[0])
            fits.append(fit)
            arc = graph.arc(class_nodes[index], hub, cls.size, fit)
            self.class_arcs.setdefault(hub, []).append((arc, index, fit))
        # (class index, [(arc, request)]) per own hub
        self.own_hub_arcs: list[tuple[int, list[tuple[int, RequestIn]]]] = []
        for index, key in self.own_hubs:
            cls, node = self.classes[index], graph.node()
            fit = self._fit(cls, key[0])
            fits.append(fit)
            graph.arc(class_nodes[index], node, cls.size, fit)
            arcs = [
                (graph.arc(node, self.entries[r.id, key[2]], r.open_for(key[2])), r)
                for r in self.hub_requests[key]
                if r.id not in cls.forbidden
            ]
            self.own_hub_arcs.append((index, arcs))
        # [(arc, class index, request)]
        self.keep_arcs: list[tuple[int, int, RequestIn]] = []
        for (index, rid, category), units in sorted(keeps.items()):
            cls, request = self.classes[index], self.requests_by_id[rid]
            fit = self._fit(cls, request.province)
            fits.append(fit)
            arc = graph.arc(class_nodes[index], self.entries[rid, category], units, fit, keep=1)
            self.keep_arcs.append((arc, index, request))
        self.fit_spread = max(fits) - min(fits) if fits else 0
        self.fit_heads = len(self.hub_nodes) + len(self.own_hubs) + len(keeps)

    def _group_hubs(self) -> None:
        """Each request's hubs: one per category it has open units of (its own need plus all of
        "either"), keyed (province, target group, category). Grouped with arrays: a national
        run has 100,000 requests."""
        requests, arrays = self.prepared.requests, self.prepared.request_arrays
        self.hub_requests: dict[tuple[str, str, str], list[RequestIn]] = {}
        # Per hub, beside its requests: their units of its category, their positions in
        # prepared.requests (both in that order).
        self.hub_units: dict[tuple[str, str, str], list[int]] = {}
        self.hub_positions: dict[tuple[str, str, str], np.ndarray] = {}
        places = sorted({(r.province, r.target_group) for r in requests})
        code_of = {place: code for code, place in enumerate(places)}
        place_codes = np.fromiter(
            (code_of[r.province, r.target_group] for r in requests), np.int64, len(requests)
        )
        keys, positions, units = [], [], []
        for number, category in enumerate(CATEGORIES):
            own = arrays.open_laptops if category == "laptop" else arrays.open_tablets
            open_units = own + arrays.open_either
            at = np.flatnonzero(open_units > 0)
            keys.append(place_codes[at] * len(CATEGORIES) + number)
            positions.append(at)
            units.append(open_units[at])
        key = np.concatenate(keys)
        order = np.argsort(key, kind="stable")  # positions stay ascending within a hub
        key, position = key[order], np.concatenate(positions)[order]
        unit_list = np.concatenate(units)[order].tolist()
        starts = group_starts(key).tolist()
        for first, end in itertools.pairwise(starts):
            place, number = divmod(int(key[first]), len(CATEGORIES))
            hub = (*places[place], CATEGORIES[number])
            at = position[first:end]
            self.hub_positions[hub] = at
            self.hub_requests[hub] = [requests[i] for i in at.tolist()]
            self.hub_units[hub] = unit_list[first:end]

    def _fit(self, cls: _DeviceClass, province: str) -> int:
        policy = self.policy
        return (
            policy.region_bonus[region_relation(cls.province, province)]
            + policy.grade_bonus[cls.grade]
        )

    def _keep_units(self) -> dict[tuple[int, int, str], int]:
        """(class index, request id, category) -> devices of the class the previous run proposed
        to that request, when the request may still take them."""
        previous = self.prepared.previous
        self.requests_by_id = {r.id: r for r in self.prepared.requests}
        keeps: dict[tuple[int, int, str], int] = {}
        if not len(previous) or previous.max() < 0:
            return keeps
        for index, cls in enumerate(self.classes):
            before = previous[cls.positions]
            before = before[before >= 0]
            if not len(before):
                continue
            category = cls.category
            rids, counts = np.unique(before, return_counts=True)
            for rid, count in zip(rids.tolist(), counts.tolist(), strict=True):
                if rid in cls.forbidden:
                    continue
                request = self.requests_by_id[rid]
                if request.target_group in cls.eligible_groups and request.open_for(category):
                    keeps[index, rid, category] = count
        return keeps

    def _add_requests(self, entry_needed: set[tuple[int, str]]) -> None:
        prepared, graph = self.prepared, self.graph
        # What `_Outlets.request_arc` adds per request, for all of them at once with arrays:
        # a national run has 100,000 requests.
        requests, arrays = prepared.requests, prepared.request_arrays
        first_node = graph.nodes
        graph.nodes += len(requests)
        nodes = np.arange(first_node, first_node + len(requests), dtype=np.int64)
        share_nodes, tier_nodes = self.outlets.share_nodes, self.outlets.tier_nodes
        levels, count = arrays.tier, prepared.tiers
        outlet_of_tier = np.array([tier_nodes.get(level, SINK) for level in range(count)])
        heads = outlet_of_tier[levels] if len(levels) else np.zeros(0, np.int64)
        shared = np.zeros(len(requests), bool)
        if share_nodes:  # (organisation, tier) as one integer key, looked up in sorted keys
            keys = arrays.organisation * count + levels
            share_keys = np.fromiter((org * count + lv for org, lv in share_nodes), np.int64)
            share_heads = np.fromiter(share_nodes.values(), np.int64)
            order = np.argsort(share_keys)
            share_keys, share_heads = share_keys[order], share_heads[order]
            at = np.minimum(np.searchsorted(share_keys, keys), len(share_keys) - 1)
            shared = share_keys[at] == keys
            heads = np.where(shared, share_heads[at], heads)
        graph.arcs_with_levels(
            nodes,
            heads,
            arrays.open_total,
            arrays.priority,
            arrays.rank,
            weights=count - 1 - levels,
            shares=(~shared).astype(np.int64),
        )
        priorities = arrays.priority
        self.priority_spread = int(priorities.max() - priorities.min()) if len(requests) else 0
        self.entries: dict[tuple[int, str], int] = {}
        request_nodes: dict[int, int] = {}
        if entry_needed:
            request_nodes = dict(zip((r.id for r in requests), nodes.tolist(), strict=True))
        for rid, category in sorted(entry_needed):
            node = self.entries[rid, category] = graph.node()
            request = self.requests_by_id[rid]
            graph.arc(node, request_nodes[rid], request.open_for(category))
        # hub node -> (its first request arc, hub key): the hub's arcs to its requests are
        # numbered in a row, in the order of hub_requests[key]
        self.request_arcs: dict[int, tuple[int, tuple[str, str, str]]] = {}
        entries = self.entries
        for key, hub in self.hub_nodes.items():
            category = key[2]
            hub_requests = self.hub_requests[key]
            first, count = len(graph.tails), len(hub_requests)
            graph.tails.extend([hub] * count)
            if entries:
                graph.heads.extend(
                    entries.get((r.id, category), request_nodes[r.id]) for r in hub_requests
                )
            else:
                graph.heads.extend((nodes[self.hub_positions[key]]).tolist())
            graph.capacities.extend(self.hub_units[key])
            graph.scores.extend([0] * count)
            graph.ranks.extend([0] * count)
            self.request_arcs[hub] = (first, key)

    def bounds(self) -> _Bounds:
        """Request arcs are the only ranked and priority arcs and end at a junction, which a
        simple cycle visits once: at most `junctions` pairs. Fit arcs (class to hub, own hub or
        entry) leave a class and enter a hub, own hub or entry: at most min of the two counts
        pairs. Both sets are cuts of the graph, so a cycle crosses each as often forward as
        backward and only the spread of their values counts."""
        outlets = self.outlets
        fit_pairs = min(len(self.classes), self.fit_heads)
        return _Bounds(
            tie_pairs=outlets.junctions,
            keep_pairs=fit_pairs,
            score_bound=outlets.junctions * self.priority_spread + fit_pairs * self.fit_spread,
            share_pairs=outlets.share_pairs,
            tiers=self.prepared.tiers,
        )

    def pairs(self, flows: list[int]) -> dict[int, list[tuple[RequestIn, int]]]:
        """(request, units) per device class. Every split of a hub's inflow over its outflow has
        the same score; the best-fitting classes go to the requests that come first."""
        prepared = self.prepared
        keys = prepared.order_keys
        order = np.fromiter((keys[r.id] for r in prepared.requests), np.int64)
        flow = np.asarray(flows, np.int64)
        pairs: dict[int, list[tuple[RequestIn, int]]] = {}
        for hub in self.hub_nodes.values():
            inflow = sorted(
                (-fit, index, flows[arc])
                for arc, index, fit in self.class_arcs.get(hub, [])
                if flows[arc]
            )
            first, key = self.request_arcs[hub]
            requests = self.hub_requests[key]
            hub_flow = flow[first : first + len(requests)]
            served = np.flatnonzero(hub_flow)
            served = served[np.argsort(order[self.hub_positions[key][served]], kind="stable")]
            outflow = [
                (requests[at], taken)
                for at, taken in zip(served.tolist(), hub_flow[served].tolist(), strict=True)
            ]
            _pair([(index, units) for _fit, index, units in inflow], outflow, pairs)
        for index, arcs in self.own_hub_arcs:
            pairs.setdefault(index, []).extend((r, flows[arc]) for arc, r in arcs if flows[arc])
        for arc, index, request in self.keep_arcs:
            if flows[arc]:
                pairs.setdefault(index, []).append((request, flows[arc]))
        return pairs


def _coarse_classes(prepared: _Prepared, policy: Policy) -> list[_DeviceClass]:
    """Merge devices that no score or rule tells apart: same kind, grade, province, the same
    set of target groups whose minimum specs and allowed grades they meet, and the same
    rejections. In the order of those keys (names, not codes), each class's devices by
    refurbisher, RAM, storage and id."""
    devices = prepared.devices
    if not len(devices):
        return []
    columns = (devices.kind, devices.grade, devices.ram_gb, devices.storage_gb)
    firsts, spec_of = unique_rows(columns)
    specs = np.stack([column[firsts] for column in columns], axis=1)
    spec_groups = [
        tuple(
            g
            for g in TARGET_GROUPS
            if meets_rules(
                DeviceIn(0, KIND_ORDER[kind], GRADE_ORDER[grade], ram, storage, PROVINCES[0], 0),
                g,
                policy,
            )
        )
        for kind, grade, ram, storage in specs.tolist()
    ]
    groups = dense_ranks(spec_groups)[spec_of]
    # The devices are in id order (_prepare), which the stable sort keeps among equal rows.
    order = sort_rows(
        (
            devices.kind,
            devices.grade,
            devices.province,
            groups,
            prepared.barred,
            devices.refurbisher_id,
            devices.ram_gb,
            devices.storage_gb,
        )
    )
    keys = (devices.kind, devices.grade, devices.province, groups, prepared.barred)
    spec_by_group = {rank: spec_groups[i] for i, rank in enumerate(dense_ranks(spec_groups))}
    return _split(prepared, order, keys, lambda first: spec_by_group[int(groups[first])])


def _split(
    prepared: _Prepared,
    order: np.ndarray,
    keys: tuple[np.ndarray, ...],
    eligible: Callable[[int], tuple[str, ...]],
    previous: np.ndarray | None = None,
) -> list[_DeviceClass]:
    """The classes of devices taken in `order`: a new class wherever one of `keys` changes."""
    change = np.zeros(len(order) - 1, bool)
    for key in keys:
        ordered = key[order]
        change |= ordered[1:] != ordered[:-1]
    starts = np.concatenate(([0], np.flatnonzero(change) + 1, [len(order)])).tolist()
    devices, classes = prepared.devices, []
    for start, end in itertools.pairwise(starts):
        first = int(order[start])
        sample = devices.device(first)
        classes.append(
            _DeviceClass(
                sample.kind,
                sample.grade,
                sample.province,
                order[start:end],
                sample,
                frozenset(eligible(first)),
                frozenset(prepared.barred_sets[prepared.barred[first]]),
                0 if previous is None else max(0, int(previous[first])),
            )
        )
    return classes


def _pair(
    inflow: list[tuple[int, int]],
    outflow: list[tuple[RequestIn, int]],
    pairs: dict[int, list[tuple[RequestIn, int]]],
) -> None:
    """Split a hub's flow into (device class, request, units), walking both lists in order."""
    position = 0
    for index, units in inflow:
        while units:
            request, wanted = outflow[position]
            take = min(units, wanted)
            pairs.setdefault(index, []).append((request, take))
            units -= take
            if take == wanted:
                position += 1
            else:
                outflow[position] = (request, wanted - take)


# ---------------------------------------------------------------------------------------------
# solve_exact: device classes -> every request slot (laptop / tablet / either) -> outlets
# ---------------------------------------------------------------------------------------------


@_gc_paused
def solve_exact(
    devices: Sequence[DeviceIn],
    requests: Sequence[RequestIn],
    policy: Policy,
    today: date,
    history: History | None = None,
) -> Solution:
    """The reference: the same objective on the full per-request graph, with each pair's score on
    the arc from a device class (identical kind, grade, province, RAM, storage, rejections and
    previous proposal) to a request slot: source -> device class -> slot (a request's laptop,
    tablet or either need) -> outlet (share node, tier node or sink) -> sink."""
    prepared = _prepare(devices, requests, policy, today, history)
    started = perf_counter()
    classes = _spec_classes(prepared)
    graph = _Graph()
    outlets = _Outlets(prepared, graph)
    class_nodes = [graph.node() for _ in classes]
    for node, cls in zip(class_nodes, classes, strict=True):
        graph.arc(SOURCE, node, cls.size)
    pair_arcs: list[tuple[int, int, RequestIn]] = []  # (arc, class index, request)
    slots = 0
    for request in prepared.requests:
        for slot, units in (
            ("laptop", request.open_laptops),
            ("tablet", request.open_tablets),
            ("either", request.open_either),
        ):
            if not units:
                continue
            slot_node = graph.node()
            slots += 1
            outlets.request_arc(graph, slot_node, request, units, 0, ranked=False)
            for index, cls in enumerate(classes):
                device = cls.sample
                if (
                    slot in ("either", cls.category)
                    and request.id not in cls.forbidden
                    and meets_rules(device, request.target_group, policy)
                ):
                    score = pair_score(device, request, policy, today)
                    rank = prepared.rank[request.id]
                    capacity = min(units, cls.size)
                    keep = int(cls.previous == request.id)
                    arc = graph.arc(class_nodes[index], slot_node, capacity, score, rank, keep=keep)
                    pair_arcs.append((arc, index, request))
    # Score, rank and keep sit on the class-to-slot arcs, a cut of the graph: pairs of them
    # leave a class and enter a slot, each visited once by a simple cycle.
    scores = [graph.scores[arc] for arc, _index, _request in pair_arcs]
    pairs = min(len(classes), slots)
    bounds = _Bounds(
        tie_pairs=pairs,
        keep_pairs=pairs,
        score_bound=pairs * (max(scores) - min(scores) if scores else 0),
        share_pairs=outlets.share_pairs,
        tiers=prepared.tiers,
    )
    built = perf_counter()
    flows, score, levels = graph.max_flow_max_score(prepared.supply, bounds, len(prepared.requests))
    solved = perf_counter()
    pairs = _slot_pairs(pair_arcs, flows, prepared)
    proposals = _hand_out(classes, pairs, prepared, policy)
    stats = {"solver": "solve_exact", "device_classes": len(classes)}
    times = (started, built, solved)
    unserved = why_not(prepared, classes, pairs, policy)
    return _solution(stats, proposals, score, levels, prepared, graph, times, unserved)


def _spec_classes(prepared: _Prepared) -> list[_DeviceClass]:
    """Devices with identical kind, grade, province, RAM, storage, rejections and previous
    proposal; each class's devices by refurbisher and id."""
    devices = prepared.devices
    if not len(devices):
        return []
    before = np.maximum(prepared.previous, 0)
    keys = (
        devices.kind,
        devices.grade,
        devices.province,
        devices.ram_gb,
        devices.storage_gb,
        prepared.barred,
        before,
    )
    order = np.lexsort((devices.id, devices.refurbisher_id, *reversed(keys)))
    return _split(prepared, order, keys, lambda first: (), before)


def _slot_pairs(
    pair_arcs: list[tuple[int, int, RequestIn]], flows: list[int], prepared: _Prepared
) -> dict[int, list[tuple[RequestIn, int]]]:
    """(request, units) per device class, the requests in the order they come first."""
    units_by_pair: dict[tuple[int, int], int] = {}
    by_id = {}
    for arc, index, request in pair_arcs:
        if flows[arc]:
            key = (index, request.id)
            units_by_pair[key] = units_by_pair.get(key, 0) + flows[arc]
            by_id[request.id] = request
    pairs: dict[int, list[tuple[RequestIn, int]]] = {}
    for (index, request_id), units in units_by_pair.items():
        pairs.setdefault(index, []).append((by_id[request_id], units))
    for class_pairs in pairs.values():
        class_pairs.sort(key=lambda item: prepared.order(item[0]))
    return pairs


# ---------------------------------------------------------------------------------------------
# Shared: handing out the devices of each class, and the Solution with its figures
# ---------------------------------------------------------------------------------------------


def _hand_out(
    classes: list[_DeviceClass],
    pairs: dict[int, list[tuple[RequestIn, int]]],
    prepared: _Prepared,
    policy: Policy,
) -> Proposals:
    """Give each class's devices to its requests: first the devices the previous run proposed
    to the same request (stable proposals), then the others in the class's order. Per class,
    with arrays: no object per device."""
    previous, ids = prepared.previous, prepared.devices.id
    has_previous = bool(len(previous)) and previous.max() >= 0
    positions: list[np.ndarray] = []
    pair_of: list[np.ndarray] = []
    pair_requests: list[int] = []
    pair_scores: list[int] = []
    pair_reasons: list[tuple[RequestIn, _DeviceClass]] = []
    for index in sorted(pairs):
        cls = classes[index]
        units: dict[int, int] = {}
        requests: dict[int, RequestIn] = {}
        for request, count in pairs[index]:
            units[request.id] = units.get(request.id, 0) + count
            requests[request.id] = request
        rids = np.fromiter(units, np.int64, len(units))
        wanted = np.fromiter(units.values(), np.int64, len(units))
        given_at = np.zeros(0, np.int64)  # positions within the class
        given_to = np.zeros(0, np.int64)  # index into rids
        if has_previous:
            to = lookup(rids, np.arange(len(rids)), previous[cls.positions], -1)
            candidates = np.flatnonzero(to >= 0)
            if len(candidates):
                by_request = np.argsort(to[candidates], kind="stable")
                ordered = to[candidates][by_request]
                starts = group_starts(ordered)
                first = np.repeat(starts[:-1], np.diff(starts))
                keep = np.arange(len(ordered)) - first < wanted[ordered]
                given_at = candidates[by_request[keep]]
                given_to = ordered[keep]
        given = np.bincount(given_to, minlength=len(rids))
        rest = wanted - given
        if len(given_at):
            free = np.ones(cls.size, bool)
            free[given_at] = False
            pool = np.flatnonzero(free)
        else:
            pool = np.arange(cls.size)
        pool_at = pool[: int(rest.sum())]
        pool_to = np.repeat(np.arange(len(rids)), rest)
        if len(given_at):
            at = np.concatenate((given_at, pool_at))
            to = np.concatenate((given_to, pool_to))
            phase = np.concatenate(
                (np.zeros(len(given_at), np.int8), np.ones(len(pool_at), np.int8))
            )
            order = np.lexsort((at, phase, to))
            at, to = at[order], to[order]
        else:  # already in that order: requests in turn, each's devices in the class's order
            at, to = pool_at, pool_to
        positions.append(cls.positions[at])
        pair_of.append(to + len(pair_requests))
        # `requests` is in the order of `units`: one pair per request, in that order.
        fits = {province: device_fit(cls.sample, province, policy) for province in PROVINCES}
        priority = prepared.priority
        pair_requests.extend(units)
        pair_scores.extend(priority[r.id] + fits[r.province] for r in requests.values())
        pair_reasons.extend((request, cls) for request in requests.values())
    if not positions:
        return Proposals.empty()
    at = np.concatenate(positions)
    pair = np.concatenate(pair_of)
    return Proposals(
        device_ids=ids[at],
        request_ids=np.asarray(pair_requests, np.int64)[pair],
        scores=np.asarray(pair_scores, np.int64)[pair],
        pair=pair,
        # Words for coordinators, which a run does not store: made when first read.
        reasons=Deferred(
            lambda: [
                reasons_for(
                    prepared.parts[request.id], request, cls.kind, cls.grade, cls.province, policy
                )
                for request, cls in pair_reasons
            ]
        ),
        positions=at,
    )


def _solution(
    stats: dict[str, object],
    proposals: Proposals,
    score: int,
    levels: int,
    prepared: _Prepared,
    graph: _Graph,
    times: tuple[float, float, float],
    unserved: dict[int, Unserved],
) -> Solution:
    started, built, solved = times
    total_score = int(proposals.scores.sum())
    if total_score != score:
        raise RuntimeError(f"hand-out score {total_score} differs from the flow's {score}")
    handed = perf_counter()
    kept = int((prepared.previous[proposals.positions] == proposals.request_ids).sum())
    units = len(proposals)
    stats.update(
        devices=prepared.supply,
        requests=len(prepared.requests),
        open_units=prepared.open_units,
        unallocated_devices=prepared.supply - units,
        unmet_units=prepared.open_units - units,
        share_cap=prepared.share_cap,
        over_share_organisations=len(prepared.share_rooms),
        reserved_units=sum(prepared.reserved.values()),
        kept_proposals=kept,
        unserved_requests=len(unserved),
        tie_levels=levels,
        nodes=graph.nodes,
        arcs=len(graph.tails),
        seconds_prepare=round(prepared.seconds, 4),
        seconds_build=round(built - started, 4),
        seconds_flow=round(solved - built, 4),
        seconds_hand_out=round(handed - solved, 4),  # with the why-not reasons
    )
    return Solution(proposals, total_score, stats, unserved)
