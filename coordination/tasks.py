"""The reporting job, as thin Celery adapters around `snapshot.refresh`."""

from celery import shared_task
from django.conf import settings

from . import snapshot


@shared_task
def refresh_reporting() -> int | None:
    """Every ten minutes: the dashboard's facts of changed donations, the snapshot, the public
    counters. Returns the snapshot's id, or None when another run was busy."""
    stored = snapshot.refresh()
    return stored.pk if stored else None


# A full rebuild reads every device and custody event: minutes at a million devices. Its limit
# is the one the broker's visibility timeout is checked against (config/settings.py).
@shared_task(
    time_limit=settings.CELERY_LONGEST_TASK_LIMIT,
    soft_time_limit=settings.CELERY_LONGEST_TASK_LIMIT
    - max(settings.CELERY_LONGEST_TASK_LIMIT // 12, 1),
)
def rebuild_reporting() -> int | None:
    """Every night: every device's facts again (also what changes without a custody event)."""
    stored = snapshot.refresh(full=True)
    return stored.pk if stored else None
