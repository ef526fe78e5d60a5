"""The matching job: read, solve, and replace the open proposals, all in one transaction.

A run reads the ready devices and the approved requests with open quantities as plain rows,
builds the solver's inputs, solves (distribution/solver.py, exact: see OBJECTIVE.md), deletes the
proposals of the previous run and writes its own (COPY on PostgreSQL). Device rows are not
touched: a device changes state only when a coordinator approves. Everything happens in one
transaction, so a run that fails half-way leaves the previous proposals as they were and none
of its own; the failure is then recorded on the run's row.

The run's row is written as `running` before that transaction, in one of its own, so a run whose
process dies (a killed worker, a lost machine) leaves a trace: a row still `running` past the
task time limit is marked failed as interrupted (`allocation_runs_reap_interrupted`, at every
run's start and periodically) and a new run is queued. Never lost silently.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from time import perf_counter
from typing import TypeVar

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from allemaal.models import User
from allemaal.services import DomainError, enqueue

from .. import selectors
from ..models import Allocation, AllocationRun, QueuePlaceRecord, UnservedRequest
from ..solver import PreparedRequests, Solution, prepare_requests, solve
from ..solver_classes import Assignment, Policy, Proposals
from ..solver_queue import PLACE_COLUMNS, QueuePlaces, queue_places
from .locks import AllocationRunBusy, decisions_exclusive, run_transaction
from .policy import policy_current

log = logging.getLogger(__name__)

DEBOUNCE_CACHE_KEY = "distribution:allocation-run-scheduled"
COPY_CHUNK = 1 << 20  # bytes per write
T = TypeVar("T")


class AllocationRunFailed(DomainError):
    """The run stopped with an error; it is recorded as failed and wrote no proposals."""

    def __init__(self, run: AllocationRun):
        self.run = run
        super().__init__(
            _(
                "De toewijzingsronde is mislukt en heeft niets veranderd (ronde %(n)d). De "
                "voorstellen van de vorige ronde blijven staan. Melding: %(error)s"
            )
            % {"n": run.pk, "error": run.error}
        )


@dataclass
class DryRun:
    """What a run would propose, computed without writing anything."""

    inputs: selectors.RunInputs
    solution: Solution
    policy: Policy
    seconds_solve: float


def allocation_dry_run(policy: Policy | None = None, today: date | None = None) -> DryRun:
    """Read and solve as a run would, with the active policy or `policy`; writes nothing."""
    policy = policy or selectors.active_policy()
    inputs = selectors.allocation_inputs(today)
    history, paused = selectors.allocation_history()
    started = perf_counter()
    requests = [r for r in inputs.requests if r.id not in paused] if paused else inputs.requests
    solution = solve(inputs.devices, requests, policy, inputs.today, history)
    return DryRun(inputs, solution, policy, perf_counter() - started)


def allocation_run(
    *, trigger: str, by: User | None = None, today: date | None = None
) -> AllocationRun:
    """Propose devices for the waiting requests under the active policy, replacing the open
    proposals of the previous run; never two runs at once (AllocationRunBusy)."""
    allocation_runs_reap_interrupted()
    with transaction.atomic():
        run = AllocationRun.objects.create(trigger=trigger, started_by=by)
    try:
        with run_transaction():
            decisions_exclusive()
            return _run(run, today=today)
    except AllocationRunBusy:
        run.delete()  # it never started: another run holds the lock
        raise
    except DomainError:
        raise
    except Exception as exc:
        log.exception("Allocation run %s failed", run.pk)
        raise AllocationRunFailed(_record_failure(run, exc)) from exc


def _run(run: AllocationRun, *, today: date | None) -> AllocationRun:
    policy_row = policy_current()
    policy = policy_row.policy
    run.policy = policy_row
    run.policy_version = policy_row.version
    # Before the previous proposals are deleted: the run keeps them where nothing better comes.
    history, paused = selectors.allocation_history()

    def prepare(requests: list, today: date) -> tuple[list, PreparedRequests]:
        # The request side of the solve, while the database sends the devices.
        requests = [r for r in requests if r.id not in paused] if paused else requests
        return requests, prepare_requests(requests, policy, today, history)

    inputs = selectors.allocation_inputs(today, meanwhile=prepare)
    requests, ready = inputs.prepared
    solving = perf_counter()
    solution, replaced = _solve_while_deleting(
        lambda: solve(
            inputs.devices, requests, policy, inputs.today, history, explain=False, ready=ready
        )
    )
    writing = perf_counter()

    def meanwhile() -> tuple[_Rows, bytes | None, QueuePlaces, float]:
        # Pure computing, no queries: it runs while the database takes in the proposals.
        started = perf_counter()
        with selectors.gc_paused():
            reasons = unserved_rows(solution, inputs.requests, paused)
            explained = perf_counter() - started
            data = None
            if connection.vendor == "postgresql":
                data = unserved_copy_data(run.pk, reasons)
            places = queue_places(
                inputs.requests, solution.proposals.request_ids, policy, inputs.today
            )
        return reasons, data, places, explained

    reasons, data, places, seconds_explain = proposals_write(
        run.pk, solution.proposals, meanwhile=meanwhile
    )
    proposed = perf_counter()
    unserved_write(run.pk, reasons, data, replace=False)
    explained = perf_counter()
    queue_places_write(run.pk, places, replace=False)
    written = perf_counter()
    AllocationRun.objects.filter(status=AllocationRun.Status.COMPLETED).update(
        status=AllocationRun.Status.SUPERSEDED
    )
    run.status = AllocationRun.Status.COMPLETED
    run.finished_at = timezone.now()
    run.devices_available = len(inputs.devices)
    run.requests_open = len(inputs.requests)
    run.units_open = sum(r.open_total for r in inputs.requests)
    run.proposals = solution.units
    run.requests_served = int(np.count_nonzero(places.columns["proposed"]))
    run.total_score = solution.total_score
    run.stats = {
        **solution.stats,
        "today": inputs.today.isoformat(),
        "skipped_devices": inputs.skipped_devices,
        "skipped_requests": inputs.skipped_requests,
        "replaced_proposals": replaced,
        # The recent supply beside the places: the organisations' pages estimate their window
        # from both, as this run left them, without a count over the country's events each.
        "queue": {**places.totals, "supply": selectors.recent_supply()},
        "seconds_load": round(inputs.seconds, 3),
        "seconds_solve": round(writing - solving, 3),
        "seconds_write": round(written - writing, 3),
        # of which: the proposals (the why-not reasons and the queue places are computed
        # meanwhile), the why-not reasons, the queue places (the previous run's rows were
        # deleted during the solve)
        "seconds_write_split": [
            round(proposed - writing, 3),
            round(explained - proposed, 3),
            round(written - explained, 3),
        ],
        # computing the why-not reasons, while the proposals were written
        "seconds_why_not": round(seconds_explain, 3),
    }
    run.save()
    return run


def _solve_while_deleting(solve_now: Callable[[], Solution]) -> tuple[Solution, int]:
    """The solution, and how many open proposals of the previous run were deleted: on
    PostgreSQL a thread deletes them, and the previous why-not reasons and queue places, while
    this one solves (pure computing, no queries: the connection is free), so the database's
    work on a million deleted rows and the solver's overlap."""
    if connection.vendor != "postgresql":
        solution = solve_now()
        with connection.cursor() as cursor:
            return solution, previous_rows_delete(cursor)
    deleted: list[int] = []
    with connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor
        solution = selectors.alongside(lambda: deleted.append(previous_rows_delete(raw)), solve_now)
    return solution, deleted[0]


def previous_rows_delete(cursor) -> int:
    """Delete the previous run's open proposals (`proposals_delete`), why-not reasons and
    queue places with `cursor` (Django's or psycopg's); returns how many proposals."""
    qn = connection.ops.quote_name
    for model in (UnservedRequest, QueuePlaceRecord):
        cursor.execute(f"DELETE FROM {qn(model._meta.db_table)}")  # noqa: S608 - quoted names
    return proposals_delete(cursor)


def _record_failure(run: AllocationRun, exc: Exception) -> AllocationRun:
    policy_row = policy_current()
    run.status = AllocationRun.Status.FAILED
    run.policy = policy_row
    run.policy_version = policy_row.version
    run.finished_at = timezone.now()
    run.error = f"{type(exc).__name__}: {exc}"[:2000]
    run.save(update_fields=["status", "policy", "policy_version", "finished_at", "error"])
    return run


def interrupted_after() -> timezone.timedelta:
    """A run still `running` this long after its start died with its process: past the task
    time limit (after which Celery kills it) with a margin."""
    limit = settings.CELERY_TASK_TIME_LIMIT
    return timezone.timedelta(seconds=limit + max(limit // 5, 10))


def allocation_runs_reap_interrupted() -> list[int]:
    """Mark runs whose process died mid-run as failed (they wrote nothing: their transaction
    rolled back) and return their ids, with an ERROR line for each."""
    cutoff = timezone.now() - interrupted_after()
    with transaction.atomic():
        stale = list(
            AllocationRun.objects.select_for_update(skip_locked=True)
            .filter(status=AllocationRun.Status.RUNNING, started_at__lt=cutoff)
            .values_list("id", flat=True)
        )
        AllocationRun.objects.filter(pk__in=stale).update(
            status=AllocationRun.Status.FAILED,
            finished_at=timezone.now(),
            error=_(
                "Onderbroken: het proces stopte tijdens de ronde (bijvoorbeeld een gestopte "
                "worker). De ronde heeft niets veranderd."
            ),
        )
    for run_id in stale:
        log.error("Allocation run %s was interrupted (still running past its time limit)", run_id)
    return stale


# (request id, code, params, open units) per unserved request
_Rows = list[tuple[int, str, dict, int]]

# What a run COPYs beside its proposals: (model, fields in the data's order, COPY options).
UNSERVED_COPY = (UnservedRequest, ("run", "request", "code", "params", "open_units"), "")
PLACES_COPY = (QueuePlaceRecord, ("run", "request", *PLACE_COLUMNS), " (FORMAT BINARY)")


def copy_parts(target: tuple) -> tuple[str, str, str]:
    """The quoted table, the quoted column list and the options of UNSERVED_COPY or
    PLACES_COPY."""
    model, names, options = target
    qn = connection.ops.quote_name
    columns = ", ".join(qn(model._meta.get_field(name).column) for name in names)
    return qn(model._meta.db_table), columns, options


def copy_in_sql(target: tuple) -> str:
    table, columns, options = copy_parts(target)
    return f"COPY {table} ({columns}) FROM STDIN{options}"


def unserved_rows(solution: Solution, requests: list, paused: set[int]) -> _Rows:
    """Why each open request got nothing: the solver's reasons, and `paused` for the requests
    a run left out because their organisation is paused."""
    open_units = {r.id: r.open_total for r in requests}
    rows = [
        (rid, reason.code, reason.params, open_units.get(rid, 0))
        for rid, reason in solution.explain().items()
    ]
    rows += [
        (rid, UnservedRequest.Code.PAUSED, {}, open_units[rid])
        for rid in sorted(paused & set(open_units))
    ]
    return rows


def unserved_write(
    run_id: int, rows: _Rows, data: bytes | None = None, *, replace: bool = True
) -> None:
    """Store why each open request got nothing (`unserved_rows`), replacing the reasons of
    earlier runs (one DELETE, unless `replace` is False: deleted already; then COPY on
    PostgreSQL: a national run leaves tens of thousands unserved); `data` is their
    `unserved_copy_data` when made already."""
    table = connection.ops.quote_name(UnservedRequest._meta.db_table)
    if replace:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - a quoted model name only
    if connection.vendor != "postgresql":
        UnservedRequest.objects.bulk_create(
            (
                UnservedRequest(
                    run_id=run_id, request_id=rid, code=code, params=params, open_units=units
                )
                for rid, code, params, units in rows
            ),
            batch_size=5000,
        )
        return
    data = data if data is not None else unserved_copy_data(run_id, rows)
    _copy_in(copy_in_sql(UNSERVED_COPY), data)


def unserved_copy_data(run_id: int, rows: _Rows) -> bytes:
    """The COPY text of `unserved_write`'s rows (pure computing: a run makes it while the
    database takes in the proposals)."""
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    text = "".join(
        f"{run_id}\t{rid}\t{code}\t{_copy_text(dumps(params))}\t{units}\n"
        for rid, code, params, units in rows
    )
    return text.encode()


def _copy_text(value: str) -> str:
    """A value escaped for COPY's text format."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def queue_places_write(run_id: int, places: QueuePlaces, *, replace: bool = True) -> None:
    """Store every waiting request's place in the queue after this run (replacing the last
    run's), for the organisations' pages: one DELETE (unless `replace` is False: deleted
    already) and one binary COPY from the arrays."""
    table = connection.ops.quote_name(QueuePlaceRecord._meta.db_table)
    if replace:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - a quoted model name only
    if connection.vendor != "postgresql":
        QueuePlaceRecord.objects.bulk_create(
            (
                QueuePlaceRecord(
                    run_id=run_id,
                    request_id=row[0],
                    **dict(zip(PLACE_COLUMNS, row[1:], strict=True)),
                )
                for row in places.rows()
            ),
            batch_size=5000,
        )
        return
    data = copy_binary(
        len(places.request_ids),
        [(run_id, ">i8"), (places.request_ids, ">i8")]
        + [(places.columns[name], ">i4") for name in PLACE_COLUMNS],
    )
    _copy_in(copy_in_sql(PLACES_COPY), data)


def proposals_delete(cursor) -> int:
    """Delete every open proposal (only one run's proposals are open at a time) with `cursor`
    (Django's or psycopg's). Proposals have no events or other rows pointing at them, so one
    DELETE does it."""
    table = connection.ops.quote_name(Allocation._meta.db_table)
    status = connection.ops.quote_name(Allocation._meta.get_field("status").column)
    cursor.execute(
        f"DELETE FROM {table} WHERE {status} = %s",  # noqa: S608 - quoted model names only
        [str(Allocation.Status.PROPOSED)],
    )
    return cursor.rowcount


def proposals_write(
    run_id: int,
    proposals: Proposals | list[Assignment],
    meanwhile: Callable[[], T] | None = None,
) -> T | None:
    """Write one proposed allocation per proposal. In device order: the index that keeps a
    device to one live allocation then grows at its end (random order made COPY 4x slower).
    On PostgreSQL a thread sends the rows while this one runs `meanwhile` (pure computing, no
    queries: the connection is busy), so the database's work on a million rows and ours
    overlap; returns what `meanwhile` returned."""
    if not isinstance(proposals, Proposals):
        proposals = Proposals.of(proposals)
    order = np.argsort(proposals.device_ids, kind="stable")
    devices, requests = proposals.device_ids[order], proposals.request_ids[order]
    scores = proposals.scores[order]
    if connection.vendor == "postgresql":
        return _proposals_copy(run_id, devices, requests, scores, meanwhile)
    Allocation.objects.bulk_create(
        (
            Allocation(
                device_id=device,
                request_id=request,
                run_id=run_id,
                status=Allocation.Status.PROPOSED,
                score=score,
            )
            for device, request, score in zip(
                devices.tolist(), requests.tolist(), scores.tolist(), strict=True
            )
        ),
        batch_size=2000,
    )
    return meanwhile() if meanwhile else None


PROPOSAL_COLUMNS = ("device", "request", "run", "status", "score")


def copy_binary(rows: int, fields: list[tuple[object, str]]) -> bytes:
    """PostgreSQL's binary COPY format for `rows` rows of `fields` (values, big-endian numpy
    type): an array with one value per row, or one value for every row. Every row has the same
    width, so numpy lays out all rows at once, with no Python object per row."""
    layout = [("fields", ">i2")]
    for index, (_values, kind) in enumerate(fields):
        layout += [(f"length{index}", ">i4"), (f"value{index}", kind)]
    records = np.empty(rows, dtype=np.dtype(layout))
    records["fields"] = len(fields)
    for index, (values, kind) in enumerate(fields):
        records[f"length{index}"] = np.dtype(kind).itemsize
        records[f"value{index}"] = values
    header = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
    return header + records.tobytes() + b"\xff\xff"


def proposals_binary(
    run_id: int, devices: np.ndarray, requests: np.ndarray, scores: np.ndarray
) -> bytes:
    """The binary COPY data of PROPOSAL_COLUMNS."""
    status = str(Allocation.Status.PROPOSED).encode()
    return copy_binary(
        len(devices),
        [
            (devices, ">i8"),
            (requests, ">i8"),
            (run_id, ">i8"),
            (status, f"S{len(status)}"),
            (scores, ">i4"),
        ],
    )


def _proposals_copy(
    run_id: int,
    devices: np.ndarray,
    requests: np.ndarray,
    scores: np.ndarray,
    meanwhile: Callable[[], T] | None = None,
) -> T | None:
    """COPY the proposals in binary format; the other columns take their database defaults."""
    meta = Allocation._meta
    qn = connection.ops.quote_name
    columns = ", ".join(qn(meta.get_field(name).column) for name in PROPOSAL_COLUMNS)
    sql = f"COPY {qn(meta.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)"
    return _copy_in(sql, proposals_binary(run_id, devices, requests, scores), meanwhile)


def _copy_in(sql: str, data: bytes, meanwhile: Callable[[], T] | None = None) -> T | None:
    """Send `data` with COPY ... FROM STDIN. With `meanwhile`, a psycopg writer thread sends
    it while this thread runs `meanwhile`; the COPY ends (and fails, if it does) after both."""
    from psycopg.copy import QueuedLibpqWriter  # PostgreSQL only

    view = memoryview(data)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor
        writer = QueuedLibpqWriter(raw) if meanwhile else None
        with raw.copy(sql, writer=writer) as copy:
            for start in range(0, len(view), COPY_CHUNK):
                copy.write(view[start : start + COPY_CHUNK])
            return meanwhile() if meanwhile else None


# --- Runs when devices become ready -------------------------------------------------------------


def debounce_seconds() -> int:
    return int(getattr(settings, "ALLOCATION_DEBOUNCE_MINUTES", 15)) * 60


def allocation_request_run_soon() -> bool:
    """Schedule an automatic run, at most one per ALLOCATION_DEBOUNCE_MINUTES: the first call
    schedules it that many minutes ahead, later calls until then change nothing (the run reads
    whatever is ready by then). Returns whether this call scheduled one. Call on commit."""
    from ..tasks import run_allocation

    seconds = debounce_seconds()
    if not cache.add(DEBOUNCE_CACHE_KEY, timezone.now().isoformat(), timeout=seconds):
        return False
    # A stopped broker must not break or slow down the caller; the next event schedules again.
    if not enqueue(
        run_allocation, kwargs={"trigger": AllocationRun.Trigger.AUTOMATIC}, countdown=seconds
    ):
        cache.delete(DEBOUNCE_CACHE_KEY)
        return False
    return True
