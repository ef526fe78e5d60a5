"""The periodic jobs in-process, for `make run` (runserver without a broker).

Production runs Celery beat; a development site has no beat, so without this the counters, the
dashboard refresh, the reminders and the mail relay never ran there. A daemon thread walks the
same `beat_schedule` (config/celery.py) and runs each job in-process when it is due.
"""

import logging
import os
import sys
import threading

from django.db import close_old_connections

log = logging.getLogger(__name__)

TICK_SECONDS = 5


def should_start(argv: list[str]) -> bool:
    """Only in the runserver process that serves (not its autoreloader parent), never in tests
    or management commands, and only when no broker (and so no beat) is configured."""
    from django.conf import settings

    if argv[1:2] != ["runserver"] or not settings.IN_PROCESS_SCHEDULER:
        return False
    return "--noreload" in argv or os.environ.get("RUN_MAIN") == "true"


def load_entries(app) -> dict:
    from celery.schedules import maybe_schedule

    return {
        name: {**entry, "schedule": maybe_schedule(entry["schedule"], app=app)}
        for name, entry in app.conf.beat_schedule.items()
    }


def run_due(app, entries: dict, last_run: dict) -> list[str]:
    """Run every job that is due (in-process, one after the other); returns their names."""
    ran = []
    for name, entry in entries.items():
        is_due, _next = entry["schedule"].is_due(last_run[name])
        if not is_due:
            continue
        last_run[name] = app.now()
        try:
            app.tasks[entry["task"]].apply(
                args=entry.get("args", ()), kwargs=entry.get("kwargs", {})
            )
        except Exception:
            log.exception("In-process scheduler: %s failed", name)
        else:
            ran.append(name)
        finally:
            close_old_connections()
    return ran


def run_forever(stop: threading.Event) -> None:
    from config.celery import app

    app.loader.import_default_modules()  # the apps' tasks.py, as a worker imports them
    entries = load_entries(app)
    last_run = dict.fromkeys(entries, app.now())
    log.info("In-process scheduler: %d periodic jobs", len(entries))
    while not stop.wait(TICK_SECONDS):
        for name in run_due(app, entries, last_run):
            log.info("In-process scheduler ran %s", name)


def start() -> threading.Thread | None:
    if not should_start(sys.argv):
        return None
    thread = threading.Thread(
        target=run_forever, args=(threading.Event(),), name="scheduler", daemon=True
    )
    thread.start()
    return thread
