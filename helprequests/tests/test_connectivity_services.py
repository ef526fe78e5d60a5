"""Internet connections: assign, withdraw, fulfil (one and many), reminders; called directly."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from allemaal.models import Notification, Organisation
from allemaal.services import DomainError
from helprequests import services
from helprequests.models import ConnectivityAssignment, ConnectivityEvent, ConnectivityReminder
from helprequests.services import connectivity
from helprequests.services.connectivity import Provision, ProvisionRow
from helprequests.tasks import send_connectivity_bundle_reminders
from tests.factories import member_of

from .factories import ConnectivityAssignmentFactory, HelpRequestFactory, TelecomFactory


def today():
    return timezone.localdate()


def in_days(n):
    return today() + datetime.timedelta(days=n)


@pytest.fixture
def request_(school_board_org, school_board):
    return HelpRequestFactory(
        organisation=school_board_org, approved=True, connectivity_households=8
    )


def provision(sim_cards=3, hotspots=1, days=60, note=""):
    return Provision(sim_cards, hotspots, in_days(days), note)


def assign(request, provider, households, coordinator, **kwargs):
    return connectivity.connectivity_assign(
        request, provider=provider, households=households, by=coordinator, **kwargs
    )


# --- Assign --------------------------------------------------------------------------------


def test_it_assigns_households_and_tells_the_provider(
    request_, telecom_org, telecom, coordinator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assignment = assign(request_, telecom_org, 5, coordinator, note="Graag voor de 1e")
    assert (assignment.status, assignment.households, assignment.assigned_by) == (
        ConnectivityAssignment.Status.ASSIGNED,
        5,
        coordinator,
    )
    event = assignment.events.get()
    assert (event.from_status, event.to_status, event.by) == (
        "",
        ConnectivityAssignment.Status.ASSIGNED,
        coordinator,
    )
    mail = Notification.objects.get(kind="helprequest_connectivity_assigned")
    assert mail.to_email == telecom.email
    for text in [
        assignment.reference,
        request_.reference,
        "Stichting Carla Scholen",
        "Schoolstraat 5, 4001 AB Tiel",
        "Carla Jansen",
        "0344 123 456",
        "Graag voor de 1e",
        f"/hulpaanvragen/internet/{assignment.pk}/",
    ]:
        assert text in mail.body_text


def test_it_never_assigns_more_households_than_the_request_needs(
    request_, telecom_org, coordinator
):
    other = TelecomFactory()
    assign(request_, telecom_org, 5, coordinator)
    with pytest.raises(DomainError, match="nog 3 van 8 huishoudens"):
        assign(request_, other, 4, coordinator)
    assign(request_, other, 3, coordinator)
    with pytest.raises(DomainError, match="nog 0 van 8"):
        assign(request_, TelecomFactory(), 1, coordinator)
    assert ConnectivityAssignment.objects.count() == 2


def test_provided_households_still_count_and_withdrawn_ones_are_free_again(
    request_, telecom_org, coordinator
):
    ConnectivityAssignmentFactory(
        help_request=request_, provider=TelecomFactory(), households=3, fulfilled=True
    )
    first = assign(request_, telecom_org, 5, coordinator)
    with pytest.raises(DomainError):
        assign(request_, TelecomFactory(), 1, coordinator)
    connectivity.connectivity_withdraw(first, by=coordinator, reason="Verkeerde aanbieder")
    assert (
        assign(request_, telecom_org, 5, coordinator).status
        == ConnectivityAssignment.Status.ASSIGNED
    )


def test_it_refuses_a_second_open_assignment_for_the_same_provider(
    request_, telecom_org, coordinator
):
    assign(request_, telecom_org, 2, coordinator)
    with pytest.raises(DomainError, match="al een open opdracht"):
        assign(request_, telecom_org, 2, coordinator)
    assert ConnectivityAssignment.objects.count() == 1


@pytest.mark.parametrize("status", ["draft", "submitted", "rejected", "cancelled", "closed"])
def test_it_assigns_only_for_approved_or_fulfilled_requests(telecom_org, coordinator, status):
    request = HelpRequestFactory(approved=True, connectivity_households=4)
    request.status, request.decision_reason = status, "Besluit"
    request.save(update_fields=["status", "decision_reason"])
    with pytest.raises(DomainError, match="alleen bij een goedgekeurde of vervulde"):
        assign(request, telecom_org, 1, coordinator)
    request.status = "fulfilled"
    request.save(update_fields=["status"])
    assert assign(request, telecom_org, 1, coordinator).pk


def test_it_assigns_only_to_a_verified_telecom_provider(request_, donor_org, coordinator):
    with pytest.raises(DomainError, match="geen telecomaanbieder"):
        assign(request_, donor_org, 1, coordinator)
    pending = TelecomFactory(status=Organisation.Status.PENDING)
    with pytest.raises(DomainError, match="nog niet gecontroleerd"):
        assign(request_, pending, 1, coordinator)
    with pytest.raises(DomainError, match="ten minste één"):
        assign(request_, TelecomFactory(), 0, coordinator)
    assert ConnectivityAssignment.objects.count() == 0


# --- Withdraw ------------------------------------------------------------------------------


def test_a_coordinator_withdraws_an_open_assignment_with_a_reason_the_provider_reads(
    request_, telecom_org, telecom, coordinator, django_capture_on_commit_callbacks
):
    assignment = assign(request_, telecom_org, 2, coordinator)
    with pytest.raises(DomainError, match="Geef een reden"):
        connectivity.connectivity_withdraw(assignment, by=coordinator, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        connectivity.connectivity_withdraw(assignment, by=coordinator, reason="Al geregeld")
    assignment.refresh_from_db()
    assert (assignment.status, assignment.withdrawal_reason) == (
        ConnectivityAssignment.Status.WITHDRAWN,
        "Al geregeld",
    )
    assert (
        "Al geregeld"
        in Notification.objects.get(kind="helprequest_connectivity_withdrawn").body_text
    )
    # Withdrawing again changes nothing.
    connectivity.connectivity_withdraw(assignment, by=coordinator, reason="Nog eens")
    assert assignment.events.count() == 2


def test_a_provided_assignment_cannot_be_withdrawn(coordinator):
    assignment = ConnectivityAssignmentFactory(fulfilled=True)
    with pytest.raises(DomainError, match="al geleverd"):
        connectivity.connectivity_withdraw(assignment, by=coordinator, reason="Toch niet")
    assignment.refresh_from_db()
    assert assignment.status == ConnectivityAssignment.Status.FULFILLED


def test_cancelling_the_request_withdraws_its_open_assignments(
    request_, school_board, coordinator, django_capture_on_commit_callbacks
):
    open_ = ConnectivityAssignmentFactory(help_request=request_, households=3)
    member_of(open_.provider)
    done = ConnectivityAssignmentFactory(help_request=request_, households=2, fulfilled=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.helprequest_cancel(request_, by=school_board)
    open_.refresh_from_db()
    done.refresh_from_db()
    assert (open_.status, done.status) == (
        ConnectivityAssignment.Status.WITHDRAWN,
        ConnectivityAssignment.Status.FULFILLED,
    )
    assert request_.reference in open_.withdrawal_reason
    assert Notification.objects.filter(kind="helprequest_connectivity_withdrawn").count() == 1


# --- Fulfil --------------------------------------------------------------------------------


def test_the_provider_reports_what_it_provided_and_the_organisation_hears_it(
    telecom_org, telecom, school_board, request_, coordinator, django_capture_on_commit_callbacks
):
    assignment = assign(request_, telecom_org, 4, coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        connectivity.connectivity_fulfil(
            assignment,
            provider=telecom_org,
            by=telecom,
            provision=provision(3, 1, 30, note="Opgehaald door de conciërge"),
        )
    assignment.refresh_from_db()
    assert (assignment.status, assignment.sim_cards, assignment.hotspots) == (
        ConnectivityAssignment.Status.FULFILLED,
        3,
        1,
    )
    assert (assignment.bundle_ends_on, assignment.fulfilled_by) == (in_days(30), telecom)
    assert assignment.provider_note == "Opgehaald door de conciërge"
    assert list(assignment.events.values_list("to_status", flat=True)) == [
        ConnectivityAssignment.Status.ASSIGNED,
        ConnectivityAssignment.Status.FULFILLED,
    ]
    mail = Notification.objects.get(kind="helprequest_connectivity_fulfilled")
    assert mail.to_email == school_board.email
    assert "3 simkaarten en 1 mobiele hotspot" in mail.body_text
    assert "Eva Telecom NV" in mail.body_text and request_.reference in mail.subject


def test_reporting_the_same_again_changes_nothing_and_other_values_are_refused(
    telecom_org, telecom, request_, coordinator, django_capture_on_commit_callbacks
):
    assignment = assign(request_, telecom_org, 4, coordinator)
    same = provision(3, 0, 40)
    with django_capture_on_commit_callbacks(execute=True):
        connectivity.connectivity_fulfil(
            assignment, provider=telecom_org, by=telecom, provision=same
        )
        connectivity.connectivity_fulfil(
            assignment, provider=telecom_org, by=telecom, provision=same
        )
    assert assignment.events.count() == 2
    assert Notification.objects.filter(kind="helprequest_connectivity_fulfilled").count() == 1
    with pytest.raises(DomainError, match="al gemeld als geleverd, met 3 simkaarten"):
        connectivity.connectivity_fulfil(
            assignment, provider=telecom_org, by=telecom, provision=provision(4, 0, 40)
        )
    assignment.refresh_from_db()
    assert assignment.sim_cards == 3


def test_a_provider_cannot_report_another_providers_or_a_withdrawn_assignment(
    telecom_org, telecom, coordinator
):
    others = ConnectivityAssignmentFactory()
    with pytest.raises(DomainError, match="niet aan uw organisatie"):
        connectivity.connectivity_fulfil(
            others, provider=telecom_org, by=telecom, provision=provision()
        )
    withdrawn = ConnectivityAssignmentFactory(provider=telecom_org)
    connectivity.connectivity_withdraw(withdrawn, by=coordinator, reason="Dubbel")
    with pytest.raises(DomainError, match="ingetrokken"):
        connectivity.connectivity_fulfil(
            withdrawn, provider=telecom_org, by=telecom, provision=provision()
        )
    assert (
        ConnectivityAssignment.objects.filter(
            status=ConnectivityAssignment.Status.FULFILLED
        ).count()
        == 0
    )


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ((0, 0, 30), "sim_cards", "hoeveel simkaarten of mobiele hotspots"),
        ((-1, 2, 30), "sim_cards", "0 of meer"),
        ((1, -2, 30), "hotspots", "0 of meer"),
        ((1, 0, -1), "bundle_ends_on", "verleden"),
        ((10_001, 0, 30), "sim_cards", "te groot"),
    ],
)
def test_it_refuses_a_report_that_is_not_possible(telecom_org, telecom, values, field, message):
    assignment = ConnectivityAssignmentFactory(provider=telecom_org)
    with pytest.raises(ValidationError) as exc_info:
        connectivity.connectivity_fulfil(
            assignment,
            provider=assignment.provider,
            by=telecom,
            provision=provision(*values),
        )
    assert message in " ".join(exc_info.value.message_dict[field])
    assignment.refresh_from_db()
    assert assignment.status == ConnectivityAssignment.Status.ASSIGNED


def test_a_bundle_that_ends_today_is_fine_but_one_without_end_date_is_not():
    assert connectivity.provision_errors(1, 0, today(), today=today()) == {}
    assert "bundle_ends_on" in connectivity.provision_errors(1, 0, None, today=today())


def test_fulfil_many_records_everything_or_nothing(telecom_org, telecom, coordinator):
    a, b = (ConnectivityAssignmentFactory(provider=telecom_org) for _ in range(2))
    withdrawn = ConnectivityAssignmentFactory(provider=telecom_org)
    connectivity.connectivity_withdraw(withdrawn, by=coordinator, reason="Dubbel")
    rows = [
        ProvisionRow(2, a.pk, provision()),
        ProvisionRow(3, withdrawn.pk, provision()),
        ProvisionRow(4, b.pk, provision()),
        ProvisionRow(5, b.pk, provision()),
    ]
    with pytest.raises(connectivity.ConnectivityRowsInvalid) as exc_info:
        connectivity.connectivity_fulfil_many(provider=telecom_org, by=telecom, rows=rows)
    assert [row for row, _ in exc_info.value.problems] == [3, 5]
    assert (
        ConnectivityAssignment.objects.filter(
            status=ConnectivityAssignment.Status.FULFILLED
        ).count()
        == 0
    )
    assert (
        ConnectivityEvent.objects.filter(to_status=ConnectivityAssignment.Status.FULFILLED).count()
        == 0
    )

    result = connectivity.connectivity_fulfil_many(
        provider=telecom_org, by=telecom, rows=[rows[0], rows[2]]
    )
    assert {x.pk for x in result.fulfilled} == {a.pk, b.pk} and result.unchanged == 0
    again = connectivity.connectivity_fulfil_many(provider=telecom_org, by=telecom, rows=[rows[0]])
    assert (again.fulfilled, again.unchanged) == ([], 1)


def test_an_upload_mails_each_organisation_once_with_all_its_lines(
    telecom_org, telecom, request_, school_board, django_capture_on_commit_callbacks
):
    other = HelpRequestFactory(
        organisation=request_.organisation, approved=True, connectivity_households=4
    )
    elsewhere = ConnectivityAssignmentFactory(provider=telecom_org)
    member_of(elsewhere.help_request.organisation)
    mine = [
        ConnectivityAssignmentFactory(provider=telecom_org, help_request=r, households=2)
        for r in (request_, other)
    ]
    rows = [
        ProvisionRow(n, a.pk, provision(2, 0, 30))
        for n, a in enumerate([*mine, elsewhere], start=2)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        connectivity.connectivity_fulfil_many(provider=telecom_org, by=telecom, rows=rows)
    to_school = Notification.objects.filter(
        kind="helprequest_connectivity_fulfilled", to_email=school_board.email
    )
    assert to_school.count() == 1
    mail = to_school.get()
    assert "voor 2 van uw hulpaanvragen" in mail.body_text
    assert request_.reference in mail.body_text and other.reference in mail.body_text
    assert mail.subject == "Internet voor 2 hulpaanvragen is geregeld"
    assert elsewhere.help_request.reference not in mail.body_text
    others = Notification.objects.filter(kind="helprequest_connectivity_fulfilled").exclude(
        to_email=school_board.email
    )
    assert [m.subject for m in others] == [
        f"Internet voor hulpaanvraag {elsewhere.help_request.reference} is geregeld"
    ]


# --- Database invariants -------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"households": 0},
        {"status": "fulfilled"},  # without what was provided
        {"sim_cards": 2},  # provided while still open
        {"status": "withdrawn", "withdrawn_at": timezone.now()},  # without a reason
        {"status": "bogus"},
    ],
)
def test_the_database_refuses_an_inconsistent_assignment(db, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectivityAssignmentFactory(**fields)


def test_the_database_refuses_two_open_assignments_for_one_provider(db):
    first = ConnectivityAssignmentFactory(households=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectivityAssignmentFactory(
            help_request=first.help_request, provider=first.provider, households=1
        )


@pytest.mark.postgres
def test_on_postgres_the_database_refuses_more_households_than_needed(db):
    request = HelpRequestFactory(approved=True, connectivity_households=3)
    ConnectivityAssignmentFactory(help_request=request, households=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectivityAssignmentFactory(help_request=request, households=2)
    withdrawn = ConnectivityAssignmentFactory(help_request=request, households=1)
    ConnectivityAssignment.objects.filter(pk=withdrawn.pk).update(
        status="withdrawn", withdrawn_at=timezone.now(), withdrawal_reason="test"
    )
    ConnectivityAssignmentFactory(help_request=request, households=1)
    assert sum(ConnectivityAssignment.objects.counting().values_list("households", flat=True)) == 3


# --- Weekly reminder of ending bundles -----------------------------------------------------


def test_the_weekly_reminder_lists_bundles_that_end_within_30_days_once_a_week(
    telecom_org, telecom, django_capture_on_commit_callbacks
):
    soon = ConnectivityAssignmentFactory(provider=telecom_org, fulfilled=True)
    last = ConnectivityAssignmentFactory(provider=telecom_org, fulfilled=True)
    later = ConnectivityAssignmentFactory(provider=telecom_org, fulfilled=True)
    ConnectivityAssignment.objects.filter(pk=soon.pk).update(bundle_ends_on=in_days(3))
    ConnectivityAssignment.objects.filter(pk=last.pk).update(bundle_ends_on=in_days(30))
    ConnectivityAssignment.objects.filter(pk=later.pk).update(bundle_ends_on=in_days(31))
    ConnectivityAssignmentFactory(provider=telecom_org)  # open: no bundle yet
    other = ConnectivityAssignmentFactory(fulfilled=True)
    ConnectivityAssignment.objects.filter(pk=other.pk).update(bundle_ends_on=in_days(5))
    member_of(other.provider)

    with django_capture_on_commit_callbacks(execute=True):
        assert send_connectivity_bundle_reminders(today().isoformat()) == 2
    mails = Notification.objects.filter(kind="helprequest_connectivity_bundles_ending")
    mine = mails.get(to_email=telecom.email)
    assert "2 databundels lopen binnenkort af" in mine.subject
    assert soon.reference in mine.body_text and last.reference in mine.body_text
    assert later.reference not in mine.body_text and other.reference not in mine.body_text
    assert ConnectivityReminder.objects.get(provider=telecom_org).bundles == 2

    assert send_connectivity_bundle_reminders(today().isoformat()) == 0
    assert mails.count() == 2
    next_week = (today() + datetime.timedelta(days=7)).isoformat()
    # Next week: `soon` has ended, `later` has come within 30 days; the other provider has none.
    assert send_connectivity_bundle_reminders(next_week) == 1
    body = mails.filter(to_email=telecom.email).latest("id").body_text
    assert last.reference in body and later.reference in body and soon.reference not in body


@pytest.mark.postgres
def test_on_postgres_a_raw_update_that_adds_households_is_refused_too(db):
    request = HelpRequestFactory(approved=True, connectivity_households=3)
    assignment = ConnectivityAssignmentFactory(help_request=request, households=2)
    ConnectivityAssignmentFactory(help_request=request, households=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectivityAssignment.objects.filter(pk=assignment.pk).update(households=3)
    # Providing what was assigned adds nothing and does not lock the request.
    ConnectivityAssignment.objects.filter(pk=assignment.pk).update(
        status="fulfilled",
        sim_cards=1,
        bundle_ends_on=timezone.localdate(),
        fulfilled_at=timezone.now(),
    )
