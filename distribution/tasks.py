"""Thin Celery adapters around the allocation services.

The allocation run and the approval parts are acknowledged after the work and given back to the
broker when their worker dies (`acks_late`, `reject_on_worker_lost`), so a killed worker's job
runs again on another; both are idempotent (a run replaces the open proposals; an approved
proposal is no longer open)."""

import logging

from celery import shared_task
from django.conf import settings

from allemaal.models import User
from allemaal.services import DomainError

from . import services
from .models import AllocationRun
from .services.runs import allocation_runs_reap_interrupted

log = logging.getLogger(__name__)


SURVIVE_WORKER_LOSS = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(bind=True, max_retries=3, **SURVIVE_WORKER_LOSS)
def run_allocation(self, trigger: str = "automatic", by_id: int | None = None) -> int | None:
    """One matching run; the id of the run, or None when another run was busy (it retries a
    few times a minute apart, since devices may have become ready after that run read)."""
    by = User.objects.filter(pk=by_id).first() if by_id else None
    try:
        return services.allocation_run(trigger=trigger, by=by).pk
    except services.AllocationRunBusy as exc:
        if self.request.is_eager or self.request.retries >= self.max_retries:
            return None
        raise self.retry(exc=exc, countdown=60) from exc
    except services.AllocationRunFailed as exc:
        log.error("Allocation run %s failed: %s", exc.run.pk, exc.run.error)
        return exc.run.pk


@shared_task(**SURVIVE_WORKER_LOSS)
def approve_run(run_id: int, by_id: int, part: int | None = None, stride: int = 1) -> int:
    """Approve a large run in parts, as sets (one transaction each, within the time limit; the
    run page shows the progress). Without `part`: plan the parts and start
    `settings.APPROVAL_CHAINS` chains side by side (parts share no request, device or
    allocation): chain k approves parts k, k + n, k + 2n, …, each part queueing the chain's
    next. A part already done is skipped, so the task run again resumes where it stopped; a
    part run twice approves nothing twice. Returns how many this part approved."""
    by = User.objects.get(pk=by_id)
    try:
        bounds = services.approval_parts(run_id, by=by)
        if part is None and not bounds:  # nothing proposed: finished at once
            services.allocations_approve_run_part_set(run_id, by=by)
            return 0
        if part is None:
            stride = max(1, min(settings.APPROVAL_CHAINS, len(bounds)))
            for first in range(stride):
                approve_run.delay(run_id, by_id, first, stride)
            return 0
        done = set(AllocationRun.objects.get(pk=run_id).approval.get("done", []))
        while part < len(bounds) and part in done:  # resumed: skip what is done
            part += stride
        if part >= len(bounds):
            return 0
        decision, _last = services.allocations_approve_run_part_set(
            run_id, by=by, after_request=services.part_start(bounds, part)
        )
    except DomainError as exc:
        log.warning("Approving run %s: %s", run_id, exc)
        return 0
    if part + stride < len(bounds):
        approve_run.delay(run_id, by_id, part + stride, stride)
    return len(decision.done)


@shared_task
def reap_interrupted_runs() -> list[int]:
    """Every minute: runs whose worker died mid-run are marked failed, and a new run is
    queued in their place (unless a later run already completed)."""
    reaped = allocation_runs_reap_interrupted()
    if (
        reaped
        and not AllocationRun.objects.filter(
            pk__gt=max(reaped), status=AllocationRun.Status.COMPLETED
        ).exists()
    ):
        try:
            run_allocation.delay(trigger=AllocationRun.Trigger.AUTOMATIC)
        except Exception:  # a stopped broker: the next pass or the nightly run tries again
            log.warning("Could not queue a run to replace interrupted run(s) %s", reaped)
    return reaped


@shared_task
def send_handout_reminders() -> int:
    """Daily: remind organisations of missing hand-out reports (one transaction per request,
    each re-checked under a lock, so a repeated run sends nothing twice). Returns how many."""
    ids = list(services.handout_reminders_due().values_list("id", flat=True))
    return sum(services.handout_reminder_send(request_id) for request_id in ids)
