"""Thin Celery adapters around the refurbishment services."""

from celery import shared_task

from .services import log_jobs


@shared_task
def erasure_log_job_run(job_id: int) -> str:
    """Record a large upload of nwipe logs (see services.log_jobs); idempotent."""
    return log_jobs.erasure_log_job_run(job_id).status


@shared_task
def resume_erasure_log_jobs() -> int:
    """Queue again log uploads still waiting (a broker that was down, a worker that died)."""
    return log_jobs.erasure_log_jobs_resume()
