"""Why a run left a request without a device: one reason per unserved request (pure Python).

The reasons are codes with numbers (`Unserved`); the Django side words them, for coordinators
and, more kindly, for the requesting organisation (distribution/selectors/whynot.py). The checks
go from the supply to the competition: no device of the type at all; none that meets the
group's minimum specs and grades; only devices rejected for this request or its organisation;
otherwise the eligible devices went to requests that come first (a higher tier, or the same tier
with a higher score or an earlier approval), and perhaps its organisation's share was used.
"""

from __future__ import annotations

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
# sorts and searches as an int64 array; each part fits in ORDER_BITS bits.
ORDER_BITS = 24


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
    categories_of = [tuple(c for c in CATEGORIES if r.open_for(c) > 0) for r in unserved]
    ahead = _Competitors(prepared, served_by).ahead(unserved, categories_of)
    reasons = {}
    for request, position, categories, (higher_tier, higher_score) in zip(
        unserved, positions.tolist(), categories_of, ahead, strict=True
    ):
        categories = list(categories)
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
        keys = prepared.order_keys
        # (category, groups) -> the order keys of the requests it served
        self.served_by = {
            key: np.fromiter((keys[rid] for rid in served), np.int64, len(served))
            for key, served in served_by.items()
        }

    def ahead(
        self, requests: list[RequestIn], categories_of: list[tuple[str, ...]]
    ) -> list[tuple[int, int]]:
        """Per request (with the categories it waits for): (served requests of a higher tier,
        of the same tier that come first). Per (categories, group) at once, with arrays."""
        at_key: dict[tuple[tuple[str, ...], str], list[int]] = {}
        for i, (request, categories) in enumerate(zip(requests, categories_of, strict=True)):
            at_key.setdefault((categories, request.target_group), []).append(i)
        keys = self.prepared.order_keys
        mine = np.fromiter((keys[r.id] for r in requests), np.int64, len(requests))
        higher_tier = np.zeros(len(requests), np.int64)
        higher_score = np.zeros(len(requests), np.int64)
        for (categories, group), at in at_key.items():
            parts = [
                served
                for (category, groups), served in self.served_by.items()
                if category in categories and group in groups
            ]
            # A request served by several (category, groups) counts once.
            ordered = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
            order = mine[at]
            tier_start = (order >> (2 * ORDER_BITS)) << (2 * ORDER_BITS)
            higher_tier[at] = np.searchsorted(ordered, tier_start, side="left")
            higher_score[at] = np.searchsorted(ordered, order, side="left") - higher_tier[at]
        return list(zip(higher_tier.tolist(), higher_score.tolist(), strict=True))


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
