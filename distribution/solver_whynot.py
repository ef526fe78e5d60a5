"""Why a run left a request without a device: one reason per unserved request (pure Python).

The reasons are codes with numbers (`Unserved`); the Django side words them, for coordinators
and, more kindly, for the requesting organisation (distribution/selectors/whynot.py). The checks
go from the supply to the competition: no device of the type at all; none that meets the
group's minimum specs and grades; only devices rejected for this request or its organisation;
otherwise the eligible devices went to requests that come first (a higher tier, or the same tier
with a higher score or an earlier approval), and perhaps its organisation's share was used.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING

import numpy as np

from .solver_classes import (
    CATEGORIES,
    TARGET_GROUPS,
    Policy,
    RequestIn,
    Unserved,
    meets_rules,
)

if TYPE_CHECKING:
    from .solver import _DeviceClass, _Prepared

# solver._Prepared.order packs (tier, highest priority - priority, rank) into one int, which
# sorts and bisects several times faster than a tuple; each part fits in ORDER_BITS bits.
ORDER_BITS = 24
Order = int


def queue_category(request: RequestIn) -> str:
    """The category whose queue a request is shown in: the one it needs most of."""
    return "tablet" if request.open_for("tablet") > request.open_for("laptop") else "laptop"


def why_not(
    prepared: _Prepared,
    classes: list[_DeviceClass],
    pairs: dict[int, list[tuple[RequestIn, int]]],
    policy: Policy,
) -> dict[int, Unserved]:
    """Per device class rather than per device: a national run has a million devices but a few
    hundred classes, and every device of a class is the same for these checks."""
    served_ids = {request.id for class_pairs in pairs.values() for request, _units in class_pairs}
    unserved = [r for r in prepared.requests if r.id not in served_ids]
    if not unserved:
        return {}
    by_id = {r.id: r for r in prepared.requests}
    supply: dict[str, int] = {}
    eligible: dict[tuple[str, str], int] = {}
    barred: dict[tuple[int, str], int] = {}
    served_by: dict[tuple[str, tuple[str, ...]], set[int]] = {}
    served_units: dict[tuple[int, int], int] = {}
    for index, cls in enumerate(classes):
        category, size = cls.category, cls.size
        groups = tuple(g for g in TARGET_GROUPS if meets_rules(cls.sample, g, policy))
        supply[category] = supply.get(category, 0) + size
        for group in groups:
            eligible[category, group] = eligible.get((category, group), 0) + size
        for rid in cls.forbidden:
            if by_id[rid].target_group in groups:
                barred[rid, category] = barred.get((rid, category), 0) + size
        served = served_by.setdefault((category, groups), set())
        for request, units in pairs.get(index, ()):
            served.add(request.id)
            key = (request.organisation_id, prepared.tier[request.id])
            served_units[key] = served_units.get(key, 0) + units
    positions = _Queues(prepared).positions(unserved)
    competitors = _Competitors(prepared, served_by)
    reasons = {}
    for request, position in zip(unserved, positions.tolist(), strict=True):
        categories = [c for c in CATEGORIES if request.open_for(c) > 0]
        group = request.target_group
        common = {
            "categories": categories,
            "group": group,
            "tier": prepared.tier[request.id] + 1,
            "position": position,
            "queue_category": queue_category(request),
        }
        usable = sum(eligible.get((c, group), 0) for c in categories)
        if not sum(supply.get(c, 0) for c in categories):
            reasons[request.id] = Unserved("no_device_of_type", common)
        elif not usable:
            reasons[request.id] = Unserved("below_minimum", common)
        elif barred and usable <= sum(barred.get((request.id, c), 0) for c in categories):
            reasons[request.id] = Unserved("rejected", common)
        else:
            higher_tier, higher_score = competitors.ahead(request, categories)
            key = (request.organisation_id, prepared.tier[request.id])
            room = prepared.share_rooms.get(key)
            share_used = room is not None and served_units.get(key, 0) >= room
            reasons[request.id] = Unserved(
                "outranked",
                {
                    **common,
                    "higher_tier": higher_tier,
                    "higher_score": higher_score,
                    "share_used": share_used,
                },
            )
    return reasons


class _Competitors:
    """The served requests that received devices a request could have used, in order."""

    def __init__(self, prepared: _Prepared, served_by: dict) -> None:
        self.prepared = prepared
        self.served_by = served_by
        self.cache: dict[tuple[tuple[str, ...], str], list[Order]] = {}

    def ahead(self, request: RequestIn, categories: list[str]) -> tuple[int, int]:
        """(served requests of a higher tier, of the same tier that come first)."""
        key = (tuple(categories), request.target_group)
        if key not in self.cache:
            ids: set[int] = set()
            for (category, groups), served in self.served_by.items():
                if category in categories and request.target_group in groups:
                    ids |= served
            keys = self.prepared.order_keys
            self.cache[key] = sorted(keys[rid] for rid in ids)
        ordered = self.cache[key]
        mine = self.prepared.order(request)
        tier_start = (mine >> (2 * ORDER_BITS)) << (2 * ORDER_BITS)
        higher_tier = bisect_left(ordered, tier_start)
        return higher_tier, bisect_left(ordered, mine) - higher_tier


class _Queues:
    """A request's place among the open requests of its group waiting for its category."""

    def __init__(self, prepared: _Prepared) -> None:
        self.prepared = prepared
        requests = prepared.requests
        n = len(requests)
        keys = prepared.order_keys
        self.order = np.fromiter((keys[r.id] for r in requests), np.int64, n)
        either = np.fromiter((r.open_either for r in requests), np.int64, n)
        wants = {
            "laptop": np.fromiter((r.open_laptops for r in requests), np.int64, n) + either > 0,
            "tablet": np.fromiter((r.open_tablets for r in requests), np.int64, n) + either > 0,
        }
        groups = np.array([r.target_group for r in requests], dtype=object)
        # (category, group) -> the order keys of its open requests, sorted
        self.lists: dict[tuple[str, str], np.ndarray] = {}
        for group in dict.fromkeys(groups.tolist()):
            in_group = groups == group
            for category in CATEGORIES:
                self.lists[category, group] = np.sort(self.order[in_group & wants[category]])

    def positions(self, requests: list[RequestIn]) -> np.ndarray:
        """Each request's place (from 1) in the queue of its group for its queue category."""
        keys = self.prepared.order_keys
        mine = np.fromiter((keys[r.id] for r in requests), np.int64, len(requests))
        queues: dict[tuple[str, str], list[int]] = {}
        for i, request in enumerate(requests):
            queues.setdefault((queue_category(request), request.target_group), []).append(i)
        places = np.zeros(len(requests), np.int64)
        for key, at in queues.items():
            places[at] = np.searchsorted(self.lists[key], mine[at], side="left") + 1
        return places
