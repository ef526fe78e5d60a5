"""The help request services: every rule, limit and transition, called directly."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from allemaal.models import Notification, Organisation
from allemaal.services import DomainError
from helprequests import services
from helprequests.models import CoordinatorDigest, HelpRequest, HelpRequestEvent, IntakeSwitch
from helprequests.tasks import send_coordinator_digest
from tests.factories import OrganisationFactory, member_of

from .factories import HelpRequestFactory, RequesterFactory


@pytest.fixture
def org(db):
    return RequesterFactory(name="Stichting Carla Scholen")


@pytest.fixture
def member(org):
    return member_of(org, user__email="carla@carla-scholen.example")


def submit(request, member):
    return services.helprequest_submit(request, by=member)


def errors_of(exc_info) -> dict:
    return exc_info.value.message_dict


# --- Create and submit ---------------------------------------------------------------------


def test_it_creates_a_draft_with_the_province_derived_from_the_postcode(org, member):
    request = services.helprequest_create(
        organisation=org,
        by=member,
        data={"target_group": "isolated_elderly", "tablets": 5, "delivery_postcode": "8011pk"},
    )
    assert request.status == HelpRequest.Status.DRAFT
    assert (request.delivery_postcode, request.delivery_province) == ("8011 PK", "Overijssel")
    assert request.events.get().to_status == HelpRequest.Status.DRAFT


def test_it_clears_answers_that_do_not_fit_the_target_group(org, member):
    request = services.helprequest_create(
        organisation=org,
        by=member,
        data={
            "target_group": "isolated_elderly",
            "no_home_schooling": True,
            "target_group_other": "iets",
        },
    )
    assert request.no_home_schooling is False and request.target_group_other == ""


def test_a_donor_cannot_create_a_help_request(member):
    donor = OrganisationFactory(kind=Organisation.Kind.DONOR)
    with pytest.raises(DomainError):
        services.helprequest_create(organisation=donor, by=member, data={"target_group": "other"})
    assert HelpRequest.objects.count() == 0


def test_it_submits_a_complete_draft_and_tells_the_organisation(
    org, member, django_capture_on_commit_callbacks
):
    request = HelpRequestFactory(organisation=org)
    with django_capture_on_commit_callbacks(execute=True):
        submit(request, member)
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.SUBMITTED and request.submitted_at is not None
    assert request.duplicate_of is None
    event = request.events.get()
    assert (event.from_status, event.to_status, event.by) == (
        HelpRequest.Status.DRAFT,
        HelpRequest.Status.SUBMITTED,
        member,
    )
    mail = Notification.objects.get(kind="helprequest_received")
    assert mail.to_email == member.email and mail.status == Notification.Status.SENT
    assert request.reference in mail.subject


def test_submitting_twice_is_a_no_op(org, member):
    request = HelpRequestFactory(organisation=org)
    submit(request, member)
    submit(request, member)
    assert HelpRequestEvent.objects.filter(to_status=HelpRequest.Status.SUBMITTED).count() == 1
    assert Notification.objects.filter(kind="helprequest_received").count() == 1


def test_it_refuses_to_submit_without_the_declaration(org, member):
    request = HelpRequestFactory(organisation=org, declaration=False)
    with pytest.raises(ValidationError) as exc:
        submit(request, member)
    assert "Bevestig" in errors_of(exc)["declaration"][0]
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.DRAFT and Notification.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"need_by": None}, "need_by", "Vul dit veld in"),
        ({"motivation": ""}, "motivation", "Vul dit veld in"),
        ({"delivery_street": ""}, "delivery_street", "Vul dit veld in"),
        ({"delivery_postcode": ""}, "delivery_postcode", "Vul dit veld in"),
        ({"delivery_city": ""}, "delivery_city", "Vul dit veld in"),
        ({"contact_name": ""}, "contact_name", "Vul dit veld in"),
        ({"contact_phone": ""}, "contact_phone", "Vul dit veld in"),
        ({"laptops": 0}, "laptops", "ten minste één"),
        ({"laptops": 501, "people_reached": 600}, "laptops", "maximaal 500 apparaten"),
        ({"people_reached": 0}, "people_reached", "hoeveel mensen"),
        ({"laptops": 30, "people_reached": 20}, "people_reached", "meer apparaten aan (30)"),
        ({"connectivity_households": 21}, "connectivity_households", "niet meer huishoudens"),
        ({"target_group": "other"}, "target_group_other", "Beschrijf"),
    ],
)
def test_it_refuses_to_submit_an_incomplete_or_inconsistent_request(
    org, member, changes, field, message
):
    request = HelpRequestFactory(organisation=org, **changes)
    with pytest.raises(ValidationError) as exc:
        submit(request, member)
    assert message in " ".join(errors_of(exc)[field])
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.DRAFT


def test_it_refuses_a_need_by_date_in_the_past(org, member):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    request = HelpRequestFactory(organisation=org, need_by=yesterday)
    with pytest.raises(ValidationError) as exc:
        submit(request, member)
    assert "verleden" in errors_of(exc)["need_by"][0]


def test_the_device_limit_is_a_setting(org, member, settings):
    settings.HELPREQUEST_MAX_DEVICES = 5
    request = HelpRequestFactory(organisation=org, laptops=6)
    with pytest.raises(ValidationError) as exc:
        submit(request, member)
    assert "maximaal 5 apparaten" in errors_of(exc)["laptops"][0]


def test_it_refuses_more_open_requests_than_the_limit(org, member, settings):
    settings.HELPREQUEST_MAX_OPEN_PER_ORGANISATION = 2
    HelpRequestFactory(organisation=org, submitted=True, target_group="secondary_pupils")
    HelpRequestFactory(organisation=org, approved=True, target_group="mbo_students")
    request = HelpRequestFactory(organisation=org, target_group="newcomers")
    with pytest.raises(DomainError, match="al 2 hulpaanvragen die nog lopen"):
        submit(request, member)
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.DRAFT


def test_drafts_and_finished_requests_do_not_count_towards_the_limit(org, member, settings):
    settings.HELPREQUEST_MAX_OPEN_PER_ORGANISATION = 1
    HelpRequestFactory(organisation=org)
    for status in [
        HelpRequest.Status.REJECTED,
        HelpRequest.Status.FULFILLED,
        HelpRequest.Status.CANCELLED,
        HelpRequest.Status.CLOSED,
    ]:
        HelpRequestFactory(
            organisation=org,
            status=status,
            submitted_at=timezone.now(),
            approved_at=timezone.now(),
            approved_laptops=1,
            decision_reason="x",
        )
    request = HelpRequestFactory(organisation=org)
    submit(request, member)
    assert request.__class__.objects.get(pk=request.pk).status == HelpRequest.Status.SUBMITTED


def test_an_unverified_organisation_cannot_submit(member):
    pending = RequesterFactory(status=Organisation.Status.PENDING)
    request = HelpRequestFactory(organisation=pending)
    with pytest.raises(DomainError, match="nog niet gecontroleerd"):
        submit(request, member)
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.DRAFT


# --- Intake switches -----------------------------------------------------------------------


def close_intake(device_type, target_group, reason="De voorraad is op."):
    return IntakeSwitch.objects.create(
        device_type=device_type, target_group=target_group, is_open=False, reason=reason
    )


def test_a_closed_intake_refuses_that_device_type_for_that_target_group_and_says_why(org, member):
    close_intake("tablet", "isolated_elderly", "De voorraad tablets is op.")
    request = HelpRequestFactory(
        organisation=org, target_group="isolated_elderly", laptops=0, tablets=5
    )
    with pytest.raises(ValidationError) as exc:
        submit(request, member)
    message = errors_of(exc)["tablets"][0]
    assert "geen aanvragen aan voor tablets" in message
    assert "De voorraad tablets is op." in message


def test_a_closed_intake_leaves_other_groups_and_device_types_open(org, member):
    close_intake("tablet", "isolated_elderly")
    IntakeSwitch.objects.create(device_type="laptop", target_group="isolated_elderly")
    laptops = HelpRequestFactory(organisation=org, target_group="isolated_elderly", laptops=5)
    submit(laptops, member)
    pupils = HelpRequestFactory(organisation=org, tablets=5, laptops=0)
    submit(pupils, member)
    assert HelpRequest.objects.filter(status=HelpRequest.Status.SUBMITTED).count() == 2


def test_either_is_refused_only_when_both_device_types_are_closed(org, member):
    close_intake("tablet", "newcomers")
    request = HelpRequestFactory(organisation=org, target_group="newcomers", laptops=0, either=4)
    submit(request, member)
    close_intake("laptop", "newcomers")
    other = HelpRequestFactory(
        organisation=RequesterFactory(), target_group="newcomers", laptops=0, either=4
    )
    with pytest.raises(ValidationError) as exc:
        submit(other, member)
    assert "either" in errors_of(exc)


def test_a_closed_switch_needs_a_reason(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        IntakeSwitch.objects.create(device_type="tablet", target_group="other", is_open=False)


# --- Edit ----------------------------------------------------------------------------------


def test_a_submitted_request_can_be_edited_until_a_coordinator_decides(org, member, coordinator):
    request = HelpRequestFactory(organisation=org)
    submit(request, member)
    services.helprequest_update(request, by=member, data={"laptops": 12})
    request.refresh_from_db()
    assert request.laptops == 12 and request.status == HelpRequest.Status.SUBMITTED
    assert request.events.last().note == "Gewijzigd door de organisatie."
    services.helprequest_approve(request, by=coordinator)
    with pytest.raises(DomainError, match="al besloten"):
        services.helprequest_update(request, by=member, data={"laptops": 15})
    request.refresh_from_db()
    assert request.laptops == 12


def test_editing_a_submitted_request_keeps_it_complete(org, member):
    request = HelpRequestFactory(organisation=org)
    submit(request, member)
    with pytest.raises(ValidationError):
        services.helprequest_update(request, by=member, data={"motivation": ""})
    request.refresh_from_db()
    assert request.motivation


def test_a_draft_may_be_incomplete_but_not_above_the_device_limit(org, member, settings):
    settings.HELPREQUEST_MAX_DEVICES = 10
    request = services.helprequest_create(
        organisation=org, by=member, data={"target_group": "newcomers"}
    )
    services.helprequest_update(request, by=member, data={"motivation": ""})
    with pytest.raises(ValidationError):
        services.helprequest_update(request, by=member, data={"laptops": 11})


# --- Decisions -----------------------------------------------------------------------------


@pytest.fixture
def submitted(org, member):
    request = HelpRequestFactory(organisation=org, laptops=10, tablets=4, either=2)
    return submit(request, member)


def test_coordinator_approves_lower_quantities_and_the_organisation_is_told(
    submitted, member, coordinator
):
    services.helprequest_approve(submitted, by=coordinator, laptops=6, tablets=4, either=0)
    submitted.refresh_from_db()
    assert submitted.status == HelpRequest.Status.APPROVED and submitted.approved_at is not None
    assert (submitted.approved_laptops, submitted.approved_tablets, submitted.approved_either) == (
        6,
        4,
        0,
    )
    assert submitted.decided_by == coordinator
    mail = Notification.objects.get(kind="helprequest_approved")
    assert mail.to_email == member.email
    assert "laptops: 6 (aangevraagd: 10)" in mail.body_text


def test_approval_without_quantities_approves_what_was_requested(submitted, coordinator):
    services.helprequest_approve(submitted, by=coordinator)
    submitted.refresh_from_db()
    assert submitted.approved_devices == submitted.requested_devices == 16


@pytest.mark.parametrize(
    "quantities",
    [{"laptops": 11}, {"tablets": -1}, {"laptops": 0, "tablets": 0, "either": 0}],
)
def test_it_refuses_approved_quantities_above_the_request_or_none_at_all(
    submitted, coordinator, quantities
):
    with pytest.raises(DomainError):
        services.helprequest_approve(submitted, by=coordinator, **quantities)
    submitted.refresh_from_db()
    assert submitted.status == HelpRequest.Status.SUBMITTED and submitted.approved_devices == 0


def test_the_database_refuses_approved_quantities_above_the_request(submitted):
    with pytest.raises(IntegrityError), transaction.atomic():
        HelpRequest.objects.filter(pk=submitted.pk).update(approved_laptops=11)


def test_the_database_refuses_a_submitted_request_without_declaration(submitted):
    with pytest.raises(IntegrityError), transaction.atomic():
        HelpRequest.objects.filter(pk=submitted.pk).update(declaration=False)


def test_the_database_refuses_negative_counts(submitted):
    with pytest.raises(IntegrityError), transaction.atomic():
        HelpRequest.objects.filter(pk=submitted.pk).update(people_reached=-1)


def test_coordinator_rejects_with_a_reason_the_organisation_reads(submitted, coordinator):
    with pytest.raises(DomainError):
        services.helprequest_reject(submitted, by=coordinator, reason=" ")
    services.helprequest_reject(submitted, by=coordinator, reason="Geen onderwijsinstelling")
    submitted.refresh_from_db()
    assert (submitted.status, submitted.decision_reason) == (
        HelpRequest.Status.REJECTED,
        "Geen onderwijsinstelling",
    )
    mail = Notification.objects.get(kind="helprequest_rejected")
    assert "Geen onderwijsinstelling" in mail.body_text


def test_fulfilled_requests_are_told_and_then_closed(submitted, coordinator):
    services.helprequest_approve(submitted, by=coordinator)
    services.helprequest_fulfil(submitted, by=coordinator)
    assert Notification.objects.filter(kind="helprequest_fulfilled").count() == 1
    services.helprequest_close(submitted, by=coordinator)
    submitted.refresh_from_db()
    assert submitted.status == HelpRequest.Status.CLOSED
    assert not Notification.objects.filter(kind="helprequest_closed").exists()


def test_closing_an_approved_unfulfilled_request_needs_a_reason_and_tells_the_organisation(
    submitted, coordinator
):
    services.helprequest_approve(submitted, by=coordinator)
    with pytest.raises(DomainError):
        services.helprequest_close(submitted, by=coordinator)
    services.helprequest_close(submitted, by=coordinator, note="Doelgroep al geholpen")
    assert "Doelgroep al geholpen" in Notification.objects.get(kind="helprequest_closed").body_text


@pytest.mark.parametrize(
    "status", [HelpRequest.Status.DRAFT, HelpRequest.Status.SUBMITTED, HelpRequest.Status.APPROVED]
)
def test_the_organisation_can_cancel_before_shipment(org, member, status):
    request = HelpRequestFactory(
        organisation=org,
        status=status,
        submitted_at=None if status == HelpRequest.Status.DRAFT else timezone.now(),
        approved_at=timezone.now() if status == HelpRequest.Status.APPROVED else None,
        approved_laptops=10 if status == HelpRequest.Status.APPROVED else 0,
    )
    services.helprequest_cancel(request, by=member)
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.CANCELLED
    assert request.events.last().by == member


@pytest.mark.parametrize(
    ("status", "service"),
    [
        (HelpRequest.Status.DRAFT, "approve"),
        (HelpRequest.Status.DRAFT, "reject"),
        (HelpRequest.Status.DRAFT, "fulfil"),
        (HelpRequest.Status.SUBMITTED, "fulfil"),
        (HelpRequest.Status.SUBMITTED, "close"),
        (HelpRequest.Status.APPROVED, "reject"),
        (HelpRequest.Status.APPROVED, "submit"),
        (HelpRequest.Status.FULFILLED, "cancel"),
        (HelpRequest.Status.FULFILLED, "approve"),
        (HelpRequest.Status.REJECTED, "approve"),
        (HelpRequest.Status.REJECTED, "cancel"),
        (HelpRequest.Status.CANCELLED, "submit"),
        (HelpRequest.Status.CANCELLED, "approve"),
        (HelpRequest.Status.CLOSED, "cancel"),
        (HelpRequest.Status.CLOSED, "fulfil"),
    ],
)
def test_it_refuses_invalid_transitions(org, member, coordinator, status, service):
    decided = status in (
        HelpRequest.Status.APPROVED,
        HelpRequest.Status.FULFILLED,
        HelpRequest.Status.CLOSED,
    )
    request = HelpRequestFactory(
        organisation=org,
        status=status,
        submitted_at=None if status == HelpRequest.Status.DRAFT else timezone.now(),
        approved_at=timezone.now() if decided else None,
        approved_laptops=10 if decided else 0,
        decision_reason="reden" if status == HelpRequest.Status.REJECTED else "",
    )
    call = {
        "submit": lambda: services.helprequest_submit(request, by=member),
        "approve": lambda: services.helprequest_approve(request, by=coordinator),
        "reject": lambda: services.helprequest_reject(request, by=coordinator, reason="x"),
        "fulfil": lambda: services.helprequest_fulfil(request, by=coordinator),
        "close": lambda: services.helprequest_close(request, by=coordinator, note="x"),
        "cancel": lambda: services.helprequest_cancel(request, by=member),
    }[service]
    with pytest.raises(DomainError, match="kan niet van"):
        call()
    request.refresh_from_db()
    assert request.status == status
    assert not request.events.exists()


# --- Duplicates ----------------------------------------------------------------------------


def test_it_flags_an_open_request_of_the_same_organisation_for_the_same_target_group(org, member):
    twin = HelpRequestFactory(organisation=org, submitted=True)
    request = submit(HelpRequestFactory(organisation=org), member)
    assert (request.duplicate_of, request.duplicate_reason) == (twin, "organisation")
    assert request.status == HelpRequest.Status.SUBMITTED  # flagging never blocks


def test_it_flags_an_open_request_of_another_organisation_with_the_same_brin_code(member):
    school = RequesterFactory(sector="school", brin_code="12AB")
    twin = HelpRequestFactory(organisation=school, approved=True, delivery_postcode="9711 AA")
    other = RequesterFactory(sector="school", brin_code="12AB")
    request = submit(HelpRequestFactory(organisation=other), member)
    assert (request.duplicate_of, request.duplicate_reason) == (twin, "brin")


def test_it_flags_an_open_request_for_the_same_postcode_and_target_group(org, member):
    twin = HelpRequestFactory(submitted=True, delivery_postcode="4001 AB")
    request = submit(HelpRequestFactory(organisation=org, delivery_postcode="4001 AB"), member)
    assert (request.duplicate_of, request.duplicate_reason) == (twin, "postcode")


@pytest.mark.parametrize(
    "twin",
    [
        # same organisation, another target group: one request per target group is the rule
        {"same_org": True, "target_group": "secondary_pupils"},
        # same postcode, another target group
        {"target_group": "isolated_elderly"},
        # same postcode and target group, but no longer open
        {"status": HelpRequest.Status.REJECTED, "decision_reason": "x"},
        {"status": HelpRequest.Status.CANCELLED},
        {
            "status": HelpRequest.Status.FULFILLED,
            "approved_at": timezone.now(),
            "approved_laptops": 1,
        },
        # same organisation and target group, but still a draft
        {"same_org": True, "status": HelpRequest.Status.DRAFT, "submitted_at": None},
        # another organisation, another postcode, both without BRIN code
        {"delivery_postcode": "9711 AA"},
    ],
)
def test_it_does_not_flag_other_requests(org, member, twin):
    same_org = twin.pop("same_org", False)
    HelpRequestFactory(
        organisation=org if same_org else RequesterFactory(),
        submitted_at=twin.pop("submitted_at", timezone.now()),
        **{"status": HelpRequest.Status.SUBMITTED, **twin},
    )
    request = submit(HelpRequestFactory(organisation=org), member)
    assert (request.duplicate_of, request.duplicate_reason) == (None, "")


# --- Coordinators' digest ------------------------------------------------------------------


def test_the_daily_digest_lists_yesterdays_submissions_and_duplicates_once(
    org, member, coordinator
):
    today = timezone.localdate()
    yesterday_noon = timezone.now() - datetime.timedelta(days=1)
    first = HelpRequestFactory(organisation=org, submitted=True, submitted_at=yesterday_noon)
    flagged = HelpRequestFactory(
        organisation=org,
        submitted=True,
        submitted_at=yesterday_noon,
        duplicate_of=first,
        duplicate_reason="organisation",
    )
    HelpRequestFactory(submitted=True, submitted_at=yesterday_noon - datetime.timedelta(days=3))
    digest = services.helprequest_send_coordinator_digest(today)
    assert (digest.new_requests, digest.flagged_duplicates, digest.recipients) == (2, 1, 1)
    mail = Notification.objects.get(kind="helprequest_digest")
    assert mail.to_email == coordinator.email
    assert "2 nieuwe hulpaanvragen" in mail.subject
    assert f"{flagged.reference} met {first.reference}" in mail.body_text
    assert "In totaal wachten 3 hulpaanvragen op een besluit" in mail.body_text

    services.helprequest_send_coordinator_digest(today)
    assert Notification.objects.filter(kind="helprequest_digest").count() == 1
    assert CoordinatorDigest.objects.count() == 1


def test_the_digest_sends_nothing_on_a_day_without_submissions(coordinator):
    send_coordinator_digest.delay(timezone.localdate().isoformat())
    assert CoordinatorDigest.objects.get().new_requests == 0
    assert not Notification.objects.filter(kind="helprequest_digest").exists()


# --- Allocation ties ---------------------------------------------------------------------------


def test_cancelling_returns_allocated_devices_to_the_pool_and_rejects_proposals(school_board):
    from distribution.models import Allocation
    from distribution.tests.factories import ApprovedRequestFactory, ProposalFactory

    request = ApprovedRequestFactory(organisation=school_board.membership.organisation, laptops=2)
    proposal = ProposalFactory(request=request)
    services.helprequest_cancel(request, by=school_board)
    proposal.refresh_from_db()
    assert proposal.status == Allocation.Status.REJECTED
    assert proposal.device.state == "ready"


def test_it_refuses_to_cancel_once_devices_are_shipped(school_board):
    from distribution.tests.factories import ApprovedRequestFactory, ProposalFactory

    request = ApprovedRequestFactory(organisation=school_board.membership.organisation, laptops=2)
    ProposalFactory(request=request, status="shipped", decided_at=timezone.now())
    with pytest.raises(DomainError, match="al apparaten verzonden"):
        services.helprequest_cancel(request, by=school_board)
    request.refresh_from_db()
    assert request.status == "approved"


def test_approval_asks_for_an_allocation_run(
    coordinator, django_capture_on_commit_callbacks, monkeypatch
):
    asked = []
    monkeypatch.setattr(
        "distribution.services.allocation_request_run_soon", lambda: asked.append(True)
    )
    request = HelpRequestFactory(submitted=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.helprequest_approve(request, by=coordinator)
    assert asked == [True]


def test_a_fulfilled_request_can_be_reopened_for_a_replacement_but_not_reapproved(coordinator):
    from distribution.tests.factories import ApprovedRequestFactory

    request = ApprovedRequestFactory(status="fulfilled")
    with pytest.raises(DomainError):
        services.helprequest_approve(request, by=coordinator)
    services.helprequest_reopen(request, by=coordinator, note="Vervanging nodig")
    request.refresh_from_db()
    assert request.status == "approved"
    with pytest.raises(DomainError):
        services.helprequest_reopen(HelpRequestFactory(submitted=True), by=coordinator)
