"""The coordinators' daily digest of new help requests and possible duplicates."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from allemaal.services import notify_group

from ..models import CoordinatorDigest, HelpRequest


def helprequest_send_coordinator_digest(day=None) -> CoordinatorDigest:
    """Once per day: tell the coordinators which requests were submitted the day before and
    which of them may be duplicates. Running it again for the same day sends nothing."""
    day = day or timezone.localdate()
    with transaction.atomic():
        digest, created = CoordinatorDigest.objects.get_or_create(day=day)
        if not created:
            return digest
        tz = timezone.get_current_timezone()
        start = timezone.make_aware(datetime.combine(day - timedelta(days=1), time.min), tz)
        end = timezone.make_aware(datetime.combine(day, time.min), tz)
        new = list(
            HelpRequest.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
            .select_related("organisation", "duplicate_of__organisation")
            .order_by("submitted_at", "id")
        )
        flagged = [r for r in new if r.duplicate_of_id]
        waiting = HelpRequest.objects.filter(status=HelpRequest.Status.SUBMITTED).count()
        mails = []
        if new:
            mails = notify_group(
                "coordinators",
                kind="helprequest_digest",
                context={
                    "day": day - timedelta(days=1),
                    "new_requests": new,
                    "flagged": flagged,
                    "waiting": waiting,
                    "admin_url": settings.SITE_URL
                    + reverse("admin:helprequests_helprequest_changelist"),
                },
            )
        digest.new_requests = len(new)
        digest.flagged_duplicates = len(flagged)
        digest.recipients = len(mails)
        digest.save(update_fields=["new_requests", "flagged_duplicates", "recipients"])
    return digest
