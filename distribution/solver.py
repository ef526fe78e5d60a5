"""Which ready device goes to which approved help request: an optimal, deterministic allocation.

Pure Python + OR-Tools, no Django. The objective (OBJECTIVE.md) is lexicographic: first allocate
as many devices as the hard rules allow, then maximise the sum of score(device, request) =
priority(request) + fit(device, request). Both are one min-cost maximum flow.

`solve` is the one to call. It groups devices into classes that keep every distinction the score
and the rules make (kind, grade, province, which target groups' rules the device meets) and routes
them through one hub per (province, target group, category) to the requests, then per
organisation (its cap) to the sink. Because a pair's score splits into a part that depends only
on (device class, hub) and a part that depends only on the request, this small graph has exactly
the optimum of the full device x request graph; it is exact, not an approximation.

`solve_exact` builds that full graph literally (every device class to every request slot it may
fill) and is the reference the tests and the benchmark compare `solve` against.

Ties: among allocations of equal size and score, requests approved earlier (then lower ids) are
served first, through a tie term in the arc costs too small to change the score (`_Graph`).
Inputs are sorted by id before the graph is built and OR-Tools is deterministic, so the same
input, in any order, gives the same output. Within a class, devices are handed out grouped by
refurbisher and then by id, so one request's devices tend to come from few refurbishers.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from time import perf_counter

from ortools.graph.python import min_cost_flow

from donations.vocabulary import CATEGORIES, CATEGORY_OF_KIND, KINDS

from .solver_classes import (
    GRADES,
    NEIGHBOURS,
    PROVINCES,
    TARGET_GROUPS,
    URGENCIES,
    Assignment,
    DeviceIn,
    Policy,
    PriorityParts,
    RequestIn,
    Solution,
    device_fit,
    explain,
    meets_rules,
    pair_score,
    priority_parts,
    reasons_for,
    region_relation,
    request_priority,
)

__all__ = [
    "NEIGHBOURS",
    "PROVINCES",
    "Assignment",
    "DeviceIn",
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
    devices: list[DeviceIn]
    eligible_groups: frozenset[str] = frozenset()

    @property
    def category(self) -> str:
        return CATEGORY_OF_KIND[self.kind]


@dataclass(slots=True)
class _Graph:
    """Arcs as parallel lists. Each arc has the score one unit of flow over it earns and, for arcs
    into a request, the request's rank in approval order (earlier approved, then lower id, first),
    which breaks ties between allocations of equal size and score."""

    tails: list[int] = field(default_factory=list)
    heads: list[int] = field(default_factory=list)
    capacities: list[int] = field(default_factory=list)
    scores: list[int] = field(default_factory=list)
    ranks: list[int] = field(default_factory=list)
    nodes: int = 2

    def node(self) -> int:
        self.nodes += 1
        return self.nodes - 1

    def arc(self, tail: int, head: int, capacity: int, score: int = 0, rank: int = 0) -> int:
        self.tails.append(tail)
        self.heads.append(head)
        self.capacities.append(capacity)
        self.scores.append(score)
        self.ranks.append(rank)
        return len(self.tails) - 1

    def max_flow_max_score(
        self, supply: int, most_units: int, ranked: int
    ) -> tuple[list[int], int, int]:
        """Flow on every arc of a maximum source-sink flow of greatest score; that score; and the
        number of tie levels used. `most_units` bounds the flow, `ranked` counts the ranks.

        Costs are -score * K + level(rank), with level(rank) = rank * levels // ranked in
        [0, levels) and K = units * (levels - 1) + 1. Every unit of flow crosses exactly one
        ranked arc, so the levels of a whole allocation add up to less than K: a higher score
        always wins, and only among equal scores do earlier requests go first. With fewer levels
        than requests (int64 costs), neighbours in approval order share a level."""
        if not self.tails:
            return [], 0, 1
        units = max(1, min(supply, most_units))
        largest = max(map(abs, self.scores)) + 1
        per_arc = _COST_LIMIT // (self.nodes + 1) - ranked
        levels = max(1, min(ranked, (per_arc // largest - 1) // units + 1))
        # Should potentials overflow inside OR-Tools (BAD_COST_RANGE), retry with coarser ties.
        for attempt in dict.fromkeys((levels, max(1, levels // 1024), 1)):
            flows = self._solve(supply, units, attempt, max(1, ranked))
            if flows is not None:
                score = sum(f * s for f, s in zip(flows, self.scores, strict=True) if f)
                return flows, score, attempt
        raise RuntimeError("min-cost flow failed: cost range")

    def _solve(self, supply: int, units: int, levels: int, ranked: int) -> list[int] | None:
        if levels > 1:
            scale = units * (levels - 1) + 1
            costs = [
                -score * scale + rank * levels // ranked
                for score, rank in zip(self.scores, self.ranks, strict=True)
            ]
        else:
            costs = [-score for score in self.scores]
        smcf = min_cost_flow.SimpleMinCostFlow()
        smcf.add_arcs_with_capacity_and_unit_cost(self.tails, self.heads, self.capacities, costs)
        smcf.set_nodes_supplies([SOURCE, SINK], [supply, -supply])
        status = smcf.solve_max_flow_with_min_cost()
        if status == smcf.BAD_COST_RANGE and levels > 1:
            return None
        if status != smcf.OPTIMAL:
            raise RuntimeError(f"min-cost flow failed: {status}")
        return smcf.flows(list(range(len(self.tails)))).tolist()


# (kind, grade, province, refurbisher_id, ram_gb, storage_gb): devices that no field but the id
# tells apart. Kept in key order, each bucket in id order, so a class's devices are handed out
# grouped by refurbisher (fewer shipments per request) and in a fixed order.
_BucketKey = tuple[str, str, str, int, int, int]


@dataclass(slots=True)
class _Prepared:
    buckets: dict[_BucketKey, list[DeviceIn]]
    requests: list[RequestIn]
    parts: dict[int, PriorityParts]
    rank: dict[int, int]  # request id -> position by (approved_on, id), for tie-breaks
    open_units: int
    org_cap: int
    capped_orgs: set[int]
    supply: int
    seconds: float


def _prepare(
    devices: Sequence[DeviceIn], requests: Sequence[RequestIn], policy: Policy, today: date
) -> _Prepared:
    started = perf_counter()
    # Sorting by id first makes everything after it independent of the input order.
    devices = sorted(devices, key=_ID)
    if len({device.id for device in devices}) != len(devices):
        raise ValueError("device ids must be unique")
    buckets: dict[_BucketKey, list[DeviceIn]] = {}
    for device in devices:
        key = (
            device.kind,
            device.grade,
            device.province,
            device.refurbisher_id,
            device.ram_gb,
            device.storage_gb,
        )
        bucket = buckets.get(key)
        if bucket is None:
            buckets[key] = [device]
        else:
            bucket.append(device)
    for kind, grade, province, *_rest in buckets:
        _check_choice("device kind", kind, KINDS)
        _check_choice("device grade", grade, GRADES)
        _check_choice("device province", province, PROVINCES)

    if len({r.id for r in requests}) != len(requests):
        raise ValueError("request ids must be unique")
    for request in requests:
        _check_request(request)
    open_requests = sorted((r for r in requests if r.open_total > 0), key=_ID)
    demand: dict[int, int] = {}
    parts: dict[int, PriorityParts] = {}
    for request in open_requests:
        org = request.organisation_id
        demand[org] = demand.get(org, 0) + request.open_total
        parts[request.id] = priority_parts(request, policy, today)
    org_cap = policy.org_cap(len(devices))
    in_order = sorted(open_requests, key=lambda r: (r.approved_on, r.id))
    return _Prepared(
        buckets=dict(sorted(buckets.items())),
        requests=open_requests,
        parts=parts,
        rank={request.id: position for position, request in enumerate(in_order)},
        open_units=sum(request.open_total for request in open_requests),
        org_cap=org_cap,
        capped_orgs={org for org, units in demand.items() if units > org_cap},
        supply=len(devices),
        seconds=perf_counter() - started,
    )


def _check_choice(what: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}")


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


# ---------------------------------------------------------------------------------------------
# solve: device classes -> (province, group, category) hubs -> requests -> organisations
# ---------------------------------------------------------------------------------------------


@_gc_paused
def solve(
    devices: Sequence[DeviceIn], requests: Sequence[RequestIn], policy: Policy, today: date
) -> Solution:
    """An allocation of maximum size and, among those, maximum total score (see OBJECTIVE.md)."""
    prepared = _prepare(devices, requests, policy, today)
    started = perf_counter()
    network = _HubNetwork(prepared, policy)
    built = perf_counter()
    flows, score, levels = network.graph.max_flow_max_score(
        prepared.supply, prepared.open_units, len(prepared.requests)
    )
    solved = perf_counter()
    assignments = _hand_out(network.classes, network.pairs(flows), prepared, policy)
    stats = {
        "solver": "solve",
        "device_classes": len(network.classes),
        "hubs": len(network.hub_nodes),
    }
    times = (started, built, solved)
    return _solution(stats, assignments, score, levels, prepared, network.graph, times)


class _HubNetwork:
    """source -> device class -> hub (province, target group, category) -> request ->
    organisation (only when its demand exceeds the cap) -> sink.

    A class-to-hub arc carries the fit (region + grade bonus) and exists only when the class
    meets the hub's group rules; a hub-to-request arc carries the request's most units of that
    category; a request-to-organisation arc carries the request's total and its priority."""

    def __init__(self, prepared: _Prepared, policy: Policy) -> None:
        self.prepared = prepared
        self.classes = _coarse_classes(prepared.buckets, policy)
        self.graph = graph = _Graph()
        class_nodes = [graph.node() for _ in self.classes]
        for node, cls in zip(class_nodes, self.classes, strict=True):
            graph.arc(SOURCE, node, len(cls.devices))
        self.hub_requests: dict[tuple[str, str, str], list[RequestIn]] = {}
        for request in prepared.requests:
            for category in CATEGORIES:
                if request.open_for(category) > 0:
                    key = (request.province, request.target_group, category)
                    self.hub_requests.setdefault(key, []).append(request)
        self.hub_nodes = {key: graph.node() for key in sorted(self.hub_requests)}
        # hub node -> [(arc, class index, fit)]
        self.class_arcs: dict[int, list[tuple[int, int, int]]] = {}
        for index, (node, cls) in enumerate(zip(class_nodes, self.classes, strict=True)):
            for (province, group, category), hub in self.hub_nodes.items():
                if category == cls.category and group in cls.eligible_groups:
                    fit = policy.region_bonus[region_relation(cls.province, province)]
                    fit += policy.grade_bonus[cls.grade]
                    arc = graph.arc(node, hub, len(cls.devices), fit)
                    self.class_arcs.setdefault(hub, []).append((arc, index, fit))
        self._add_requests()

    def _add_requests(self) -> None:
        prepared, graph = self.prepared, self.graph
        org_nodes = {}
        for org in sorted(prepared.capped_orgs):
            org_nodes[org] = graph.node()
            graph.arc(org_nodes[org], SINK, prepared.org_cap)
        request_nodes: dict[int, int] = {}
        for request in prepared.requests:
            node = request_nodes[request.id] = graph.node()
            out = org_nodes.get(request.organisation_id, SINK)
            # The request's total ("either" counted once) and its priority sit on this one arc.
            priority = prepared.parts[request.id].total
            graph.arc(node, out, request.open_total, priority, prepared.rank[request.id])
        # hub node -> [(arc, request)]
        self.request_arcs: dict[int, list[tuple[int, RequestIn]]] = {}
        for key, hub in self.hub_nodes.items():
            for request in self.hub_requests[key]:
                arc = graph.arc(hub, request_nodes[request.id], request.open_for(key[2]))
                self.request_arcs.setdefault(hub, []).append((arc, request))

    def pairs(self, flows: list[int]) -> dict[int, list[tuple[RequestIn, int]]]:
        """(request, units) per device class. Every split of a hub's inflow over its outflow has
        the same score; the best-fitting classes go to the highest-priority requests."""
        parts = self.prepared.parts
        pairs: dict[int, list[tuple[RequestIn, int]]] = {}
        for hub in self.hub_nodes.values():
            inflow = sorted(
                (-fit, index, flows[arc])
                for arc, index, fit in self.class_arcs.get(hub, [])
                if flows[arc]
            )
            outflow = [(r, flows[arc]) for arc, r in self.request_arcs[hub] if flows[arc]]
            outflow.sort(key=lambda item: (-parts[item[0].id].total, item[0].id))
            _pair([(index, units) for _fit, index, units in inflow], outflow, pairs)
        return pairs


def _coarse_classes(
    buckets: dict[_BucketKey, list[DeviceIn]], policy: Policy
) -> list[_DeviceClass]:
    """Merge devices that no score or rule tells apart: same kind, grade, province, and the same
    set of target groups whose minimum specs and allowed grades they meet."""
    merged: dict[tuple[str, str, str, tuple[str, ...]], _DeviceClass] = {}
    groups_of: dict[tuple[str, str, int, int], tuple[str, ...]] = {}
    for (kind, grade, province, _refurbisher, ram, storage), bucket in buckets.items():
        spec = (kind, grade, ram, storage)
        if spec not in groups_of:
            groups_of[spec] = tuple(g for g in TARGET_GROUPS if meets_rules(bucket[0], g, policy))
        key = (kind, grade, province, groups_of[spec])
        if key not in merged:
            merged[key] = _DeviceClass(kind, grade, province, [], frozenset(groups_of[spec]))
        merged[key].devices.extend(bucket)
    return [merged[key] for key in sorted(merged)]


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
# solve_exact: device classes -> every request slot (laptop / tablet / either) -> organisations
# ---------------------------------------------------------------------------------------------


@_gc_paused
def solve_exact(
    devices: Sequence[DeviceIn], requests: Sequence[RequestIn], policy: Policy, today: date
) -> Solution:
    """The reference: the same objective on the full per-request graph, with each pair's score on
    the arc from a device class (identical kind, grade, province, RAM, storage) to a request slot:
    source -> device class -> slot (a request's laptop, tablet or either need) -> organisation
    (every one, capped) -> sink."""
    prepared = _prepare(devices, requests, policy, today)
    started = perf_counter()
    classes = _spec_classes(prepared.buckets)
    graph = _Graph()
    class_nodes = [graph.node() for _ in classes]
    for node, cls in zip(class_nodes, classes, strict=True):
        graph.arc(SOURCE, node, len(cls.devices))
    org_nodes = {}
    for org in sorted({request.organisation_id for request in prepared.requests}):
        org_nodes[org] = graph.node()
        graph.arc(org_nodes[org], SINK, prepared.org_cap)
    pair_arcs: list[tuple[int, int, RequestIn]] = []  # (arc, class index, request)
    for request in prepared.requests:
        for slot, units in (
            ("laptop", request.open_laptops),
            ("tablet", request.open_tablets),
            ("either", request.open_either),
        ):
            if units:
                slot_node = graph.node()
                graph.arc(slot_node, org_nodes[request.organisation_id], units)
                for index, cls in enumerate(classes):
                    device = cls.devices[0]
                    if slot in ("either", cls.category) and meets_rules(
                        device, request.target_group, policy
                    ):
                        score = pair_score(device, request, policy, today)
                        rank = prepared.rank[request.id]
                        capacity = min(units, len(cls.devices))
                        arc = graph.arc(class_nodes[index], slot_node, capacity, score, rank)
                        pair_arcs.append((arc, index, request))
    built = perf_counter()
    flows, score, levels = graph.max_flow_max_score(
        prepared.supply, prepared.open_units, len(prepared.requests)
    )
    solved = perf_counter()
    assignments = _hand_out(classes, _slot_pairs(pair_arcs, flows, prepared), prepared, policy)
    stats = {"solver": "solve_exact", "device_classes": len(classes)}
    times = (started, built, solved)
    return _solution(stats, assignments, score, levels, prepared, graph, times)


def _spec_classes(buckets: dict[_BucketKey, list[DeviceIn]]) -> list[_DeviceClass]:
    merged: dict[tuple[str, str, str, int, int], _DeviceClass] = {}
    for (kind, grade, province, _refurbisher, ram, storage), bucket in buckets.items():
        key = (kind, grade, province, ram, storage)
        if key not in merged:
            merged[key] = _DeviceClass(kind, grade, province, [])
        merged[key].devices.extend(bucket)
    return [merged[key] for key in sorted(merged)]


def _slot_pairs(
    pair_arcs: list[tuple[int, int, RequestIn]], flows: list[int], prepared: _Prepared
) -> dict[int, list[tuple[RequestIn, int]]]:
    """(request, units) per device class, the requests by priority."""
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
        class_pairs.sort(key=lambda item: (-prepared.parts[item[0].id].total, item[0].id))
    return pairs


# ---------------------------------------------------------------------------------------------
# Shared: handing out the devices of each class, and the Solution with its figures
# ---------------------------------------------------------------------------------------------


def _hand_out(
    classes: list[_DeviceClass],
    pairs: dict[int, list[tuple[RequestIn, int]]],
    prepared: _Prepared,
    policy: Policy,
) -> list[Assignment]:
    """Give each class's devices, in bucket order, to its requests in the given order."""
    assignments: list[Assignment] = []
    for index in sorted(pairs):
        cls = classes[index]
        devices = cls.devices
        position = 0
        for request, units in pairs[index]:
            parts = prepared.parts[request.id]
            score = parts.total + device_fit(devices[0], request.province, policy)
            reasons = reasons_for(parts, request, cls.kind, cls.grade, cls.province, policy)
            request_id = request.id
            assignments += [
                Assignment(device.id, request_id, score, reasons)
                for device in devices[position : position + units]
            ]
            position += units
    return assignments


def _solution(
    stats: dict[str, object],
    assignments: list[Assignment],
    score: int,
    levels: int,
    prepared: _Prepared,
    graph: _Graph,
    times: tuple[float, float, float],
) -> Solution:
    started, built, solved = times
    total_score = sum(assignment.score for assignment in assignments)
    if total_score != score:
        raise RuntimeError(f"hand-out score {total_score} differs from the flow's {score}")
    stats.update(
        devices=prepared.supply,
        requests=len(prepared.requests),
        open_units=prepared.open_units,
        unallocated_devices=prepared.supply - len(assignments),
        unmet_units=prepared.open_units - len(assignments),
        org_cap=prepared.org_cap,
        capped_organisations=len(prepared.capped_orgs),
        tie_levels=levels,
        nodes=graph.nodes,
        arcs=len(graph.tails),
        seconds_prepare=round(prepared.seconds, 4),
        seconds_build=round(built - started, 4),
        seconds_flow=round(solved - built, 4),
        seconds_hand_out=round(perf_counter() - solved, 4),
    )
    return Solution(assignments, len(assignments), total_score, stats)
