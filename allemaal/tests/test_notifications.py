import smtplib

import pytest
from django.core import mail
from django.db import transaction

from allemaal import services, tasks
from allemaal.models import Notification
from tests.factories import OrganisationFactory, UserFactory


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


def test_it_gives_up_after_the_maximum_attempts_and_can_be_requeued(db, monkeypatch, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    n = services.notification_queue_rendered(
        kind="test", to_email="a@example.org", subject="s", body_text="b"
    )
    monkeypatch.setattr(
        "django.core.mail.EmailMultiAlternatives.send",
        lambda *a, **k: (_ for _ in ()).throw(OSError("down")),
    )
    for _ in range(2):
        with pytest.raises(services.NotificationDeliveryError):
            services.notification_send(n.pk)
    n.refresh_from_db()
    assert n.status == "failed"
    monkeypatch.undo()
    services.notification_requeue(n)
    n.refresh_from_db()
    assert (n.status, n.attempts) == ("pending", 0)


def test_the_periodic_job_resends_stuck_notifications(db, settings):
    settings.NOTIFICATION_STUCK_AFTER_SECONDS = 0
    n = services.notification_queue_rendered(
        kind="test", to_email="a@example.org", subject="s", body_text="b"
    )
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
