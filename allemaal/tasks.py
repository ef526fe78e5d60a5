"""Thin Celery adapters around the core services."""

from celery import shared_task
from django.utils import timezone

from . import services
from .models import Notification


@shared_task(bind=True, max_retries=8, acks_late=True)
def send_notification(self, notification_id: int) -> bool:
    try:
        return services.notification_send(notification_id)
    except services.NotificationDeliveryError as exc:
        if self.request.is_eager:
            return False  # in-process mode: the row stays pending for the periodic job
        # Exponential backoff: 30 s, 60 s, 2 min ... capped at one hour.
        raise self.retry(exc=exc, countdown=min(30 * 2**self.request.retries, 3600)) from exc


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
