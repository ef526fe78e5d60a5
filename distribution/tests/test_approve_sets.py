"""Set-based approval (services/approve_sets.py): a run in parts that keep each request whole,
resumable and idempotent, with its progress on the run page; one e-mail per organisation and
refurbisher per part; the statement-level check that keeps "never more than approved"; and a
run approved while coordinators reject and allocate by hand at the same time (PostgreSQL)."""

import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from allemaal.models import Notification
from allemaal.services import DomainError
from distribution import services
from distribution.models import Allocation, AllocationEvent, AllocationRun
from distribution.selectors.invariants import devices_out_of_step, overfull_requests
from distribution.tasks import approve_run
from donations.models import Device, DeviceEvent
from tests.factories import member_of, staff_user

from .factories import (
    ApprovedRequestFactory,
    ProcessedDonationFactory,
    ProposalFactory,
    RunFactory,
    ready_devices,
)


def _run_with(sizes, run=None):
    run = run or RunFactory()
    requests = []
    for n in sizes:
        request = ApprovedRequestFactory(laptops=n)
        for device in ready_devices(n):
            ProposalFactory(device=device, request=request, run=run)
        requests.append(request)
    return run, requests


@pytest.mark.django_db
def test_the_run_page_shows_how_far_approving_the_run_has_come(client, coordinator):
    run, _requests = _run_with((3, 2, 4))
    client.force_login(coordinator)
    client.get(reverse("admin:index"))
    page = reverse("admin:distribution_allocationrun_change", args=[run.pk])
    services.allocations_approve_run_part_set(run.pk, by=coordinator, most=4)
    text = client.get(page).content.decode()
    assert "Bezig: 3 van 9 voorstellen goedgekeurd, 0 geweigerd; deel 1 van 3 klaar." in text
    approve_run.delay(run.pk, coordinator.pk)  # the task resumes from the start: nothing twice
    text = client.get(page).content.decode()
    assert "Klaar: 9 van 9 voorstellen goedgekeurd, 0 geweigerd (3 delen)." in text
    assert AllocationEvent.objects.count() == 9
    assert DeviceEvent.objects.filter(to_state="allocated").count() == 9


@pytest.mark.django_db
def test_parts_done_in_any_order_finish_the_approval_when_the_last_one_is_done(coordinator):
    run, requests = _run_with((3, 2, 4))
    bounds = services.approval_parts(run.pk, by=coordinator, most=4)
    assert bounds == [request.pk for request in requests]
    for part in (2, 0):
        services.allocations_approve_run_part_set(
            run.pk, by=coordinator, after_request=services.part_start(bounds, part), most=4
        )
        run.refresh_from_db()
        assert not run.approval["finished_at"]
    assert (run.approval["done"], run.approval["parts_done"], run.approval["approved"]) == (
        [0, 2],
        2,
        7,
    )
    services.allocations_approve_run_part_set(
        run.pk, by=coordinator, after_request=bounds[0], most=4
    )
    run.refresh_from_db()
    assert run.approval["finished_at"] and run.approval["approved"] == 9
    assert Allocation.objects.committed().count() == 9


@pytest.mark.django_db
def test_the_task_approves_a_run_in_chains_side_by_side_and_resumes_where_it_stopped(
    coordinator, settings, monkeypatch
):
    from distribution.services import approve_sets

    settings.APPROVAL_CHAINS = 2
    monkeypatch.setattr(approve_sets, "PART_SIZE", 4)
    run, requests = _run_with((3, 1, 4, 2, 2))
    bounds = services.approval_parts(run.pk, by=coordinator)
    assert len(bounds) == 3
    # Part 1 was done before a worker died, refusing one proposal whose device was gone; the
    # device is back since. The task, run again, approves parts 0 and 2 and leaves part 1 be:
    # run again, part 1 would now approve that proposal.
    stale = Allocation.objects.filter(request=requests[2]).order_by("pk").first()
    Device.objects.filter(pk=stale.device_id).update(state=Device.State.RECYCLED)
    services.allocations_approve_run_part_set(run.pk, by=coordinator, after_request=bounds[0])
    Device.objects.filter(pk=stale.device_id).update(state=Device.State.READY)
    approve_run.delay(run.pk, coordinator.pk)
    run.refresh_from_db()
    assert run.approval["done"] == [0, 1, 2] and run.approval["finished_at"]
    assert run.approval["refused"] == {"0": 0, "1": 1, "2": 0}
    assert run.approval["approved"] == 11 == Allocation.objects.committed().count()
    assert Allocation.objects.get(pk=stale.pk).status == "proposed"
    assert AllocationEvent.objects.filter(to_status="approved").count() == 11


@pytest.mark.django_db
def test_the_task_marks_a_run_without_proposals_approved_at_once(coordinator):
    run = RunFactory()
    assert approve_run.delay(run.pk, coordinator.pk).get() == 0
    run.refresh_from_db()
    assert run.approval["parts"] == 0 and run.approval["finished_at"]


@pytest.mark.django_db
def test_a_repeated_part_approves_nothing_twice_and_counts_its_refusals_once(coordinator):
    run, (first, second) = _run_with((2, 2))
    stale = Allocation.objects.filter(request=second).order_by("pk").first()
    Device.objects.filter(pk=stale.device_id).update(state=Device.State.RECYCLED)
    decision, last = services.allocations_approve_run_part_set(run.pk, by=coordinator, most=10)
    assert (len(decision.done), last) == (3, second.pk)
    assert [pk for pk, _message in decision.refused] == [stale.pk]
    again, last = services.allocations_approve_run_part_set(run.pk, by=coordinator, most=10)
    assert (again.done, last) == ([], second.pk)
    assert [pk for pk, _message in again.refused] == [stale.pk]
    assert (
        services.allocations_approve_run_part_set(run.pk, by=coordinator, after_request=last)[1]
        is None
    )
    run.refresh_from_db()
    assert (run.approval["approved"], run.approval["refused"], run.approval["parts"]) == (
        3,
        {"0": 1},
        1,
    )
    assert run.approval["finished_at"]
    assert (
        AllocationEvent.objects.count()
        == DeviceEvent.objects.filter(to_state="allocated").count()
        == 3
    )


@pytest.mark.django_db
def test_a_part_sends_one_mail_per_organisation_and_per_refurbisher(
    coordinator, school_board_org, refurbisher_org, django_capture_on_commit_callbacks
):
    member_of(school_board_org, user__email="carla@carla-scholen.example")
    member_of(refurbisher_org, user__email="dirk@dirk-ict.example")
    donation = ProcessedDonationFactory(refurbisher=refurbisher_org)
    run = RunFactory()
    for n in (2, 3):
        request = ApprovedRequestFactory(organisation=school_board_org, laptops=n)
        for device in ready_devices(n, donation=donation):
            ProposalFactory(device=device, request=request, run=run)
    with django_capture_on_commit_callbacks(execute=True):
        services.allocations_approve_run_set(run.pk, by=coordinator)
    (to_school,) = Notification.objects.filter(kind="allocation_approved")
    assert "5 apparaten" in to_school.subject
    (to_refurbisher,) = Notification.objects.filter(kind="allocation_prepare")
    assert to_refurbisher.to_email == "dirk@dirk-ict.example"


@pytest.mark.django_db
def test_a_selection_is_approved_with_the_reasons_the_per_device_path_writes(coordinator):
    proposals = [ProposalFactory() for _ in range(3)]
    services.allocations_approve([proposals[0].pk], by=coordinator)
    services.allocations_approve_set([p.pk for p in proposals[1:]], by=coordinator)
    reasons = {a.pk: a.reasons for a in Allocation.objects.all()}
    assert reasons[proposals[1].pk] == reasons[proposals[0].pk] != ""
    assert reasons[proposals[2].pk] == reasons[proposals[0].pk]


# --- The statement-level check (PostgreSQL) -------------------------------------------------------


def test_an_empty_selection_approves_nothing_and_raises_nothing(coordinator):
    decision = services.allocations_approve_set([], by=coordinator)
    assert (decision.done, decision.refused) == ([], [])


@pytest.mark.postgres
@pytest.mark.django_db
def test_one_statement_that_overfills_a_request_is_refused_whole():
    full = ApprovedRequestFactory(laptops=1)
    roomy = ApprovedRequestFactory(laptops=3)
    run = RunFactory()
    ids = [
        ProposalFactory(device=device, request=request, run=run).pk
        for request, count in ((roomy, 2), (full, 2))
        for device in ready_devices(count)
    ]
    with (
        pytest.raises(IntegrityError, match="more than approved") as caught,
        transaction.atomic(),
    ):
        Allocation.objects.filter(pk__in=ids).update(status="approved", decided_at=timezone.now())
    assert caught.value.__cause__.diag.constraint_name == "allocation_request_within_approved"
    assert not Allocation.objects.committed().exists()
    Allocation.objects.filter(pk__in=ids[:3]).update(status="approved", decided_at=timezone.now())
    assert Allocation.objects.committed().count() == 3
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'distribution_allocation'::regclass"
            " AND tgname LIKE 'allocation_request_within_approved%%' AND tgtype & 1 = 0"
        )
        assert cursor.fetchone()[0] == 2  # both statement-level (no FOR EACH ROW bit)


@pytest.mark.postgres
@pytest.mark.django_db
def test_two_sets_approved_in_one_transaction_each_go_through(coordinator):
    # The set's temporary tables are dropped with each set, not only at the commit.
    first, second = ProposalFactory(), ProposalFactory()
    with transaction.atomic():
        services.allocations_approve_set([first.pk], by=coordinator)
        services.allocations_approve_set([second.pk], by=coordinator)
    assert Allocation.objects.committed().count() == 2
    assert AllocationEvent.objects.filter(to_status="approved").count() == 2


# --- A run approved while coordinators decide by hand (PostgreSQL, real connections) --------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_approved_while_others_reject_and_allocate_by_hand_breaks_no_rule():
    run, requests = _run_with([3] * 24)
    spare = ready_devices(12)
    approver = staff_user("coordinators", with_totp=False, email="a@example.org")
    rejecter = staff_user("coordinators", with_totp=False, email="b@example.org")
    by_hand = staff_user("coordinators", with_totp=False, email="c@example.org")
    proposals = list(Allocation.objects.filter(run=run).order_by("pk"))
    outcomes: dict[str, list] = {"approve": [], "reject": [], "hand": []}
    barrier = threading.Barrier(4)
    bounds = services.approval_parts(run.pk, by=approver, most=9)
    assert len(bounds) >= 4

    def chain(first):
        # The approve_run task's two chains: parts 0, 2, 4, … and 1, 3, 5, … at the same time.
        def approving():
            for part in range(first, len(bounds), 2):
                decision, _last = services.allocations_approve_run_part_set(
                    run.pk, by=approver, after_request=services.part_start(bounds, part), most=9
                )
                outcomes["approve"].append(decision)

        approving.__name__ = f"approving (chain {first})"
        return approving

    def rejecting():
        for proposal in proposals[::5]:
            decision = services.allocations_reject(
                [proposal.pk], by=rejecter, reason="Verkeerde regio"
            )
            outcomes["reject"].append(decision)

    def allocating():
        for index, request in enumerate(requests[::2]):
            # A device of another request's proposal, then a spare device, to a run's request.
            other = proposals[(index * 7 + 4) % len(proposals)]
            for device_id in (other.device_id, spare[index % len(spare)].pk):
                try:
                    services.allocations_allocate_by_hand(
                        device_ids=[device_id], request_id=request.pk, by=by_hand, reason="Spoed"
                    )
                    outcomes["hand"].append("done")
                except DomainError as exc:
                    assert str(exc)
                    outcomes["hand"].append("refused")

    errors = []

    def thread(work):
        try:
            barrier.wait()
            work()
        except Exception as exc:  # noqa: BLE001 - a deadlock or an IntegrityError is the failure
            errors.append(f"{work.__name__}: {type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=thread, args=(w,))
        for w in (chain(0), chain(1), rejecting, allocating)
    ]
    for each in threads:
        each.start()
    for each in threads:
        each.join(timeout=120)
    assert not any(each.is_alive() for each in threads)
    assert errors == []
    assert overfull_requests() == [] and devices_out_of_step() == []
    # Every proposal is decided one way or another, or refused with a reason.
    approved = {a.pk for decision in outcomes["approve"] for a in decision.done}
    refused = {pk: m for decision in outcomes["approve"] for pk, m in decision.refused}
    rejected = {a.pk for decision in outcomes["reject"] for a in decision.done}
    assert all(message for message in refused.values())
    assert approved and not approved & rejected
    for allocation in Allocation.objects.filter(run=run):
        assert (
            allocation.status == "approved"
            and allocation.pk in approved
            or allocation.status == "rejected"
            or allocation.pk in refused
        ), allocation
    assert len(outcomes["hand"]) == 2 * len(requests[::2])
    assert AllocationEvent.objects.filter(to_status="approved").count() == (
        Allocation.objects.committed().count()
    )
    run.refresh_from_db()
    assert run.approval["approved"] == len(approved) and run.approval["finished_at"]
    assert run.approval["done"] == list(range(len(bounds)))
    assert AllocationRun.objects.get(pk=run.pk).status == "completed"
