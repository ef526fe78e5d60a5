"""The matching job as the Django side runs it: what it feeds the solver, what it writes, and
that it writes all or nothing. The solver's optimality is proven in test_solver.py."""

import datetime
import threading

import numpy as np
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, connections
from django.db.models import IntegerField, Value
from django.utils import timezone

from allemaal.models import Organisation
from distribution import selectors, services
from distribution.models import (
    Allocation,
    AllocationEvent,
    AllocationRun,
    PriorityPolicy,
    UnservedRequest,
)
from distribution.services import locks, runs
from distribution.solver_classes import Policy
from distribution.tasks import run_allocation
from donations.models import Device, DeviceEvent

from .factories import (
    ApprovedRequestFactory,
    ProcessedDonationFactory,
    RefurbisherFactory,
    ready_devices,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def solver_inputs(monkeypatch):
    """Record what the job hands to the solver (the real solver still runs)."""
    seen = {}
    real = runs.solve

    def spy(devices, requests, policy, today, history=None, **kwargs):
        seen.update(devices=list(devices), requests=list(requests), policy=policy, today=today)
        seen["history"] = history
        return real(devices, requests, policy, today, history, **kwargs)

    monkeypatch.setattr(runs, "solve", spy)
    return seen


def _run(**kwargs):
    return services.allocation_run(trigger=AllocationRun.Trigger.MANUAL, **kwargs)


def _approved_allocation(device, request, **kwargs):
    device.state = Device.State.ALLOCATED
    device.save(update_fields=["state"])
    return Allocation.objects.create(
        device=device,
        request=request,
        status=Allocation.Status.APPROVED,
        score=100,
        note="test",
        decided_at=timezone.now(),
        **kwargs,
    )


def _pairs():
    return sorted(Allocation.objects.proposed().values_list("device_id", "request_id"))


# --- What the job feeds the solver ------------------------------------------------------------


def test_open_quantities_subtract_what_a_request_holds_per_type():
    # approved: 3 laptops, 2 tablets, 2 either
    assert selectors.open_quantities((3, 2, 2), 0, 0) == (3, 2, 2)
    assert selectors.open_quantities((3, 2, 2), 2, 1) == (1, 1, 2)
    # a fourth laptop takes a place of "either"
    assert selectors.open_quantities((3, 2, 2), 4, 0) == (0, 2, 1)
    assert selectors.open_quantities((3, 2, 2), 5, 2) == (0, 0, 0)
    assert selectors.open_quantities((0, 0, 3), 1, 1) == (0, 0, 1)


def test_it_feeds_open_quantities_minus_the_devices_a_request_already_holds(solver_inputs):
    devices = ready_devices(20)
    request = ApprovedRequestFactory(laptops=5, either=2)
    _approved_allocation(devices[0], request)
    _approved_allocation(devices[1], request)
    Allocation.objects.create(
        device=devices[2],
        request=request,
        status=Allocation.Status.CANCELLED,
        score=1,
        note="x",
        decision_note="x",
        decided_at=timezone.now(),
    )
    _run()
    (fed,) = solver_inputs["requests"]
    assert (fed.open_laptops, fed.open_tablets, fed.open_either) == (3, 0, 2)


def test_it_leaves_out_requests_that_are_full_not_approved_or_of_unverified_organisations(
    solver_inputs,
):
    devices = ready_devices(4)
    full = ApprovedRequestFactory(laptops=1)
    _approved_allocation(devices[0], full)
    ApprovedRequestFactory(laptops=3, status="submitted", approved_at=None, approved_laptops=0)
    ApprovedRequestFactory(laptops=3, organisation__status=Organisation.Status.PENDING)
    waiting = ApprovedRequestFactory(laptops=3)
    _run()
    assert [r.id for r in solver_inputs["requests"]] == [waiting.pk]


def test_it_feeds_only_ready_devices_not_already_allocated(solver_inputs):
    ready = ready_devices(3)
    allocated = ready_devices(1)[0]
    _approved_allocation(allocated, ApprovedRequestFactory(laptops=1))
    not_ready = ready_devices(1)[0]
    not_ready.state = Device.State.ERASED
    not_ready.save(update_fields=["state"])
    ungraded = ready_devices(1, grade="")[0]
    ApprovedRequestFactory(laptops=10)
    run = _run()
    assert sorted(d.id for d in solver_inputs["devices"]) == sorted(d.pk for d in ready)
    assert run.devices_available == 3
    assert run.stats["skipped_devices"] == 1  # the ready one without a grade
    assert ungraded.pk not in {d.id for d in solver_inputs["devices"]}


def test_a_ready_device_in_an_approved_allocation_is_never_proposed_again(solver_inputs):
    stuck, free = ready_devices(2)
    # An inconsistency (approval always moves the device on), which the job must not repeat.
    Allocation.objects.create(
        device=stuck,
        request=ApprovedRequestFactory(laptops=1),
        status=Allocation.Status.APPROVED,
        score=1,
        note="x",
        decided_at=timezone.now(),
    )
    ApprovedRequestFactory(laptops=5)
    _run()
    assert [d.id for d in solver_inputs["devices"]] == [free.pk]


def test_a_device_is_in_the_province_of_the_refurbisher_that_holds_it(solver_inputs):
    donation = ProcessedDonationFactory(
        refurbisher=RefurbisherFactory(province="Limburg"), pickup_province="Groningen"
    )
    (device,) = ready_devices(1, donation=donation)
    ApprovedRequestFactory(laptops=1)
    _run()
    (fed,) = solver_inputs["devices"]
    assert (fed.id, fed.province, fed.refurbisher_id) == (
        device.pk,
        "Limburg",
        donation.refurbisher_id,
    )


def test_a_request_is_in_its_delivery_province_or_else_its_organisations(solver_inputs):
    ready_devices(8)
    delivered = ApprovedRequestFactory(laptops=1, delivery_province="Zeeland")
    fallback = ApprovedRequestFactory(
        laptops=1, delivery_province="", organisation__province="Drenthe"
    )
    _run()
    provinces = {r.id: r.province for r in solver_inputs["requests"]}
    assert provinces == {delivered.pk: "Zeeland", fallback.pk: "Drenthe"}


def test_it_feeds_the_request_fields_the_score_depends_on(solver_inputs):
    ready_devices(4)
    approved_at = timezone.now() - datetime.timedelta(days=12)
    request = ApprovedRequestFactory(
        laptops=2,
        target_group="secondary_pupils",
        no_home_schooling=True,
        urgency="high",
        need_by=timezone.localdate() + datetime.timedelta(days=5),
        approved_at=approved_at,
    )
    _run()
    (fed,) = solver_inputs["requests"]
    assert fed.organisation_id == request.organisation_id
    assert (fed.target_group, fed.no_home_schooling, fed.urgency) == (
        "secondary_pupils",
        True,
        "high",
    )
    assert fed.need_by == request.need_by
    assert fed.approved_on == timezone.localdate(approved_at)
    assert solver_inputs["today"] == timezone.localdate()


def test_a_run_records_the_policy_version_it_used(coordinator, solver_inputs):
    ready_devices(4)
    ApprovedRequestFactory(laptops=1)
    first = _run(by=coordinator)
    assert (first.policy.version, first.policy_version) == (1, 1)
    changed = Policy(aging_max=200)
    services.policy_save_version(changed, by=coordinator, note="Langer wachten telt zwaarder")
    second = _run(by=coordinator)
    assert second.policy_version == 2
    assert second.policy.weights == changed.to_dict()
    assert solver_inputs["policy"] == changed
    assert second.started_by == coordinator


# --- What the job writes ------------------------------------------------------------------------


def test_a_run_writes_proposals_with_their_scores_and_counts():
    ready_devices(12)
    request = ApprovedRequestFactory(laptops=3)
    run = _run()
    proposals = list(Allocation.objects.proposed())
    assert len(proposals) == 3
    assert {p.run_id for p in proposals} == {run.pk}
    assert {p.request_id for p in proposals} == {request.pk}
    assert all(p.score > 0 and p.reasons == "" for p in proposals)
    assert (run.status, run.proposals, run.requests_served, run.requests_open) == (
        "completed",
        3,
        1,
        1,
    )
    assert (run.devices_available, run.units_open) == (12, 3)
    assert run.total_score == sum(p.score for p in proposals)
    assert {"seconds_load", "seconds_solve", "seconds_write"} <= set(run.stats)
    # device rows change only at approval
    assert not Device.objects.exclude(state="ready").exists()
    assert not DeviceEvent.objects.filter(to_state="allocated").exists()


def test_a_proposal_is_explained_in_plain_dutch_and_english():
    donation = ProcessedDonationFactory(refurbisher=RefurbisherFactory(province="Gelderland"))
    ready_devices(4, donation=donation, grade="B", ram_gb=8, storage_gb=128)
    ApprovedRequestFactory(
        laptops=1,
        target_group="secondary_pupils",
        no_home_schooling=True,
        urgency="high",
        need_by=None,
        approved_at=timezone.now() - datetime.timedelta(days=12),
        delivery_province="Gelderland",
    )
    _run()
    proposal = Allocation.objects.select_related(
        "device__donation__refurbisher", "request__organisation", "run__policy"
    ).get()
    assert selectors.allocation_explanation(proposal, lang="nl") == (
        "Leerlingen voortgezet onderwijs zonder toegang tot thuisonderwijs; wacht 12 dagen; "
        "urgent; apparaat in dezelfde provincie (Gelderland); laptop klasse B, 8 GB RAM, "
        "128 GB opslag, voldoet aan de minimumeisen"
    )
    assert selectors.allocation_explanation(proposal, lang="en").startswith(
        "Secondary pupils without home-schooling access; waiting 12 days; urgent; device in the "
        "same province (Gelderland)"
    )


def test_the_explanation_of_a_proposal_is_the_one_the_solver_gave(coordinator):
    ready_devices(10)
    ready_devices(6, kind="tablet")
    ApprovedRequestFactory(laptops=2, tablets=1, urgency="low", target_group="primary_pupils")
    ApprovedRequestFactory(either=3, target_group="isolated_elderly", delivery_province="Utrecht")
    dry = services.allocation_dry_run()
    expected = {(a.device_id, a.request_id): a.reasons for a in dry.solution.assignments}
    _run()
    proposals = Allocation.objects.select_related(
        "device__donation__refurbisher", "request__organisation", "run__policy"
    )
    assert {(p.device_id, p.request_id): selectors.allocation_reasons(p) for p in proposals} == (
        expected
    )


def test_the_same_input_gives_the_same_proposals():
    ready_devices(15)
    ready_devices(10, kind="tablet", grade="A")
    for group in ("primary_pupils", "isolated_elderly", "newcomers"):
        ApprovedRequestFactory(laptops=4, either=2, target_group=group)
        ApprovedRequestFactory(tablets=3, target_group=group)
    _run()
    first = _pairs()
    _run()
    assert _pairs() == first
    assert len(first) > 0


def test_a_new_run_replaces_the_open_proposals_and_keeps_the_decided_ones(coordinator):
    ready_devices(20)
    request = ApprovedRequestFactory(laptops=4)
    first = _run()
    approved = Allocation.objects.proposed().order_by("pk").first()
    services.allocations_approve([approved.pk], by=coordinator)
    rejected = Allocation.objects.proposed().order_by("pk").first()
    services.allocations_reject([rejected.pk], by=coordinator, reason="Past niet")
    second = _run()
    first.refresh_from_db()
    assert first.status == AllocationRun.Status.SUPERSEDED
    assert second.status == AllocationRun.Status.COMPLETED
    assert not Allocation.objects.proposed().filter(run=first).exists()
    assert Allocation.objects.proposed().filter(run=second).count() == 3  # 4 approved - 1 held
    assert Allocation.objects.get(pk=approved.pk).status == "approved"
    assert Allocation.objects.get(pk=rejected.pk).status == "rejected"
    assert second.stats["replaced_proposals"] == 2
    assert request.pk in set(Allocation.objects.proposed().values_list("request_id", flat=True))


def test_a_run_that_fails_half_way_leaves_no_partial_proposals(monkeypatch):
    ready_devices(20)
    ApprovedRequestFactory(laptops=4)
    good = _run()
    before = _pairs()
    ApprovedRequestFactory(laptops=3, target_group="isolated_elderly")
    real_write = runs.proposals_write

    def write_half_then_fail(run_id, assignments, **kwargs):
        real_write(run_id, assignments[: len(assignments) // 2], **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs, "proposals_write", write_half_then_fail)
    with pytest.raises(services.AllocationRunFailed) as failed:
        _run()
    assert "disk full" in str(failed.value)
    assert _pairs() == before  # the previous proposals are all still there, nothing new
    assert set(Allocation.objects.values_list("run_id", flat=True)) == {good.pk}
    bad = failed.value.run
    assert (bad.status, bad.policy_version) == (AllocationRun.Status.FAILED, 1)
    assert "RuntimeError: disk full" in bad.error
    good.refresh_from_db()
    assert good.status == AllocationRun.Status.COMPLETED


def test_a_run_whose_solver_fails_is_recorded_as_failed_and_writes_nothing(monkeypatch):
    ready_devices(4)
    ApprovedRequestFactory(laptops=1)

    def broken(*args, **kwargs):
        raise ValueError("unknown device grade 'Z'")

    monkeypatch.setattr(runs, "solve", broken)
    with pytest.raises(services.AllocationRunFailed):
        _run()
    assert not Allocation.objects.exists()
    assert list(AllocationRun.objects.values_list("status", flat=True)) == ["failed"]


def test_a_second_run_is_refused_while_another_holds_the_lock():
    ready_devices(4)
    ApprovedRequestFactory(laptops=1)
    if connection.vendor == "postgresql":
        pytest.skip("covered by test_on_postgres_a_second_run_is_refused_while_one_runs")
    cache.add(locks.CACHE_RUN_LOCK, "another run", timeout=60)
    with pytest.raises(services.AllocationRunBusy, match="Er loopt al een toewijzingsronde"):
        _run()
    assert not AllocationRun.objects.exists()
    cache.delete(locks.CACHE_RUN_LOCK)
    assert _run().status == AllocationRun.Status.COMPLETED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgres_a_second_run_is_refused_while_one_runs():
    ready_devices(4)
    ApprovedRequestFactory(laptops=1)
    holding, release = threading.Event(), threading.Event()

    def other_run():
        try:
            with locks.run_transaction():
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_run)
    thread.start()
    try:
        assert holding.wait(10)
        with pytest.raises(services.AllocationRunBusy):
            _run()
    finally:
        release.set()
        thread.join(10)
    assert _run().status == AllocationRun.Status.COMPLETED


def test_a_dry_run_writes_nothing():
    ready_devices(12)
    ApprovedRequestFactory(laptops=3)
    tables = [PriorityPolicy, AllocationRun, Allocation, AllocationEvent, DeviceEvent]
    before = [model.objects.count() for model in tables]
    result = services.allocation_dry_run()
    assert result.solution.units == 3
    assert [model.objects.count() for model in tables] == before


# --- Command, task, debounce ---------------------------------------------------------------------


def test_the_allocate_command_runs_and_reports(capsys):
    ready_devices(8)
    ApprovedRequestFactory(laptops=2)
    call_command("allocate")
    out = capsys.readouterr().out
    assert "2 proposals for 1 of 1 waiting requests" in out
    assert AllocationRun.objects.get().trigger == AllocationRun.Trigger.COMMAND


def test_the_allocate_command_dry_run_writes_nothing(capsys):
    ready_devices(8)
    ApprovedRequestFactory(laptops=2, target_group="newcomers")
    call_command("allocate", "--dry-run")
    out = capsys.readouterr().out
    assert "Dry run (nothing written): 2 proposals" in out
    assert "newcomers: 2" in out
    assert not AllocationRun.objects.exists()
    assert not Allocation.objects.exists()


def test_the_task_runs_once_per_call_and_returns_the_run():
    ready_devices(8)
    ApprovedRequestFactory(laptops=2)
    run_id = run_allocation.delay(trigger="automatic").get()
    assert AllocationRun.objects.get(pk=run_id).trigger == "automatic"
    assert run_allocation.delay(trigger="automatic").get() != run_id  # idempotent: a fresh run
    assert Allocation.objects.proposed().count() == 2


def test_the_task_skips_when_another_run_is_busy():
    if connection.vendor == "postgresql":
        pytest.skip("the cache lock is the SQLite path")
    cache.add(locks.CACHE_RUN_LOCK, "another run", timeout=60)
    assert run_allocation.delay().get() is None
    assert not AllocationRun.objects.exists()


def test_runs_requested_when_devices_become_ready_are_debounced(settings):
    settings.ALLOCATION_DEBOUNCE_MINUTES = 15
    ready_devices(8)
    ApprovedRequestFactory(laptops=2)
    assert services.allocation_request_run_soon() is True  # eager Celery: runs at once
    assert services.allocation_request_run_soon() is False
    assert services.allocation_request_run_soon() is False
    assert AllocationRun.objects.filter(trigger="automatic").count() == 1
    cache.delete(runs.DEBOUNCE_CACHE_KEY)  # the 15 minutes have passed
    assert services.allocation_request_run_soon() is True
    assert AllocationRun.objects.filter(trigger="automatic").count() == 2


def test_the_debounce_schedules_the_task_the_setting_ahead(settings, monkeypatch):
    settings.ALLOCATION_DEBOUNCE_MINUTES = 7
    calls = []
    monkeypatch.setattr(
        run_allocation,
        "apply_async",
        lambda args, kwargs, connection, **options: calls.append((kwargs, options)),
        raising=False,
    )
    services.allocation_request_run_soon()
    services.allocation_request_run_soon()
    assert calls == [({"trigger": "automatic"}, {"countdown": 420})]


# --- Issue #15: decisions stick, proposals stay, every unserved request has a reason ------------


def test_a_rejected_pair_is_never_proposed_again_until_the_rejection_is_lifted(coordinator):
    device = ready_devices(1, kind="laptop")[0]
    request = ApprovedRequestFactory(laptops=1)
    _run()
    proposal = Allocation.objects.proposed().get()
    services.allocations_reject([proposal.pk], by=coordinator, reason="Scherm kapot")
    for _ in range(2):
        _run()
        assert _pairs() == []
    reason = selectors.request_wait_explanation(request)
    assert "plaats 1 van de wachtrij voor laptops" in reason
    services.allocation_rejections_lift([proposal.pk], by=coordinator)
    _run()
    assert _pairs() == [(device.pk, request.pk)]


def test_a_rejection_for_the_organisation_covers_its_other_requests(coordinator):
    device = ready_devices(1, kind="laptop")[0]
    first = ApprovedRequestFactory(laptops=1)
    second = ApprovedRequestFactory(laptops=1, organisation=first.organisation)
    other = ApprovedRequestFactory(laptops=1)
    _run()
    proposal = Allocation.objects.proposed().get()
    assert proposal.request_id in (first.pk, second.pk)
    services.allocations_reject(
        [proposal.pk], by=coordinator, reason="Niet voor dit bestuur", scope="organisation"
    )
    _run()
    assert _pairs() == [(device.pk, other.pk)]


def test_a_rejection_for_the_request_holds_the_request_back(coordinator):
    ready_devices(2, kind="laptop")
    request = ApprovedRequestFactory(laptops=2)
    _run()
    proposal = Allocation.objects.proposed().first()
    services.allocations_reject(
        [proposal.pk], by=coordinator, reason="Eerst navragen", scope="request"
    )
    run = _run()
    assert _pairs() == []
    assert run.unserved.get().code == "paused"
    assert "nog bekeken" in selectors.request_wait_explanation(request)


def test_a_second_run_keeps_the_open_proposals_it_cannot_improve():
    ready_devices(6, kind="laptop")
    for _ in range(3):
        ApprovedRequestFactory(laptops=2, target_group="isolated_elderly")
    _run()
    before = _pairs()
    _run()
    assert _pairs() == before


def test_every_request_the_run_leaves_without_a_device_gets_a_reason():
    ready_devices(1, kind="laptop")
    child = ApprovedRequestFactory(laptops=1, target_group="primary_pupils", no_home_schooling=True)
    elderly = ApprovedRequestFactory(laptops=1, target_group="isolated_elderly")
    tablets = ApprovedRequestFactory(laptops=0, tablets=1, target_group="newcomers")
    run = _run()
    assert _pairs()[0][1] == child.pk
    reasons = {u.request_id: u for u in run.unserved.all()}
    assert set(reasons) == {elderly.pk, tablets.pk}
    assert reasons[tablets.pk].code == "no_device_of_type"
    text = selectors.unserved_text(reasons[elderly.pk].code, reasons[elderly.pk].params)
    assert "1 aanvraag uit een hogere prioriteitsgroep" in text
    assert selectors.request_wait_explanation(child) is None
    assert "geen geschikte tablets vrij" in selectors.request_wait_explanation(tablets)


@pytest.mark.postgres
def test_on_postgres_the_queue_read_as_copy_text_is_the_queue_rows():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL")
    from distribution.selectors import inputs

    ApprovedRequestFactory(laptops=2, need_by=timezone.localdate() + datetime.timedelta(days=9))
    ApprovedRequestFactory(tablets=1, target_group="isolated_elderly", need_by=None)
    odd = ApprovedRequestFactory(either=3, no_home_schooling=True, delivery_province="Fryslân")
    odd.organisation.province = "Noord-\\Holland\tx"  # escapes survive the text format
    odd.organisation.save(update_fields=["province"])
    rows = inputs.queue_rows()
    assert len(rows) == 3
    assert inputs.queue_rows_parse(inputs.queue_rows_copy()) == rows
    # A server or session with another DateStyle writes dates otherwise; the copy sets its own.
    with connection.cursor() as cursor:
        cursor.execute("SET DateStyle = 'SQL, DMY'")
        try:
            assert inputs.queue_rows_parse(inputs.queue_rows_copy()) == rows
        finally:
            cursor.execute("SET DateStyle = 'ISO, MDY'")


@pytest.mark.postgres
def test_on_postgres_the_packed_device_read_is_the_plain_one():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL")
    from distribution.selectors import inputs

    queryset, columns = inputs.device_columns_queryset(), inputs.DEVICE_COLUMNS
    empty = inputs.read_columns_packed(queryset, columns)
    assert all(len(empty[name]) == 0 for name, _kind in columns)
    ready_devices(3, kind="laptop")
    ready_devices(2, kind="tablet")
    plain = inputs.read_columns(queryset, columns)
    packed = inputs.read_columns_packed(queryset, columns, meanwhile=lambda: "done")
    assert packed.pop("meanwhile") == "done"
    by_id, plain_by_id = np.argsort(packed["id"]), np.argsort(plain["id"])
    for name, kind in columns:
        assert packed[name].dtype == np.dtype(kind)
        assert packed[name][by_id].tolist() == plain[name][plain_by_id].tolist()
    # A NULL would drop its row from the packed aggregate: refused, as the plain read does.
    with_null = queryset.annotate(c_ram_gb_null=Value(None, IntegerField()))
    names = [f"c_{name}" for name, _kind in columns[:-1]] + ["c_ram_gb_null"]
    with pytest.raises(ValueError, match="NULL"):
        inputs.read_columns_packed(with_null.values_list(*names), columns)


@pytest.mark.postgres
def test_on_postgres_the_why_not_rows_carry_no_trigger_and_go_with_their_run():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL")
    ready_devices(1, kind="laptop")
    ApprovedRequestFactory(laptops=1, target_group="primary_pupils")
    ApprovedRequestFactory(laptops=1, target_group="isolated_elderly")
    run = _run()
    assert run.unserved.count() == 1
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger"
            " WHERE tgrelid = 'distribution_unservedrequest'::regclass"
        )
        assert cursor.fetchone()[0] == 0  # no foreign-key check per row a run writes
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'distribution_unservedrequest'"
        )
        indexes = [row[0] for row in cursor.fetchall()]
    assert not [i for i in indexes if i.endswith('("run_id")')]  # (run, request) serves it
    Allocation.objects.filter(run=run).delete()
    run.delete()
    assert not UnservedRequest.objects.exists()
