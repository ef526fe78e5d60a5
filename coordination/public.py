"""The public home page's counters: only records of verified organisations count.

Computed by the reporting job and kept in the cache (and in the snapshot, for a cold cache);
the home page never aggregates the tables itself.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from allemaal.models import Organisation
from donations.models import Device
from donations.vocabulary import KINDS_OF_CATEGORY

CACHE_KEY = "reporting:public-counters"
VERIFIED = Organisation.Status.VERIFIED


def compute(cube: list | None = None) -> dict:
    """Devices donated and delivered, organisations helped, and what is needed now per type.

    `cube` is the open demand the job computed already (see `demand.cube`)."""
    from distribution.models import Allocation

    from . import demand

    verified_devices = Device.objects.filter(donation__donor__status=VERIFIED)
    # A device has at most one delivered allocation (a returned one is marked returned).
    delivered = Allocation.objects.filter(
        status=Allocation.Status.DELIVERED,
        request__organisation__status=VERIFIED,
        device__donation__donor__status=VERIFIED,
    )
    ready = dict(
        verified_devices.filter(state=Device.State.READY)
        .values_list("kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    # The queue counts verified organisations only (the matching job's queue).
    needed = demand.summarise(demand.cube() if cube is None else cube)["totals"]
    return {
        "computed_at": timezone.now().isoformat(),
        "donated": verified_devices.exclude(state=Device.State.ANNOUNCED).count(),
        "delivered": delivered.count(),
        "organisations_helped": delivered.values("request__organisation").distinct().count(),
        "needed": [
            {
                "type": "laptop",
                "needed": needed["laptops"],
                "ready": sum(ready.get(kind, 0) for kind in KINDS_OF_CATEGORY["laptop"]),
            },
            {
                "type": "tablet",
                "needed": needed["tablets"],
                "ready": sum(ready.get(kind, 0) for kind in KINDS_OF_CATEGORY["tablet"]),
            },
            {"type": "either", "needed": needed["either"], "ready": None},
        ],
    }


def store(counters: dict) -> None:
    cache.set(CACHE_KEY, counters, timeout=None)


def current() -> dict | None:
    """The counters from the cache, else from the latest snapshot (then cached again)."""
    counters = cache.get(CACHE_KEY)
    if counters is None:
        from .models import DashboardSnapshot

        snapshot = DashboardSnapshot.latest()
        if snapshot is None or "public" not in snapshot.data:
            return None
        counters = snapshot.data["public"]
        store(counters)
    return counters
