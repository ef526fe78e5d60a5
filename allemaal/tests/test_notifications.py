import logging
import smtplib
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import transaction
from django.utils import timezone

from allemaal import services, tasks
from allemaal.models import Notification
from config.celery import app as celery_app
from tests.factories import OrganisationFactory, UserFactory


@contextmanager
def broker_at(url: str):
    """Point this process's Celery app at a real broker URL (not in-process) for a while."""
    from kombu import pools as kombu_pools

    saved = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    kombu_pools.reset()
    celery_app.conf.update(broker_url=url, broker_write_url=url, task_always_eager=False)
    celery_app._pool = celery_app.amqp._producer_pool = None
    try:
        yield
    finally:
        kombu_pools.reset()
        celery_app.conf.update(
            broker_url=saved[0], broker_write_url=saved[0], task_always_eager=saved[1]
        )
        celery_app._pool = celery_app.amqp._producer_pool = None


def count_broker_attempts(monkeypatch) -> dict:
    """Count connection attempts to the broker and the sleeps of any retry loop from now on."""
    import redis.connection

    counts = {"connects": 0, "sleeps": 0}
    connect = redis.connection.Connection._connect

    def counting_connect(self):
        counts["connects"] += 1
        return connect(self)

    def counting_sleep(seconds):
        counts["sleeps"] += 1

    monkeypatch.setattr(redis.connection.Connection, "_connect", counting_connect)
    monkeypatch.setattr(time, "sleep", counting_sleep)
    return counts


class Clock:
    """Time travel for the outbox: `timezone.now()` returns this clock's time."""

    def __init__(self, monkeypatch):
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class SmtpDownUntil(BaseEmailBackend):
    """A mail server (outside, so mocked) that refuses connections until `back_at`."""

    back_at = None
    clock = None
    connection_attempts = 0

    def send_messages(self, messages):
        type(self).connection_attempts += 1
        if self.clock.now < self.back_at:
            raise smtplib.SMTPConnectError(421, "Service not available")
        return LocmemBackend().send_messages(messages)


def test_a_notification_is_written_in_the_same_transaction_as_its_cause(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.notification_queue_rendered(
            kind="test", to_email="a@example.org", subject="s", body_text="b"
        )
        raise RuntimeError("the change fails")
    assert not Notification.objects.exists()


def test_it_sends_after_commit_and_only_once(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        n = services.notification_queue_rendered(
            kind="test",
            to_email="a@example.org",
            subject="Onderwerp",
            body_text="Tekst",
            body_html="<p>Tekst</p>",
        )
    n.refresh_from_db()
    assert n.status == "sent" and n.attempts == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].alternatives[0][1] == "text/html"
    # the same task delivered again sends nothing
    assert tasks.send_notification.apply(args=[n.pk]).get() is False
    assert len(mail.outbox) == 1


def test_a_broken_mail_server_keeps_the_row_pending_with_its_error(db, monkeypatch):
    n = services.notification_queue_rendered(
        kind="test", to_email="a@example.org", subject="s", body_text="b"
    )

    def broken(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("connection lost")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", broken)
    with pytest.raises(services.NotificationDeliveryError):
        services.notification_send(n.pk)
    n.refresh_from_db()
    assert (n.status, n.attempts) == ("pending", 1)
    assert "connection lost" in n.last_error


def test_it_gives_up_after_the_retry_window_and_can_be_requeued(db, monkeypatch, settings, caplog):
    settings.NOTIFICATION_RETRY_WINDOW_HOURS = 24
    clock = Clock(monkeypatch)
    n = services.notification_queue_rendered(
        kind="test", to_email="a@example.org", subject="s", body_text="b"
    )
    monkeypatch.setattr(
        "django.core.mail.EmailMultiAlternatives.send",
        lambda *a, **k: (_ for _ in ()).throw(OSError("down")),
    )
    with pytest.raises(services.NotificationDeliveryError):
        services.notification_send(n.pk)
    n.refresh_from_db()
    assert n.status == "pending" and n.give_up_at == clock.now + timedelta(hours=24)
    clock.advance(timedelta(hours=24))
    with caplog.at_level(logging.ERROR), pytest.raises(services.NotificationDeliveryError):
        services.notification_send(n.pk)
    n.refresh_from_db()
    assert (n.status, n.last_error) == ("failed", "OSError: down")  # the dead letter
    assert any("failed for good" in r.getMessage() for r in caplog.records)  # the alert
    monkeypatch.undo()
    services.notification_requeue(n)
    n.refresh_from_db()
    assert (n.status, n.attempts, n.give_up_at) == ("pending", 0, None)


def test_the_periodic_job_resends_stuck_notifications(db, settings, monkeypatch):
    n = services.notification_queue_rendered(
        kind="test", to_email="a@example.org", subject="s", body_text="b"
    )
    Clock(monkeypatch).advance(timedelta(seconds=settings.NOTIFICATION_STUCK_AFTER_SECONDS))
    assert tasks.resend_stuck_notifications.apply().get() == 1
    n.refresh_from_db()
    assert n.status == "sent"


def test_it_writes_each_mail_in_the_recipients_language(db, donor_org):
    from tests.factories import member_of

    nl_user = member_of(donor_org, user__language="nl")
    en_user = member_of(donor_org, user__language="en")
    services.notify_organisation(donor_org, kind="organisation_verified", context={})
    subjects = dict(Notification.objects.values_list("to_email", "subject"))
    assert "goedgekeurd" in subjects[nl_user.email]
    assert "approved" in subjects[en_user.email]


def test_notify_group_reaches_active_members_of_the_group(db, coordinator):
    UserFactory(is_active=False, is_staff=True).groups.add(*coordinator.groups.all())
    mails = services.notify_group(
        "coordinators",
        kind="organisation_registered",
        context={"organisation": OrganisationFactory()},
    )
    assert [m.to_email for m in mails] == [coordinator.email]


def test_a_mail_server_down_for_ten_minutes_gets_the_mail_once_afterwards_by_itself(
    db, monkeypatch, settings, django_capture_on_commit_callbacks
):
    clock = Clock(monkeypatch)
    settings.EMAIL_BACKEND = f"{__name__}.SmtpDownUntil"
    monkeypatch.setattr(SmtpDownUntil, "clock", clock)
    monkeypatch.setattr(SmtpDownUntil, "back_at", clock.now + timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        n = services.notification_queue_rendered(
            kind="test", to_email="a@example.org", subject="Na de storing", body_text="b"
        )
    assert Notification.objects.get(pk=n.pk).status == "pending"  # the first attempt failed
    for _minute in range(60):  # an hour of the relay's every-minute passes, nobody intervening
        clock.advance(timedelta(minutes=1))
        tasks.resend_stuck_notifications.apply()
    n.refresh_from_db()
    assert n.status == "sent" and [m.subject for m in mail.outbox] == ["Na de storing"]
    # backoff with a cap: sent within ten minutes of the server's return, in a handful of tries
    assert n.sent_at <= SmtpDownUntil.back_at + timedelta(minutes=10)
    assert n.attempts == SmtpDownUntil.connection_attempts <= 7


def test_backoff_doubles_up_to_its_cap_with_jitter(settings):
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 60
    settings.NOTIFICATION_RETRY_MAX_SECONDS = 3600
    for attempts, ceiling in [(1, 60), (2, 120), (4, 480), (7, 3600), (20, 3600)]:
        waits = {services.notification_backoff(attempts).total_seconds() for _ in range(20)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(waits) > 1  # jittered: a queue of failed mails does not retry in step


def test_the_relay_queues_one_dispatch_for_all_due_mails(db, monkeypatch):
    for i in range(30):
        services.notification_queue_rendered(
            kind="test", to_email=f"r{i}@example.org", subject="s", body_text="b"
        )
    with broker_at("redis://127.0.0.1:1/0"):  # a dead broker: count the attempts to reach it
        attempts = count_broker_attempts(monkeypatch)
        assert services.notifications_resend_stuck() == 30
    assert attempts == {"connects": 1, "sleeps": 0}
    assert Notification.objects.filter(status="pending").count() == 30


def test_with_the_broker_down_twenty_mails_commit_fast_and_the_relay_sends_each_once(
    db, monkeypatch, settings, django_capture_on_commit_callbacks
):
    with broker_at("redis://127.0.0.1:1/0"):  # nothing listens on port 1: a dead broker
        with django_capture_on_commit_callbacks() as enqueues, transaction.atomic():
            for i in range(20):
                services.notification_queue_rendered(
                    kind="test", to_email=f"r{i}@example.org", subject=f"Bericht {i}", body_text="b"
                )
        attempts = count_broker_attempts(monkeypatch)
        for enqueue in enqueues:  # what runs after the commit
            enqueue()
    assert len(enqueues) == 1  # one dispatch for the transaction's twenty mails
    # One quick connection attempt, and no waiting: no retry loop inside the request.
    assert attempts == {"connects": 1, "sleeps": 0}
    assert Notification.objects.filter(status="pending").count() == 20
    assert mail.outbox == []

    # The broker is back (here: jobs in-process again); the relay sends each once.
    clock = Clock(monkeypatch)
    clock.advance(timedelta(seconds=settings.NOTIFICATION_STUCK_AFTER_SECONDS))
    assert tasks.resend_stuck_notifications.apply().get() == 20
    clock.advance(timedelta(hours=1))
    assert tasks.resend_stuck_notifications.apply().get() == 0
    assert sorted(m.subject for m in mail.outbox) == sorted(f"Bericht {i}" for i in range(20))
    assert not Notification.objects.exclude(status="sent").exists()
