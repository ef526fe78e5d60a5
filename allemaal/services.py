"""Writes of the platform core: organisations, memberships, invitations and the notification outbox.

Every other app sends e-mail through `notification_queue` / `notify_organisation`, so a mail is
written in the same transaction as the change that causes it and sent by a Celery task after
commit. A broken mail server or a stopped broker leaves the row pending; a periodic job picks it
up again, and sending is idempotent.
"""

import logging
import secrets
import threading
from contextlib import contextmanager
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache, caches
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from .models import (
    Invitation,
    Membership,
    Notification,
    Organisation,
    User,
    hash_token,
    redact_one_time_links,
)
from .postcodes import province_for_postcode
from .security_log import security_event
from .transitions import transition

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A business rule refused the change; the message is shown to the user as is."""


class NotificationDeliveryError(Exception):
    """The mail server did not take the message; the relay tries again after a backoff."""


# --- Notification outbox -------------------------------------------------------------------
#
# Sending in batches: a transaction that queues mails queues one small `dispatch_notifications`
# message after its commit, however many mails it wrote. A dispatch task claims up to
# DISPATCH_BATCH due rows (SELECT … FOR UPDATE SKIP LOCKED, then a lease: `next_attempt_at`
# moves past the task's time limit, so no other task takes them), hands what is left to the next
# task at once (so every worker helps), and sends its batch within the provider's rate. At most
# one dispatch waits in the broker at a time (a cache token), so a thousand commits during a
# national approval do not start a thousand chains of tasks.
#
# The provider's rate (EMAIL_MAX_PER_MINUTE) is one budget for all workers: a sliding log of
# the last minute's sends in Redis when the cache is Redis, in the process otherwise (`make
# run`, tests). A send takes a slot first; when none is free the task gives its unsent rows back
# and queues itself again for when the oldest slot frees, instead of sleeping in a worker.
#
# One owner of retries: the relay (`notifications_resend_stuck`, every minute) queues a
# dispatch whenever rows are due: a failed attempt's backoff passed, or a dispatch was lost (the
# broker was down at commit, a worker was killed; its claimed rows are due again once their
# lease ends). A failure sets `next_attempt_at` (exponential backoff with jitter); after
# NOTIFICATION_RETRY_WINDOW_HOURS of failures the row becomes a dead letter (failed, with its
# last error) and an ERROR line alerts operators.

_jitter = secrets.SystemRandom()

# Mails one dispatch task sends; the broker carries one message per batch, not per mail.
DISPATCH_BATCH = 100
_DISPATCH_QUEUED_KEY = "outbox:dispatch-queued"
_BUDGET_KEY = "outbox:sent-last-minute"
# A minute, and a second more for the moment between taking a slot and the send itself, so no
# 60 seconds as the provider counts them ever hold more than EMAIL_MAX_PER_MINUTE sends.
_BUDGET_WINDOW = 61.0
_budget_lock = threading.Lock()
# Drop the log's slots older than the window; take one if fewer than the limit remain.
# Returns {taken (0/1), free slots left, seconds until `want` slots are free}.
_BUDGET_SCRIPT = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local want = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
local taken = 0
if used < limit and ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
  used, taken = used + 1, 1
end
local wait = 0
if used + want > limit then
  local i = used + want - limit - 1
  local slot = redis.call('ZRANGE', KEYS[1], i, i, 'WITHSCORES')
  wait = tonumber(slot[2]) + window - now
end
return {taken, limit - used, tostring(wait)}
"""


def enqueue(task, args=(), kwargs=None, **options) -> bool:
    """Queue a task with one connection attempt and no retry loop; False when the broker cannot
    be reached. Web requests call this, so a stopped broker costs them milliseconds, not
    kombu's retry loop (2 s per call); the work is then picked up by its periodic owner (the
    outbox relay, the next run check). Workers keep retrying their own connection."""
    try:
        with task.app.connection_for_write(transport_options={"max_retries": 0}) as connection:
            task.apply_async(args=args, kwargs=kwargs, connection=connection, **options)
    except (KombuOperationalError, OSError):  # a stopped broker must not break the caller
        log.warning("Could not enqueue %s; the broker is unreachable", task.name)
        return False
    return True


def _dispatch_soon(countdown: float = 0, *, force: bool = False) -> bool:
    """Queue a dispatch unless one already waits in the broker; `force` queues one anyway (the
    relay: a token may outlive a lost message). False when none was queued."""
    from .tasks import dispatch_notifications

    timeout = int(_lease().total_seconds() + countdown) + 1
    if not cache.add(_DISPATCH_QUEUED_KEY, 1, timeout) and not force:
        return False
    options = {"countdown": round(countdown, 3)} if countdown > 0 else {}
    if enqueue(dispatch_notifications, **options):
        return True
    # A mail that cannot be queued stays pending: the relay sends it later.
    cache.delete(_DISPATCH_QUEUED_KEY)
    return False


class _DispatchOnCommit:
    """The one dispatch a transaction queues after its commit."""

    ran = False

    def __call__(self) -> None:
        self.ran = True
        _dispatch_soon()


def _dispatch_after_commit() -> None:
    """One dispatch after the commit, however many mails the transaction writes. (A callback
    that already ran can still be listed: tests run them without committing.)"""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        isinstance(entry[1], _DispatchOnCommit) and not entry[1].ran
        for entry in connection.run_on_commit
    ):
        return
    transaction.on_commit(_DispatchOnCommit())


def _lease() -> timezone.timedelta:
    """How long a dispatch task holds the rows it claimed: past its time limit, so a live task
    never loses its rows to another, and a killed one's rows are sent again afterwards."""
    seconds = max(settings.NOTIFICATION_STUCK_AFTER_SECONDS, settings.CELERY_TASK_TIME_LIMIT + 30)
    return timezone.timedelta(seconds=seconds)


def notification_backoff(attempts: int) -> timezone.timedelta:
    """The wait after the n-th failed attempt: doubling from the base up to the cap, each wait
    drawn between half and all of it so that a queue of failed mails does not retry in step."""
    ceiling = min(
        settings.NOTIFICATION_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
        settings.NOTIFICATION_RETRY_MAX_SECONDS,
    )
    return timezone.timedelta(seconds=_jitter.uniform(ceiling / 2, ceiling))


def mail_budget(*, take: bool, want: int = 1) -> tuple[bool, int, float]:
    """The provider's rate, shared by every worker: (a slot was taken, free slots left, seconds
    until `want` slots are free). Without `take` it only looks."""
    limit = settings.EMAIL_MAX_PER_MINUTE
    if limit <= 0:
        return take, DISPATCH_BATCH, 0.0
    want = min(want, limit)
    now = timezone.now().timestamp()
    slot = f"{now:.6f}:{secrets.token_hex(4)}" if take else ""
    if hasattr(caches["default"], "redis_script"):  # Redis (config.cache): shared by all workers
        return _mail_budget_redis(now, limit, slot, want)
    with _budget_lock:  # one process (in-process jobs): the cache is this process's memory
        stamps = [t for t in cache.get(_BUDGET_KEY, []) if t > now - _BUDGET_WINDOW]
        taken = bool(slot) and len(stamps) < limit
        if taken:
            stamps.append(now)
            cache.set(_BUDGET_KEY, stamps, int(_BUDGET_WINDOW) + 1)
        short = len(stamps) + want - limit
        wait = stamps[short - 1] + _BUDGET_WINDOW - now if short > 0 else 0.0
        return taken, limit - len(stamps), wait


def _mail_budget_redis(now: float, limit: int, slot: str, want: int) -> tuple[bool, int, float]:
    backend = caches["default"]
    key = backend.make_and_validate_key(_BUDGET_KEY)
    try:
        script = backend.redis_script(_BUDGET_SCRIPT)
        taken, free, wait = script(keys=[key], args=[now, _BUDGET_WINDOW, limit, slot, want])
    except (RedisError, OSError) as exc:
        # Without the shared count no worker may send: the provider's limit is not ours to guess.
        log.warning("The mail budget in Redis is unreachable (%s); sending later", exc)
        return False, 0, 30.0
    return bool(taken), int(free), float(wait)


def notification_queue(
    *,
    kind: str,
    context: dict,
    recipient: User | None = None,
    to_email: str = "",
    language: str | None = None,
    idempotency_key: str = "",
) -> Notification:
    """Write one e-mail to the outbox, rendered in the recipient's language, and send it after
    commit. Templates: `emails/<kind>_subject.txt`, `emails/<kind>.txt`, optional `.html`. A
    mail with the key of one already written is not written again."""
    if idempotency_key:
        existing = Notification.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    language = language or (recipient.language if recipient else settings.LANGUAGE_CODE)
    subject, text, html = _render(kind, context, language)
    return notification_queue_rendered(
        kind=kind,
        to_email=to_email or recipient.email,
        subject=subject,
        body_text=text,
        body_html=html,
        recipient=recipient,
        language=language,
        idempotency_key=idempotency_key,
    )


def _render(kind: str, context: dict, language: str) -> tuple[str, str, str]:
    ctx = {"site_url": settings.SITE_URL, "support_phone": settings.SUPPORT_PHONE, **context}
    with translation.override(language):
        subject = " ".join(render_to_string(f"emails/{kind}_subject.txt", ctx).split())
        text = render_to_string(f"emails/{kind}.txt", ctx)
        try:
            html = render_to_string(f"emails/{kind}.html", ctx)
        except Exception:  # noqa: BLE001 - the HTML body is optional
            html = ""
    return subject, text, html


def _notification(
    *, kind, to_email, subject, body_text, body_html, recipient, language, idempotency_key
) -> Notification:
    """An unsaved outbox row, due at once; a one-time link is kept only in the sealed copy."""
    shown_text, shown_html = redact_one_time_links(body_text), redact_one_time_links(body_html)
    sealed = (shown_text, shown_html) != (body_text, body_html)
    return Notification(
        kind=kind,
        to_email=to_email,
        subject=subject[:250],
        body_text=shown_text,
        body_html=shown_html,
        one_time_link=sealed,
        sealed_text=body_text if sealed else "",
        sealed_html=body_html if sealed else "",
        recipient=recipient,
        language=language,
        idempotency_key=idempotency_key,
        next_attempt_at=timezone.now(),
    )


def notification_queue_rendered(
    *,
    kind: str,
    to_email: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    recipient: User | None = None,
    language: str = "nl",
    idempotency_key: str = "",
) -> Notification:
    """Write an already rendered e-mail to the outbox and send it after commit; a one-time link
    in it is kept only in the sealed copy until it is sent. A key already in the outbox (the
    same decision carried out again) writes nothing and returns the mail written before."""
    notification = _notification(
        kind=kind,
        to_email=to_email,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        recipient=recipient,
        language=language,
        idempotency_key=idempotency_key,
    )
    if idempotency_key:
        try:
            # A savepoint: a concurrent twin's insert fails alone, not the caller's transaction.
            with transaction.atomic():
                notification.save(force_insert=True)
        except IntegrityError:
            return Notification.objects.get(idempotency_key=idempotency_key)
    else:
        notification.save(force_insert=True)
    _dispatch_after_commit()
    return notification


def notify_organisation(
    organisation: Organisation, *, kind: str, context: dict, idempotency_key: str = ""
) -> list:
    """Queue one e-mail per member of the organisation, each in the member's own language; with
    a key (the decision's), each member's mail is written once however often it is repeated."""
    members = User.objects.filter(membership__organisation=organisation, is_active=True)
    return [
        notification_queue(
            kind=kind,
            recipient=user,
            context={"organisation": organisation, **context},
            idempotency_key=f"{idempotency_key}:{user.pk}" if idempotency_key else "",
        )
        for user in members.order_by("id")
    ]


def notify_organisations(kind: str, mails: list[tuple[Organisation, dict, str]]) -> int:
    """`notify_organisation` for many organisations at once, in a few queries for the lot (a
    national decision mails thousands): `mails` holds (organisation, context, key) each; a
    member's mail whose key is already in the outbox is not written again. Returns how many
    mails were written."""
    members: dict[int, list[User]] = {}
    memberships = Membership.objects.filter(
        organisation_id__in=[organisation.pk for organisation, _context, _key in mails],
        user__is_active=True,
    )
    for membership in memberships.select_related("user").order_by("user_id"):
        members.setdefault(membership.organisation_id, []).append(membership.user)
    keyed = [
        f"{key}:{user.pk}"
        for organisation, _c, key in mails
        if key
        for user in members.get(organisation.pk, ())
    ]
    written = set()
    for start in range(0, len(keyed), 5000):
        chunk = Notification.objects.filter(idempotency_key__in=keyed[start : start + 5000])
        written.update(chunk.values_list("idempotency_key", flat=True))
    rows = []
    for organisation, context, key in mails:
        for user in members.get(organisation.pk, ()):
            user_key = f"{key}:{user.pk}" if key else ""
            if user_key in written:
                continue
            subject, text, html = _render(
                kind, {"organisation": organisation, **context}, user.language
            )
            rows.append(
                _notification(
                    kind=kind,
                    to_email=user.email,
                    subject=subject,
                    body_text=text,
                    body_html=html,
                    recipient=user,
                    language=user.language,
                    idempotency_key=user_key,
                )
            )
    # A concurrent twin of the same decision: its rows win, these are skipped.
    Notification.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    if rows:
        _dispatch_after_commit()
    return len(rows)


def notify_group(group_name: str, *, kind: str, context: dict) -> list:
    """Queue one e-mail per active member of a staff group (coordinators, helpdesk)."""
    users = User.objects.filter(groups__name=group_name, is_active=True).order_by("id")
    return [notification_queue(kind=kind, recipient=u, context=context) for u in users]


def notifications_dispatch() -> int:
    """Send one batch of due notifications within the provider's rate and hand the rest to the
    next task; in-process (no broker) go on batch by batch. Returns how many were sent."""
    from .tasks import dispatch_notifications

    in_process = dispatch_notifications.app.conf.task_always_eager
    sent = 0
    while True:
        # Before the claim: a commit from here on queues a dispatch of its own.
        cache.delete(_DISPATCH_QUEUED_KEY)
        _taken, free, _wait = mail_budget(take=False)
        if free < DISPATCH_BATCH:
            # The budget is the limit: wait for a whole batch's slots (or all that is due), so
            # that a backlog goes out in batches, not in a chain of tasks of a mail or two.
            want = _notifications_due(DISPATCH_BATCH)
            _taken, free, wait = mail_budget(take=False, want=want)
            if want == 0 or wait > 0:
                if want and not in_process:
                    _dispatch_soon(wait)  # come back when the slots are free
                return sent  # in-process: the relay comes back every minute
        batch = min(DISPATCH_BATCH, free)
        ids, more = _notifications_claim(batch)
        if more and not in_process:
            _dispatch_soon()  # the next batch goes to another worker meanwhile
        with _commits_without_flush_wait():
            done, wait = _notifications_send_claimed(ids)
        sent += done
        if wait > 0:
            if not in_process:
                _dispatch_soon(wait)
            return sent
        if not (more and in_process):
            return sent


def _notifications_claim(limit: int) -> tuple[list[int], bool]:
    """Lease up to `limit` due rows to this task (rows another task holds are skipped); and
    whether more are due after them."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=Notification.Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("id", flat=True)[: limit + 1]
        )
        more, ids = len(ids) > limit, ids[:limit]
        Notification.objects.filter(pk__in=ids).update(next_attempt_at=now + _lease())
    return ids, more


@contextmanager
def _commits_without_flush_wait():
    """Each sent row's status commits on its own (a killed worker re-sends at most the mail it
    was sending), without waiting for the disk: on PostgreSQL a crash of the database server
    itself could forget the last fraction of a second's marks, and those few mails would be
    sent again after their lease, never lost. A commit per mail waiting for the disk would
    cost more than the mail."""
    database = transaction.get_connection()
    if database.vendor != "postgresql":
        yield
        return
    with database.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with database.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _notifications_due(limit: int) -> int:
    """How many rows are due, counted up to `limit`."""
    pending = Notification.objects.filter(status=Notification.Status.PENDING)
    return pending.filter(next_attempt_at__lte=timezone.now())[:limit].count()


def _notifications_send_claimed(ids: list[int]) -> tuple[int, float]:
    """Send claimed rows one by one, each with a slot of the budget; when the budget runs out,
    give the rest back for when a slot frees. Returns (sent, seconds to wait, or 0)."""
    rows = list(Notification.objects.filter(pk__in=ids, status=Notification.Status.PENDING))
    sent = 0
    for index, notification in enumerate(rows):
        taken, _free, wait = mail_budget(take=True)
        if not taken:
            wait = max(wait, 0.1)
            Notification.objects.filter(pk__in=[n.pk for n in rows[index:]]).update(
                next_attempt_at=timezone.now() + timezone.timedelta(seconds=wait)
            )
            return sent, wait
        if _notification_attempt(notification) is None:
            sent += 1
    return sent, 0.0


def notification_send(notification_id: int) -> bool:
    """Try one due notification once, within the provider's rate; a second delivery of the same
    task sends nothing (the row is locked and its status and lease checked before sending). A
    failure schedules the next attempt, or after the retry window makes the row a dead letter."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(
                pk=notification_id,
                status=Notification.Status.PENDING,
                next_attempt_at__lte=timezone.now(),
            )
            .first()
        )
        if notification is None or not mail_budget(take=True)[0]:
            return False  # sent, held by a dispatch, or no slot free: the relay comes back
        failure = _notification_attempt(notification)
    if failure is not None:
        raise NotificationDeliveryError(str(failure)) from failure
    return True


def _notification_attempt(notification: Notification) -> Exception | None:
    """Send a claimed notification and record the outcome; returns the failure, if any."""
    failure = None
    text, html = notification.body_text, notification.body_html
    if notification.one_time_link:
        text, html = notification.sealed_text, notification.sealed_html
    message = EmailMultiAlternatives(
        notification.subject, text, settings.DEFAULT_FROM_EMAIL, [notification.to_email]
    )
    if html:
        message.attach_alternative(html, "text/html")
    notification.attempts += 1
    try:
        message.send()
    except SoftTimeLimitExceeded:
        raise  # the task is out of time: the row stays claimed and is tried after its lease
    except Exception as exc:  # noqa: BLE001 - any mail failure is retried, never lost
        failure = exc
        _notification_schedule_retry(notification, f"{type(exc).__name__}: {exc}"[:2000])
    else:
        notification.status = Notification.Status.SENT
        notification.sent_at = timezone.now()
        notification.last_error = ""
    if notification.status != Notification.Status.PENDING:
        # Sent or given up: the one-time link is not kept (a re-send issues a fresh one).
        notification.sealed_text = notification.sealed_html = ""
    notification.save(
        update_fields=[
            "sealed_text",
            "sealed_html",
            "attempts",
            "last_error",
            "status",
            "sent_at",
            "next_attempt_at",
            "give_up_at",
        ]
    )
    return failure


def _notification_schedule_retry(notification: Notification, error: str) -> None:
    now = timezone.now()
    notification.last_error = error
    if notification.give_up_at is None:
        window = timezone.timedelta(hours=settings.NOTIFICATION_RETRY_WINDOW_HOURS)
        notification.give_up_at = now + window
    if now >= notification.give_up_at:
        notification.status = Notification.Status.FAILED
        # The alert: operators watch ERROR lines; a coordinator can re-queue from the admin.
        log.error(
            "Notification %s to %s failed for good after %d attempts: %s",
            notification.pk,
            notification.to_email,
            notification.attempts,
            error,
        )
        return
    notification.next_attempt_at = now + notification_backoff(notification.attempts)
    log.warning(
        "Notification %s attempt %d failed (%s); next attempt at %s",
        notification.pk,
        notification.attempts,
        error,
        notification.next_attempt_at.isoformat(timespec="seconds"),
    )


def notification_requeue(notification: Notification, *, request=None) -> None:
    """Give a failed notification a new series of attempts (coordinators, from the admin). A
    mail with a one-time link is never sent twice: a fresh link is issued in a new mail."""
    if notification.one_time_link:
        _notification_reissue_link(notification, request=request)
        return
    with transaction.atomic():
        locked = Notification.objects.select_for_update().get(pk=notification.pk)
        if locked.status == Notification.Status.SENT:
            return
        locked.status = Notification.Status.PENDING
        locked.attempts = 0
        locked.give_up_at = None
        locked.next_attempt_at = timezone.now()
        locked.save(update_fields=["status", "attempts", "give_up_at", "next_attempt_at"])
        _dispatch_after_commit()


def _notification_reissue_link(notification: Notification, *, request) -> None:
    from allauth.account.forms import ResetPasswordForm
    from allauth.account.models import EmailAddress

    kind = notification.kind
    if kind.startswith("password_reset"):
        form = ResetPasswordForm(data={"email": notification.to_email})
        if form.is_valid():
            form.save(request)
    elif kind.startswith("email_confirmation"):
        address = EmailAddress.objects.filter(
            email__iexact=notification.to_email, verified=False
        ).first()
        if address is None:
            raise DomainError(_("Dit adres is al bevestigd; er is niets opnieuw te sturen."))
        address.send_confirmation(request)
    elif kind == "invitation":
        invitation_renew_link(email=notification.to_email)
    else:
        raise DomainError(_("Deze e-mail kan niet opnieuw worden verstuurd."))


def notifications_resend_stuck(limit: int = 500) -> int:
    """The relay, every minute: when mails are due (a failed attempt's backoff passed, or a
    dispatch was lost to a stopped broker or a killed worker), queue a dispatch for them.
    Returns how many are due (up to `limit`)."""
    due = Notification.objects.filter(
        status=Notification.Status.PENDING, next_attempt_at__lte=timezone.now()
    )[:limit].count()
    if due:
        _dispatch_soon(force=True)
    return due


# --- Organisations -------------------------------------------------------------------------


def organisation_create(*, user: User, data: dict) -> Organisation:
    """Create an organisation awaiting verification, with its creator as its admin."""
    if Membership.objects.filter(user=user).exists():
        raise DomainError(_("U hoort al bij een organisatie."))
    with transaction.atomic():
        organisation = Organisation(**data)
        organisation.province = province_for_postcode(organisation.postcode)
        organisation.full_clean()
        organisation.save()
        Membership.objects.create(user=user, organisation=organisation, role=Membership.Role.ADMIN)
        notify_group(
            "coordinators",
            kind="organisation_registered",
            context={"organisation": organisation},
        )
    return organisation


def _organisation_set_status(
    organisation: Organisation, *, status: str, by: User, reason: str, kind: str
) -> Organisation:
    with transaction.atomic():
        org = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if org.status == status:
            return org
        org.status_reason = reason
        org.status_changed_by = by
        transition(
            org,
            status,
            by=by,
            note=reason,
            update_fields=["status_reason", "status_changed_by"],
            locked=True,
        )
        notify_organisation(org, kind=kind, context={"reason": reason})
    security_event(kind, actor=by, organisation=org, obj=org)
    return org


def organisation_verify(organisation: Organisation, *, by: User) -> Organisation:
    """A coordinator confirms the organisation is who it says it is; it can now act."""
    return _organisation_set_status(
        organisation,
        status=Organisation.Status.VERIFIED,
        by=by,
        reason="",
        kind="organisation_verified",
    )


def organisation_reject(organisation: Organisation, *, by: User, reason: str) -> Organisation:
    """A coordinator refuses the organisation, always with a reason that it is told."""
    if not reason.strip():
        raise DomainError(_("Geef een reden op voor de afwijzing."))
    return _organisation_set_status(
        organisation,
        status=Organisation.Status.REJECTED,
        by=by,
        reason=reason.strip(),
        kind="organisation_rejected",
    )


# --- Invitations ---------------------------------------------------------------------------


@dataclass
class CreatedInvitation:
    invitation: Invitation
    url: str


def invitation_create(*, organisation: Organisation, by: User, email: str, role: str):
    """An organisation admin invites a colleague by e-mail; the link holds a one-time token.

    Whether the address belongs to another organisation is not said: the invitation is sent
    either way, and only its addressee learns, on accepting, that it cannot be used.
    """
    _require_admin(
        organisation, by, _("Alleen een beheerder van de organisatie kan collega's uitnodigen.")
    )
    email = email.strip().lower()
    if organisation.memberships.filter(user__email=email).exists():
        raise ValidationError({"email": _("Deze collega is al lid van uw organisatie.")})
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            organisation=organisation,
            email=email,
            role=role,
            token_hash=hash_token(token),
            invited_by=by,
        )
        url = settings.SITE_URL + reverse("invitation_accept", args=[token])
        notification_queue(
            kind="invitation",
            to_email=email,
            language=by.language,
            context={
                "organisation": organisation,
                "invited_by": by,
                "url": url,
                "max_age_days": settings.INVITATION_MAX_AGE_DAYS,
            },
        )
    return CreatedInvitation(invitation=invitation, url=url)


def invitation_renew_link(*, email: str) -> Invitation:
    """A new one-time link for the open invitation of `email` (the old link stops working),
    mailed again; for a coordinator re-sending an invitation mail from the outbox."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("organisation", "invited_by")
            .filter(email=email.strip().lower(), status=Invitation.Status.PENDING)
            .order_by("-created_at")
            .first()
        )
        if invitation is None:
            raise DomainError(_("Er staat geen openstaande uitnodiging voor dit adres."))
        # A fresh link is valid for the full period again (INVITATION_MAX_AGE_DAYS).
        invitation.token_hash = hash_token(token)
        invitation.created_at = timezone.now()
        invitation.save(update_fields=["token_hash", "created_at"])
        inviter = invitation.invited_by
        notification_queue(
            kind="invitation",
            to_email=invitation.email,
            language=inviter.language if inviter else None,
            context={
                "organisation": invitation.organisation,
                "invited_by": inviter,
                "url": settings.SITE_URL + reverse("invitation_accept", args=[token]),
            },
        )
    return invitation


def _require_admin(organisation: Organisation, user: User, message: str) -> None:
    membership = getattr(user, "membership", None)
    if (
        membership is None
        or membership.organisation_id != organisation.pk
        or not membership.is_admin
    ):
        raise DomainError(message)


def invitation_for_token(*, token: str, user: User) -> Invitation:
    """The invitation behind `token` when `user` may accept it now; otherwise a domain error.

    The address comes first: to anyone else the link says only that it is not theirs, not
    whether it was used, withdrawn or expired, nor the address or organisation behind it.
    """
    invitation = (
        Invitation.objects.select_related("organisation")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if invitation is None:
        raise DomainError(_("Deze uitnodiging bestaat niet. Controleer de link in de e-mail."))
    if invitation.email != user.email.lower():
        raise DomainError(
            _(
                "Deze uitnodiging is voor een ander e-mailadres. Log in met het e-mailadres "
                "waarop u de uitnodiging kreeg."
            )
        )
    if invitation.status == Invitation.Status.ACCEPTED:
        raise DomainError(_("Deze uitnodiging is al gebruikt."))
    if invitation.status == Invitation.Status.WITHDRAWN:
        raise DomainError(
            _(
                "Deze uitnodiging is ingetrokken. Vraag de beheerder van de organisatie om "
                "een nieuwe."
            )
        )
    if invitation.is_expired:
        raise DomainError(
            _("Deze uitnodiging is verlopen. Vraag de beheerder van de organisatie om een nieuwe.")
        )
    return invitation


def invitation_accept(*, token: str, user: User) -> Membership:
    """The invited person, logged in with the invited (verified) address, joins; once."""
    with transaction.atomic():
        invitation = invitation_for_token(token=token, user=user)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.status != Invitation.Status.PENDING:  # taken by a parallel request
            raise DomainError(_("Deze uitnodiging is al gebruikt."))
        if Membership.objects.filter(user=user).exists():
            raise DomainError(_("U hoort al bij een organisatie."))
        invitation.accepted_at = timezone.now()
        transition(
            invitation,
            Invitation.Status.ACCEPTED,
            by=user,
            at=invitation.accepted_at,
            update_fields=["accepted_at"],
            locked=True,
        )
        return Membership.objects.create(
            user=user, organisation=invitation.organisation, role=invitation.role
        )


def invitation_withdraw(invitation: Invitation, *, by: User) -> Invitation:
    """An organisation admin withdraws an invitation not yet accepted; its link stops working."""
    _require_admin(
        invitation.organisation, by, _("Alleen een beheerder van de organisatie kan dit doen.")
    )
    if transition(invitation, Invitation.Status.WITHDRAWN, by=by):
        security_event(
            "invitation_withdrawn", actor=by, organisation=invitation.organisation, obj=invitation
        )
    return invitation


# --- Staff accounts ------------------------------------------------------------------------

STAFF_ROLES = {"coordinator": "coordinators", "helpdesk": "helpdesk"}


def staff_account_create(*, email: str, role: str) -> User:
    """A superuser's act: a staff account in one staff group, without a usable password; the
    person sets one through the reset link mailed to them, then sets up two-step verification
    before any page opens."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.models import Group

    if role not in STAFF_ROLES:
        raise DomainError(_("Onbekende rol: %(role)s.") % {"role": role})
    email = email.strip().lower()
    with transaction.atomic():
        if User.objects.filter(email=email).exists():
            raise DomainError(_("Er bestaat al een account met dit e-mailadres."))
        if EmailAddress.objects.filter(email__iexact=email).exists():
            raise DomainError(_("Er bestaat al een account met dit e-mailadres."))
        user = User.objects.create_user(email=email, password=None, is_staff=True)
        user.groups.add(Group.objects.get_or_create(name=STAFF_ROLES[role])[0])
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user
