"""The register's retention periods, enforced every night (`allemaal.tasks.enforce_retention`).

Each step is one set-based statement (or one per model) and safe to run again: what is already
cleared matches nothing. The periods are settings (README, Configuration):

- `PRIVACY_OUTBOX_BODY_DAYS`: the content of sent mails is cleared (that they were sent stays);
- `PRIVACY_CLOSED_CONTACT_DAYS`: contact persons of donations, requests and shipments that were
  closed that long ago are cleared (closed: a terminal state of the model's transition table,
  since its history's last move);
- `PRIVACY_INACTIVE_ACCOUNT_DAYS`: an account without a log-in for that long is warned by mail,
  and erased (allemaal/personal_data.py) 30 days later unless its owner logged in meanwhile;
- `PRIVACY_SECURITY_LOG_DAYS`: expired sessions are deleted (they are gone for the user anyway).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import personal_data, privacy
from .models import Notification

ERASE_AFTER_WARNING = timedelta(days=30)


@dataclass
class RetentionReport:
    outbox_bodies: int = 0
    contacts: dict[str, int] = field(default_factory=dict)
    warned: int = 0
    erased: int = 0
    sessions: int = 0


def enforce_retention(now=None) -> RetentionReport:
    now = now or timezone.now()
    report = RetentionReport()
    report.outbox_bodies = clear_sent_mail_bodies(now)
    report.contacts = clear_closed_contacts(now)
    report.warned, report.erased = warn_and_erase_inactive_accounts(now)
    report.sessions = delete_expired_sessions(now)
    return report


def _days(key: str) -> timedelta:
    return timedelta(days=privacy.RETENTION[key].days)


def clear_sent_mail_bodies(now) -> int:
    cutoff = now - _days("outbox_body")
    return (
        Notification.objects.filter(status=Notification.Status.SENT, sent_at__lt=cutoff)
        .exclude(body_text="", body_html="")
        .update(body_text="", body_html="")
    )


def _contact_models():
    """(model, contact fields) of the register's contact entry, by model."""
    fields: dict[str, list[str]] = {}
    for entry in privacy.REGISTER:
        if entry.retention != "contact":
            continue
        for label in entry.fields:
            model_label, name = label.rsplit(".", 1)
            fields.setdefault(model_label, []).append(name)
    return [(apps.get_model(label), names) for label, names in sorted(fields.items())]


def clear_closed_contacts(now) -> dict[str, int]:
    cutoff = now - _days("contact")
    cleared = {}
    for model, names in _contact_models():
        table = model.transitions
        history = apps.get_model(model._meta.app_label, table.history)
        last_move = (
            history.objects.filter(**{history.subject: OuterRef("pk")})
            .values(history.subject)
            .annotate(last=Max("at"))
            .values("last")
        )
        still_named = Q()
        for name in names:
            still_named |= ~Q(**{name: ""})
        closed = (
            model.objects.filter(**{f"{table.field}__in": table.terminal})
            .filter(still_named)
            .annotate(closed_at=Subquery(last_move))
            .filter(closed_at__lt=cutoff)
        )
        ids = list(closed.values_list("pk", flat=True)[:10_000])
        cleared[model._meta.label] = model.objects.filter(pk__in=ids).update(
            **dict.fromkeys(names, "")
        )
    return cleared


def warn_and_erase_inactive_accounts(now) -> tuple[int, int]:
    """Warn who has not logged in for the period (once), and erase who was warned 30 days ago
    and still did not log in. Superusers are left to the operators."""
    from .services import notification_queue

    User = get_user_model()
    cutoff = now - _days("account")
    active = User.objects.filter(is_active=True, is_superuser=False).annotate(
        seen=Coalesce("last_login", "date_joined")
    )
    # Logged in again after a warning: the warning no longer counts.
    User.objects.filter(
        inactivity_warned_at__isnull=False, last_login__gt=F("inactivity_warned_at")
    ).update(inactivity_warned_at=None)
    warned = 0
    for user in active.filter(seen__lt=cutoff, inactivity_warned_at__isnull=True).iterator():
        notification_queue(
            kind="account_inactive_warning",
            recipient=user,
            context={"user": user, "days": ERASE_AFTER_WARNING.days},
        )
        User.objects.filter(pk=user.pk).update(inactivity_warned_at=now)
        warned += 1
    erased = 0
    for user in active.filter(
        seen__lt=cutoff, inactivity_warned_at__lt=now - ERASE_AFTER_WARNING
    ).iterator():
        personal_data.personal_data_erase(user)
        erased += 1
    return warned, erased


def delete_expired_sessions(now) -> int:
    """Expired sessions, and the list of where someone logged in (IP address, browser) once
    older than the security period."""
    from allauth.usersessions.models import UserSession
    from django.contrib.sessions.models import Session

    deleted, _ = Session.objects.filter(expire_date__lt=now).delete()
    old, _ = UserSession.objects.filter(last_seen_at__lt=now - _days("security")).delete()
    return deleted + old
