"""The queue after a run, as numpy arrays: every waiting request's place, for the pages.

Pure Python + numpy, no Django. `queue_places` computes what `selectors.queue_records` computes
(its reference, row for row: see the tests), for a national queue of 100,000 requests in a
fraction of the time: the priorities and tiers come from a few small per-value tables instead
of one `priority_parts` call per request, and the order, the places and the devices to come are
one sort and a few cumulative sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from .solver_classes import URGENCIES, WEIGHT_KEYS, Policy, RequestIn, weight_key

# The columns of a queue place, after the request id, in QueuePlaceRecord's field names.
PLACE_COLUMNS = (
    "position",
    "queue_length",
    "position_overall",
    "to_come_laptops",
    "to_come_tablets",
    "to_come_either",
    "proposed",
)


@dataclass(slots=True)
class RequestColumns:
    """The requests' fields the queue order needs, one array per field (position = request)."""

    id: np.ndarray
    weight_key: np.ndarray  # code into WEIGHT_KEYS
    group: list[str]  # target group per request
    urgency: np.ndarray  # code into URGENCIES
    approved_on: np.ndarray  # proleptic ordinal
    need_by: np.ndarray  # proleptic ordinal; only where has_need_by
    has_need_by: np.ndarray
    open_laptops: np.ndarray
    open_tablets: np.ndarray
    open_either: np.ndarray

    @classmethod
    def of(cls, requests: Sequence[RequestIn]) -> RequestColumns:
        n = len(requests)
        key_code = {key: code for code, key in enumerate(WEIGHT_KEYS)}
        urgency_code = {urgency: code for code, urgency in enumerate(URGENCIES)}

        def ints(values) -> np.ndarray:
            return np.fromiter(values, np.int64, n)

        need_by = [r.need_by for r in requests]
        return cls(
            id=ints(r.id for r in requests),
            weight_key=ints(
                key_code[weight_key(r.target_group, r.no_home_schooling)] for r in requests
            ),
            group=[r.target_group for r in requests],
            urgency=ints(urgency_code[r.urgency] for r in requests),
            approved_on=ints(r.approved_on.toordinal() for r in requests),
            need_by=ints(0 if d is None else d.toordinal() for d in need_by),
            has_need_by=np.fromiter((d is not None for d in need_by), bool, n),
            open_laptops=ints(r.open_laptops for r in requests),
            open_tablets=ints(r.open_tablets for r in requests),
            open_either=ints(r.open_either for r in requests),
        )

    def take(self, positions: np.ndarray) -> RequestColumns:
        return RequestColumns(
            **{
                name: [self.group[i] for i in positions.tolist()]
                if name == "group"
                else getattr(self, name)[positions]
                for name in self.__slots__
            }
        )


def priorities(columns: RequestColumns, policy: Policy, today: date) -> np.ndarray:
    """`request_priority` of every request: group weight + urgency + need-by + aging points,
    each computed as `priority_parts` does (in int64: policies with numbers beyond 2**40, which
    no form allows, are refused rather than risk an overflow)."""
    numbers = [
        *policy.group_weights.values(),
        *policy.urgency_bonus.values(),
        policy.need_by_max_bonus,
        policy.aging_max,
        policy.aging_points_per_day,
        policy.need_by_horizon_days,
    ]
    if max(abs(number) for number in numbers) > 2**40:
        raise ValueError("policy numbers beyond 2**40 cannot be ordered")
    weights = np.array([policy.group_weights[key] for key in WEIGHT_KEYS], np.int64)
    bonus = np.array([policy.urgency_bonus[u] for u in URGENCIES], np.int64)
    waiting = np.maximum(0, today.toordinal() - columns.approved_on)
    aging = np.minimum(policy.aging_max, waiting * policy.aging_points_per_day)
    horizon = policy.need_by_horizon_days
    left = np.clip(columns.need_by - today.toordinal(), 0, horizon)
    need_by = np.where(
        columns.has_need_by, policy.need_by_max_bonus * (horizon - left) // horizon, 0
    )
    return weights[columns.weight_key] + bonus[columns.urgency] + need_by + aging


def tiers(columns: RequestColumns, policy: Policy, waiting_days: np.ndarray) -> np.ndarray:
    """`Policy.tier_of` of every request, given its waiting days."""
    base = np.array(
        [next(i for i, tier in enumerate(policy.tiers) if key in tier) for key in WEIGHT_KEYS],
        np.int64,
    )[columns.weight_key]
    if policy.tier_aging_days:
        base = np.maximum(0, base - waiting_days // policy.tier_aging_days)
    return base


@dataclass(slots=True)
class QueuePlaces:
    """Per waiting request (in queue order): its id and PLACE_COLUMNS; and the totals the run
    keeps in its stats (group lengths, queue length, devices to come)."""

    request_ids: np.ndarray
    columns: dict[str, np.ndarray]
    totals: dict

    def rows(self) -> list[tuple[int, ...]]:
        """As `selectors.queue_records` returns them (for small callers and the tests)."""
        return list(
            zip(
                self.request_ids.tolist(),
                *(self.columns[name].tolist() for name in PLACE_COLUMNS),
                strict=True,
            )
        )


def queue_places(
    requests: Sequence[RequestIn] | RequestColumns,
    proposed_ids: np.ndarray,
    policy: Policy,
    today: date,
) -> QueuePlaces:
    """Every waiting request's place after a run that proposed one device per entry of
    `proposed_ids` (request ids): in the order (tier, -priority, approved on, id), its place
    among the requests of its target group, that group's length, its overall place, and the
    laptops, tablets and either still to come (open minus proposed, taken from laptops, then
    tablets, then either) for the requests up to and including it."""
    columns = requests if isinstance(requests, RequestColumns) else RequestColumns.of(requests)
    total = columns.open_laptops + columns.open_tablets + columns.open_either
    columns = columns.take(np.flatnonzero(total > 0))
    n = len(columns.id)
    waited = today.toordinal() - columns.approved_on  # not clamped, as the pages compute it
    priority = priorities(columns, policy, today)
    tier = tiers(columns, policy, waited)
    order = np.lexsort((columns.id, columns.approved_on, -priority, tier))
    columns = columns.take(order)
    group_names = list(dict.fromkeys(columns.group))  # in order of first place
    group_code = {name: code for code, name in enumerate(group_names)}
    groups = np.fromiter((group_code[g] for g in columns.group), np.int64, n)
    lengths = np.bincount(groups, minlength=len(group_names))
    # The place within the group: a stable sort by group keeps the queue order inside each.
    by_group = np.argsort(groups, kind="stable")
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    position = np.empty(n, np.int64)
    position[by_group] = np.arange(n) - starts[groups[by_group]]
    position += 1
    ids, counts = np.unique(np.asarray(proposed_ids, np.int64), return_counts=True)
    proposed = np.zeros(n, np.int64)
    if len(ids):
        at = np.minimum(np.searchsorted(ids, columns.id), len(ids) - 1)
        proposed = np.where(ids[at] == columns.id, counts[at], 0)
    left = proposed
    coming = []
    for units in (columns.open_laptops, columns.open_tablets, columns.open_either):
        taken = np.minimum(left, units)
        coming.append(np.cumsum(units - taken))
        left = left - taken
    laptops, tablets, either = coming
    places = {
        "position": position,
        "queue_length": lengths[groups],
        "position_overall": np.arange(1, n + 1),
        "to_come_laptops": laptops,
        "to_come_tablets": tablets,
        "to_come_either": either,
        "proposed": proposed,
    }
    last = (lambda a: int(a[-1])) if n else (lambda a: 0)
    totals = {
        "lengths": {name: int(lengths[code]) for code, name in enumerate(group_names)},
        "total": n,
        "to_come": {"laptop": last(laptops), "tablet": last(tablets), "either": last(either)},
    }
    return QueuePlaces(columns.id, places, totals)
