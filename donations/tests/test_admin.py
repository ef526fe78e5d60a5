"""The coordinators' admin: find, filter, schedule, decline and export donations."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from allemaal.models import Notification
from donations.models import Donation, DonationPolicy
from donations.tests.factories import DeviceFactory, DonationFactory
from tests.factories import OrganisationFactory

CHANGELIST = "admin:donations_donation_changelist"
TOMORROW = timezone.localdate() + datetime.timedelta(days=1)


@pytest.fixture
def admin_client(client, coordinator):
    client.force_login(coordinator)
    return client


def listed(response):
    return {d.pk for d in response.context["cl"].result_list}


def test_the_changelist_query_count_is_constant(admin_client, django_assert_max_num_queries):
    url = reverse(CHANGELIST)
    for donation in DonationFactory.create_batch(2, status=Donation.Status.SCHEDULED):
        DeviceFactory(donation=donation)
    admin_client.get(url)
    # session, user, groups/permissions, count, filtered count, rows with donor and refurbisher
    # and device counts, refurbisher filter choices (+ savepoints on PostgreSQL)
    with django_assert_max_num_queries(12) as small:
        admin_client.get(url)
    for donation in DonationFactory.create_batch(18, status=Donation.Status.SCHEDULED):
        DeviceFactory(donation=donation)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = admin_client.get(url)
    assert len(listed(response)) == 20


def test_coordinators_search_by_reference_company_and_kvk(admin_client):
    company = OrganisationFactory(kind="donor", name="Zilverberg Advocaten", kvk_number="55554444")
    a = DonationFactory(donor=company)
    b = DonationFactory()
    url = reverse(CHANGELIST)
    assert listed(admin_client.get(url, {"q": a.reference})) == {a.pk}
    assert listed(admin_client.get(url, {"q": b.reference.lower()})) == {b.pk}
    assert listed(admin_client.get(url, {"q": "zilverberg"})) == {a.pk}
    assert listed(admin_client.get(url, {"q": "55554444"})) == {a.pk}


def test_coordinators_filter_by_status_and_refurbisher(admin_client, refurbisher_org):
    scheduled = DonationFactory(status=Donation.Status.SCHEDULED, refurbisher=refurbisher_org)
    DonationFactory(status=Donation.Status.SCHEDULED)
    DonationFactory()
    url = reverse(CHANGELIST)
    assert len(listed(admin_client.get(url, {"status__exact": "scheduled"}))) == 2
    by_refurbisher = admin_client.get(url, {"refurbisher__id__exact": refurbisher_org.pk})
    assert listed(by_refurbisher) == {scheduled.pk}


def test_schedule_pickup_asks_date_and_refurbisher_then_schedules(admin_client, refurbisher_org):
    donation = DonationFactory()
    url = reverse(CHANGELIST)
    ask = admin_client.post(url, {"action": "schedule_pickup", "_selected_action": [donation.pk]})
    assert ask.status_code == 200
    assert 'name="pickup_date"' in ask.content.decode()
    admin_client.post(
        url,
        {
            "action": "schedule_pickup",
            "_selected_action": [donation.pk],
            "apply": "1",
            "pickup_date": TOMORROW.isoformat(),
            "refurbisher": refurbisher_org.pk,
        },
    )
    donation.refresh_from_db()
    assert (donation.status, donation.pickup_date, donation.refurbisher) == (
        Donation.Status.SCHEDULED,
        TOMORROW,
        refurbisher_org,
    )


def test_schedule_pickup_reports_a_donation_that_cannot_move(admin_client, refurbisher_org):
    collected = DonationFactory(status=Donation.Status.COLLECTED)
    response = admin_client.post(
        reverse(CHANGELIST),
        {
            "action": "schedule_pickup",
            "_selected_action": [collected.pk],
            "apply": "1",
            "pickup_date": TOMORROW.isoformat(),
            "refurbisher": refurbisher_org.pk,
        },
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    assert any(collected.reference in m and "kan niet van" in m for m in messages)
    collected.refresh_from_db()
    assert collected.status == Donation.Status.COLLECTED


def test_schedule_pickup_refuses_a_past_date_on_the_form(admin_client, refurbisher_org):
    donation = DonationFactory()
    response = admin_client.post(
        reverse(CHANGELIST),
        {
            "action": "schedule_pickup",
            "_selected_action": [donation.pk],
            "apply": "1",
            "pickup_date": "2020-01-01",
            "refurbisher": refurbisher_org.pk,
        },
    )
    assert "verleden" in response.content.decode()
    donation.refresh_from_db()
    assert donation.status == Donation.Status.PLEDGED


def test_decline_asks_a_reason_and_tells_the_donor(admin_client, donor, donor_org):
    donation = DonationFactory(donor=donor_org)
    url = reverse(CHANGELIST)
    ask = admin_client.post(url, {"action": "decline", "_selected_action": [donation.pk]})
    assert 'name="reason"' in ask.content.decode()
    admin_client.post(
        url,
        {"action": "decline", "_selected_action": [donation.pk], "apply": "1", "reason": "Te oud"},
    )
    donation.refresh_from_db()
    assert (donation.status, donation.status_reason) == (Donation.Status.DECLINED, "Te oud")
    assert Notification.objects.filter(kind="donation_declined", to_email=donor.email).exists()


def test_export_csv_lists_the_selection_and_escapes_formula_cells(admin_client):
    donation = DonationFactory(brands="=HYPERLINK(1)", contact_name="+31 Piet")
    response = admin_client.post(
        reverse(CHANGELIST), {"action": "export_selected_csv", "_selected_action": [donation.pk]}
    )
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("referentie;donateur;KvK-nummer;status")
    assert donation.reference in lines[1]
    assert ";'=HYPERLINK(1);" in lines[1] and ";'+31 Piet;030 123 4567;" in lines[1]


def test_helpdesk_sees_donations_but_cannot_schedule_decline_or_export(client, helpdesk):
    donation = DonationFactory()
    client.force_login(helpdesk)
    response = client.get(reverse(CHANGELIST))
    form = response.context["action_form"]  # None: no action at all for the helpdesk
    actions = [name for name, _label in form.fields["action"].choices] if form else []
    assert "schedule_pickup" not in actions and "decline" not in actions
    assert "export_selected_csv" not in actions
    assert "Exporteren (CSV)" not in response.content.decode()
    assert donation.pk in listed(response)


def test_the_donation_page_shows_its_history(admin_client):
    donation = DonationFactory()
    donation.events.create(to_status=Donation.Status.PLEDGED, note="Aangemeld via de site")
    response = admin_client.get(reverse("admin:donations_donation_change", args=[donation.pk]))
    assert "Aangemeld via de site" in response.content.decode()


def test_a_device_is_found_by_serial_or_asset_tag(admin_client):
    device = DeviceFactory(serial_number="FINDME1", asset_tag="AD-7K3P")
    url = reverse("admin:donations_device_changelist")
    for q in ["FINDME1", "AD-7K3P"]:
        response = admin_client.get(url, {"q": q})
        assert [d.pk for d in response.context["cl"].result_list] == [device.pk]


def test_the_policy_is_one_row_edited_in_the_admin(admin_client):
    url = reverse("admin:donations_donationpolicy_add")
    admin_client.post(url, {"individual_donations_open": "on", "min_batch_size": "5"})
    policy = DonationPolicy.current()
    assert policy.individual_donations_open and policy.effective_min_batch_size == 1
    assert admin_client.get(url).status_code == 403


# --- Asset lists on their way in ---------------------------------------------------------------

JOBS = "admin:donations_manifestimport_changelist"


def stuck_job(donor_org, *, minutes=30, status="checking"):
    from django.core.files.base import ContentFile

    from donations.models import ManifestImport

    job = ManifestImport(
        donation=DonationFactory(donor=donor_org), file_name="lijst.csv", status=status
    )
    job.file.save("vast.jsonl", ContentFile(b'["serienummer", "type"]\n'), save=False)
    job.created_at = timezone.now() - datetime.timedelta(minutes=minutes)
    job.save()
    return job


def test_coordinators_see_list_jobs_with_their_organisation_and_requeue_a_stuck_one(
    admin_client, donor_org, django_capture_on_commit_callbacks
):
    job = stuck_job(donor_org)
    fresh = stuck_job(donor_org, minutes=1)
    page = admin_client.get(reverse(JOBS)).content.decode()
    assert "lijst.csv" in page and donor_org.name in page and "wordt gecontroleerd" in page
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            reverse(JOBS),
            {"action": "requeue", "_selected_action": [job.pk, fresh.pk]},
            follow=True,
        )
    page = response.content.decode()
    assert "1 lijst staat weer in de wachtrij" in page and "geen tien minuten oud" in page
    job.refresh_from_db()
    fresh.refresh_from_db()
    assert (job.status, fresh.status, len(callbacks)) == ("queued", "checking", 1)
    assert (
        admin_client.get(
            reverse("admin:donations_manifestimport_change", args=[job.pk])
        ).status_code
        == 200
    )


def test_the_helpdesk_sees_list_jobs_but_cannot_requeue_them(client, helpdesk, donor_org):
    job = stuck_job(donor_org)
    client.force_login(helpdesk)
    response = client.get(reverse(JOBS))
    form = response.context["action_form"]
    actions = [name for name, _label in form.fields["action"].choices] if form else []
    assert "requeue" not in actions
    client.post(reverse(JOBS), {"action": "requeue", "_selected_action": [job.pk]})
    job.refresh_from_db()
    assert job.status == "checking"
