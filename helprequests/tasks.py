"""Thin Celery adapters around the help request services."""

from datetime import date

from celery import shared_task

from . import services
from .services import connectivity, provision_uploads


@shared_task
def send_coordinator_digest(day: str | None = None) -> int:
    """The coordinators' daily digest (beat: every day at 07:00); idempotent per day.

    `day` is an ISO date (the day the digest is for); by default today.
    """
    digest = services.helprequest_send_coordinator_digest(date.fromisoformat(day) if day else None)
    return digest.new_requests


@shared_task
def send_connectivity_bundle_reminders(day: str | None = None) -> int:
    """Each telecom provider's weekly list of data bundles that end within 30 days (beat: every
    Monday at 08:00); idempotent per provider and week. `day` is an ISO date; by default today.
    """
    return connectivity.connectivity_send_bundle_reminders(date.fromisoformat(day) if day else None)


@shared_task
def provision_upload_run(job_id: int) -> str:
    """Record a telecom provider's large CSV (see services.provision_uploads); idempotent."""
    return provision_uploads.provision_upload_run(job_id).status


@shared_task
def provision_uploads_requeue() -> int:
    """Queue again uploads that waited while the broker was down or lost their worker (beat:
    every 5 minutes)."""
    return provision_uploads.provision_uploads_requeue()
