"""The Celery app: Redis broker when CELERY_BROKER_URL is set, in-process (eager) otherwise.

Serialisation, time limits and the beat schedule are declared here and in settings, in code.
"""

import os

from celery import Celery
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
    "allocation-nightly-run": {
        "task": "distribution.tasks.run_allocation",
        "schedule": crontab(hour=6, minute=0),
        "kwargs": {"trigger": "automatic"},
    },
    "reporting-refresh": {"task": "coordination.tasks.refresh_reporting", "schedule": 600.0},
    "reporting-nightly-rebuild": {
        "task": "coordination.tasks.rebuild_reporting",
        "schedule": crontab(hour=2, minute=30),
    },
    "purge-old-sent-notifications": {
        "task": "allemaal.tasks.purge_old_notifications",
        "schedule": crontab(hour=3, minute=30),
    },
}
