"""The Celery app: Redis broker when CELERY_BROKER_URL is set, in-process (eager) otherwise.

Serialisation, time limits and the beat schedule are declared here and in settings, in code.
Workers log one line per task start, success, retry and failure, with the task's id and
duration (the signal handlers below), so an operator can follow every job in the logs.
"""

import logging
import os
import time

from celery import Celery, signals
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("allemaal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "resend-stuck-notifications": {
        "task": "allemaal.tasks.resend_stuck_notifications",
        "schedule": 60.0,
    },
    "helprequests-coordinator-digest": {
        "task": "helprequests.tasks.send_coordinator_digest",
        "schedule": crontab(hour=7, minute=0),
    },
    "helprequests-connectivity-bundle-reminders": {
        "task": "helprequests.tasks.send_connectivity_bundle_reminders",
        "schedule": crontab(hour=8, minute=0, day_of_week=1),
    },
    "distribution-handout-reminders": {
        "task": "distribution.tasks.send_handout_reminders",
        "schedule": crontab(hour=8, minute=0),
    },
    "allocation-reap-interrupted-runs": {
        "task": "distribution.tasks.reap_interrupted_runs",
        "schedule": 60.0,
    },
    "allocation-nightly-run": {
        "task": "distribution.tasks.run_allocation",
        "schedule": crontab(hour=6, minute=0),
        "kwargs": {"trigger": "automatic"},
    },
    "helprequests-requeue-provision-uploads": {
        "task": "helprequests.tasks.provision_uploads_requeue",
        "schedule": 300.0,
    },
    "erasure-log-jobs-resume": {
        "task": "refurbish.tasks.resume_erasure_log_jobs",
        "schedule": 300.0,
    },
    "reporting-refresh": {"task": "coordination.tasks.refresh_reporting", "schedule": 600.0},
    "reporting-nightly-rebuild": {
        "task": "coordination.tasks.rebuild_reporting",
        "schedule": crontab(hour=2, minute=30),
    },
    "privacy-retention": {
        "task": "allemaal.tasks.enforce_retention",
        "schedule": crontab(hour=3, minute=0),
    },
    "asset-list-previews-expire": {
        "task": "donations.tasks.expire_manifest_previews",
        "schedule": crontab(hour=3, minute=15),
    },
    "purge-old-sent-notifications": {
        "task": "allemaal.tasks.purge_old_notifications",
        "schedule": crontab(hour=3, minute=30),
    },
}


log = logging.getLogger("allemaal.tasks")
_started: dict[str, float] = {}


def _level(task) -> int:
    # In-process (eager) jobs under `make run` and in tests: keep the console readable.
    return logging.DEBUG if getattr(task.request, "is_eager", False) else logging.INFO


def _elapsed(task_id: str) -> float:
    started = _started.pop(task_id, None)
    return time.monotonic() - started if started is not None else 0.0


@signals.task_prerun.connect
def _log_start(task_id=None, task=None, **kwargs) -> None:
    _started[task_id] = time.monotonic()
    log.log(_level(task), "Task %s[%s] started", task.name, task_id)


@signals.task_success.connect
def _log_success(sender=None, **kwargs) -> None:
    task_id = sender.request.id
    log.log(
        _level(sender), "Task %s[%s] succeeded in %.3fs", sender.name, task_id, _elapsed(task_id)
    )


@signals.task_retry.connect
def _log_retry(sender=None, request=None, reason=None, **kwargs) -> None:
    log.warning(
        "Task %s[%s] will retry after %.3fs: %s",
        sender.name,
        request.id,
        _elapsed(request.id),
        reason,
    )


@signals.task_failure.connect
def _log_failure(sender=None, task_id=None, exception=None, **kwargs) -> None:
    log.error(
        "Task %s[%s] failed after %.3fs: %s: %s",
        sender.name,
        task_id,
        _elapsed(task_id),
        type(exception).__name__,
        exception,
    )


@signals.task_postrun.connect
def _forget_start(task_id=None, **kwargs) -> None:
    _started.pop(task_id, None)
