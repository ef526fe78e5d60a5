"""The reporting job: refresh the device facts, then store the unfiltered dashboard (one per
period), the open demand and the public counters in a `DashboardSnapshot`.

Every few minutes only the donations that changed since the previous run are refreshed (with a
margin for transactions that committed late); at night everything is rebuilt, which also picks
up what changes without a custody event (a corrected delivery province, a newly verified
organisation). Two runs never overlap: the second one returns at once.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from allemaal.models import Organisation

from . import dashboard, demand, facts, public
from .models import DashboardSnapshot

logger = logging.getLogger(__name__)

LOCK_KEY = "reporting:refresh-lock"
LOCK_SECONDS = 30 * 60
# A custody event is written with the time of its transaction, which may commit a little later.
MARGIN = timedelta(minutes=15)
KEEP = 5


def refurbisher_names() -> dict[int, str]:
    return dict(
        Organisation.objects.filter(kind=Organisation.Kind.REFURBISHER).values_list("id", "name")
    )


def refresh(*, full: bool = False) -> DashboardSnapshot | None:
    """Bring the facts up to date and store a new snapshot; None when a run is busy already."""
    if not cache.add(LOCK_KEY, "1", timeout=LOCK_SECONDS):
        logger.info("reporting refresh skipped: another run is busy")
        return None
    try:
        return _refresh(full=full)
    finally:
        cache.delete(LOCK_KEY)


def _refresh(*, full: bool) -> DashboardSnapshot:
    began, started_at = time.perf_counter(), timezone.now()
    previous = DashboardSnapshot.latest()
    full = full or previous is None
    if full:
        refreshed = facts.rebuild_all()
    else:
        changed = facts.changed_donations(previous.started_at - MARGIN)
        refreshed = facts.refresh_donations(changed)
    cube = demand.cube()
    names = refurbisher_names()
    today = timezone.localdate()
    views = {
        period: dashboard.compute(
            dashboard.Filters(period=period), demand_cube=cube, refurbishers=names, today=today
        )
        for period in dashboard.PERIODS
    }
    counters = public.compute(cube)
    snapshot = DashboardSnapshot.objects.create(
        started_at=started_at,
        computed_at=timezone.now(),
        seconds=round(time.perf_counter() - began, 3),
        full_rebuild=full,
        facts_refreshed=refreshed,
        data={"views": views, "demand": cube, "public": counters},
    )
    public.store(counters)
    old = DashboardSnapshot.objects.order_by("-computed_at", "-id").values_list("id", flat=True)
    DashboardSnapshot.objects.filter(id__in=list(old[KEEP:])).delete()
    logger.info(
        "reporting refresh: %s devices refreshed in %.1f s (full: %s)",
        refreshed,
        snapshot.seconds,
        full,
    )
    return snapshot
