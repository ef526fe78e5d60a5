"""Running it for real: health that tells the truth, degrading instead of failing, jobs that
survive a killed worker, task logs, and `make run` behaving like production (issue #16).

The failures are outside the application, so they are simulated at its edge: a Redis at a port
where nothing listens (127.0.0.1:1), a database driver call that raises OperationalError.
"""

import logging
from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from allemaal.tests.test_notifications import broker_at, count_broker_attempts
from config import scheduler
from config.settings import runserver_url
from distribution.models import AllocationRun
from distribution.services import runs
from distribution.tasks import approve_run, reap_interrupted_runs, run_allocation

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1
PASSWORD_NEW = "Lang-Genoeg-Wachtwoord-42"


@pytest.fixture
def dead_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.FailSafeRedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.05, "socket_timeout": 0.2},
        }
    }


def dead_database():
    return mock.patch.object(
        connection, "ensure_connection", side_effect=OperationalError("server closed")
    )


# --- Health ------------------------------------------------------------------------------------


def test_liveness_answers_without_asking_the_database(client):
    with dead_database():
        response = client.get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok")


def test_readiness_answers_ok_when_everything_answers(db, client):
    response = client.get(reverse("healthz_ready"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failing"] == []
    assert set(body["checks"]) == {"database", "cache", "broker"}


def test_health_answers_for_a_probe_by_ip_whatever_allowed_hosts_says(db, settings):
    settings.ALLOWED_HOSTS = ["allemaal-digitaal.example"]
    settings.SECURE_SSL_REDIRECT = True
    probe = Client(HTTP_HOST="10.0.0.7:8000")
    assert probe.get("/healthz").status_code == 200
    assert probe.get("/healthz/ready").status_code == 200
    assert (
        Client(HTTP_HOST="10.0.0.7:8000", raise_request_exception=False).get("/").status_code == 400
    )


def test_readiness_names_a_dead_database(db, client):
    with dead_database():
        response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
    assert "OperationalError" in response.json()["checks"]["database"]["error"]


@pytest.mark.usefixtures("dead_cache")
def test_readiness_names_a_dead_cache_quickly(db, client, monkeypatch):
    attempts = count_broker_attempts(monkeypatch)  # the cache is a Redis too
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["failing"] == ["cache"]
    assert attempts == {"connects": 1, "sleeps": 0}  # one short try, no retry loop


def test_readiness_names_a_dead_broker_quickly(db, client, monkeypatch):
    with broker_at(DEAD_REDIS):
        attempts = count_broker_attempts(monkeypatch)
        response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]
    assert attempts == {"connects": 1, "sleeps": 0}  # one short try, no retry loop


# --- Degrade, don't fail -------------------------------------------------------------------------


def test_with_the_broker_down_a_request_queueing_twenty_mails_answers_fast_and_loses_none(
    db, client, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Group

    from allemaal.models import Notification
    from allemaal.tasks import resend_stuck_notifications
    from allemaal.tests.test_notifications import Clock
    from allemaal.tests.test_organisations import VALID
    from tests.factories import UserFactory

    coordinators = Group.objects.get_or_create(name="coordinators")[0]
    for _ in range(20):
        UserFactory(is_staff=True).groups.add(coordinators)
    client.force_login(UserFactory())
    url = reverse("organisation_create")
    client.get(url)  # warm: the first request imports the views and compiles the templates
    with broker_at(DEAD_REDIS):
        with django_capture_on_commit_callbacks() as enqueues:
            response = client.post(url, VALID)
        assert response.status_code == 302  # the registration committed
        attempts = count_broker_attempts(monkeypatch)
        for enqueue in enqueues:  # what the request does after its commit
            enqueue()
    assert len(enqueues) == 1  # one dispatch for the twenty mails of the transaction
    # One quick connection attempt, and no waiting: no retry loop inside the request.
    assert attempts == {"connects": 1, "sleeps": 0}
    assert Notification.objects.filter(status="pending").count() == 20

    from django.core import mail

    Clock(monkeypatch).advance(timedelta(seconds=settings.NOTIFICATION_STUCK_AFTER_SECONDS))
    assert resend_stuck_notifications.apply().get() == 20  # the broker is back
    assert resend_stuck_notifications.apply().get() == 0
    assert len(mail.outbox) == 20 and len({m.to[0] for m in mail.outbox}) == 20


def test_with_the_broker_down_scheduling_a_run_costs_one_try_and_is_tried_again_later(
    db, monkeypatch
):
    from django.core.cache import cache

    cache.delete(runs.DEBOUNCE_CACHE_KEY)
    with broker_at(DEAD_REDIS):
        attempts = count_broker_attempts(monkeypatch)
        assert runs.allocation_request_run_soon() is False
    assert attempts == {"connects": 1, "sleeps": 0}
    # The debounce is released, so the next event (with the broker back) schedules the run.
    assert cache.get(runs.DEBOUNCE_CACHE_KEY) is None


def test_with_the_broker_down_recomputing_the_dashboard_answers_instead_of_a_500(
    db, client, coordinator, monkeypatch, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    with broker_at(DEAD_REDIS), django_capture_on_commit_callbacks(execute=True):
        attempts = count_broker_attempts(monkeypatch)
        response = client.post(reverse("coordination:refresh"))
    assert response.status_code == 302
    assert attempts == {"connects": 1, "sleeps": 0}


def test_the_cache_keeps_one_redis_client_and_still_fails_safe_through_it():
    from config.cache import FailSafeRedisCache

    cache = FailSafeRedisCache(DEAD_REDIS, {"OPTIONS": {"socket_connect_timeout": 0.05}})
    assert cache._cache.get_client() is cache._cache.get_client(write=True)
    assert cache.get("anything", "fallback") == "fallback"
    assert cache.get("anything again", "fallback") == "fallback"  # the kept client, still safe


@pytest.mark.usefixtures("dead_cache")
def test_with_the_cache_down_pages_that_do_not_need_it_answer(db, client):
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("account_login")).status_code == 200


@pytest.mark.usefixtures("dead_cache")
def test_with_the_cache_down_log_in_fails_safe_with_a_clear_message(db, client, donor):
    response = client.post(reverse("account_login"), {"login": donor.email, "password": "fout"})
    assert response.status_code == 503  # not a 500, and not an unlimited password guess
    text = response.content.decode()
    assert "Inloggen en aanmelden kan op dit moment even niet" in text
    assert "Logging in and signing up are briefly unavailable" in text
    signup = client.post(
        reverse("account_signup"),
        {"email": "nieuw@example.org", "password1": PASSWORD_NEW, "password2": PASSWORD_NEW},
    )
    assert signup.status_code == 503  # was a ConnectionError (500) with the cache on dead Redis


def test_with_the_database_down_a_page_gets_the_plain_503_page(db, donor):
    browser = Client(raise_request_exception=False)
    browser.force_login(donor)
    with dead_database():
        response = browser.get(reverse("dashboard"))
    assert response.status_code == 503
    assert "De website is op dit moment even niet beschikbaar" in response.content.decode()
    assert response["Retry-After"]


def test_a_bug_is_still_a_500_not_a_503(db):
    from config.resilience import _is_dependency_failure

    assert not _is_dependency_failure(ValueError("a bug"))
    assert _is_dependency_failure(OperationalError("gone"))


# --- Jobs survive a killed worker ---------------------------------------------------------------


def test_the_run_and_the_approval_parts_go_back_to_the_queue_when_their_worker_dies():
    for task in (run_allocation, approve_run):
        assert task.acks_late and task.reject_on_worker_lost


def test_the_visibility_timeout_outlasts_every_task_time_limit(settings):
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert options["visibility_timeout"] == settings.CELERY_VISIBILITY_TIMEOUT
    assert settings.CELERY_VISIBILITY_TIMEOUT > settings.CELERY_LONGEST_TASK_LIMIT
    assert settings.CELERY_LONGEST_TASK_LIMIT >= settings.CELERY_TASK_TIME_LIMIT
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT


@pytest.mark.django_db
def test_a_run_whose_worker_died_is_marked_failed_and_run_again(caplog):
    long_ago = timezone.now() - runs.interrupted_after() - timedelta(seconds=1)
    dead = AllocationRun.objects.create(trigger="automatic", started_at=long_ago)
    alive = AllocationRun.objects.create(trigger="automatic")  # still within its time limit
    with caplog.at_level(logging.ERROR):
        assert reap_interrupted_runs.apply().get() == [dead.pk]
    dead.refresh_from_db()
    assert dead.status == "failed" and "Onderbroken" in dead.error and dead.finished_at
    assert any(f"run {dead.pk} was interrupted" in r.getMessage() for r in caplog.records)
    assert AllocationRun.objects.get(pk=alive.pk).status == "running"
    # and a new run took its place (in-process here; a worker in production)
    assert AllocationRun.objects.filter(pk__gt=alive.pk, status="completed").exists()


@pytest.mark.django_db
def test_a_run_leaves_its_row_before_it_works_so_a_crash_cannot_hide_it(monkeypatch):
    seen = []

    def crash(run, *, today):
        seen.append(AllocationRun.objects.get(pk=run.pk).status)
        raise KeyboardInterrupt  # the process dies mid-run: nothing below runs

    monkeypatch.setattr(runs, "_run", crash)
    with pytest.raises(KeyboardInterrupt):
        runs.allocation_run(trigger="automatic")
    assert seen == ["running"]
    assert list(AllocationRun.objects.values_list("status", flat=True)) == ["running"]


# --- Logs ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_task_logs_its_start_and_success_with_id_and_duration(caplog):
    from allemaal.tasks import purge_old_notifications

    with caplog.at_level(logging.DEBUG, logger="allemaal.tasks"):
        result = purge_old_notifications.apply()
    lines = [r.getMessage() for r in caplog.records if r.name == "allemaal.tasks"]
    assert f"Task allemaal.tasks.purge_old_notifications[{result.id}] started" in lines
    assert any(
        line.startswith(f"Task allemaal.tasks.purge_old_notifications[{result.id}] succeeded in")
        for line in lines
    )


@pytest.mark.django_db
def test_a_failing_task_logs_its_failure(caplog, monkeypatch):
    from allemaal import tasks

    monkeypatch.setattr(
        tasks.services, "notifications_resend_stuck", mock.Mock(side_effect=KeyError)
    )
    with caplog.at_level(logging.ERROR, logger="allemaal.tasks"):
        tasks.resend_stuck_notifications.apply()
    assert any(
        "resend_stuck_notifications" in r.getMessage() and "failed after" in r.getMessage()
        for r in caplog.records
    )


# --- make run ------------------------------------------------------------------------------------


def test_site_url_defaults_to_the_address_runserver_serves_on():
    assert runserver_url(["manage.py", "runserver"]) == "http://127.0.0.1:8000"
    assert runserver_url(["manage.py", "runserver", "8123"]) == "http://127.0.0.1:8123"
    assert runserver_url(["manage.py", "runserver", "0.0.0.0:9000"]) == "http://127.0.0.1:9000"
    assert runserver_url(["manage.py", "runserver", "localhost:8001", "--noreload"]) == (
        "http://localhost:8001"
    )
    assert runserver_url(["pytest"]) == "http://127.0.0.1:8000"


def test_the_in_process_scheduler_starts_only_in_the_serving_runserver(settings, monkeypatch):
    settings.IN_PROCESS_SCHEDULER = True
    assert not scheduler.should_start(["pytest"])
    assert scheduler.should_start(["manage.py", "runserver", "--noreload"])
    monkeypatch.delenv("RUN_MAIN", raising=False)
    assert not scheduler.should_start(["manage.py", "runserver"])  # the autoreloader's parent
    monkeypatch.setenv("RUN_MAIN", "true")
    assert scheduler.should_start(["manage.py", "runserver"])
    settings.IN_PROCESS_SCHEDULER = False  # a broker is set: beat runs the schedule
    assert not scheduler.should_start(["manage.py", "runserver", "--noreload"])


@pytest.mark.django_db
def test_the_in_process_scheduler_runs_what_is_due_on_the_beat_schedule():
    from config.celery import app

    entries = scheduler.load_entries(app)
    assert set(entries) == set(app.conf.beat_schedule)  # the same jobs as beat
    relay = {"relay": entries["resend-stuck-notifications"]}
    last_run = {"relay": app.now() - timedelta(minutes=2)}
    assert scheduler.run_due(app, relay, last_run) == ["relay"]
    assert scheduler.run_due(app, relay, last_run) == []  # not due again for a minute


def test_the_longest_task_is_held_to_the_limit_the_visibility_timeout_is_checked_against(settings):
    from coordination.tasks import rebuild_reporting

    assert rebuild_reporting.time_limit == settings.CELERY_LONGEST_TASK_LIMIT
    assert rebuild_reporting.soft_time_limit < rebuild_reporting.time_limit


def test_a_web_process_takes_its_loaded_application_out_of_the_garbage_collectors_scans():
    import gc

    from config import gunicorn

    threshold = gc.get_threshold()
    try:
        gunicorn.post_worker_init(worker=None)
        assert gc.get_freeze_count() > 1000  # Django and the project, loaded
        assert gc.get_threshold() == gunicorn.GC_THRESHOLD != threshold
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
