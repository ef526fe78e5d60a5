"""Hand-out reports: per request, how many delivered devices the organisation handed out and
how many people they reached; and the reminder while a report is missing.

Only counts: the form and the service never ask for names or other personal data.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from allemaal.models import Organisation, User
from allemaal.services import DomainError, notify_organisation
from helprequests.models import HelpRequest

from ..models import Allocation, HandoutReminder, HandoutReport, Shipment, ShipmentItem

# After this many reminders the platform stops asking; coordinators see the gap in the admin.
HANDOUT_REMINDERS_MAX = 3


def handout_reminder_days() -> int:
    return int(getattr(settings, "HANDOUT_REMINDER_DAYS", 14))


def handout_report_save(
    request_id: int,
    *,
    by: User,
    organisation: Organisation,
    devices_handed_out: int,
    people_reached: int,
    note: str = "",
) -> HandoutReport:
    """The organisation reports (or corrects) a request's hand-out: at most the devices
    delivered for it, and at least one person per device handed out."""
    with transaction.atomic():
        request = (
            HelpRequest.objects.select_for_update()
            .filter(pk=request_id, organisation=organisation)
            .first()
        )
        if request is None:
            raise DomainError(_("Deze hulpaanvraag is niet van uw organisatie."))
        delivered = Allocation.objects.filter(
            request_id=request.pk, status=Allocation.Status.DELIVERED
        ).count()
        _check_counts(delivered, devices_handed_out, people_reached)
        now = timezone.now()
        report = HandoutReport.objects.filter(request=request).first()
        if report is None:
            return HandoutReport.objects.create(
                request=request,
                devices_handed_out=devices_handed_out,
                people_reached=people_reached,
                note=(note or "").strip(),
                reported_by=by,
                reported_at=now,
                updated_at=now,
            )
        report.devices_handed_out, report.people_reached = devices_handed_out, people_reached
        report.note, report.reported_by, report.updated_at = (note or "").strip(), by, now
        report.save(
            update_fields=[
                "devices_handed_out",
                "people_reached",
                "note",
                "reported_by",
                "updated_at",
            ]
        )
        return report


def _check_counts(delivered: int, devices: int, people: int) -> None:
    if delivered == 0:
        raise DomainError(_("Voor deze hulpaanvraag zijn nog geen apparaten afgeleverd."))
    errors = {}
    if devices < 0 or devices > delivered:
        errors["devices_handed_out"] = _(
            "U heeft %(n)d apparaten ontvangen voor deze aanvraag; vul 0 tot en met %(n)d in."
        ) % {"n": delivered}
    if people < max(devices, 0):
        errors["people_reached"] = _(
            "Elk uitgegeven apparaat helpt ten minste één persoon: vul minstens %(n)d in."
        ) % {"n": devices}
    if errors:
        raise ValidationError(errors)


# --- Reminders ------------------------------------------------------------------------------------


def handout_reminders_due(now=None):
    """Requests with devices delivered at least HANDOUT_REMINDER_DAYS ago, no hand-out report,
    and no reminder in the last HANDOUT_REMINDER_DAYS (at most HANDOUT_REMINDERS_MAX)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=handout_reminder_days())
    delivered_before = (
        ShipmentItem.objects.filter(
            outcome__in=[ShipmentItem.Outcome.RECEIVED, ShipmentItem.Outcome.DAMAGED],
            shipment__status=Shipment.Status.DELIVERED,
        )
        .values("request_id")
        .annotate(first=Min("shipment__delivered_at"))
        .filter(first__lte=cutoff)
        .values("request_id")
    )
    return (
        HelpRequest.objects.filter(pk__in=delivered_before, handout_report__isnull=True)
        .exclude(handout_reminder__last_sent_at__gt=cutoff)
        .exclude(handout_reminder__sent__gte=HANDOUT_REMINDERS_MAX)
        .order_by("pk")
    )


def handout_reminder_send(request_id: int, *, now=None) -> bool:
    """Remind the organisation of one request's missing hand-out report, if still due.
    Idempotent: the request row is locked and the last reminder re-checked first."""
    now = now or timezone.now()
    with transaction.atomic():
        due = handout_reminders_due(now).filter(pk=request_id)
        request = due.select_for_update(of=("self",)).select_related("organisation").first()
        if request is None:
            return False
        reminder = HandoutReminder.objects.filter(request=request).first()
        if reminder is not None and reminder.last_sent_at > now - timedelta(
            days=handout_reminder_days()
        ):
            return False
        if reminder is None:
            reminder = HandoutReminder.objects.create(request=request, sent=1, last_sent_at=now)
        else:
            reminder.sent += 1
            reminder.last_sent_at = now
            reminder.save(update_fields=["sent", "last_sent_at"])
        notify_organisation(
            request.organisation,
            kind="distribution_handout_reminder",
            context={
                "help_request": request,
                "reminder": reminder.sent,
                "url": settings.SITE_URL + reverse("distribution:handout", args=[request.pk]),
            },
        )
    return True
