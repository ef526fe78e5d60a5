"""Coordinators' decisions: approve, reject, cancel, by hand; stale proposals; the limits the
database keeps (one live allocation per device, never more than approved)."""

from types import SimpleNamespace

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from allemaal.models import Notification
from allemaal.services import DomainError
from distribution import selectors, services
from distribution.models import Allocation, AllocationEvent, AllocationRun
from distribution.services import decisions
from donations.models import Device, DeviceEvent
from tests.factories import member_of

from .factories import (
    ApprovedRequestFactory,
    ProcessedDonationFactory,
    ProposalFactory,
    RunFactory,
    ready_devices,
)

pytestmark = pytest.mark.django_db


def _proposals(request, devices, run=None):
    run = run or AllocationRun.objects.first()
    return [ProposalFactory(device=d, request=request, run=run) for d in devices]


@pytest.fixture(params=["per device", "as a set"])
def approve(request):
    """Both approval paths (decisions.py for single decisions, approve_sets.py for runs and
    selections): every approval rule test runs against each."""
    if request.param == "per device":
        return SimpleNamespace(
            ids=services.allocations_approve,
            requests=services.allocations_approve_requests,
            run=services.allocations_approve_run,
            run_part=services.allocations_approve_run_part,
        )
    return SimpleNamespace(
        ids=services.allocations_approve_set,
        requests=services.allocations_approve_requests_set,
        run=services.allocations_approve_run_set,
        run_part=services.allocations_approve_run_part_set,
    )


@pytest.fixture
def requester(school_board_org):
    member_of(school_board_org, user__email="carla@carla-scholen.example")
    return school_board_org


@pytest.fixture
def donation(refurbisher_org):
    member_of(refurbisher_org, user__email="dirk@dirk-ict.example")
    return ProcessedDonationFactory(refurbisher=refurbisher_org)


# --- Approve --------------------------------------------------------------------------------------


def test_approval_moves_the_device_to_allocated_and_keeps_the_history(
    approve, coordinator, donation
):
    request = ApprovedRequestFactory(laptops=2)
    proposal = ProposalFactory(device=ready_devices(1, donation=donation)[0], request=request)
    decision = approve.ids([proposal.pk], by=coordinator)
    assert [a.pk for a in decision.done] == [proposal.pk] and not decision.refused
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by, proposal.decided_at is not None) == (
        "approved",
        coordinator,
        True,
    )
    assert proposal.reasons.startswith("group:primary_pupils|waiting_days:10|")
    device = Device.objects.get(pk=proposal.device_id)
    assert device.state == Device.State.ALLOCATED
    event = DeviceEvent.objects.get(device=device, to_state="allocated")
    assert (event.from_state, event.by, event.organisation) == (
        "ready",
        coordinator,
        request.organisation,
    )
    assert request.reference in event.note
    (history,) = AllocationEvent.objects.filter(allocation=proposal)
    assert (history.from_status, history.to_status, history.by) == (
        "proposed",
        "approved",
        coordinator,
    )


def test_an_approved_allocation_keeps_its_explanation_when_the_policy_changes(approve, coordinator):
    proposal = ProposalFactory()
    approve.ids([proposal.pk], by=coordinator)
    before = selectors.allocation_explanation(Allocation.objects.get(pk=proposal.pk), lang="en")
    services.policy_save_version(services.policy_current().policy, by=coordinator)
    run = proposal.run
    run.policy.weights = {**run.policy.weights, "aging_max": 1}
    run.policy.save()
    after = selectors.allocation_explanation(Allocation.objects.get(pk=proposal.pk), lang="en")
    assert after == before and "waiting 10 days" in after


def test_one_approval_sends_one_mail_per_organisation_with_counts_and_when(
    approve, coordinator, requester, donation, django_capture_on_commit_callbacks
):
    first = ApprovedRequestFactory(organisation=requester, laptops=3)
    second = ApprovedRequestFactory(organisation=requester, tablets=2, target_group="newcomers")
    laptops = ready_devices(2, donation=donation)
    chromebook = ready_devices(1, donation=donation, kind="chromebook")
    tablets = ready_devices(2, donation=donation, kind="tablet")
    proposals = _proposals(first, laptops + chromebook, run=ProposalFactory().run)
    proposals += _proposals(second, tablets)
    with django_capture_on_commit_callbacks(execute=True):
        approve.ids([p.pk for p in proposals], by=coordinator)
    to_requester = Notification.objects.get(kind="allocation_approved")
    assert to_requester.to_email == "carla@carla-scholen.example"
    assert "5 apparaten" in to_requester.subject
    body = to_requester.body_text
    assert first.reference in body and second.reference in body
    assert "2 laptops" in body and "1 Chromebook" in body and "2 tablets" in body
    assert "tussen" in body  # the expected delivery window
    to_refurbisher = Notification.objects.get(kind="allocation_prepare")
    assert to_refurbisher.to_email == "dirk@dirk-ict.example"
    for device in laptops + chromebook + tablets:
        assert device.asset_tag in to_refurbisher.body_text
    assert requester.name in to_refurbisher.body_text


def test_it_refuses_a_stale_proposal_whose_device_is_no_longer_ready(approve, coordinator):
    proposal = ProposalFactory()
    Device.objects.filter(pk=proposal.device_id).update(state=Device.State.RECYCLED)
    decision = approve.ids([proposal.pk], by=coordinator)
    assert not decision.done
    ((allocation_id, message),) = decision.refused
    assert allocation_id == proposal.pk
    assert "niet meer beschikbaar (status: Gerecycled)" in message
    proposal.refresh_from_db()
    assert proposal.status == "proposed"


def test_it_refuses_a_proposal_for_a_request_that_was_cancelled(approve, coordinator):
    proposal = ProposalFactory(request__status="cancelled")
    decision = approve.ids([proposal.pk], by=coordinator)
    assert "wacht niet meer op apparaten (status: Geannuleerd)" in decision.refused[0][1]
    assert Device.objects.get(pk=proposal.device_id).state == "ready"


def test_it_refuses_a_proposal_for_a_request_that_is_already_full(approve, coordinator):
    request = ApprovedRequestFactory(laptops=1)
    first, second = _proposals(request, ready_devices(2), run=ProposalFactory().run)
    decision = approve.ids([first.pk, second.pk], by=coordinator)
    assert [a.pk for a in decision.done] == [first.pk]
    assert decision.refused == [
        (second.pk, f"Hulpaanvraag {request.reference} heeft al alle goedgekeurde apparaten (1).")
    ]
    assert Allocation.objects.committed().filter(request=request).count() == 1


def test_it_refuses_a_tablet_for_a_request_that_only_waits_for_laptops(approve, coordinator):
    request = ApprovedRequestFactory(laptops=2)
    (proposal,) = _proposals(request, ready_devices(1, kind="tablet"), run=ProposalFactory().run)
    decision = approve.ids([proposal.pk], by=coordinator)
    assert "heeft al alle goedgekeurde tablets" in decision.refused[0][1]


def test_approving_twice_refuses_the_second_time(approve, coordinator):
    proposal = ProposalFactory()
    approve.ids([proposal.pk], by=coordinator)
    decision = approve.ids([proposal.pk], by=coordinator)
    assert decision.refused == [
        (proposal.pk, f"Toewijzing {proposal.pk} is niet meer open (status: Goedgekeurd).")
    ]
    assert DeviceEvent.objects.filter(device_id=proposal.device_id, to_state="allocated").count()


def test_approve_per_run_and_per_request(approve, coordinator):
    ready_devices(20)
    school = ApprovedRequestFactory(laptops=3)
    elderly = ApprovedRequestFactory(laptops=2, target_group="isolated_elderly")
    run = services.allocation_run(trigger="manual", by=coordinator)
    decision = approve.requests([elderly.pk], by=coordinator)
    assert {a.request_id for a in decision.done} == {elderly.pk} and len(decision.done) == 2
    decision = approve.run(run.pk, by=coordinator)
    assert {a.request_id for a in decision.done} == {school.pk} and len(decision.done) == 3
    assert not Allocation.objects.proposed().exists()


def test_approving_a_superseded_run_is_refused(approve, coordinator):
    ready_devices(4)
    ApprovedRequestFactory(laptops=1)
    old = services.allocation_run(trigger="manual")
    services.allocation_run(trigger="manual")
    with pytest.raises(DomainError, match="geen open voorstellen meer"):
        approve.run(old.pk, by=coordinator)


# --- Reject and cancel ----------------------------------------------------------------------------


def test_reject_keeps_the_device_in_the_pool_and_the_request_waiting(coordinator):
    ready_devices(8)
    request = ApprovedRequestFactory(laptops=1)
    services.allocation_run(trigger="manual")
    proposal = Allocation.objects.proposed().get()
    decision = services.allocations_reject([proposal.pk], by=coordinator, reason="Verkeerde regio")
    assert len(decision.done) == 1
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decision_note) == ("rejected", "Verkeerde regio")
    assert Device.objects.get(pk=proposal.device_id).state == "ready"
    assert selectors.allocation_counts([request.pk])[request.pk].remaining == 1
    services.allocation_run(trigger="manual")
    assert Allocation.objects.proposed().get().request_id == request.pk


def test_reject_needs_a_reason_and_only_takes_proposals(coordinator):
    proposal = ProposalFactory()
    with pytest.raises(DomainError, match="Geef een reden op"):
        services.allocations_reject([proposal.pk], by=coordinator, reason="  ")
    services.allocations_approve([proposal.pk], by=coordinator)
    decision = services.allocations_reject([proposal.pk], by=coordinator, reason="Toch niet")
    assert not decision.done and "niet meer open" in decision.refused[0][1]


def test_cancel_returns_the_device_to_ready_and_tells_both(
    coordinator, requester, donation, django_capture_on_commit_callbacks
):
    request = ApprovedRequestFactory(organisation=requester, laptops=1)
    (proposal,) = _proposals(request, ready_devices(1, donation=donation), ProposalFactory().run)
    services.allocations_approve([proposal.pk], by=coordinator, notify=False)
    with django_capture_on_commit_callbacks(execute=True):
        decision = services.allocations_cancel(
            [proposal.pk], by=coordinator, reason="Organisatie heeft al apparaten"
        )
    assert len(decision.done) == 1
    proposal.refresh_from_db()
    assert proposal.status == "cancelled"
    assert Device.objects.get(pk=proposal.device_id).state == "ready"
    assert selectors.allocation_counts([request.pk])[request.pk].remaining == 1
    kinds = set(Notification.objects.values_list("kind", flat=True))
    assert {"allocation_cancelled", "allocation_prepare_cancelled"} <= kinds
    # the device is back in the pool, so a run was asked for (eager Celery: it ran)
    assert AllocationRun.objects.filter(trigger="automatic").exists()


def test_cancel_refuses_proposals_and_shipped_allocations(coordinator):
    proposal = ProposalFactory()
    decision = services.allocations_cancel([proposal.pk], by=coordinator, reason="x")
    assert "nog een voorstel" in decision.refused[0][1]
    services.allocations_approve([proposal.pk], by=coordinator)
    Allocation.objects.filter(pk=proposal.pk).update(status="shipped")
    decision = services.allocations_cancel([proposal.pk], by=coordinator, reason="x")
    assert "al verzonden" in decision.refused[0][1]


def test_withdrawing_a_request_rejects_its_proposals_and_cancels_its_allocations(coordinator):
    request = ApprovedRequestFactory(laptops=3)
    first, second = _proposals(request, ready_devices(2), ProposalFactory().run)
    services.allocations_approve([first.pk], by=coordinator, notify=False)
    decision = services.allocations_withdraw_for_request(
        request.pk, by=None, reason="Aanvraag geannuleerd"
    )
    assert len(decision.done) == 2
    assert set(Allocation.objects.filter(request=request).values_list("status", flat=True)) == {
        "rejected",
        "cancelled",
    }
    assert set(Device.objects.values_list("state", flat=True)) == {"ready"}


# --- By hand --------------------------------------------------------------------------------------


def test_by_hand_allocates_a_ready_device_with_its_reason(coordinator):
    request = ApprovedRequestFactory(laptops=1)
    (device,) = ready_devices(1)
    allocation = services.allocation_allocate_by_hand(
        device_id=device.pk, request_id=request.pk, by=coordinator, reason="Spoed: examen"
    )
    assert (allocation.status, allocation.run, allocation.note) == (
        "approved",
        None,
        "Spoed: examen",
    )
    assert allocation.is_manual and allocation.reasons.startswith("group:primary_pupils")
    assert Device.objects.get(pk=device.pk).state == "allocated"
    assert AllocationEvent.objects.get(allocation=allocation).to_status == "approved"


def test_by_hand_sets_aside_the_open_proposal_of_the_device(coordinator):
    proposal = ProposalFactory()
    other = ApprovedRequestFactory(laptops=1, target_group="newcomers")
    allocation = services.allocation_allocate_by_hand(
        device_id=proposal.device_id, request_id=other.pk, by=coordinator, reason="Nood"
    )
    proposal.refresh_from_db()
    assert proposal.status == "rejected" and "met de hand" in proposal.decision_note
    assert allocation.request == other


@pytest.mark.parametrize(
    "setup, message",
    [
        ("allocated", "is al toegewezen aan hulpaanvraag"),
        ("not_ready", "niet meer beschikbaar"),
        ("not_approved", "wacht niet meer op apparaten"),
        ("full", "heeft al alle goedgekeurde apparaten"),
        ("no_reason", "Geef een reden op"),
    ],
)
def test_by_hand_refuses_with_a_clear_message(coordinator, setup, message):
    request = ApprovedRequestFactory(laptops=1)
    (device,) = ready_devices(1)
    reason = "Nood"
    if setup == "allocated":
        services.allocation_allocate_by_hand(
            device_id=device.pk,
            request_id=ApprovedRequestFactory(laptops=1).pk,
            by=coordinator,
            reason="eerst",
        )
    elif setup == "not_ready":
        Device.objects.filter(pk=device.pk).update(state="erased")
    elif setup == "not_approved":
        request.status = "closed"
        request.save(update_fields=["status"])
    elif setup == "full":
        services.allocation_allocate_by_hand(
            device_id=ready_devices(1)[0].pk, request_id=request.pk, by=coordinator, reason="x"
        )
    else:
        reason = " "
    count = Allocation.objects.count()
    with pytest.raises(DomainError, match=message):
        services.allocation_allocate_by_hand(
            device_id=device.pk, request_id=request.pk, by=coordinator, reason=reason
        )
    assert Allocation.objects.count() == count


# --- Limits in the database -----------------------------------------------------------------------


def test_the_database_refuses_a_second_live_allocation_of_a_device():
    proposal = ProposalFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation.objects.create(
            device_id=proposal.device_id,
            request=ApprovedRequestFactory(),
            status="approved",
            score=1,
            note="direct",
            decided_at=timezone.now(),
        )
    Allocation.objects.filter(pk=proposal.pk).update(
        status="rejected", decision_note="x", decided_at=timezone.now()
    )
    Allocation.objects.create(
        device_id=proposal.device_id, request=proposal.request, status="proposed", score=1, note="x"
    )


def test_the_database_wants_a_reason_for_allocations_by_hand():
    with pytest.raises(IntegrityError):
        Allocation.objects.create(
            device=ready_devices(1)[0],
            request=ApprovedRequestFactory(),
            status="approved",
            score=1,
            decided_at=timezone.now(),
        )


@pytest.mark.postgres
def test_on_postgres_the_database_refuses_more_devices_than_approved():
    request = ApprovedRequestFactory(laptops=1, tablets=1)
    laptop, second_laptop = ready_devices(2)
    (tablet,) = ready_devices(1, kind="tablet")

    def approve(device):
        Allocation.objects.create(
            device=device,
            request=request,
            status="approved",
            score=1,
            note="direct",
            decided_at=timezone.now(),
        )

    approve(laptop)
    with pytest.raises(IntegrityError, match="more than approved"), transaction.atomic():
        approve(second_laptop)  # a second laptop: only one laptop place
    approve(tablet)
    proposal = ProposalFactory(request=request)  # proposals are never counted
    with pytest.raises(IntegrityError, match="more than approved"), transaction.atomic():
        Allocation.objects.filter(pk=proposal.pk).update(
            status="approved", decided_at=timezone.now()
        )
    with pytest.raises(IntegrityError, match="does not exist"), transaction.atomic():
        Allocation.objects.create(
            device_id=10**9,
            request=request,
            status="delivered",
            score=1,
            note="x",
            decided_at=timezone.now(),
        )


@pytest.mark.postgres
def test_on_postgres_a_constraint_failure_becomes_a_clear_message(
    approve, coordinator, monkeypatch
):
    request = ApprovedRequestFactory(laptops=1)
    first, second = _proposals(request, ready_devices(2), ProposalFactory().run)
    approve.ids([first.pk], by=coordinator)
    # As if the service's own count had missed the first approval: the trigger still refuses.
    monkeypatch.setattr(decisions.selectors, "held_per_category", lambda ids: {})
    with pytest.raises(DomainError, match="Iemand anders heeft"):
        approve.ids([second.pk], by=coordinator)
    second.refresh_from_db()
    assert second.status == "proposed"
    assert Device.objects.get(pk=second.device_id).state == "ready"


def test_a_large_run_is_approved_in_parts_that_keep_each_request_whole(approve, coordinator):
    run = RunFactory()
    requests = [ApprovedRequestFactory(laptops=n) for n in (3, 2, 4)]
    for request in requests:
        _proposals(request, ready_devices(request.laptops), run)
    parts, after = [], 0
    while after is not None:
        decision, after = approve.run_part(run.pk, by=coordinator, after_request=after, most=4)
        parts.append(sorted({a.request_id for a in decision.done}))
    assert parts == [[requests[0].pk], [requests[1].pk], [requests[2].pk], []]
    assert not Allocation.objects.proposed().exists()


def test_the_approve_run_task_goes_through_all_parts(coordinator):
    from distribution.tasks import approve_run

    ready_devices(30)
    for group in ("primary_pupils", "newcomers", "other", "disability"):
        ApprovedRequestFactory(laptops=3, target_group=group)
    run = services.allocation_run(trigger="manual")
    approve_run.delay(run.pk, coordinator.pk)
    assert Allocation.objects.committed().count() == 12
    assert not Allocation.objects.proposed().exists()


def test_approving_proposals_a_newer_run_replaced_says_so(approve, coordinator):
    ready_devices(8)
    ApprovedRequestFactory(laptops=2)
    services.allocation_run(trigger="manual")
    seen = list(Allocation.objects.proposed().values_list("id", flat=True))
    services.allocation_run(trigger="automatic")  # while the coordinator was reading
    decision = approve.ids(seen, by=coordinator)
    assert not decision.done
    assert [message for _pk, message in decision.refused] == [
        f"Voorstel {pk} bestaat niet meer: een nieuwere ronde heeft de voorstellen vervangen. "
        "Bekijk de lijst opnieuw."
        for pk in sorted(seen)
    ]
