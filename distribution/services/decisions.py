"""Coordinators' decisions on allocations: approve, reject, cancel, allocate by hand.

Every decision follows the same steps: take the decisions lock shared (no run replaces the
proposals meanwhile), lock the rows in one order (help requests by id, then devices by id,
then allocations by id, so two decisions never deadlock), check each allocation is still valid,
save, write the history rows, and queue the e-mails in the same transaction (outbox). A stale
proposal (device no longer ready, request no longer approved or already full) is refused with
a message saying why; the database constraints back this up, and their IntegrityError becomes a
DomainError too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from allemaal.models import User
from allemaal.security_log import security_event
from allemaal.services import DomainError
from allemaal.transitions import transition_many
from donations.models import Device
from donations.services import device_transition
from donations.vocabulary import DeviceCategory, category_of
from helprequests.models import HelpRequest

from .. import selectors
from ..models import (
    Allocation,
    AllocationEvent,
    AllocationRun,
    RejectionScope,
    Shipment,
    ShipmentItem,
)
from ..solver_classes import pair_score
from .locks import decisions_shared
from .notify import notify_allocations_approved, notify_allocations_cancelled
from .runs import allocation_request_run_soon


@dataclass
class Decision:
    """What one decision did: the allocations it changed, and what it refused and why."""

    done: list[Allocation] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (allocation id, message)


class _Locked:
    """The rows of one decision, locked in the one order: requests, devices, allocations."""

    def __init__(self, allocation_ids: Iterable[int], *, with_run: bool = False):
        ids = sorted(set(allocation_ids))
        pairs = list(Allocation.objects.filter(pk__in=ids).values_list("device_id", "request_id"))
        # A device and a request of an allocation never change, so reading them unlocked is safe.
        self.requests = lock_requests({request for _device, request in pairs})
        self.devices = lock_devices({device for device, _request in pairs})
        allocations = Allocation.objects.select_for_update(of=("self",)).filter(pk__in=ids)
        if with_run:
            allocations = allocations.select_related("run__policy")
        self.allocations = list(allocations.order_by("pk"))
        for allocation in self.allocations:
            allocation.device = self.devices[allocation.device_id]
            allocation.request = self.requests[allocation.request_id]
        self.held = {
            pk: list(counts) for pk, counts in selectors.held_per_category(self.requests).items()
        }

    def take(self, allocation: Allocation) -> None:
        held = self.held.setdefault(allocation.request_id, [0, 0])
        held[_category_index(allocation.device)] += 1

    def give_back(self, allocation: Allocation) -> None:
        self.held[allocation.request_id][_category_index(allocation.device)] -= 1


def refuse_gone(decision: Decision, asked: Iterable[int], found: Iterable) -> None:
    """Proposals a newer run replaced (deleted) while the coordinator was looking at them
    (`found`: the allocations, or their ids, that are still there)."""
    for pk in sorted(set(asked) - {getattr(allocation, "pk", allocation) for allocation in found}):
        decision.refused.append(
            (
                pk,
                _(
                    "Voorstel %(n)d bestaat niet meer: een nieuwere ronde heeft de voorstellen "
                    "vervangen. Bekijk de lijst opnieuw."
                )
                % {"n": pk},
            )
        )


def lock_requests(ids: Iterable[int]) -> dict[int, HelpRequest]:
    rows = (
        HelpRequest.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .filter(pk__in=sorted(ids))
        .order_by("pk")
    )
    return {row.pk: row for row in rows}


def lock_devices(ids: Iterable[int]) -> dict[int, Device]:
    rows = (
        Device.objects.select_for_update(of=("self",))
        .select_related("donation__refurbisher")
        .filter(pk__in=sorted(ids))
        .order_by("pk")
    )
    return {row.pk: row for row in rows}


def _category_index(device: Device) -> int:
    """The place of the device's category in a request's (laptops, tablets) it holds."""
    return category_index(device.kind)


def _integrity_message() -> str:
    return _(
        "Iemand anders heeft deze apparaten of hulpaanvragen net gewijzigd. Er is niets "
        "veranderd; bekijk de lijst opnieuw en probeer het nog eens."
    )


# --- Checks ---------------------------------------------------------------------------------------


# One rule set for both approval paths: the per-device service below and the set-based one in
# approve_sets.py call these with the values they read, so both refuse the same proposals with
# the same words.


def device_rule(name, state: str, refurbisher_id: int | None) -> str | None:
    """Why a device named `name` in `state` cannot be given out now, or None."""
    if state != Device.State.READY:
        return _(
            "Apparaat %(device)s is niet meer beschikbaar (status: %(state)s). Voer de "
            "toewijzing opnieuw uit voor een nieuw voorstel."
        ) % {"device": name, "state": _label(Device.State, state)}
    if refurbisher_id is None:
        return _("Apparaat %(device)s ligt niet bij een opknappartner.") % {"device": name}
    return None


def request_rule(
    *,
    reference,
    status: str,
    approved: tuple[int, int, int],
    held: list[int] | tuple[int, int] | None,
    category: int,
) -> str | None:
    """Why a request cannot take one more device of `category` (0 laptops, 1 tablets) now,
    holding `held` (laptops, tablets), or None (its status, then room of that type)."""
    if status != HelpRequest.Status.APPROVED:
        return _("Hulpaanvraag %(ref)s wacht niet meer op apparaten (status: %(status)s).") % {
            "ref": reference,
            "status": _label(HelpRequest.Status, status),
        }
    laptops, tablets, either = selectors.open_quantities(approved, *(held or (0, 0)))
    if laptops + tablets + either == 0:
        return _("Hulpaanvraag %(ref)s heeft al alle goedgekeurde apparaten (%(n)d).") % {
            "ref": reference,
            "n": sum(approved),
        }
    if category == 0 and laptops + either == 0:
        return _("Hulpaanvraag %(ref)s heeft al alle goedgekeurde laptops.") % {"ref": reference}
    if category == 1 and tablets + either == 0:
        return _("Hulpaanvraag %(ref)s heeft al alle goedgekeurde tablets.") % {"ref": reference}
    return None


def status_rule(pk: int, status: str, expected: str) -> str | None:
    if status == expected:
        return None
    return _("Toewijzing %(n)d is niet meer open (status: %(status)s).") % {
        "n": pk,
        "status": _label(Allocation.Status, status),
    }


def category_index(kind: str) -> int:
    """The place of a device kind's category in a request's (laptops, tablets) it holds."""
    return 0 if category_of(kind) == DeviceCategory.LAPTOP else 1


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def unavailable_problem(device: Device) -> str | None:
    return device_rule(device, device.state, device.donation.refurbisher_id)


def request_problem(request: HelpRequest, device: Device, held: list[int] | None) -> str | None:
    """Why `request` cannot take `device` now, or None (its status, then room of that type)."""
    return request_rule(
        reference=request.reference,
        status=request.status,
        approved=(request.approved_laptops, request.approved_tablets, request.approved_either),
        held=held,
        category=_category_index(device),
    )


def _status_problem(allocation: Allocation, expected: str) -> str | None:
    return status_rule(allocation.pk, allocation.status, expected)


def _decide(
    allocations: list[Allocation],
    to_status: str,
    *,
    by,
    now,
    note: str = "",
    update_fields: Iterable[str] = (),
    on_commit=(),
) -> None:
    """Move locked allocations, checked against `Allocation.transitions`, with one history
    insert for all of them (a national run approves thousands at once)."""
    for allocation in allocations:
        allocation.decided_by, allocation.decided_at = by, now
    transition_many(
        allocations,
        to_status,
        by=by,
        at=now,
        note=note,
        update_fields=["decided_by", "decided_at", *update_fields],
        on_commit=on_commit,
        locked=True,
    )


# --- Approve --------------------------------------------------------------------------------------


def allocations_approve(allocation_ids: Iterable[int], *, by: User, notify: bool = True):
    """Approve proposals: each device becomes `allocated` for its request; proposals that went
    stale are refused one by one with the reason, the others go ahead."""
    try:
        with transaction.atomic():
            decisions_shared()
            ids = set(allocation_ids)
            rows = _Locked(ids, with_run=True)
            decision, now = Decision(), timezone.now()
            refuse_gone(decision, ids, rows.allocations)
            policies: dict = {}
            for allocation in rows.allocations:
                problem = (
                    _status_problem(allocation, Allocation.Status.PROPOSED)
                    or unavailable_problem(allocation.device)
                    or request_problem(
                        allocation.request, allocation.device, rows.held.get(allocation.request_id)
                    )
                )
                if problem:
                    decision.refused.append((allocation.pk, problem))
                    continue
                allocation.reasons = "|".join(selectors.allocation_reasons(allocation, policies))
                rows.take(allocation)
                decision.done.append(allocation)
            _approve(decision.done, by=by, now=now)
            if decision.done and notify:
                notify_allocations_approved(decision.done)
    except IntegrityError as exc:
        raise DomainError(_integrity_message()) from exc
    _log_decision("approved", decision, by=by)
    return decision


def _log_decision(outcome: str, decision: Decision, *, by) -> None:
    """One security log line per decision (a national run approves thousands at once)."""
    if decision.done:
        ids = [allocation.pk for allocation in decision.done]
        security_event(
            "allocation_decision",
            outcome=outcome,
            actor=by,
            obj={"type": "distribution.allocation", "count": len(ids), "ids": ids[:100]},
        )


def _approve(allocations: list[Allocation], *, by: User, now) -> None:
    """Approve checked proposals; each device becomes `allocated` for its request."""
    _decide(allocations, Allocation.Status.APPROVED, by=by, now=now, update_fields=["reasons"])
    for allocation in allocations:
        device_transition(
            allocation.device,
            Device.State.ALLOCATED,
            by=by,
            organisation=allocation.request.organisation,
            note=_("Toegewezen aan hulpaanvraag %(ref)s.") % {"ref": allocation.request.reference},
        )


def _open_run(run_id: int) -> AllocationRun:
    run = AllocationRun.objects.get(pk=run_id)
    if run.status != AllocationRun.Status.COMPLETED:
        raise DomainError(
            _("Ronde %(n)d heeft geen open voorstellen meer (status: %(status)s).")
            % {"n": run.pk, "status": run.get_status_display()}
        )
    return run


def allocations_approve_run(run_id: int, *, by: User) -> Decision:
    """Approve every open proposal of one run (only the latest completed run has them)."""
    _open_run(run_id)
    ids = Allocation.objects.proposed().filter(run_id=run_id).values_list("id", flat=True)
    return allocations_approve(list(ids), by=by)


def allocations_approve_run_part(
    run_id: int, *, by: User, after_request: int = 0, most: int = 2000
) -> tuple[Decision, int | None]:
    """Approve the proposals of the next requests of a run (by request id, after
    `after_request`), about `most` allocations in one transaction; returns the last request
    done, or None when the run is through. A national run is approved in such parts, each
    within the task time limit; each request's devices stay within one part (one e-mail)."""
    _open_run(run_id)
    per_request = (
        Allocation.objects.proposed()
        .filter(run_id=run_id, request_id__gt=after_request)
        .values("request_id")
        .annotate(n=Count("id"))
        .order_by("request_id")
    )
    chosen, total = [], 0
    for row in per_request.iterator():
        if chosen and total + row["n"] > most:
            break
        chosen.append(row["request_id"])
        total += row["n"]
    if not chosen:
        return Decision(), None
    return allocations_approve_requests(chosen, by=by), chosen[-1]


def allocations_approve_requests(request_ids: Iterable[int], *, by: User) -> Decision:
    """Approve every open proposal of the given help requests."""
    ids = Allocation.objects.proposed().filter(request_id__in=list(request_ids))
    return allocations_approve(list(ids.values_list("id", flat=True)), by=by)


# --- Reject and cancel ----------------------------------------------------------------------------


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Geef een reden op."))
    return reason


def allocations_reject(
    allocation_ids: Iterable[int], *, by: User | None, reason: str, scope: str = "pair"
) -> Decision:
    """Reject proposals: the device stays in the pool (ready) and the request keeps waiting;
    no later run proposes what the rejection covers (`scope`: the pair, the device for the
    whole organisation, or the request) until a coordinator lifts it."""
    reason = _reason(reason)
    with transaction.atomic():
        decisions_shared()
        ids = set(allocation_ids)
        allocations = list(Allocation.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        decision, now = Decision(), timezone.now()
        refuse_gone(decision, ids, allocations)
        for allocation in allocations:
            problem = _status_problem(allocation, Allocation.Status.PROPOSED)
            if problem:
                decision.refused.append((allocation.pk, problem))
                continue
            decision.done.append(allocation)
        _refuse(decision.done, Allocation.Status.REJECTED, by=by, now=now, note=reason)
        Allocation.objects.filter(pk__in=[a.pk for a in decision.done]).update(
            rejection_scope=RejectionScope(scope)
        )
    _log_decision("rejected", decision, by=by)
    return decision


def _refuse(
    allocations: list[Allocation], to_status: str, *, by, now, note: str, on_commit=()
) -> None:
    """Reject or cancel, always with the reason on the allocation and in its history."""
    for allocation in allocations:
        allocation.decision_note = note
    _decide(
        allocations,
        to_status,
        by=by,
        now=now,
        note=note,
        update_fields=["decision_note"],
        on_commit=on_commit,
    )


def allocations_cancel(
    allocation_ids: Iterable[int], *, by: User | None, reason: str, notify: bool = True
) -> Decision:
    """Cancel approved allocations that have not been shipped: each device goes back to
    `ready` (the pool), off a shipment still being packed, and its request waits for devices
    again; both parties are told."""
    reason = _reason(reason)
    try:
        with transaction.atomic():
            decisions_shared()
            rows = _Locked(allocation_ids)
            decision, now = Decision(), timezone.now()
            for allocation in rows.allocations:
                problem = _cancel_problem(allocation)
                if problem:
                    decision.refused.append((allocation.pk, problem))
                    continue
                rows.give_back(allocation)
                decision.done.append(allocation)
            # The freed devices may go to another request: ask for a run once this commits.
            _refuse(
                decision.done,
                Allocation.Status.CANCELLED,
                by=by,
                now=now,
                note=reason,
                on_commit=allocation_request_run_soon,
            )
            for allocation in decision.done:
                device_transition(
                    allocation.device,
                    Device.State.READY,
                    by=by,
                    organisation=None,
                    note=_("Toewijzing aan %(ref)s geannuleerd: %(reason)s")
                    % {"ref": allocation.request.reference, "reason": reason},
                )
            # A cancelled device comes off a shipment that is still being packed.
            ShipmentItem.objects.filter(
                allocation_id__in=[allocation.pk for allocation in decision.done],
                shipment__status=Shipment.Status.PREPARED,
            ).delete()
            if decision.done and notify:
                notify_allocations_cancelled(decision.done, reason)
    except IntegrityError as exc:
        raise DomainError(_integrity_message()) from exc
    return decision


def _cancel_problem(allocation: Allocation) -> str | None:
    if allocation.status == Allocation.Status.SHIPPED:
        return _(
            "Toewijzing %(n)d is al verzonden; annuleren kan niet meer. Laat het apparaat "
            "terugsturen via de hulplijn."
        ) % {"n": allocation.pk}
    if allocation.status == Allocation.Status.PROPOSED:
        return _("Toewijzing %(n)d is nog een voorstel; wijs het af in plaats van annuleren.") % {
            "n": allocation.pk
        }
    return _status_problem(allocation, Allocation.Status.APPROVED)


def allocations_withdraw_for_request(request_id: int, *, by: User | None, reason: str) -> Decision:
    """A help request is cancelled or closed: its proposals are rejected and its approved,
    unshipped allocations cancelled (devices back to the pool). Call it inside the help
    request's own transaction, after locking the request."""
    reason = _reason(reason)
    with transaction.atomic():
        proposals = Allocation.objects.proposed().filter(request_id=request_id)
        rejected = allocations_reject(proposals.values_list("id", flat=True), by=by, reason=reason)
        approved = Allocation.objects.filter(
            request_id=request_id, status=Allocation.Status.APPROVED
        )
        cancelled = allocations_cancel(approved.values_list("id", flat=True), by=by, reason=reason)
    return Decision(done=rejected.done + cancelled.done, refused=cancelled.refused)


# --- By hand --------------------------------------------------------------------------------------


def allocation_allocate_by_hand(
    *, device_id: int, request_id: int, by: User, reason: str
) -> Allocation:
    """A coordinator gives one ready device to one approved request, with a reason."""
    return allocations_allocate_by_hand(
        device_ids=[device_id], request_id=request_id, by=by, reason=reason
    )[0]


def allocations_allocate_by_hand(
    *, device_ids: list[int], request_id: int, by: User, reason: str
) -> list[Allocation]:
    """A coordinator gives ready devices to one approved request, with a reason, all or none;
    the organisation and each refurbisher hear of it in one mail. An open proposal of a device
    is set aside (rejected); an approved or shipped one blocks it."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Geef een reden op voor een toewijzing met de hand."))
    device_ids = list(dict.fromkeys(device_ids))
    try:
        with transaction.atomic():
            decisions_shared()
            request = lock_requests([request_id]).get(request_id)
            devices = lock_devices(device_ids)
            if request is None or not device_ids or len(devices) != len(device_ids):
                raise DomainError(_("Dit apparaat of deze hulpaanvraag bestaat niet."))
            made = []
            for device_id in device_ids:
                live = list(
                    Allocation.objects.select_for_update(of=("self",))
                    .select_related("request")
                    .filter(device_id=device_id, status__in=Allocation.LIVE_STATUSES)
                    .order_by("pk")
                )
                _check_by_hand(devices[device_id], request, live)
                made.append(
                    _allocate_by_hand(devices[device_id], request, live, by=by, reason=reason)
                )
            notify_allocations_approved(made)
            return made
    except IntegrityError as exc:
        raise DomainError(_integrity_message()) from exc


def _check_by_hand(device: Device, request: HelpRequest, live: list[Allocation]) -> None:
    for allocation in live:
        if allocation.status != Allocation.Status.PROPOSED:
            raise DomainError(
                _("Apparaat %(device)s is al toegewezen aan hulpaanvraag %(ref)s.")
                % {"device": device, "ref": allocation.request.reference}
            )
    held = selectors.held_per_category([request.pk]).get(request.pk)
    problem = unavailable_problem(device) or request_problem(
        request, device, list(held) if held else None
    )
    if problem:
        raise DomainError(problem)


def _allocate_by_hand(device, request, live, *, by: User, reason: str) -> Allocation:
    now = timezone.now()
    _refuse(
        live,
        Allocation.Status.REJECTED,
        by=by,
        now=now,
        note=_("Vervangen door een toewijzing met de hand."),
    )
    policy = selectors.active_policy()
    today = timezone.localdate(now)
    request_input = selectors.request_in_for(request)
    device_input = selectors.device_in(device)
    allocation = Allocation.objects.create(
        device=device,
        request=request,
        run=None,
        status=Allocation.Status.APPROVED,
        score=pair_score(device_input, request_input, policy, today) if request_input else 0,
        reasons="|".join(selectors.reason_codes(device, request, policy, today)),
        note=reason,
        decided_by=by,
        decided_at=now,
    )
    device_transition(
        device,
        Device.State.ALLOCATED,
        by=by,
        organisation=request.organisation,
        note=_("Met de hand toegewezen aan hulpaanvraag %(ref)s: %(reason)s")
        % {"ref": request.reference, "reason": reason},
    )
    AllocationEvent.objects.create(
        allocation=allocation, at=now, by=by, note=reason, to_status=Allocation.Status.APPROVED
    )
    return allocation
