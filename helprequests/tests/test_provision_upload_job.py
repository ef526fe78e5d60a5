"""A telecom provider's large CSV is recorded by a background job (issue 17: no upload request
spends more than a moment of CPU), all or nothing, its progress and errors on its own page."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from allemaal.tests.test_notifications import broker_at
from helprequests.models import ConnectivityAssignment, ProvisionUpload
from helprequests.services import connectivity, provision_uploads

from .factories import ConnectivityAssignmentFactory, TelecomFactory
from .test_connectivity_views import csv_file, download, filled, in_days, upload

JOB = "helprequests:telecom_upload_job"


@pytest.fixture
def eva(client, telecom):
    client.force_login(telecom)
    return telecom


@pytest.fixture
def assignments(telecom_org, school_board_org):
    return [
        ConnectivityAssignmentFactory(
            provider=telecom_org, help_request__organisation=school_board_org
        )
        for _ in range(3)
    ]


@pytest.fixture
def small_threshold(settings):
    settings.TELECOM_BACKGROUND_ROWS = 2  # these test files fill in three lines


def filled_file(client, assignments, *, until=None):
    until = until or in_days(90).strftime("%d-%m-%Y")
    rows = filled(download(client), {a.reference: ("2", "0", until) for a in assignments})
    return csv_file(rows)


def statuses(assignments):
    return {ConnectivityAssignment.objects.get(pk=a.pk).status for a in assignments}


def test_a_large_file_is_kept_and_the_request_records_nothing_itself(
    client, eva, assignments, small_threshold, django_capture_on_commit_callbacks
):
    # The job is queued on commit; not running the callbacks shows what the request did alone.
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = upload(client, filled_file(client, assignments))
    job = ProvisionUpload.objects.get()
    assert response.status_code == 302
    assert response.url == reverse(JOB, args=[job.pk])
    assert job.status == ProvisionUpload.Status.QUEUED and job.file
    assert statuses(assignments) == {ConnectivityAssignment.Status.ASSIGNED}
    assert len(queued) == 1
    page = client.get(response.url)
    assert "in de wachtrij" in page.content.decode().lower()
    assert '<meta http-equiv="refresh"' in page.content.decode()


def test_the_job_records_the_whole_file_and_its_page_says_so(
    client, eva, assignments, small_threshold, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, filled_file(client, assignments))
    job = ProvisionUpload.objects.get()
    assert job.status == ProvisionUpload.Status.DONE
    assert (job.fulfilled, job.unchanged) == (3, 0)
    assert job.started_at and job.finished_at
    assert not job.file  # addresses and phone numbers are not kept once read
    assert statuses(assignments) == {ConnectivityAssignment.Status.FULFILLED}
    page = client.get(response.url).content.decode()
    assert "3 opdrachten zijn gemarkeerd als geleverd." in page
    assert '<meta http-equiv="refresh"' not in page


def test_a_large_file_with_bad_values_is_refused_at_once_without_a_job(
    client, eva, assignments, small_threshold
):
    past = (timezone.localdate() - datetime.timedelta(days=3)).strftime("%d-%m-%Y")
    response = upload(client, filled_file(client, assignments, until=past))
    assert response.status_code == 200
    assert "Deze datum ligt in het verleden." in response.content.decode()
    assert not ProvisionUpload.objects.exists()
    assert statuses(assignments) == {ConnectivityAssignment.Status.ASSIGNED}


def test_when_the_job_finds_a_line_it_cannot_record_nothing_changes_and_its_page_says_where(
    client, eva, coordinator, assignments, small_threshold, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = upload(client, filled_file(client, assignments))
    job = ProvisionUpload.objects.get()
    # Between the upload and the job, a coordinator withdraws the second assignment.
    connectivity.connectivity_withdraw(assignments[1], by=coordinator, reason="Niet meer nodig")
    assert provision_uploads.provision_upload_run(job.pk).status == "failed"
    job.refresh_from_db()
    assert job.total_errors == 1
    assert job.errors[0]["row"] == 3 and job.errors[0]["column"].startswith("A")
    assert statuses([assignments[0], assignments[2]]) == {ConnectivityAssignment.Status.ASSIGNED}
    assert not job.file
    page = client.get(response.url).content.decode()
    assert "Er is niets veranderd" in page and "ingetrokken" in page


def test_a_small_file_is_still_recorded_at_once(client, eva, assignments):
    response = upload(client, filled_file(client, assignments))
    assert response.url == reverse("helprequests:telecom_dashboard")
    assert not ProvisionUpload.objects.exists()
    assert statuses(assignments) == {ConnectivityAssignment.Status.FULFILLED}


def test_the_job_page_is_the_providers_own(client, telecom_org, telecom, school_board):
    job = ProvisionUpload.objects.create(provider=telecom_org, file_name="opdrachten.csv")
    url = reverse(JOB, args=[job.pk])
    assert client.get(url).url.startswith(reverse("account_login"))
    other = TelecomFactory(name="Bob Mobiel BV")
    from tests.factories import member_of

    client.force_login(member_of(other))
    assert client.get(url).status_code == 404
    client.force_login(school_board)
    assert client.get(url).status_code == 403
    client.force_login(telecom)
    assert client.get(url).status_code == 200


def test_queued_while_the_broker_is_down_it_is_picked_up_later(
    client, eva, assignments, small_threshold, django_capture_on_commit_callbacks
):
    with broker_at("redis://127.0.0.1:1/0"), django_capture_on_commit_callbacks(execute=True):
        response = upload(client, filled_file(client, assignments))
    assert response.status_code == 302  # the upload itself is not an error
    job = ProvisionUpload.objects.get()
    assert job.status == ProvisionUpload.Status.QUEUED
    # Too soon: nothing is queued again.
    assert provision_uploads.provision_uploads_requeue() == 0
    ProvisionUpload.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=6))
    assert provision_uploads.provision_uploads_requeue() == 1
    job.refresh_from_db()
    assert job.status == ProvisionUpload.Status.DONE
    assert statuses(assignments) == {ConnectivityAssignment.Status.FULFILLED}


def test_a_running_job_is_not_run_twice_but_one_whose_worker_vanished_is(
    client, eva, assignments, small_threshold, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        upload(client, filled_file(client, assignments))
    job = ProvisionUpload.objects.get()
    ProvisionUpload.objects.update(
        status=ProvisionUpload.Status.CHECKING, started_at=timezone.now()
    )
    assert provision_uploads.provision_upload_run(job.pk).status == "checking"
    assert provision_uploads.provision_uploads_requeue() == 0
    assert statuses(assignments) == {ConnectivityAssignment.Status.ASSIGNED}
    long_ago = timezone.now() - ProvisionUpload.stale_after() - datetime.timedelta(seconds=1)
    ProvisionUpload.objects.update(started_at=long_ago)
    assert provision_uploads.provision_uploads_requeue() == 1
    job.refresh_from_db()
    assert job.status == ProvisionUpload.Status.DONE
    # Run once more (a task delivered twice): nothing changes, nothing is sent again.
    assert provision_uploads.provision_upload_run(job.pk).status == "done"
    assert statuses(assignments) == {ConnectivityAssignment.Status.FULFILLED}


def test_coordinators_see_the_jobs_in_the_admin_without_the_file(client, coordinator, telecom_org):
    ProvisionUpload.objects.create(
        provider=telecom_org, file_name="opdrachten-week-49.csv", status="failed", total_errors=4
    )
    client.force_login(coordinator)
    page = client.get(reverse("admin:helprequests_provisionupload_changelist"))
    assert page.status_code == 200
    assert "opdrachten-week-49.csv" in page.content.decode()
