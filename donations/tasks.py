"""Thin Celery adapters around the donation services."""

from celery import shared_task

from . import services


@shared_task
def manifest_import_run(job_id: int) -> str:
    """Read and import a large asset list (see services.manifest_import_run); idempotent."""
    return services.manifest_import_run(job_id).status


@shared_task
def manifest_prepare_run(job_id: int) -> str:
    """Keep a large asset list without personal data, for its preview; idempotent."""
    return services.manifest_prepare_run(job_id).status


@shared_task
def expire_manifest_previews() -> int:
    """Nightly: asset-list previews nobody confirmed in time are ended and their file deleted."""
    return services.manifest_previews_expire()
