"""Thin Celery adapters around the help request services."""

from datetime import date

from celery import shared_task

from . import services


@shared_task
def send_coordinator_digest(day: str | None = None) -> int:
    """The coordinators' daily digest (beat: every day at 07:00); idempotent per day.

    `day` is an ISO date (the day the digest is for); by default today.
    """
    digest = services.helprequest_send_coordinator_digest(date.fromisoformat(day) if day else None)
    return digest.new_requests
