"""A telecom provider's large filled-in CSV, recorded by a background job (allemaal/jobs.py).

Recording a line costs a status change, its history and a mail to the requesting
organisation, so a file of thousands of lines would hold a web worker for a minute. The upload
page reads the file (bounded by its limits) and shows its errors at once; a clean file with
more than `TELECOM_BACKGROUND_ROWS` filled-in lines is kept and `provision_upload_run` records
it, all or nothing, with the same row-and-column errors as the upload page.
"""

import uuid

from django.core.files import File
from django.db import transaction

from allemaal.jobs import requeue_stale
from allemaal.models import Organisation, User
from allemaal.services import DomainError, enqueue

from .. import telecom_csv
from ..models import ProvisionUpload
from .connectivity import check_provider


def provision_upload_enqueue(*, provider: Organisation, by: User, uploaded_file) -> ProvisionUpload:
    """Keep the upload and queue the job that records it; the job's page shows its progress."""
    from .. import tasks

    check_provider(provider)
    name = (getattr(uploaded_file, "name", "") or "")[-255:]
    job = ProvisionUpload(provider=provider, uploaded_by=by, file_name=name)
    job.file.save(f"{uuid.uuid4().hex}.upload", uploaded_file, save=False)
    job.save()
    transaction.on_commit(lambda: enqueue(tasks.provision_upload_run, (job.pk,)))
    return job


def provision_upload_run(job_id: int) -> ProvisionUpload:
    """Record the kept upload all or nothing; a finished job, or one another worker is running,
    is left as it is (returned unchanged)."""
    job = ProvisionUpload.claim(job_id)
    if job is None:
        return ProvisionUpload.objects.get(pk=job_id)
    provider = Organisation.objects.get(pk=job.provider_id)
    try:
        with job.file.open("rb") as stored:
            result = telecom_csv.import_provisions(
                File(stored, name=job.file_name),
                provider=provider,
                by=job.uploaded_by,
                progress=lambda rows: job.report(rows_read=rows),
                before_recording=lambda: job.report(status=ProvisionUpload.Status.IMPORTING),
            )
    except telecom_csv.UploadInvalid as invalid:
        errors = [{"row": e.row, "column": e.column, "message": e.message} for e in invalid.errors]
        job.report(status=ProvisionUpload.Status.FAILED, errors=errors, total=invalid.total)
    except DomainError as exc:
        errors = [{"row": 0, "column": "", "message": str(exc)}]
        job.report(status=ProvisionUpload.Status.FAILED, errors=errors, total=1)
    else:
        job.report(
            status=ProvisionUpload.Status.DONE,
            fulfilled=len(result.fulfilled),
            unchanged=result.unchanged,
        )
    # The file named households' addresses and phone numbers: it is not kept once read.
    job.file.delete(save=False)
    ProvisionUpload.objects.filter(pk=job.pk).update(file="")
    return job


def provision_uploads_requeue() -> int:
    from .. import tasks

    return requeue_stale(ProvisionUpload, tasks.provision_upload_run)
