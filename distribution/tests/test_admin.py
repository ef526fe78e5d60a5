"""The coordinators' allocation pages in the admin."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from allemaal.models import Notification
from allemaal.tests.test_admin_speed import _unbounded_counts_or_distinct
from distribution import services
from distribution.models import Allocation, AllocationEvent, AllocationRun, PriorityPolicy
from distribution.solver_classes import Policy
from donations.models import Device, DeviceEvent
from refurbish.asset_tags import generate_asset_tag
from tests.factories import member_of

from .factories import ApprovedRequestFactory, ProposalFactory, RunFactory, ready_devices

pytestmark = pytest.mark.django_db

ALLOCATIONS = reverse("admin:distribution_allocation_changelist")
RUNS = reverse("admin:distribution_allocationrun_changelist")
POLICIES = reverse("admin:distribution_prioritypolicy_changelist")
RUN_NOW = reverse("admin:distribution_run_now")
WHAT_IF = reverse("admin:distribution_what_if")
BY_HAND = reverse("admin:distribution_allocate_by_hand")
NEW_POLICY = reverse("admin:distribution_prioritypolicy_add")


@pytest.fixture
def admin_client(client, coordinator):
    client.force_login(coordinator)
    client.get(reverse("admin:index"))  # the MFA check is remembered in the session
    return client


def _row_counts():
    models = [PriorityPolicy, AllocationRun, Allocation, AllocationEvent, DeviceEvent]
    return [model.objects.count() for model in models] + [
        Device.objects.filter(state="ready").count(),
        Notification.objects.count(),
    ]


def _policy_post(policy: Policy, **changes) -> dict:
    from distribution.forms import policy_initial

    data = {}
    for key, value in {**policy_initial(policy), **changes}.items():
        if value is None:
            continue
        data[key] = value
    return data


# --- Access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [ALLOCATIONS, RUNS, POLICIES, WHAT_IF, BY_HAND, NEW_POLICY])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "login" in response.url


@pytest.mark.parametrize("url", [ALLOCATIONS, RUNS, WHAT_IF, BY_HAND])
def test_organisation_members_do_not_reach_the_allocation_admin(client, school_board, url):
    client.force_login(school_board)
    response = client.get(url)
    assert response.status_code == 302 and "login" in response.url


def test_the_helpdesk_may_look_but_not_decide(client, helpdesk):
    proposal = ProposalFactory()
    client.force_login(helpdesk)
    client.get(reverse("admin:index"))
    assert client.get(ALLOCATIONS).status_code == 200
    assert client.post(RUN_NOW).status_code == 403
    assert client.get(BY_HAND).status_code == 403
    response = client.post(
        ALLOCATIONS, {"action": "approve", "_selected_action": [proposal.pk]}, follow=True
    )
    assert Allocation.objects.get(pk=proposal.pk).status == "proposed"
    assert response.status_code == 200


# --- Lists with a constant number of queries ------------------------------------------------------


@pytest.mark.parametrize("rows", [2, 20])
def test_the_allocation_list_costs_the_same_queries_for_2_or_20_rows(
    admin_client, coordinator, django_assert_num_queries, rows
):
    run = RunFactory()
    for _ in range(rows - 1):
        ProposalFactory(run=run)
    services.allocation_allocate_by_hand(
        device_id=ready_devices(1)[0].pk,
        request_id=ApprovedRequestFactory().pk,
        by=coordinator,
        reason="Spoed",
    )
    # queries: session, user, the user's and the group's permissions, and one page of
    # allocations with its total, device, donation, refurbisher, request, organisation, run and
    # policy joined and what each request holds (the explanations need nothing more)
    with django_assert_num_queries(5):
        response = admin_client.get(ALLOCATIONS)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="field-explanation"') == rows
    assert "1 van 10 toegewezen, nog 9 open" in page


@pytest.mark.parametrize("rows", [2, 20])
def test_the_run_list_costs_the_same_queries_for_2_or_20_rows(
    admin_client, django_assert_num_queries, rows
):
    RunFactory.create_batch(rows)
    # queries: session, user, the user's and the group's permissions, the page of runs with its
    # total
    with django_assert_num_queries(5):
        assert admin_client.get(RUNS).status_code == 200


@pytest.mark.parametrize("rows", [2, 20])
def test_the_policy_list_costs_the_same_queries_for_2_or_20_rows(
    admin_client, django_assert_num_queries, rows
):
    RunFactory.create_batch(rows)  # each with its own old policy version
    # queries: session, user, the user's and the group's permissions, the versions with who
    # made them, their run counts and the total
    with django_assert_num_queries(5):
        assert admin_client.get(POLICIES).status_code == 200


# --- Running -------------------------------------------------------------------------------------


def test_a_coordinator_starts_a_run_and_sees_its_proposals_explained(admin_client, coordinator):
    ready_devices(8)
    request = ApprovedRequestFactory(laptops=2, target_group="newcomers", urgency="high")
    response = admin_client.post(RUN_NOW, follow=True)
    run = AllocationRun.objects.get()
    assert (run.trigger, run.started_by, run.proposals) == ("manual", coordinator, 2)
    page = response.content.decode()
    assert "2 voorstellen voor 1 van de 1 wachtende hulpaanvragen" in page
    assert request.reference in page
    assert "Nieuwkomers; wacht 10 dagen; urgent; nodig binnen 21 dagen" in page


def test_a_run_that_is_busy_is_reported_not_started(admin_client):
    from django.core.cache import cache
    from django.db import connection

    from distribution.services import locks

    if connection.vendor == "postgresql":
        pytest.skip("the cache lock is the SQLite path")
    cache.add(locks.CACHE_RUN_LOCK, "x", 60)
    response = admin_client.post(RUN_NOW, follow=True)
    assert "Er loopt al een toewijzingsronde" in response.content.decode()
    assert not AllocationRun.objects.exists()


def test_run_now_only_answers_post(admin_client):
    assert admin_client.get(RUN_NOW).status_code == 405


# --- Deciding -------------------------------------------------------------------------------------


def test_approving_selected_proposals_from_the_list(admin_client):
    first, second = ProposalFactory(), ProposalFactory()
    response = admin_client.post(
        ALLOCATIONS, {"action": "approve", "_selected_action": [first.pk]}, follow=True
    )
    assert "1 toewijzingen goedgekeurd." in response.content.decode()
    assert Allocation.objects.get(pk=first.pk).status == "approved"
    assert Allocation.objects.get(pk=second.pk).status == "proposed"


def test_approving_all_proposals_of_a_request_from_one_row(admin_client):
    run = RunFactory()
    request = ApprovedRequestFactory(laptops=3)
    rows = [ProposalFactory(run=run, request=request) for _ in range(3)]
    other = ProposalFactory(run=run)
    admin_client.post(ALLOCATIONS, {"action": "approve_requests", "_selected_action": [rows[0].pk]})
    assert set(Allocation.objects.filter(request=request).values_list("status", flat=True)) == {
        "approved"
    }
    assert Allocation.objects.get(pk=other.pk).status == "proposed"


def test_approving_a_whole_run(admin_client):
    ready_devices(10)
    ApprovedRequestFactory(laptops=2)
    ApprovedRequestFactory(laptops=1, target_group="disability")
    run = services.allocation_run(trigger="manual")
    response = admin_client.post(
        RUNS, {"action": "approve_all", "_selected_action": [run.pk]}, follow=True
    )
    assert "3 toewijzingen goedgekeurd." in response.content.decode()
    assert not Allocation.objects.proposed().exists()


def test_a_stale_proposal_is_refused_with_its_reason_in_the_list(admin_client):
    proposal = ProposalFactory()
    Device.objects.filter(pk=proposal.device_id).update(state="recycled")
    response = admin_client.post(
        ALLOCATIONS, {"action": "approve", "_selected_action": [proposal.pk]}, follow=True
    )
    page = response.content.decode()
    assert "0 toewijzingen goedgekeurd." in page
    assert "is niet meer beschikbaar (status: Gerecycled)" in page


def test_rejecting_asks_for_a_reason_first(admin_client):
    proposals = [ProposalFactory(), ProposalFactory()]
    ids = [p.pk for p in proposals]
    response = admin_client.post(ALLOCATIONS, {"action": "reject", "_selected_action": ids})
    assert response.status_code == 200
    assert "Reden" in response.content.decode()
    response = admin_client.post(
        ALLOCATIONS, {"action": "reject", "_selected_action": ids, "apply": "1", "reason": ""}
    )
    assert "Dit veld is verplicht" in response.content.decode()
    assert not Allocation.objects.filter(status="rejected").exists()
    admin_client.post(
        ALLOCATIONS,
        {"action": "reject", "_selected_action": ids, "apply": "1", "reason": "Verkeerde regio"},
    )
    assert list(
        Allocation.objects.order_by().values_list("status", "decision_note").distinct()
    ) == [("rejected", "Verkeerde regio")]


def test_cancelling_an_approved_allocation_returns_the_device(admin_client, coordinator):
    proposal = ProposalFactory()
    services.allocations_approve([proposal.pk], by=coordinator)
    admin_client.post(
        ALLOCATIONS,
        {"action": "cancel", "_selected_action": [proposal.pk], "apply": "1", "reason": "Dubbel"},
    )
    assert Allocation.objects.get(pk=proposal.pk).status == "cancelled"
    assert Device.objects.get(pk=proposal.device_id).state == "ready"


def test_allocating_by_hand_with_a_reason(admin_client):
    (device,) = ready_devices(1)
    request = ApprovedRequestFactory(laptops=1)
    response = admin_client.post(
        BY_HAND,
        {"device": device.asset_tag.lower(), "help_request": request.reference, "reason": "Spoed"},
        follow=True,
    )
    allocation = Allocation.objects.get()
    assert (allocation.device, allocation.request, allocation.note) == (device, request, "Spoed")
    assert "is toegewezen aan hulpaanvraag" in response.content.decode()


def test_allocating_by_hand_takes_the_code_as_printed_on_the_label(admin_client):
    from refurbish.asset_tags import format_asset_tag

    request = ApprovedRequestFactory(laptops=2)
    for device, spell in zip(ready_devices(2), (str.upper, str.lower), strict=True):
        printed = format_asset_tag(device.asset_tag)  # with its dash, as on the label
        assert "-" in printed
        admin_client.post(
            BY_HAND,
            {"device": spell(printed), "help_request": request.reference, "reason": "Spoed"},
        )
        assert Allocation.objects.get(device=device).request == request


def test_allocating_five_devices_by_hand_sends_one_mail_per_recipient(admin_client):
    from allemaal.models import Notification
    from refurbish.asset_tags import format_asset_tag
    from tests.factories import member_of

    request = ApprovedRequestFactory(laptops=5)
    devices = ready_devices(5)
    member_of(request.organisation)
    member_of(devices[0].donation.refurbisher)
    codes = "\n".join(format_asset_tag(d.asset_tag) for d in devices)
    response = admin_client.post(
        BY_HAND, {"device": codes, "help_request": request.reference, "reason": "Spoed"}
    )
    assert response.status_code == 302
    assert Allocation.objects.filter(request=request, status="approved").count() == 5
    # One mail to the organisation's member and one to the refurbisher's, not one per device.
    kinds = sorted(Notification.objects.values_list("kind", flat=True))
    assert kinds == ["allocation_approved", "allocation_prepare"]
    assert "5" in Notification.objects.get(kind="allocation_approved").body_text


def test_allocating_by_hand_is_all_or_nothing(admin_client):
    request = ApprovedRequestFactory(laptops=2)
    ok, not_ready = ready_devices(2)
    Device.objects.filter(pk=not_ready.pk).update(state="erased")
    response = admin_client.post(
        BY_HAND,
        {
            "device": f"{ok.asset_tag}, {not_ready.asset_tag}",
            "help_request": request.reference,
            "reason": "Spoed",
        },
    )
    assert response.status_code == 200 and response.context["form"].errors
    assert not Allocation.objects.exists()


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"device": "ONBEKEND", "help_request": "1"}, "device", "Er is geen apparaat"),
        (
            {"device": "{tag}", "help_request": "AAN-2026-99999"},
            "help_request",
            "geen hulpaanvraag",
        ),
        ({"device": "{tag}", "help_request": "{ref}", "reason": ""}, "reason", "verplicht"),
    ],
)
def test_allocating_by_hand_shows_errors_beside_the_field(admin_client, data, field, message):
    (device,) = ready_devices(1)
    request = ApprovedRequestFactory(laptops=1)
    data = {"reason": "Spoed", **data}
    data = {k: v.format(tag=device.asset_tag, ref=request.reference) for k, v in data.items()}
    response = admin_client.post(BY_HAND, data)
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert not Allocation.objects.exists()


def test_allocating_by_hand_a_device_that_is_not_ready_says_why(admin_client):
    (device,) = ready_devices(1)
    Device.objects.filter(pk=device.pk).update(state="erased")
    request = ApprovedRequestFactory(laptops=1)
    response = admin_client.post(
        BY_HAND, {"device": device.asset_tag, "help_request": str(request.pk), "reason": "Spoed"}
    )
    assert "niet meer beschikbaar" in response.content.decode()
    assert not Allocation.objects.exists()


def test_searching_by_help_request_number(admin_client):
    proposal, other = ProposalFactory(), ProposalFactory()
    response = admin_client.get(ALLOCATIONS, {"q": proposal.request.reference})
    rows = list(response.context["cl"].result_list)
    assert rows == [proposal] and other not in rows


def test_every_allocation_status_is_live_or_closed():
    # The search by device relies on it: each group of statuses has its own index on device.
    live, closed = set(Allocation.LIVE_STATUSES), set(Allocation.CLOSED_STATUSES)
    assert live | closed == set(Allocation.Status.values) and not live & closed


def test_searching_by_asset_tag_or_serial_number_as_typed(admin_client, coordinator):
    tag = generate_asset_tag()
    rejected = ProposalFactory(device__asset_tag=tag, device__serial_number="SN-ABC123")
    services.allocations_reject([rejected.pk], by=coordinator, reason="Te ver")
    proposal = ProposalFactory(device=rejected.device)
    other = ProposalFactory()
    printed = f"{tag[:5].lower()}-{tag[5:].lower()}"  # as on the label, typed in lower case
    for term in (printed, " sn-abc123 "):
        rows = set(admin_client.get(ALLOCATIONS, {"q": term}).context["cl"].result_list)
        assert rows == {proposal, rejected}, term
    assert other not in rows
    assert not admin_client.get(ALLOCATIONS, {"q": "SN-ABC12"}).context["cl"].result_list


@pytest.mark.postgres
def test_the_allocation_list_never_counts_the_whole_table_or_selects_distinct(admin_client):
    proposal = ProposalFactory()
    for params in (
        {},
        {"status": "approved"},
        {"run": "latest"},
        {"device__kind__exact": "tablet", "request__delivery_province__exact": "Utrecht"},
        {"q": proposal.device.asset_tag},
    ):
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(ALLOCATIONS, params).status_code == 200
        assert _unbounded_counts_or_distinct(captured.captured_queries) == [], params


def test_the_allocation_list_offers_its_export_with_the_filters(admin_client):
    ProposalFactory()
    page = admin_client.get(ALLOCATIONS, {"status": "proposed"}).content.decode()
    assert "/coordinatie/export/distribution/allocation.csv?status=proposed" in page
    assert "/coordinatie/export/distribution/allocation.xlsx?status=proposed" in page


# --- Policy and what-if ---------------------------------------------------------------------------


def test_the_policy_form_has_one_field_per_weight_and_saving_makes_a_new_version(
    admin_client, coordinator
):
    response = admin_client.get(NEW_POLICY)
    form = response.context["form"]
    assert {"weight_pupils_no_home_schooling", "urgency_high", "region_neighbour"} <= set(
        form.fields
    )
    assert form.initial["weight_pupils_no_home_schooling"] == 100
    data = _policy_post(Policy(), weight_isolated_elderly=90, min_other_laptop_ram_gb=8)
    data["note"] = "Ouderen zwaarder"
    response = admin_client.post(NEW_POLICY, data, follow=True)
    assert "Versie 2 van het beleid is nu in gebruik." in response.content.decode()
    active = PriorityPolicy.objects.get(is_active=True)
    assert (active.version, active.note, active.created_by) == (2, "Ouderen zwaarder", coordinator)
    policy = active.policy
    assert policy.group_weights["isolated_elderly"] == 90
    assert policy.minimum("other", "laptop") == {"ram_gb": 8}
    assert PriorityPolicy.objects.get(version=1).is_active is False


def test_bad_policy_input_is_explained_beside_the_field_and_saves_nothing(admin_client):
    services.policy_current()
    data = _policy_post(Policy(), org_cap_percent="0", aging_max="-5")
    data["note"] = "test"
    response = admin_client.post(NEW_POLICY, data)
    errors = response.context["form"].errors
    assert "minstens 0.1" in str(errors["org_cap_percent"])
    assert "minstens 0" in str(errors["aging_max"])
    assert PriorityPolicy.objects.count() == 1


def test_an_older_version_can_be_taken_back_into_use(admin_client):
    first = services.policy_current()
    services.policy_save_version(Policy(aging_max=10), by=None)
    admin_client.post(POLICIES, {"action": "activate", "_selected_action": [first.pk]})
    active = PriorityPolicy.objects.get(is_active=True)
    assert active.version == 3 and active.weights == first.weights


def test_what_if_shows_the_difference_and_writes_nothing(admin_client):
    """A reserved share for tier 3 is previewed before saving: of four laptops the elderly
    (tier 3) get two (50 %) instead of the one the pupils (tier 2) leave over."""
    ready_devices(4)
    school = ApprovedRequestFactory(laptops=3, target_group="primary_pupils")
    elderly = ApprovedRequestFactory(
        laptops=3, target_group="isolated_elderly", delivery_province="Limburg"
    )
    services.allocation_run(trigger="manual")
    data = _policy_post(Policy(), tier_reserve_3="50")
    before = _row_counts()
    response = admin_client.post(WHAT_IF, data)
    assert _row_counts() == before
    comparison = response.context["comparison"]
    assert (comparison.current_total, comparison.preview_total) == (4, 4)
    assert {(c.help_request, c.difference) for c in comparison.losses} == {(school, -1)}
    assert {(c.help_request, c.difference) for c in comparison.gains} == {(elderly, 1)}
    groups = {row.label: (row.current, row.preview) for row in comparison.by_group}
    assert groups["Ouderen in een isolement"] == (1, 2)
    provinces = {row.label: (row.current, row.preview) for row in comparison.by_province}
    assert provinces["Limburg"] == (1, 2)
    assert "Hulpaanvragen die minder krijgen" in response.content.decode()


def test_what_if_previews_a_changed_tier_order_and_cross_tier_aging(admin_client):
    ready_devices(2)
    ApprovedRequestFactory(laptops=2, target_group="primary_pupils", no_home_schooling=True)
    elderly = ApprovedRequestFactory(laptops=2, target_group="isolated_elderly")
    services.allocation_run(trigger="manual")
    page = admin_client.get(WHAT_IF).content.decode()
    assert "Prioriteitsgroep van: Ouderen in een isolement" in page
    assert "Na zoveel dagen wachten een prioriteitsgroep hoger" in page
    data = _policy_post(Policy(), tier_isolated_elderly="1")
    comparison = admin_client.post(WHAT_IF, data).context["comparison"]
    assert {(c.help_request, c.difference) for c in comparison.gains} == {(elderly, 1)}
    # The factory approved both ten days ago: two steps of five days take tier 3 to tier 1.
    data = _policy_post(Policy(), tier_aging_days="5")
    comparison = admin_client.post(WHAT_IF, data).context["comparison"]
    assert comparison.preview_total == 2 and comparison.gains


def test_what_if_with_bad_input_shows_the_form_again(admin_client):
    data = _policy_post(Policy(), weight_pupils="veel")
    response = admin_client.post(WHAT_IF, data)
    assert "Voer een geheel getal in" in str(response.context["form"].errors["weight_pupils"])
    assert response.context["comparison"] is None


def test_the_run_page_shows_its_policy_version_and_figures(admin_client, refurbisher_org):
    member_of(refurbisher_org)
    ready_devices(4)
    ApprovedRequestFactory(laptops=1)
    run = services.allocation_run(trigger="manual")
    page = admin_client.get(reverse("admin:distribution_allocationrun_change", args=[run.pk]))
    assert page.status_code == 200
    assert "seconds_solve" in page.content.decode()


def test_the_latest_runs_list_takes_its_total_from_the_run_which_stays_its_row_count(
    admin_client, coordinator, monkeypatch
):
    """`?run=latest` alone shows the run's own count of proposals, without counting the
    allocations table; approving, rejecting and cancelling never change how many rows the run
    has, and a later run makes another run the latest."""
    from distribution.admin.allocations import AllocationAdmin

    monkeypatch.setattr(AllocationAdmin, "list_per_page", 2)  # more rows than one page
    ready_devices(12)
    for laptops in (2, 1, 3):
        ApprovedRequestFactory(laptops=laptops)
    run = services.allocation_run(trigger="manual")
    assert run.proposals == 6
    proposals = list(Allocation.objects.filter(run=run).order_by("id").values_list("id", flat=True))
    services.allocations_approve(proposals[:2], by=coordinator)
    services.allocations_reject(proposals[2:3], by=coordinator, reason="Te ver")
    services.allocations_cancel(proposals[:1], by=coordinator, reason="Niet meer nodig")
    ProposalFactory(run=None, note="Met de hand")  # by hand: not the run's

    with CaptureQueriesContext(connection) as captured:
        cl = admin_client.get(ALLOCATIONS, {"run": "latest"}).context["cl"]
    assert (cl.result_count, cl.count_is_capped, cl.count_is_estimate) == (6, False, False)
    assert Allocation.objects.filter(run=run).count() == run.proposals
    # The run's number: no capped count of the allocations (Django's SQL for it).
    assert not [q for q in captured.captured_queries if ") AS capped" in q["sql"]]
    # Any other filter or a search: counted as before.
    cl = admin_client.get(ALLOCATIONS, {"run": "latest", "status": "approved"}).context["cl"]
    assert cl.result_count == 1
    assert (
        admin_client.get(ALLOCATIONS, {"run": "latest", "o": "1"}).context["cl"].result_count == 6
    )
