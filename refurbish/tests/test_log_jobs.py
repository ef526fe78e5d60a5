"""A large upload of nwipe logs goes to a background job with its progress on a page (issue 17):
the request only stores the files; the job records every log, each all or nothing."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from allemaal.tests.test_notifications import broker_at
from refurbish import tasks
from refurbish.models import ErasureLogImport, ErasureRecord
from refurbish.services import log_jobs

from .factories import device_in, received_donation, zip_of
from .test_erasure_evidence import shredos_log

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def sixty_logs(refurbisher_org, donor_org):
    """A zip of 60 ShredOS logs, one per received laptop (more than the 50 a request parses)."""
    donation = received_donation(refurbisher_org, donor=donor_org, laptops=60)
    files = {}
    for number in range(60):
        serial = f"5CG{number:07d}"
        device_in(donation, "received", serial_number=serial)
        files[f"logs/{serial}.log"] = shredos_log(
            system_serial=serial,
            drives=(("sda", "WDC WD5000LPVX-22V0TT0", f"WX{number:010d}", "Erased", 0),),
        )
    return zip_of(files)


def upload(client, content: bytes, name: str = "logs.zip"):
    return client.post(
        reverse("refurbish:log_upload"), {"logs": [SimpleUploadedFile(name, content)]}
    )


def test_a_large_zip_returns_at_once_with_a_job_page(
    client, refurbisher, sixty_logs, django_capture_on_commit_callbacks
):
    client.force_login(refurbisher)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        started = time.perf_counter()
        response = upload(client, sixty_logs)
        elapsed = time.perf_counter() - started

    job = ErasureLogImport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("refurbish:log_job", args=[job.pk])
    assert elapsed < 2 and len(queued) == 1
    assert not ErasureRecord.objects.exists()  # nothing parsed in the request
    assert (job.status, job.logs_total) == ("queued", 60)
    page = client.get(response.url).content.decode()
    assert "0 van 60 logs verwerkt" in page and 'http-equiv="refresh"' in page


def test_the_job_records_every_log_and_shows_the_results(
    client, refurbisher, sixty_logs, django_capture_on_commit_callbacks
):
    client.force_login(refurbisher)
    with django_capture_on_commit_callbacks(execute=True):  # in-process, as without a broker
        response = upload(client, sixty_logs)

    job = ErasureLogImport.objects.get()
    assert (job.status, job.logs_done, job.files) == ("done", 60, [])
    assert ErasureRecord.objects.filter(result="passed").count() == 60
    assert {r["status"] for r in job.results} == {"erased"}
    page = client.get(response.url).content.decode()
    assert "60 van 60 logs verwerkt" in page and "5CG0000059" in page
    assert 'http-equiv="refresh"' not in page

    assert tasks.erasure_log_job_run.apply(args=[job.pk]).get() == "done"  # idempotent
    assert ErasureRecord.objects.count() == 60


def test_many_small_files_go_to_the_job_too(
    client, refurbisher, refurbisher_org, donor_org, settings, django_capture_on_commit_callbacks
):
    settings.ERASURE_LOG_BACKGROUND_FILES = 2
    donation = received_donation(refurbisher_org, donor=donor_org, laptops=3)
    logs = []
    for serial in ("PF0A", "PF0B", "PF0C"):
        device_in(donation, "received", serial_number=serial)
        logs.append(SimpleUploadedFile(f"{serial}.log", shredos_log(system_serial=serial)))
    client.force_login(refurbisher)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("refurbish:log_upload"), {"logs": logs})

    job = ErasureLogImport.objects.get()
    assert response.status_code == 302 and job.logs_total == 3
    log_jobs.erasure_log_job_run(job.pk)
    job.refresh_from_db()
    # The same drive serial in each log: recorded, flagged as seen in another machine.
    assert [r["status"] for r in job.results] == ["erased", "erased", "erased"]
    assert "eerder gewist als deel van apparaat" in job.results[2]["reason"]


def test_a_small_upload_is_still_answered_in_the_request(
    client, refurbisher, refurbisher_org, donor_org
):
    device_in(
        received_donation(refurbisher_org, donor=donor_org), "received", serial_number="5CG1234ABC"
    )
    client.force_login(refurbisher)

    response = upload(client, shredos_log(), name="hp.log")

    assert response.status_code == 200 and "Vastgelegd: gewist" in response.content.decode()
    assert not ErasureLogImport.objects.exists()


def test_with_the_broker_down_the_job_stays_queued_with_a_message_and_is_resumed(
    client, refurbisher, sixty_logs, django_capture_on_commit_callbacks
):
    client.force_login(refurbisher)
    with broker_at(DEAD_REDIS), django_capture_on_commit_callbacks(execute=True):
        response = upload(client, sixty_logs)

    job = ErasureLogImport.objects.get()
    assert response.status_code == 302
    assert job.status == "queued" and job.queue_failed_at is not None
    page = client.get(response.url).content.decode()
    assert "niet bereikbaar" in page and "Uw logs zijn bewaard" in page

    ErasureLogImport.objects.filter(pk=job.pk).update(created_at=job.created_at.replace(year=2020))
    assert tasks.resume_erasure_log_jobs.apply().get() == 1  # the beat task, broker back
    job.refresh_from_db()
    assert job.status == "done" and ErasureRecord.objects.count() == 60


def test_only_the_uploading_refurbisher_sees_the_job(
    client, refurbisher, other_refurbisher, sixty_logs, django_capture_on_commit_callbacks
):
    client.force_login(refurbisher)
    with django_capture_on_commit_callbacks(execute=False):
        url = upload(client, sixty_logs).url
    client.logout()

    assert client.get(url).status_code == 302  # anonymous: to the login page
    client.force_login(other_refurbisher)
    assert client.get(url).status_code == 404
    client.force_login(refurbisher)
    assert client.get(url).status_code == 200
