"""Thin Celery adapters around the core services."""

from celery import shared_task
from django.utils import timezone

from . import services
from .models import Notification


@shared_task
def dispatch_notifications() -> int:
    """One batch of due mails within the provider's rate; queues the next batch itself."""
    return services.notifications_dispatch()


@shared_task
def send_notification(notification_id: int) -> bool:
    """One attempt at one mail (messages queued before batched sending); the relay
    (`resend_stuck_notifications`) owns the retries."""
    try:
        return services.notification_send(notification_id)
    except services.NotificationDeliveryError:
        return False  # the row stays pending with its next attempt scheduled


@shared_task
def resend_stuck_notifications() -> int:
    return services.notifications_resend_stuck()


@shared_task
def purge_old_notifications(days: int = 365) -> int:
    cutoff = timezone.now() - timezone.timedelta(days=days)
    deleted, _ = Notification.objects.filter(
        status=Notification.Status.SENT, sent_at__lt=cutoff
    ).delete()
    return deleted


@shared_task
def enforce_retention() -> dict:
    """Every night: the register's retention periods (allemaal/retention.py); idempotent."""
    from . import retention

    report = retention.enforce_retention()
    return {"outbox": report.outbox_bodies, "warned": report.warned, "erased": report.erased}
