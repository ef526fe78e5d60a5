"""The coordinators' admin: review, decide, filter, search and compare suspected twins."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from allemaal.models import Notification
from helprequests.models import HelpRequest, IntakeSwitch
from tests.factories import member_of

from .factories import HelpRequestFactory, RequesterFactory

CHANGELIST = "admin:helprequests_helprequest_changelist"


@pytest.fixture
def admin_client(client, coordinator):
    client.force_login(coordinator)
    return client


def changelist(client, **params):
    response = client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200
    return {r.pk for r in response.context["cl"].result_list}


def test_the_changelist_query_count_is_constant(admin_client, django_assert_max_num_queries):
    def make(n):
        for _ in range(n):
            twin = HelpRequestFactory(submitted=True)
            HelpRequestFactory(submitted=True, duplicate_of=twin, duplicate_reason="postcode")

    url = reverse(CHANGELIST)
    make(1)
    admin_client.get(url)
    # session, user, groups/permissions, count, filtered count, rows with their organisation
    # and suspected twin (+ savepoints on PostgreSQL)
    with django_assert_max_num_queries(12) as small:
        admin_client.get(url)
    make(9)
    with django_assert_max_num_queries(len(small.captured_queries)):
        admin_client.get(url)


def test_the_changelist_filters_by_target_group_province_urgency_status_and_duplicates(
    admin_client,
):
    pupils = HelpRequestFactory(submitted=True)
    elderly = HelpRequestFactory(
        submitted=True,
        target_group="isolated_elderly",
        delivery_postcode="8011 PK",
        delivery_province="Overijssel",
        urgency="high",
    )
    flagged = HelpRequestFactory(
        approved=True, duplicate_of=pupils, duplicate_reason="organisation"
    )
    assert changelist(admin_client, target_group="isolated_elderly") == {elderly.pk}
    assert changelist(admin_client, delivery_province="Overijssel") == {elderly.pk}
    assert changelist(admin_client, urgency="high") == {elderly.pk}
    assert changelist(admin_client, status="approved") == {flagged.pk}
    assert changelist(admin_client, duplicate="yes") == {flagged.pk}
    assert changelist(admin_client, duplicate="no") == {pupils.pk, elderly.pk}


def test_the_changelist_filters_by_how_long_a_request_waits(admin_client):
    now = timezone.now()
    young = HelpRequestFactory(submitted=True, submitted_at=now - datetime.timedelta(days=2))
    middle = HelpRequestFactory(submitted=True, submitted_at=now - datetime.timedelta(days=10))
    old = HelpRequestFactory(submitted=True, submitted_at=now - datetime.timedelta(days=45))
    HelpRequestFactory()  # a draft has not waited at all
    assert changelist(admin_client, age="lt7") == {young.pk}
    assert changelist(admin_client, age="7to30") == {middle.pk}
    assert changelist(admin_client, age="gt30") == {old.pk}


def test_the_changelist_searches_reference_organisation_brin_and_kvk(admin_client):
    school = RequesterFactory(name="OBS De Regenboog", brin_code="12AB", kvk_number="87654321")
    mine = HelpRequestFactory(organisation=school, submitted=True)
    other = HelpRequestFactory(submitted=True)
    assert changelist(admin_client, q=mine.reference) == {mine.pk}
    assert changelist(admin_client, q=mine.reference.lower()) == {mine.pk}
    assert changelist(admin_client, q="Regenboog") == {mine.pk}
    assert changelist(admin_client, q="12AB") == {mine.pk}
    assert changelist(admin_client, q="87654321") == {mine.pk}
    assert changelist(admin_client, q="8765") == set()  # codes match exactly
    assert other.pk not in changelist(admin_client, q="12AB")


def test_the_change_form_shows_the_suspected_twin_side_by_side(admin_client):
    twin = HelpRequestFactory(organisation=RequesterFactory(name="Gemeente Tiel"), submitted=True)
    request = HelpRequestFactory(
        organisation=RequesterFactory(name="Welzijn Tiel"),
        submitted=True,
        duplicate_of=twin,
        duplicate_reason="postcode",
    )
    page = admin_client.get(
        reverse("admin:helprequests_helprequest_change", args=[request.pk])
    ).content.decode()
    assert 'id="twin"' in page
    for text in [request.reference, twin.reference, "Gemeente Tiel", "Welzijn Tiel"]:
        assert text in page
    assert "dezelfde postcode" in page or "deze doelgroep en postcode" in page
    assert reverse("admin:helprequests_approve", args=[request.pk]) in page


def test_coordinator_approves_lower_quantities_from_the_change_form(admin_client):
    request = HelpRequestFactory(submitted=True, laptops=10, either=4)
    member_of(request.organisation)
    url = reverse("admin:helprequests_approve", args=[request.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"laptops": 11, "tablets": 0, "either": 4})
    assert "niet meer goedkeuren dan er is aangevraagd (10)" in response.content.decode()
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.SUBMITTED

    response = admin_client.post(url, {"laptops": 6, "tablets": 0, "either": 0, "note": "Eerst 6"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.approved_laptops, request.approved_either) == (
        HelpRequest.Status.APPROVED,
        6,
        0,
    )
    assert "Eerst 6" in Notification.objects.get(kind="helprequest_approved").body_text


def test_coordinator_rejects_fulfils_and_closes_from_the_change_form(admin_client):
    rejected = HelpRequestFactory(submitted=True)
    admin_client.post(
        reverse("admin:helprequests_reject", args=[rejected.pk]), {"reason": "Geen school"}
    )
    rejected.refresh_from_db()
    assert (rejected.status, rejected.decision_reason) == (
        HelpRequest.Status.REJECTED,
        "Geen school",
    )

    approved = HelpRequestFactory(approved=True)
    admin_client.post(reverse("admin:helprequests_fulfil", args=[approved.pk]), {})
    admin_client.post(reverse("admin:helprequests_close", args=[approved.pk]), {})
    approved.refresh_from_db()
    assert approved.status == HelpRequest.Status.CLOSED


def test_the_admin_reports_a_refused_decision(admin_client):
    request = HelpRequestFactory(approved=True)
    response = admin_client.post(
        reverse("admin:helprequests_close", args=[request.pk]), {}, follow=True
    )
    assert "Geef een reden op" in response.content.decode()
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.APPROVED


def test_helpdesk_can_look_but_not_decide(client, helpdesk):
    request = HelpRequestFactory(submitted=True)
    client.force_login(helpdesk)
    assert client.get(reverse(CHANGELIST)).status_code == 200
    url = reverse("admin:helprequests_approve", args=[request.pk])
    assert client.post(url, {"laptops": 1, "tablets": 0, "either": 0}).status_code == 403
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.SUBMITTED


def test_bulk_actions_approve_reject_fulfil_and_close(admin_client):
    a, b = HelpRequestFactory(submitted=True), HelpRequestFactory(submitted=True)
    url = reverse(CHANGELIST)
    admin_client.post(url, {"action": "approve_as_requested", "_selected_action": [a.pk]})
    ask = admin_client.post(url, {"action": "reject", "_selected_action": [b.pk]})
    assert ask.status_code == 200 and "reason" in ask.content.decode()
    admin_client.post(
        url,
        {"action": "reject", "_selected_action": [b.pk], "apply": "1", "reason": "Dubbel"},
    )
    admin_client.post(url, {"action": "mark_fulfilled", "_selected_action": [a.pk, b.pk]})
    admin_client.post(url, {"action": "close_fulfilled", "_selected_action": [a.pk, b.pk]})
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.approved_laptops) == (HelpRequest.Status.CLOSED, 10)
    assert (b.status, b.decision_reason) == (HelpRequest.Status.REJECTED, "Dubbel")


def test_an_intake_switch_is_closed_only_with_a_reason(admin_client, coordinator):
    url = reverse("admin:helprequests_intakeswitch_add")
    data = {"device_type": "tablet", "target_group": "isolated_elderly"}
    response = admin_client.post(url, {**data, "reason": ""})
    assert "Geef een reden op" in response.content.decode()
    assert IntakeSwitch.objects.count() == 0
    admin_client.post(url, {**data, "reason": "Voorraad op"})
    switch = IntakeSwitch.objects.get()
    assert (switch.is_open, switch.changed_by) == (False, coordinator)
