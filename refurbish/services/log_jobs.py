"""Large uploads of nwipe logs, processed by a background job (its progress on a page)."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from allemaal import uploads
from allemaal.models import Organisation, User
from allemaal.services import enqueue

from ..models import ErasureLogImport, ErasureSource
from ..storage import private_storage


def erasure_log_upload_is_large(files) -> bool:
    """More logs or bytes than a web request should parse: the upload goes to a job. A zip
    counts by its entries (read from its directory only, without unpacking); a zip over a
    limit counts for nothing, since the request refuses it at once with the limit's message."""
    logs, size = 0, 0
    for uploaded in files:
        entries = _zip_entries(uploaded) if uploaded.name.lower().endswith(".zip") else 1
        if entries:
            logs += entries
            size += getattr(uploaded, "size", 0) or 0
    return (
        size > settings.ERASURE_LOG_BACKGROUND_BYTES or logs > settings.ERASURE_LOG_BACKGROUND_FILES
    )


def count_logs(files) -> int:
    count = 0
    for uploaded in files:
        count += _zip_entries(uploaded) if uploaded.name.lower().endswith(".zip") else 1
    return count


def _zip_entries(uploaded) -> int:
    """Its entries from the zip's directory; 0 for a zip over a limit or broken."""
    from ..erasure_logs import ZIP_LIMITS

    try:
        uploaded.seek(0)
        _archive, entries = uploads.open_zip(uploaded.read(), ZIP_LIMITS)
    except uploads.UploadRefused:
        return 0
    finally:
        uploaded.seek(0)
    return len(entries)


def erasure_log_job_enqueue(files, *, organisation: Organisation, by: User) -> ErasureLogImport:
    """Keep the uploaded files and let a background job record them (each log all or nothing),
    so that a large upload costs the web request only the time to store it."""
    stored = []
    for uploaded in files:
        path = private_storage.save(
            f"erasure-log-jobs/{organisation.pk}/{uuid.uuid4().hex}.upload", uploaded
        )
        stored.append({"name": uploaded.name[-255:], "path": path})
    job = ErasureLogImport.objects.create(
        organisation=organisation, uploaded_by=by, files=stored, logs_total=count_logs(files)
    )
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from .. import tasks

    if not enqueue(tasks.erasure_log_job_run, (job_id,)):
        # Shown on the job page; the periodic resume task queues it once the broker is back.
        ErasureLogImport.objects.filter(pk=job_id).update(queue_failed_at=timezone.now())


def erasure_log_job_run(job_id: int) -> ErasureLogImport:
    """Record every log of the job (see `erasure_logs_import`); a finished job is left as it
    is, and a job interrupted halfway is safe to run again (a recorded log is a duplicate)."""
    from ..erasure_logs import erasure_logs_import

    job = ErasureLogImport.objects.select_related("organisation", "uploaded_by").get(pk=job_id)
    if job.finished:
        return job
    _job_set(job, status=ErasureLogImport.Status.RUNNING, logs_done=0)

    def files():
        for entry in job.files:
            with private_storage.open(entry["path"], "rb") as stored:
                yield entry["name"], stored.read()

    def progress(done: int) -> None:
        _job_set(job, logs_done=done)

    results = erasure_logs_import(
        files(),
        organisation=job.organisation,
        by=job.uploaded_by,
        source=ErasureSource.UPLOAD,
        progress=progress,
    )
    job.results = [result.as_json() for result in results]
    _job_set(
        job,
        status=ErasureLogImport.Status.DONE,
        logs_done=len(results),
        logs_total=len(results),
        fields=["results"],
    )
    for entry in job.files:
        private_storage.delete(entry["path"])
    ErasureLogImport.objects.filter(pk=job.pk).update(files=[])
    return job


def erasure_log_jobs_resume(older_than: timedelta = timedelta(minutes=2)) -> int:
    """Queue again the jobs still waiting because their broker was down: the beat's periodic
    owner of this work (a worker killed halfway gets its task again: acks late). Returns how
    many were queued."""
    from .. import tasks

    waiting = ErasureLogImport.objects.filter(
        status=ErasureLogImport.Status.QUEUED, created_at__lt=timezone.now() - older_than
    ).values_list("pk", flat=True)
    return sum(1 for job_id in waiting if enqueue(tasks.erasure_log_job_run, (job_id,)))


def _job_set(job: ErasureLogImport, *, status=None, logs_done=None, logs_total=None, fields=()):
    """Saved at once (outside any log's transaction), so the page can show it."""
    update = list(fields)
    if status is not None:
        job.status = status
        update.append("status")
        if job.finished:
            job.finished_at = timezone.now()
            update.append("finished_at")
    if logs_done is not None:
        job.logs_done = logs_done
        update.append("logs_done")
    if logs_total is not None:
        job.logs_total = logs_total
        update.append("logs_total")
    job.save(update_fields=update)
