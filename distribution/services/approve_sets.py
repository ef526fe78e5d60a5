"""Approving many proposals at once, as sets: a whole run (in parts), a request's proposals, or a
selection of allocation ids.

The same steps and rules as the per-device service in decisions.py (which stays for single
decisions), done with a few set queries instead of a few per device:

1. take the decisions lock shared, then lock the rows in the one order: help requests by id,
   devices by id, allocations by id (one `SELECT … ORDER BY id FOR UPDATE` each). On
   PostgreSQL the set is first read into a temporary table (`approving`: id, device, request)
   and the locks are taken from it, so no list of ids goes back and forth;
2. read every proposal with its device and request in the query that locks it, and what the
   requests hold already (one grouped query); check each proposal, in id order, with the rules
   of decisions.py (`status_rule`, `device_rule`, `request_rule`), counting what the set gives
   a request as it goes, so two proposals for the last place of a request are one approved and
   one refused, as on the per-device path;
3. write: on PostgreSQL the approved rows (with their reason codes and custody notes) are
   COPYed into a temporary table (`approved`), and from it one `UPDATE … FROM` of the
   allocations and one of the devices and one `INSERT … SELECT` each for the custody events
   and the allocation history (the statement-level check of migration 0012 runs once per
   statement): the floor's work, plus the COPY; elsewhere (SQLite) the same with the ORM's
   bulk operations;
4. queue one e-mail per organisation and one per refurbisher (notify.py), in the transaction.

A run is approved in parts of about `PART_SIZE` proposals, planned once (the last request id
of each part, stored on the run with the progress); a request's proposals are never split over
two parts. Each part is one transaction and only approves what is still proposed, so a repeated
or resumed part approves nothing twice. Parts touch disjoint requests, devices and allocations,
so several can run at once (the `approve_run` task runs `APPROVAL_CHAINS` of them side by
side); the run's approval is finished when every part is done, in whatever order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import EmptyResultSet
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from allemaal.models import Organisation, User
from allemaal.services import DomainError
from donations.models import Device, DeviceEvent, Donation
from helprequests.models import HelpRequest

from .. import selectors
from ..models import Allocation, AllocationEvent, AllocationRun
from ..selectors.inputs import request_in
from ..solver_classes import PROVINCES, Policy, priority_parts, reasons_for
from .decisions import (
    Decision,
    _integrity_message,
    _log_decision,
    _open_run,
    category_index,
    device_rule,
    refuse_gone,
    request_rule,
    status_rule,
)
from .locks import decisions_shared
from .notify import notify_allocations_approved

PART_SIZE = 20_000

# What the locking query reads of each proposal (one row per allocation, in id order).
_FIELDS = (
    "pk",
    "status",
    "run_id",
    "reasons",
    "score",
    "device_id",
    "request_id",
    "device__state",
    "device__kind",
    "device__grade",
    "device__asset_tag",
    "device__serial_number",
    "device__donation__refurbisher_id",
    "device__donation__refurbisher__province",
    "request__status",
    "request__created_at",
    "request__approved_laptops",
    "request__approved_tablets",
    "request__approved_either",
    "request__organisation_id",
    "device__make",
    "device__model",
    "device__donation_id",
)
# The labels of the device kinds, as `Device.get_kind_display` shows them.
_KIND_LABELS = dict(Device._meta.get_field("kind").flatchoices)


def _on_postgres() -> bool:
    return connection.vendor == "postgresql"


# --- Public services ------------------------------------------------------------------------------


def allocations_approve_set(
    allocation_ids: Iterable[int], *, by: User, notify: bool = True
) -> Decision:
    """Approve a selection of proposals as one set; stale ones are refused with the reason (the
    same words as the per-device path), the others go ahead."""
    try:
        with transaction.atomic():
            decisions_shared()
            ids = set(allocation_ids)
            decision = _approve_locked(
                Allocation.objects.filter(pk__in=sorted(ids)), by=by, notify=notify, asked=ids
            )
    except IntegrityError as exc:
        raise DomainError(_integrity_message()) from exc
    _log_decision("approved", decision, by=by)
    return decision


def allocations_approve_requests_set(request_ids: Iterable[int], *, by: User) -> Decision:
    """Approve every open proposal of the given help requests, as one set."""
    ids = Allocation.objects.proposed().filter(request_id__in=sorted(set(request_ids)))
    return allocations_approve_set(list(ids.values_list("id", flat=True)), by=by)


def allocations_approve_run_set(run_id: int, *, by: User) -> Decision:
    """Approve every open proposal of one run, part after part, in this process."""
    decision, after = Decision(), 0
    while after is not None:
        part, after = allocations_approve_run_part_set(run_id, by=by, after_request=after)
        decision.done += part.done
        decision.refused += part.refused
    return decision


def allocations_approve_run_part_set(
    run_id: int, *, by: User, after_request: int = 0, most: int | None = None
) -> tuple[Decision, int | None]:
    """Approve the next part of a run: the proposals of the requests after `after_request` up to
    the part's last request (about `most` proposals, a request never split). Returns the last
    request of the part, or None when the run is through (then its approval is marked done)."""
    bounds = approval_parts(run_id, by=by, most=most)
    upto = next((bound for bound in bounds if bound > after_request), None)
    if upto is None:
        _progress(run_id, finished=True)
        return Decision(), None
    part = Allocation.objects.proposed().filter(
        run_id=run_id, request_id__gt=after_request, request_id__lte=upto
    )
    try:
        with transaction.atomic():
            decisions_shared()
            decision = _approve_locked(part, by=by, notify=True)
            _progress(run_id, part=bounds.index(upto), upto=upto, decision=decision)
    except IntegrityError as exc:
        raise DomainError(_integrity_message()) from exc
    _log_decision("approved", decision, by=by)
    return decision, upto


# --- Parts and progress ---------------------------------------------------------------------------


def part_start(bounds: list[int], part: int) -> int:
    """The request id part `part` of `approval_parts` starts after (0 for the first)."""
    return bounds[part - 1] if part else 0


def approval_parts(run_id: int, *, by: User, most: int | None = None) -> list[int]:
    """The parts of a run's approval, planned once: the last request id of each part (part
    `i` holds the requests after `bounds[i - 1]` up to `bounds[i]`). Only for the open run."""
    _open_run(run_id)
    most = most or PART_SIZE
    with transaction.atomic():
        run = AllocationRun.objects.select_for_update().get(pk=run_id)
        if run.approval.get("bounds") is not None:
            return run.approval["bounds"]
        per_request = (
            Allocation.objects.proposed()
            .filter(run_id=run_id)
            .values("request_id")
            .annotate(n=Count("id"))
            .order_by("request_id")
            .values_list("request_id", "n")
        )
        bounds, size, total = [], 0, 0
        for request_id, n in per_request:
            if size and size + n > most:
                size = 0
            elif bounds:
                bounds.pop()
            size += n
            total += n
            bounds.append(request_id)
        run.approval = {
            "bounds": bounds,
            "parts": len(bounds),
            "parts_done": 0,
            "done": [],
            "total": total,
            "approved": 0,
            "refused": {},
            "by": by.pk,
            "started_at": timezone.now().isoformat(),
            "finished_at": None,
        }
        run.save(update_fields=["approval"])
        return bounds


def _progress(
    run_id: int,
    *,
    part: int = 0,
    upto: int = 0,
    decision: Decision | None = None,
    finished: bool = False,
) -> None:
    """Record a part in the run's progress, in the part's own transaction (the run row is locked
    last, after the allocations, so the order stays requests, devices, allocations). Parts may
    finish in any order (several run at once): the done ones are kept as a set, and the part
    that completes the set marks the approval finished."""
    with transaction.atomic():
        run = AllocationRun.objects.select_for_update().get(pk=run_id)
        approval = dict(run.approval)
        if finished:
            if approval.get("finished_at"):
                return
            approval["finished_at"] = timezone.now().isoformat()
        else:
            approval["approved"] = approval.get("approved", 0) + len(decision.done)
            # A repeated part refuses the same proposals again: counted per part, not added.
            approval["refused"] = {**approval.get("refused", {}), str(part): len(decision.refused)}
            done = sorted({*approval.get("done", []), part})
            approval["done"], approval["parts_done"] = done, len(done)
            approval["last_request"] = max(approval.get("last_request", 0), upto)
            if len(done) >= approval.get("parts", 0) and not approval.get("finished_at"):
                approval["finished_at"] = timezone.now().isoformat()
        run.approval = approval
        run.save(update_fields=["approval"])


# --- One set --------------------------------------------------------------------------------------


def _lock(model, ids: Iterable[int]) -> None:
    """Lock rows of one table by id, in id order, with one query."""
    list(
        model.objects.select_for_update(of=("self",))
        .filter(pk__in=sorted(ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _lock_postgres(selection: QuerySet) -> QuerySet:
    """The set's proposals (id, device, request) in a temporary table `approving`, read once
    after the decisions lock (a proposal's device and request never change, so reading them
    unlocked is safe); then its requests and its devices locked in id order, one statement
    each, without sending a list of ids back and forth. Returns the set's allocations."""
    try:
        sql, params = selection.values_list("id", "device_id", "request_id").query.sql_with_params()
    except EmptyResultSet:  # nothing chosen (`pk__in=[]`): an empty snapshot, the same steps
        table = Allocation._meta.db_table
        sql, params = f"SELECT id, device_id, request_id FROM {table} WHERE false", ()  # noqa: S608
    snapshot = f"CREATE TEMPORARY TABLE approving ON COMMIT DROP AS {sql}"  # noqa: S608 - the ORM's
    lock = (
        "SELECT count(*) FROM (SELECT id FROM {} WHERE id IN (SELECT {} FROM approving)"
        " ORDER BY id FOR UPDATE) AS locked"
    )
    with connection.cursor() as cursor:
        cursor.execute(snapshot, params)
        cursor.execute("ANALYZE approving")
        cursor.execute(lock.format(HelpRequest._meta.db_table, "request_id"))
        cursor.execute(lock.format(Device._meta.db_table, "device_id"))
    return Allocation.objects.filter(pk__in=RawSQL("SELECT id FROM approving", ()))


def _lock_orm(selection: QuerySet) -> QuerySet:
    """`_lock_postgres` elsewhere: the set read into Python, its requests and devices locked
    by id lists."""
    pairs = list(selection.values_list("id", "device_id", "request_id"))
    _lock(HelpRequest, {request for _pk, _device, request in pairs})
    _lock(Device, {device for _pk, device, _request in pairs})
    return Allocation.objects.filter(pk__in=sorted(pk for pk, _device, _request in pairs))


def _approve_locked(
    selection: QuerySet, *, by: User, notify: bool, asked: set[int] | None = None
) -> Decision:
    """Lock, check and approve the proposals `selection` picks (inside the caller's transaction,
    after the decisions lock); `asked`: the ids the coordinator chose, when they were chosen by
    id (those a newer run replaced meanwhile are refused as gone)."""
    decision, now = Decision(), timezone.now()
    on_postgres = _on_postgres()
    chosen = (_lock_postgres if on_postgres else _lock_orm)(selection)
    rows = list(chosen.select_for_update(of=("self",)).order_by("pk").values_list(*_FIELDS))
    if asked is not None:
        refuse_gone(decision, asked, [row[0] for row in rows])
    held = {
        pk: list(counts)
        for pk, counts in selectors.held_per_category({row[6] for row in rows}).items()
    }
    reasons = _Reasons(rows, now)
    approved = []
    for row in rows:
        (pk, status, _run, _reasons, _score, _device, request_id, state, kind) = row[:9]
        category = category_index(kind)
        problem = (
            status_rule(pk, status, Allocation.Status.PROPOSED)
            or device_rule(row[10] or row[11], state, row[12])
            or request_rule(
                reference=_Reference(row),
                status=row[14],
                approved=(row[16], row[17], row[18]),
                held=held.get(request_id),
                category=category,
            )
        )
        if problem:
            decision.refused.append((pk, problem))
            continue
        held.setdefault(request_id, [0, 0])[category] += 1
        approved.append((row, reasons(row)))
    if approved:
        (_write_postgres if on_postgres else _write_orm)(approved, by=by, now=now)
        decision.done = _allocations(approved, by=by, now=now, with_objects=notify)
        if notify:
            notify_allocations_approved(decision.done)
    if on_postgres:
        # Dropped at the commit too, but the caller's transaction may approve another set.
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE approving")
    return decision


def _reference(row: tuple) -> str:
    """The request's reference (AAN-2026-00042), from its id and creation time."""
    return HelpRequest(pk=row[6], created_at=row[15]).reference


class _Reference:
    """A request's reference, worked out only when a message needs it."""

    __slots__ = ("row",)

    def __init__(self, row: tuple):
        self.row = row

    def __str__(self) -> str:
        return _reference(self.row)


class _Reasons:
    """The reason codes written when a proposal is approved: kept if it has them, else derived
    from its run's policy and date, as `selectors.allocation_reasons` does (per request and
    device type, not per device)."""

    def __init__(self, rows: list[tuple], now):
        runs = AllocationRun.objects.select_related("policy").in_bulk({row[2] for row in rows})
        self.runs: dict[int, tuple[Policy, date] | None] = {
            pk: (run.policy.policy, timezone.localdate(run.started_at)) if run.policy else None
            for pk, run in runs.items()
        }
        self.now = now
        self.request_ids = sorted({row[6] for row in rows if not row[3] and row[2]})
        self.requests = None
        self.cache: dict[tuple, str] = {}
        self.parts: dict[tuple, object] = {}

    def _request_rows(self) -> dict:
        rows = HelpRequest.objects.filter(pk__in=self.request_ids).values_list(
            "pk",
            "organisation_id",
            "target_group",
            "no_home_schooling",
            "delivery_province",
            "organisation__province",
            "urgency",
            "need_by",
            "approved_at",
            "approved_laptops",
            "approved_tablets",
            "approved_either",
        )
        found = {}
        for row in rows:
            row = list(row)
            row[8] = timezone.localdate(row[8] or self.now)
            found[row[0]] = request_in(row)
        return found

    def __call__(self, row: tuple) -> str:
        if row[3]:
            return row[3]
        run = self.runs.get(row[2]) if row[2] else None
        if run is None:
            return ""
        key = (row[6], row[2], row[8], row[9], row[13])
        if key not in self.cache:
            if self.requests is None:
                self.requests = self._request_rows()
            request, (policy, today) = self.requests.get(row[6]), run
            if request is None or row[13] not in PROVINCES:
                self.cache[key] = ""
            else:
                parts_key = (row[6], row[2])
                if parts_key not in self.parts:
                    self.parts[parts_key] = priority_parts(request, policy, today)
                codes = reasons_for(self.parts[parts_key], request, row[8], row[9], row[13], policy)
                self.cache[key] = "|".join(codes)
        return self.cache[key]


def _notes(approved: list[tuple]) -> dict[int, str]:
    """The custody note of each request's devices (one translation per request)."""
    notes = {}
    for row, _reasons in approved:
        if row[6] not in notes:
            notes[row[6]] = _("Toegewezen aan hulpaanvraag %(ref)s.") % {"ref": _reference(row)}
    return notes


def _write_postgres(approved: list[tuple], *, by: User, now) -> None:
    """What was approved COPYed into a temporary table `approved` (with the reason codes and
    each request's custody note worked out here), then four statements from it: as the floor,
    no list of ids goes in as a parameter."""
    notes = _notes(approved)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE approved (id bigint, device_id bigint, organisation_id bigint,"
            " reasons text, note text) ON COMMIT DROP"
        )
        with cursor.cursor.copy(
            "COPY approved (id, device_id, organisation_id, reasons, note) FROM STDIN"
        ) as copy:
            for row, reasons in approved:
                copy.write_row((row[0], row[5], row[19], reasons, notes[row[6]]))
        cursor.execute(
            """UPDATE distribution_allocation AS a
                SET status = 'approved', decided_by_id = %s, decided_at = %s, reasons = t.reasons
                FROM approved AS t WHERE a.id = t.id""",
            [by.pk, now],
        )
        cursor.execute(
            """UPDATE donations_device AS d SET state = 'allocated', state_changed_at = %s
                FROM approved AS t WHERE d.id = t.device_id""",
            [now],
        )
        cursor.execute(
            """INSERT INTO donations_deviceevent
                    (device_id, from_state, to_state, at, by_id, organisation_id, note)
                SELECT t.device_id, 'ready', 'allocated', %s, %s, t.organisation_id, t.note
                FROM approved AS t ORDER BY t.id""",
            [now, by.pk],
        )
        cursor.execute(
            """INSERT INTO distribution_allocationevent
                    (allocation_id, from_status, to_status, at, by_id, note)
                SELECT t.id, 'proposed', 'approved', %s, %s, '' FROM approved AS t ORDER BY t.id""",
            [now, by.pk],
        )
        cursor.execute("DROP TABLE approved")


def _write_orm(approved: list[tuple], *, by: User, now) -> None:
    """The same writes with the ORM's bulk operations (SQLite, the embedded default)."""
    notes = _notes(approved)
    by_reasons: dict[str, list[int]] = {}
    for row, reasons in approved:
        by_reasons.setdefault(reasons, []).append(row[0])
    for reasons, ids in by_reasons.items():
        for start in range(0, len(ids), 500):
            Allocation.objects.filter(pk__in=ids[start : start + 500]).update(
                status=Allocation.Status.APPROVED, decided_by=by, decided_at=now, reasons=reasons
            )
    devices = [row[5] for row, _r in approved]
    for start in range(0, len(devices), 500):
        Device.objects.filter(pk__in=devices[start : start + 500]).update(
            state=Device.State.ALLOCATED, state_changed_at=now
        )
    DeviceEvent.objects.bulk_create(
        [
            DeviceEvent(
                device_id=row[5],
                from_state=Device.State.READY,
                to_state=Device.State.ALLOCATED,
                at=now,
                by=by,
                organisation_id=row[19],
                note=notes[row[6]],
            )
            for row, _r in approved
        ],
        batch_size=500,
    )
    AllocationEvent.objects.bulk_create(
        [
            AllocationEvent(
                allocation_id=row[0],
                from_status=Allocation.Status.PROPOSED,
                to_status=Allocation.Status.APPROVED,
                at=now,
                by=by,
                note="",
            )
            for row, _r in approved
        ],
        batch_size=500,
    )


class ApprovedAllocation:
    """One allocation a set approved: what `Decision.done` holds on this path. The approved
    rows are written with set statements, so no model object is saved; these carry what callers
    and the e-mails read (the ids, the new status, the device and request when e-mails go out),
    at a fraction of a model object's cost (a national run approves a million)."""

    __slots__ = (
        "pk",
        "status",
        "run_id",
        "reasons",
        "score",
        "device_id",
        "request_id",
        "decided_by",
        "decided_at",
        "device",
        "request",
    )

    def __init__(self, row: tuple, reasons: str, by, now, device=None, request=None):
        self.pk, self.status, self.run_id = row[0], Allocation.Status.APPROVED, row[2]
        self.reasons, self.score, self.device_id, self.request_id = reasons, row[4], row[5], row[6]
        self.decided_by, self.decided_at, self.device, self.request = by, now, device, request

    @property
    def id(self) -> int:
        return self.pk

    def __repr__(self) -> str:
        return f"<ApprovedAllocation {self.pk}>"


class ApprovedDevice:
    """The device of an allocation a set approved, as far as the e-mails read it (its codes,
    kind, make, model and grade, and its donation's refurbisher), taken from the row the set
    read: a model object per device cost about as much as writing the approval."""

    __slots__ = (
        "pk",
        "state",
        "kind",
        "grade",
        "asset_tag",
        "serial_number",
        "make",
        "model",
        "donation",
    )

    def __init__(self, row: tuple, donation: Donation):
        self.pk, self.state, self.kind, self.grade = row[5], Device.State.ALLOCATED, row[8], row[9]
        self.asset_tag, self.serial_number, self.make, self.model = (
            row[10],
            row[11],
            row[20],
            row[21],
        )
        self.donation = donation

    @property
    def id(self) -> int:
        return self.pk

    def get_kind_display(self) -> str:
        return _KIND_LABELS.get(self.kind, self.kind)

    def __str__(self) -> str:
        return self.asset_tag or self.serial_number


def _allocations(approved: list[tuple], *, by: User, now, with_objects: bool) -> list:
    """The approved allocations; with their devices (from the rows read), requests,
    organisations and refurbishers when the e-mails need them (one query for the requests and
    one for the organisations, only the fields the mails show: parsing every organisation's
    telephone number again for each device cost more than the approval itself)."""
    if not with_objects:
        return [ApprovedAllocation(row, reasons, by, now) for row, reasons in approved]
    requests = HelpRequest.objects.defer("contact_phone").in_bulk({row[6] for row, _r in approved})
    refurbishers = {row[22]: row[12] for row, _r in approved}
    organisations = Organisation.objects.defer("phone").in_bulk(
        {r.organisation_id for r in requests.values()} | set(refurbishers.values()) - {None}
    )
    for request in requests.values():
        request.organisation = organisations[request.organisation_id]
    donations = {
        pk: Donation(id=pk, refurbisher=organisations.get(refurbisher))
        for pk, refurbisher in refurbishers.items()
    }
    return [
        ApprovedAllocation(
            row, reasons, by, now, ApprovedDevice(row, donations[row[22]]), requests[row[6]]
        )
        for row, reasons in approved
    ]
