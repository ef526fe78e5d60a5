"""The register's retention periods, enforced by the nightly job (issue 18), with time travel:
the job is run with `now` moved forward, as beat would run it on that day."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core import mail
from django.utils import timezone

from allemaal import retention
from allemaal.models import Notification, User
from allemaal.services import notification_queue
from donations.models import Donation
from donations.tests.factories import DonationFactory
from tests.factories import member_of

DAY = timedelta(days=1)


@pytest.fixture
def sent_mail(donor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = notification_queue(
            kind="account_inactive_warning", recipient=donor, context={"user": donor, "days": 30}
        )
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT and notification.body_text
    return notification


def test_a_sent_mails_content_is_cleared_after_90_days_and_that_it_was_sent_stays(sent_mail):
    now = timezone.now()
    retention.enforce_retention(now + 89 * DAY)
    sent_mail.refresh_from_db()
    assert sent_mail.body_text
    retention.enforce_retention(now + 91 * DAY)
    sent_mail.refresh_from_db()
    assert (sent_mail.body_text, sent_mail.body_html) == ("", "")
    assert sent_mail.subject and sent_mail.to_email and sent_mail.sent_at


def test_a_closed_donations_contact_person_is_cleared_two_years_after_closing(db):
    open_one = DonationFactory(contact_name="Karin Open")
    closed = DonationFactory(status=Donation.Status.CANCELLED, contact_name="Jan Dicht")
    closed.events.create(from_status="pledged", to_status="cancelled")
    now = timezone.now()
    retention.enforce_retention(now + 729 * DAY)
    closed.refresh_from_db()
    assert closed.contact_name == "Jan Dicht"
    report = retention.enforce_retention(now + 731 * DAY)
    assert report.contacts["donations.Donation"] == 1
    closed.refresh_from_db()
    open_one.refresh_from_db()
    assert (closed.contact_name, str(closed.contact_phone or "")) == ("", "")
    assert open_one.contact_name == "Karin Open"  # still in progress: still needed
    # Again: nothing more to do.
    assert retention.enforce_retention(now + 732 * DAY).contacts["donations.Donation"] == 0


def test_an_inactive_account_is_warned_once_and_erased_thirty_days_later(db, donor_org):
    user = member_of(donor_org, user__email="stil@bedrijf.example")
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    now = timezone.now()
    retention.enforce_retention(now + 729 * DAY)
    assert not Notification.objects.filter(kind="account_inactive_warning").exists()
    later = now + 731 * DAY
    report = retention.enforce_retention(later)
    assert report.warned == 1
    warning = Notification.objects.get(kind="account_inactive_warning", recipient=user)
    assert "30 dagen" in warning.subject
    # The next nights: no second warning; erased only after 30 days.
    assert retention.enforce_retention(later + 29 * DAY).warned == 0
    user.refresh_from_db()
    assert user.is_active
    assert retention.enforce_retention(later + 31 * DAY).erased == 1
    user.refresh_from_db()
    assert not user.is_active and user.email.endswith("@verwijderd.invalid")


def test_logging_in_after_the_warning_keeps_the_account(db, donor_org):
    user = member_of(donor_org, user__email="terug@bedrijf.example")
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    later = timezone.now() + 731 * DAY
    retention.enforce_retention(later)
    User.objects.filter(pk=user.pk).update(last_login=later + DAY)  # logs in the next day
    assert retention.enforce_retention(later + 40 * DAY).erased == 0
    user.refresh_from_db()
    assert user.is_active and user.inactivity_warned_at is None


def test_expired_sessions_are_deleted(db):
    store = SessionStore()
    store["x"] = 1
    store.set_expiry(60)
    store.create()
    assert retention.enforce_retention(timezone.now() + DAY).sessions == 1
    assert not Session.objects.exists()


def test_the_nightly_task_is_scheduled():
    from config.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "allemaal.tasks.enforce_retention" in tasks
    assert mail  # the outbox backend is in-process in tests
