"""The reporting job, as thin Celery adapters around `snapshot.refresh`."""

from celery import shared_task

from . import snapshot


@shared_task
def refresh_reporting() -> int | None:
    """Every ten minutes: the dashboard's facts of changed donations, the snapshot, the public
    counters. Returns the snapshot's id, or None when another run was busy."""
    stored = snapshot.refresh()
    return stored.pk if stored else None


# A full rebuild reads every device and custody event: minutes at a million devices.
@shared_task(time_limit=60 * 60, soft_time_limit=55 * 60)
def rebuild_reporting() -> int | None:
    """Every night: every device's facts again (also what changes without a custody event)."""
    stored = snapshot.refresh(full=True)
    return stored.pk if stored else None
