"""Mail at national scale: one dispatch message per transaction, batches of at most a hundred per
task, the provider's rate (EMAIL_MAX_PER_MINUTE) shared by every worker, and no mail twice."""

import os
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from celery import signals
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection, transaction

from allemaal import services, tasks
from allemaal.models import Notification

from .test_notifications import Clock, broker_at, count_broker_attempts

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def queue(count: int, *, start: int = 0) -> None:
    for i in range(start, start + count):
        services.notification_queue_rendered(
            kind="test", to_email=f"r{i}@example.org", subject=f"Bericht {i}", body_text="b"
        )


class published:
    """The task messages this process hands to the broker (before it is reached)."""

    def __enter__(self):
        self.messages = []
        signals.before_task_publish.connect(self._record)
        return self.messages

    def __exit__(self, *exc):
        signals.before_task_publish.disconnect(self._record)

    def _record(self, sender=None, headers=None, **kwargs):
        self.messages.append({"task": sender, "eta": headers.get("eta")})


# --- One message per transaction, batches per task ------------------------------------------


def test_a_transaction_queueing_fifty_mails_queues_one_dispatch(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    with broker_at(DEAD_BROKER), published() as messages:
        with django_capture_on_commit_callbacks() as after_commit, transaction.atomic():
            queue(50)
        attempts = count_broker_attempts(monkeypatch)
        for callback in after_commit:
            callback()
    assert len(after_commit) == 1
    assert [m["task"] for m in messages] == ["allemaal.tasks.dispatch_notifications"]
    assert attempts["connects"] == 1
    assert Notification.objects.filter(status="pending").count() == 50  # the relay's, later


def test_mails_of_a_rolled_back_savepoint_leave_the_transactions_dispatch_in_place(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            queue(1)
            raise RuntimeError("this part fails, and its dispatch with it")
        queue(1, start=1)
    assert [m.to[0] for m in mail.outbox] == ["r1@example.org"]


def test_one_dispatch_task_sends_at_most_a_hundred_and_queues_the_next(db, settings):
    settings.EMAIL_MAX_PER_MINUTE = 0  # no limit: only the batch size counts here
    queue(250)
    with broker_at(DEAD_BROKER), published() as messages:
        assert services.notifications_dispatch() == 100
    assert len(mail.outbox) == 100
    # It handed the rest to a next task (which the dead broker lost: the relay's, later).
    assert [m["task"] for m in messages] == ["allemaal.tasks.dispatch_notifications"]
    assert Notification.objects.filter(status="pending").count() == 150


def test_in_process_one_dispatch_sends_everything_batch_by_batch(
    db, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_MAX_PER_MINUTE = 0
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        queue(250)
    assert len(mail.outbox) == 250
    assert not Notification.objects.exclude(status="sent").exists()


# --- The provider's rate ----------------------------------------------------------------------


def test_the_rate_is_respected_and_the_rest_goes_out_when_the_minute_has_passed(
    db, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.EMAIL_MAX_PER_MINUTE = 10
    clock = Clock(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        queue(25)
    assert len(mail.outbox) == 10
    clock.advance(timedelta(seconds=30))
    tasks.resend_stuck_notifications.apply()  # the relay's pass: nothing is due yet
    assert len(mail.outbox) == 10
    clock.advance(timedelta(seconds=31))  # a minute (and the second's margin) after the first
    tasks.resend_stuck_notifications.apply()
    assert len(mail.outbox) == 20
    clock.advance(timedelta(seconds=61))
    tasks.resend_stuck_notifications.apply()
    assert len(mail.outbox) == 25
    assert not Notification.objects.exclude(status="sent").exists()


def test_a_task_out_of_budget_queues_itself_for_when_a_slot_frees_instead_of_sleeping(
    db, settings, monkeypatch
):
    settings.EMAIL_MAX_PER_MINUTE = 10
    Clock(monkeypatch)
    queue(15)
    with broker_at(DEAD_BROKER), published() as messages:
        assert services.notifications_dispatch() == 10  # and it hands over to the next task
        assert services.notifications_dispatch() == 0  # that next task: no slot left
    assert len(mail.outbox) == 10
    # The first message: the next batch at once; the second: the next task queues itself for
    # when the oldest slot frees, a minute (and a second) after the first sends.
    assert [m["eta"] is None for m in messages] == [True, False]
    eta = datetime.fromisoformat(messages[-1]["eta"])
    assert abs((eta - datetime.now(UTC)).total_seconds() - 61) < 5
    assert Notification.objects.filter(status="pending").count() == 5


def test_a_backlog_at_the_rate_waits_for_a_whole_batch_not_a_chain_of_small_tasks(
    db, settings, monkeypatch
):
    settings.EMAIL_MAX_PER_MINUTE = 150
    clock = Clock(monkeypatch)
    queue(160)
    with broker_at(DEAD_BROKER), published() as messages:
        assert services.notifications_dispatch() == 100
        # 50 slots are free, but 60 mails wait: one task for all of them when they are free.
        assert services.notifications_dispatch() == 0
        clock.advance(timedelta(seconds=61))
        assert services.notifications_dispatch() == 60
    assert [m["eta"] is None for m in messages] == [True, False]
    assert len(mail.outbox) == 160


@pytest.mark.redis
def test_two_workers_share_one_budget_in_redis(db, settings, monkeypatch):
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.FailSafeRedisCache",
            "LOCATION": os.environ["CELERY_BROKER_URL"],
        }
    }
    settings.EMAIL_MAX_PER_MINUTE = 50
    clock = Clock(monkeypatch)
    from django.core.cache import caches

    caches["default"].delete("outbox:sent-last-minute")
    taken = []

    def worker():
        taken.extend(services.mail_budget(take=True)[0] for _ in range(100))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert taken.count(True) == 50
    assert 60 < services.mail_budget(take=False)[2] <= 61
    clock.advance(timedelta(seconds=61))
    assert services.mail_budget(take=True)[0]
    caches["default"].delete("outbox:sent-last-minute")


def test_with_the_budget_in_redis_unreachable_no_worker_sends(db, settings):
    # The provider's limit is shared by every worker: without the shared count, none may send.
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.FailSafeRedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
        }
    }
    settings.EMAIL_MAX_PER_MINUTE = 50
    assert services.mail_budget(take=True) == (False, 0, 30.0)


# --- Never twice ------------------------------------------------------------------------------


def test_a_key_already_in_the_outbox_queues_no_second_mail(
    db, donor_org, django_capture_on_commit_callbacks
):
    from tests.factories import member_of

    member_of(donor_org)
    for _attempt in range(2):  # the same decision carried out again, e.g. by a retried task
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            services.notify_organisation(
                donor_org, kind="organisation_verified", context={}, idempotency_key="verified:1"
            )
    assert Notification.objects.count() == len(mail.outbox) == 1


class SlowLocmem(LocmemBackend):
    """The mail server (outside): a millisecond per mail, so two dispatchers interleave."""

    def send_messages(self, messages):
        time.sleep(0.001)
        return super().send_messages(messages)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_never_send_a_mail_twice(settings):
    settings.EMAIL_MAX_PER_MINUTE = 0
    settings.EMAIL_BACKEND = f"{__name__}.SlowLocmem"
    sent = []

    def dispatcher():
        try:
            while batch := services.notifications_dispatch():
                sent.append(batch)
        finally:
            connection.close()

    with broker_at(DEAD_BROKER):  # each task's hand-over to the next is lost; they loop instead
        with transaction.atomic():
            queue(600)
        threads = [threading.Thread(target=dispatcher) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    recipients = [m.to[0] for m in mail.outbox]
    assert len(recipients) == len(set(recipients)) == 600
    assert sum(sent) == 600 and max(sent) <= 100
    assert set(Notification.objects.values_list("status", "attempts")) == {("sent", 1)}
