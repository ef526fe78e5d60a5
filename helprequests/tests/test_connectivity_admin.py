"""The coordinators' admin for internet connections: find open needs, assign, withdraw."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from allemaal.models import Notification
from helprequests.models import ConnectivityAssignment
from tests.factories import member_of

from .factories import ConnectivityAssignmentFactory, HelpRequestFactory, TelecomFactory

REQUESTS = "admin:helprequests_helprequest_changelist"
ASSIGNMENTS = "admin:helprequests_connectivityassignment_changelist"


@pytest.fixture
def admin_client(client, coordinator):
    client.force_login(coordinator)
    return client


def listed(client, name, **params):
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    return {r.pk for r in response.context["cl"].result_list}


def test_coordinators_find_requests_whose_households_still_need_a_provider(admin_client):
    open_need = HelpRequestFactory(approved=True, connectivity_households=5)
    ConnectivityAssignmentFactory(help_request=open_need, households=2)
    covered = HelpRequestFactory(approved=True, connectivity_households=2)
    ConnectivityAssignmentFactory(help_request=covered, households=2, fulfilled=True)
    none_needed = HelpRequestFactory(approved=True, connectivity_households=0)
    HelpRequestFactory(submitted=True, connectivity_households=3)  # not decided yet
    assert listed(admin_client, REQUESTS, internet="open") == {open_need.pk}
    assert listed(admin_client, REQUESTS, internet="assigned") == {covered.pk}
    assert none_needed.pk in listed(admin_client, REQUESTS, internet="none")
    page = admin_client.get(reverse(REQUESTS)).content.decode()
    assert "2 / 5" in page


def test_the_bulk_action_gives_each_requests_remaining_households_to_one_provider(
    admin_client, telecom_org, telecom, django_capture_on_commit_callbacks
):
    a = HelpRequestFactory(approved=True, connectivity_households=5)
    ConnectivityAssignmentFactory(help_request=a, households=2)
    b = HelpRequestFactory(approved=True, connectivity_households=3)
    full = HelpRequestFactory(approved=True, connectivity_households=0)
    selected = [a.pk, b.pk, full.pk]
    url = reverse(REQUESTS)
    ask = admin_client.post(url, {"action": "assign_connectivity", "_selected_action": selected})
    assert ask.status_code == 200
    page = ask.content.decode()
    assert "Eva Telecom NV" in page and "3 (van 5)" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url,
            {
                "action": "assign_connectivity",
                "_selected_action": selected,
                "apply": "1",
                "provider": telecom_org.pk,
                "note": "Spoed",
            },
            follow=True,
        )
    mine = ConnectivityAssignment.objects.filter(provider=telecom_org)
    assert sorted(mine.values_list("help_request_id", "households")) == [(a.pk, 3), (b.pk, 3)]
    page = response.content.decode()
    assert "Internet van 2 hulpaanvragen toegewezen" in page
    assert f"{full.reference}: geen huishoudens meer" in page
    assert Notification.objects.filter(kind="helprequest_connectivity_assigned").count() == 2


def test_the_bulk_action_asks_again_without_a_provider(admin_client):
    request = HelpRequestFactory(approved=True, connectivity_households=2)
    response = admin_client.post(
        reverse(REQUESTS),
        {"action": "assign_connectivity", "_selected_action": [request.pk], "apply": "1"},
    )
    assert "Kies een telecomaanbieder" in response.content.decode()
    assert ConnectivityAssignment.objects.count() == 0


def test_coordinator_assigns_part_of_a_request_from_its_change_form(admin_client, telecom_org):
    request = HelpRequestFactory(approved=True, connectivity_households=6)
    change = admin_client.get(reverse("admin:helprequests_helprequest_change", args=[request.pk]))
    url = reverse("admin:helprequests_assign_connectivity", args=[request.pk])
    assert url in change.content.decode()
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(url, {"provider": telecom_org.pk, "households": 7})
    assert "nog maar 6 huishoudens" in response.content.decode()
    assert ConnectivityAssignment.objects.count() == 0

    response = admin_client.post(url, {"provider": telecom_org.pk, "households": 4})
    assert response.status_code == 302
    assignment = ConnectivityAssignment.objects.get()
    assert (assignment.households, assignment.status) == (4, ConnectivityAssignment.Status.ASSIGNED)

    response = admin_client.post(url, {"provider": telecom_org.pk, "households": 2}, follow=True)
    assert "al een open opdracht" in response.content.decode()
    assert ConnectivityAssignment.objects.count() == 1
    page = admin_client.get(
        reverse("admin:helprequests_helprequest_change", args=[request.pk])
    ).content.decode()
    assert assignment.reference in page


def test_helpdesk_can_look_but_not_assign_or_withdraw(client, helpdesk, telecom_org):
    request = HelpRequestFactory(approved=True, connectivity_households=2)
    assignment = ConnectivityAssignmentFactory(households=1)
    client.force_login(helpdesk)
    assert client.get(reverse(ASSIGNMENTS)).status_code == 200
    url = reverse("admin:helprequests_assign_connectivity", args=[request.pk])
    assert client.post(url, {"provider": telecom_org.pk, "households": 1}).status_code == 403
    client.post(
        reverse(ASSIGNMENTS),
        {"action": "withdraw", "_selected_action": [assignment.pk], "apply": "1", "reason": "x"},
    )
    assignment.refresh_from_db()
    assert assignment.status == ConnectivityAssignment.Status.ASSIGNED
    assert ConnectivityAssignment.objects.count() == 1


def test_the_assignment_changelist_query_count_is_constant(
    admin_client, django_assert_max_num_queries
):
    def make(n):
        for i in range(n):
            ConnectivityAssignmentFactory(fulfilled=i % 2 == 0)

    url = reverse(ASSIGNMENTS)
    make(2)
    admin_client.get(url)
    # session, user, permissions, count, filtered count, providers for the filter, rows with
    # their request, its organisation and the provider (+ savepoints on PostgreSQL)
    with django_assert_max_num_queries(14) as small:
        admin_client.get(url)
    make(18)
    with django_assert_max_num_queries(len(small.captured_queries)):
        admin_client.get(url)


def test_the_request_changelist_query_count_stays_constant_with_assignments(
    admin_client, django_assert_max_num_queries
):
    def make(n):
        for _ in range(n):
            ConnectivityAssignmentFactory(help_request__connectivity_households=4)

    url = reverse(REQUESTS)
    make(2)
    admin_client.get(url)
    with django_assert_max_num_queries(12) as small:
        admin_client.get(url)
    make(18)
    with django_assert_max_num_queries(len(small.captured_queries)):
        admin_client.get(url)


def test_the_assignment_changelist_filters_and_searches(admin_client, telecom_org):
    open_ = ConnectivityAssignmentFactory(provider=telecom_org)
    soon = ConnectivityAssignmentFactory(fulfilled=True)
    ConnectivityAssignment.objects.filter(pk=soon.pk).update(
        bundle_ends_on=timezone.localdate() + datetime.timedelta(days=10)
    )
    later = ConnectivityAssignmentFactory(fulfilled=True)
    assert listed(admin_client, ASSIGNMENTS, status="assigned") == {open_.pk}
    assert listed(admin_client, ASSIGNMENTS, bundle="soon") == {soon.pk}
    assert listed(admin_client, ASSIGNMENTS, q=later.reference) == {later.pk}
    assert listed(admin_client, ASSIGNMENTS, q=soon.help_request.reference) == {soon.pk}
    assert listed(admin_client, ASSIGNMENTS, q="Eva Telecom") == {open_.pk}


def test_coordinator_withdraws_with_a_reason_and_a_provided_one_is_refused(
    admin_client, telecom_org, django_capture_on_commit_callbacks
):
    open_ = ConnectivityAssignmentFactory(provider=telecom_org)
    member_of(telecom_org)
    done = ConnectivityAssignmentFactory(fulfilled=True)
    url = reverse(ASSIGNMENTS)
    ask = admin_client.post(url, {"action": "withdraw", "_selected_action": [open_.pk]})
    assert ask.status_code == 200 and "reason" in ask.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url,
            {
                "action": "withdraw",
                "_selected_action": [open_.pk, done.pk],
                "apply": "1",
                "reason": "Gemeente regelt het zelf",
            },
            follow=True,
        )
    open_.refresh_from_db()
    done.refresh_from_db()
    assert (open_.status, open_.withdrawal_reason) == (
        ConnectivityAssignment.Status.WITHDRAWN,
        "Gemeente regelt het zelf",
    )
    assert done.status == ConnectivityAssignment.Status.FULFILLED
    assert f"{done.reference}: Opdracht {done.reference} is al geleverd" in (
        response.content.decode()
    )
    assert Notification.objects.filter(kind="helprequest_connectivity_withdrawn").count() == 1


def test_a_new_assignment_is_not_added_by_hand(admin_client):
    TelecomFactory()
    assert (
        admin_client.get(reverse("admin:helprequests_connectivityassignment_add")).status_code
        == 403
    )
