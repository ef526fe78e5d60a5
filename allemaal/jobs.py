"""Uploads too large to read within a web request: one shape for every background import.

A view keeps the uploaded file and a job row (`UploadJob` subclass) and queues a task with
`allemaal.services.enqueue`; the task `claim`s the job (only one worker runs it, also when a
task is delivered twice) and reports its progress on the row, which the job's page shows. An
import is all or nothing, so a job whose worker died can simply run again: `requeue_stale`
(beat) queues jobs that waited while the broker was down and jobs whose worker vanished.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UploadJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("in de wachtrij")
        CHECKING = "checking", _("wordt gecontroleerd")
        IMPORTING = "importing", _("wordt geïmporteerd")
        DONE = "done", _("geïmporteerd")
        FAILED = "failed", _("niet geïmporteerd")

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file_name = models.CharField(_("bestandsnaam"), max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_read = models.PositiveIntegerField(default=0)
    # The first errors, as {"row", "column", "message"}; total_errors counts them all.
    errors = models.JSONField(default=list, blank=True)
    total_errors = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @classmethod
    def stale_after(cls) -> timedelta:
        """How long a started job may run before its worker counts as gone."""
        return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)

    @classmethod
    def claim(cls, pk: int):
        """The job, now marked as started by this worker; None when it is finished or another
        worker runs it (started less than `stale_after` ago)."""
        now = timezone.now()
        running = Q(status__in=[cls.Status.CHECKING, cls.Status.IMPORTING])
        vanished = running & Q(started_at__lt=now - cls.stale_after())
        claimable = Q(status=cls.Status.QUEUED) | vanished
        if not cls.objects.filter(claimable, pk=pk).update(
            status=cls.Status.CHECKING, started_at=now
        ):
            return None
        return cls.objects.get(pk=pk)

    def report(self, *, status=None, rows_read=None, errors=None, total=0, **fields) -> None:
        """Saved at once, outside the import's transaction, so that the page shows it."""
        update = list(fields)
        for name, value in fields.items():
            setattr(self, name, value)
        if status is not None:
            self.status = status
            update.append("status")
            if self.finished:
                self.finished_at = timezone.now()
                update.append("finished_at")
        if rows_read is not None:
            self.rows_read = rows_read
            update.append("rows_read")
        if errors is not None:
            self.errors, self.total_errors = errors, total
            update += ["errors", "total_errors"]
        self.save(update_fields=update)


def requeue_stale(model: type[UploadJob], task, *, waited=timedelta(minutes=5)) -> int:
    """Queue again the jobs of `model` that waited longer than `waited` (queued while the
    broker was down) or whose worker vanished; returns how many. Safe to run at any time: a
    job still running is not claimed twice."""
    from .services import enqueue

    now = timezone.now()
    stale = model.objects.filter(
        Q(status=model.Status.QUEUED, created_at__lt=now - waited)
        | Q(
            status__in=[model.Status.CHECKING, model.Status.IMPORTING],
            started_at__lt=now - model.stale_after(),
        )
    ).values_list("pk", flat=True)
    count = 0
    for pk in stale.iterator():
        enqueue(task, (pk,))
        count += 1
    return count
