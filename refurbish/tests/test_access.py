"""Who may open what: anonymous users log in first; another refurbisher's data is a 404."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from refurbish import services

from .factories import ErasureRecordFactory, device_in


@pytest.fixture
def urls(donation):
    device = device_in(donation, "received")
    record = ErasureRecordFactory(device=device)
    return {
        "get": [
            reverse("refurbish:dashboard"),
            reverse("refurbish:donation", args=[donation.pk]),
            reverse("refurbish:intake", args=[donation.pk]),
            reverse("refurbish:devices"),
            reverse("refurbish:device", args=[device.pk]),
            reverse("refurbish:device_find") + "?q=X",
            reverse("refurbish:labels") + f"?device={device.pk}",
            reverse("refurbish:log_upload"),
            reverse("refurbish:station_tokens"),
            reverse("refurbish:erasure_evidence", args=[record.pk]),
            reverse("refurbish:certificate", args=[donation.pk]),
        ],
        "post": [
            reverse("refurbish:donation", args=[donation.pk]),
            reverse("refurbish:intake", args=[donation.pk]),
            reverse("refurbish:device_erasure", args=[device.pk]),
            reverse("refurbish:device_log", args=[device.pk]),
            reverse("refurbish:device_inspection", args=[device.pk]),
            reverse("refurbish:device_recycle", args=[device.pk]),
            reverse("refurbish:labels"),
            reverse("refurbish:log_upload"),
            reverse("refurbish:station_tokens"),
        ],
        "device": device,
    }


def test_anonymous_users_are_sent_to_log_in_everywhere(client, urls):
    for url in urls["get"]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url, url
    for url in urls["post"]:
        response = client.post(url, {"serial": "X"})
        assert response.status_code == 302 and "/accounts/login/" in response.url, url


def test_another_refurbisher_gets_404_for_every_page_of_this_donation(
    client, urls, other_refurbisher
):
    client.force_login(other_refurbisher)
    own_pages = {
        reverse("refurbish:dashboard"),
        reverse("refurbish:devices"),
        reverse("refurbish:log_upload"),
        reverse("refurbish:station_tokens"),
    }
    for url in urls["get"]:
        status = client.get(url).status_code
        assert status == (200 if url in own_pages else 404), url
    for url in urls["post"]:
        if url not in own_pages:
            assert client.post(url, {"serial": "X", "device": urls["device"].pk}).status_code == 404
    urls["device"].refresh_from_db()
    assert urls["device"].state == "received"


def test_the_public_verify_page_needs_no_log_in(client, db):
    assert client.get(reverse("refurbish:certificate_lookup")).status_code == 200


def test_the_donation_page_takes_constant_queries(client, donation, refurbisher):
    client.force_login(refurbisher)
    url = reverse("refurbish:donation", args=[donation.pk])
    with CaptureQueriesContext(connection) as three:
        client.get(url)
    for _ in range(17):
        device_in(donation, "received")
    # session, user, membership, donation with donor and certificate, page count, devices
    # with their latest erasure and test, context processor.
    with CaptureQueriesContext(connection) as twenty:
        page = client.get(url).content.decode()
    assert len(twenty) == len(three)
    assert page.count('name="device"') == 20


def test_the_token_page_takes_constant_queries(client, refurbisher, refurbisher_org):
    client.force_login(refurbisher)
    url = reverse("refurbish:station_tokens")
    for n in range(2):
        services.station_token_create(organisation=refurbisher_org, name=f"S{n}", by=refurbisher)
    with CaptureQueriesContext(connection) as two:
        client.get(url)
    for n in range(18):
        services.station_token_create(organisation=refurbisher_org, name=f"T{n}", by=refurbisher)
    # session, user, membership, tokens.
    with CaptureQueriesContext(connection) as twenty:
        client.get(url)
    assert len(twenty) == len(two)
