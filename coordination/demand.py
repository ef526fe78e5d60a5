"""Open demand: what approved help requests still wait for, per target group and province.

The same numbers the matching job uses: approved quantities minus what a request already holds
(approved, shipped or delivered allocations), of verified organisations only. Computed by the
job as a small cube of (target group, province) cells; the dashboard filters and sums it.
"""

from __future__ import annotations

from collections import defaultdict

from allemaal.postcodes import Province
from helprequests.models import TargetGroup

KEYS = ["requests", "laptops", "tablets", "either"]


def cube() -> list[dict]:
    """One cell per (target group, province) with waiting requests and open devices."""
    from distribution.selectors import open_quantities, queue_queryset
    from distribution.selectors.inputs import held_per_category_in_queue

    requests = list(
        queue_queryset().values_list(
            "id",
            "target_group",
            "delivery_province",
            "organisation__province",
            "approved_laptops",
            "approved_tablets",
            "approved_either",
        )
    )
    # What the approved requests hold, in one grouped query (no list of ids to send).
    held = held_per_category_in_queue() if requests else {}
    cells: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(KEYS, 0))
    for pk, group, delivery, home, *approved in requests:
        laptops, tablets, either = open_quantities(tuple(approved), *held.get(pk, (0, 0)))
        if not laptops + tablets + either:
            continue
        cell = cells[(group, delivery or home or "")]
        cell["requests"] += 1
        cell["laptops"] += laptops
        cell["tablets"] += tablets
        cell["either"] += either
    return [
        {"target_group": group, "province": province, **counts}
        for (group, province), counts in sorted(cells.items())
    ]


def summarise(cells: list[dict], *, province: str = "", target_group: str = "") -> dict:
    """Totals, and rows per target group and per province (in the usual order), filtered."""
    chosen = [
        c
        for c in cells
        if (not province or c["province"] == province)
        and (not target_group or c["target_group"] == target_group)
    ]
    totals = dict.fromkeys(KEYS, 0)
    by_group: dict[str, dict[str, int]] = {}
    by_province: dict[str, dict[str, int]] = {}
    for cell in chosen:
        for key in KEYS:
            totals[key] += cell[key]
            by_group.setdefault(cell["target_group"], dict.fromkeys(KEYS, 0))[key] += cell[key]
            by_province.setdefault(cell["province"], dict.fromkeys(KEYS, 0))[key] += cell[key]
    group_order = [g.value for g in TargetGroup]
    province_order = [value for value, _label in Province.CHOICES]
    return {
        "totals": totals,
        "devices": totals["laptops"] + totals["tablets"] + totals["either"],
        "by_group": _rows(by_group, group_order, "target_group"),
        "by_province": _rows(by_province, province_order, "province"),
    }


def _rows(values: dict[str, dict[str, int]], order: list[str], key: str) -> list[dict]:
    def rank(name: str) -> int:
        return order.index(name) if name in order else len(order)

    return [
        {key: name, **counts, "devices": counts["laptops"] + counts["tablets"] + counts["either"]}
        for name, counts in sorted(values.items(), key=lambda item: (rank(item[0]), item[0]))
    ]
