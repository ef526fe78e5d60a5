"""The coordinators' dashboard: its numbers for one set of filters, as plain JSON-able data.

Everything here is counted from the device facts (see `facts`), the donations and the open
demand computed by the job (`demand`), in a fixed number of queries whatever the data size.
Definitions (the page states them too):

- A stage of the funnel counts the devices that first reached it in the period (all devices
  that ever reached it without a period); "pledged" sums the devices of donations registered in
  the period, except cancelled and declined ones.
- Province: where a device goes (the delivery province of its allocation's request) or, until
  it is allocated, where it is (its refurbisher's province, or the donor's pickup province).
  Target group: that of its allocation's request; devices not allocated have none.
- Lead times are whole calendar days between the first events of two states, counted in the
  period in which the second one happened; median and 90th percentile with linear
  interpolation between the two nearest values (as a spreadsheet's PERCENTILE does).
- The backlog of a refurbisher is what waits there (received or erased, or announced in a
  received donation), by days since it reached its state; yield is the share of the devices
  it received that became ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from donations.models import Device, Donation

from . import demand as demand_module
from .facts import STAGES
from .models import DeviceFact

PERIODS = {"all": None, "4w": 4, "12w": 12, "26w": 26, "52w": 52}
THROUGHPUT_WEEKS = 12
THROUGHPUT_STATES = [
    Device.State.RECEIVED,
    Device.State.READY,
    Device.State.DELIVERED,
    Device.State.RECYCLED,
]
LEAD_TIMES = [
    ("pledge_received", "lead_pledge_received", Device.State.RECEIVED),
    ("received_ready", "lead_received_ready", Device.State.READY),
    ("ready_delivered", "lead_ready_delivered", Device.State.DELIVERED),
]
# Backlog age buckets in days since a device reached its state: [low, high).
AGE_BUCKETS = [(0, 7), (7, 14), (14, 30), (30, None)]


@dataclass(frozen=True)
class Filters:
    period: str = "all"
    province: str = ""
    target_group: str = ""
    refurbisher_id: int | None = None

    @property
    def by_dimension(self) -> bool:
        """Filtered by province, target group or refurbisher (not only by period)."""
        return bool(self.province or self.target_group or self.refurbisher_id)

    def start(self, today: date) -> date | None:
        weeks = PERIODS.get(self.period)
        return today - timedelta(weeks=weeks) + timedelta(days=1) if weeks else None


def _facts(filters: Filters, *, with_group: bool = True):
    facts = DeviceFact.objects.all()
    if filters.province:
        facts = facts.filter(province=filters.province)
    if filters.refurbisher_id:
        facts = facts.filter(refurbisher_id=filters.refurbisher_id)
    if with_group and filters.target_group:
        facts = facts.filter(target_group=filters.target_group)
    return facts


def _reached(stage: str, start: date | None, end: date | None = None) -> Q:
    if start is None:
        return Q(**{f"{stage}_on__isnull": False})
    q = Q(**{f"{stage}_on__gte": start})
    return q & Q(**{f"{stage}_on__lt": end}) if end else q


def week_starts(today: date, weeks: int = THROUGHPUT_WEEKS) -> list[date]:
    """The Mondays of the last `weeks` weeks, oldest first, ending with this week."""
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def compute(
    filters: Filters,
    *,
    demand_cube: list,
    refurbishers: dict[int, str],
    today: date | None = None,
    unfiltered: dict | None = None,
) -> dict:
    """All sections of the dashboard except the live ones (discrepancies, support contacts).

    `unfiltered` (the snapshot's numbers for the same period) saves two passes when only a
    target group is chosen: the backlog and the supply are the same for every target group.
    """
    today = today or timezone.localdate()
    start = filters.start(today)
    main = _main_counts(filters, start, today)
    demand = demand_module.summarise(
        demand_cube, province=filters.province, target_group=filters.target_group
    )
    same_stock = unfiltered is not None and not (filters.province or filters.refurbisher_id)
    if same_stock:
        backlog = unfiltered["refurbishers"]
        ready = {r["type"]: r["supply"] for r in unfiltered["supply_demand"]}
    else:
        backlog = _refurbishers(filters, start, today, refurbishers)
        ready = _ready(filters)
    return {
        "today": today.isoformat(),
        "period_start": start.isoformat() if start else None,
        "funnel": _funnel(main, _pledged(filters, start)),
        "throughput": _throughput(main, today),
        "lead_times": _lead_times(filters, start),
        "refurbishers": backlog,
        "demand": demand,
        "supply_demand": _supply_demand(ready, demand),
    }


def _main_counts(filters: Filters, start: date | None, today: date) -> dict:
    """Funnel, current states and weekly throughput in one pass over the facts."""
    aggregates = {f"reached_{s}": Count("pk", filter=_reached(s, start)) for s in STAGES}
    aggregates.update({f"now_{s}": Count("pk", filter=Q(state=s)) for s in STAGES})
    for i, monday in enumerate(week_starts(today)):
        for s in THROUGHPUT_STATES:
            aggregates[f"w{i}_{s}"] = Count(
                "pk", filter=_reached(s, monday, monday + timedelta(weeks=1))
            )
    return _facts(filters).aggregate(**aggregates)


def _pledged(filters: Filters, start: date | None) -> int | None:
    """Devices pledged in donations registered in the period (not cancelled or declined)."""
    if filters.target_group:
        return None  # a pledge has no target group yet
    donations = Donation.objects.exclude(
        status__in=[Donation.Status.CANCELLED, Donation.Status.DECLINED]
    )
    if start is not None:
        moment = timezone.make_aware(datetime.combine(start, time.min))
        donations = donations.filter(created_at__gte=moment)
    if filters.refurbisher_id:
        donations = donations.filter(refurbisher_id=filters.refurbisher_id)
    if filters.province:
        donations = donations.filter(
            Q(refurbisher__province=filters.province)
            | Q(refurbisher__isnull=True, pickup_province=filters.province)
        )
    totals = donations.aggregate(
        laptops=Sum("laptops"), chromebooks=Sum("chromebooks"), tablets=Sum("tablets")
    )
    return sum(v or 0 for v in totals.values())


def _funnel(main: dict, pledged: int | None) -> list[dict]:
    rows = [{"stage": "pledged", "reached": pledged, "now": None}]
    rows += [
        {"stage": s.value, "reached": main[f"reached_{s}"], "now": main[f"now_{s}"]} for s in STAGES
    ]
    return rows


def _throughput(main: dict, today: date) -> list[dict]:
    return [
        {"week": monday.isoformat(), **{s.value: main[f"w{i}_{s}"] for s in THROUGHPUT_STATES}}
        for i, monday in enumerate(week_starts(today))
    ]


def percentile(histogram: dict[int, int], p: float) -> float | None:
    """The p-th percentile (0..1) of the values counted in `histogram`, interpolated linearly
    between the two nearest ranks (the 'inclusive' method: PERCENTILE.INC, numpy's default)."""
    total = sum(histogram.values())
    if not total:
        return None
    # Exact arithmetic: 0.9 * 9 must be 8.1, not 8.100000000000001.
    position = Fraction(str(p)) * (total - 1)
    low_rank = int(position)
    fraction = position - low_rank

    def value_at(rank: int) -> int:
        seen = 0
        for value in sorted(histogram):
            seen += histogram[value]
            if rank < seen:
                return value
        raise AssertionError("rank beyond the histogram")  # pragma: no cover

    low = value_at(low_rank)
    if not fraction:
        return float(low)
    return round(float(low + (value_at(low_rank + 1) - low) * fraction), 2)


def _lead_times(filters: Filters, start: date | None) -> list[dict]:
    """Median and 90th percentile of each step, from a histogram of whole days (one query each)."""
    rows = []
    for key, field, end_stage in LEAD_TIMES:
        counts = (
            _facts(filters)
            .filter(_reached(end_stage, start), **{f"{field}__isnull": False})
            .values_list(field)
            .annotate(n=Count("pk"))
            .order_by()
        )
        histogram = dict(counts)
        rows.append(
            {
                "step": key,
                "devices": sum(histogram.values()),
                "median": percentile(histogram, 0.5),
                "p90": percentile(histogram, 0.9),
            }
        )
    return rows


def _refurbishers(
    filters: Filters, start: date | None, today: date, names: dict[int, str]
) -> list[dict]:
    """Per refurbisher: its backlog by age, the oldest waiting device, and its yield."""
    # Annotation names differ from the fields ("waiting", "received"): a filter on a field
    # with an annotation's name would refer to the annotation.
    aggregates = {
        "n_waiting": Count("pk", filter=Q(waiting=True)),
        "oldest_since": Min("state_since", filter=Q(waiting=True)),
        "n_received": Count("pk", filter=_reached(Device.State.RECEIVED, start)),
        "n_ready": Count("pk", filter=_reached(Device.State.READY, start)),
    }
    for i, (low, high) in enumerate(AGE_BUCKETS):
        age = Q(waiting=True, state_since__lte=today - timedelta(days=low))
        if high is not None:
            age &= Q(state_since__gt=today - timedelta(days=high))
        aggregates[f"age{i}"] = Count("pk", filter=age)
    rows = (
        _facts(filters, with_group=False)
        .filter(refurbisher_id__isnull=False)
        .values("refurbisher_id")
        .annotate(**aggregates)
        .order_by()
    )
    result = []
    for row in rows:
        if not (row["n_waiting"] or row["n_received"]):
            continue
        oldest, received, ready = row["oldest_since"], row["n_received"], row["n_ready"]
        result.append(
            {
                "refurbisher_id": row["refurbisher_id"],
                "name": names.get(row["refurbisher_id"], str(row["refurbisher_id"])),
                "waiting": row["n_waiting"],
                "ages": [row[f"age{i}"] for i in range(len(AGE_BUCKETS))],
                "oldest_days": (today - oldest).days if oldest else None,
                "received": received,
                "ready": ready,
                "yield_pct": round(100 * ready / received) if received else None,
            }
        )
    return sorted(result, key=lambda r: (-r["waiting"], r["name"]))


def _ready(filters: Filters) -> dict[str, int]:
    """Devices ready for use per category (the same for every target group)."""
    return dict(
        _facts(filters, with_group=False)
        .filter(state=Device.State.READY)
        .values_list("category")
        .annotate(n=Count("pk"))
        .order_by()
    )


def _supply_demand(ready: dict[str, int], demand: dict) -> list[dict]:
    """Ready devices per type against what approved requests still wait for."""
    totals = demand["totals"]
    return [
        {"type": "laptop", "supply": ready.get("laptop", 0), "demand": totals["laptops"]},
        {"type": "tablet", "supply": ready.get("tablet", 0), "demand": totals["tablets"]},
        {"type": "either", "supply": None, "demand": totals["either"]},
    ]
