"""The wiping stations' endpoint and the API tokens behind it."""

import pytest
from django.urls import reverse

from allemaal.services import DomainError
from donations.models import Device
from refurbish import services
from refurbish.models import ErasureRecord, StationToken
from tests.factories import member_of

from .factories import LOGS

URL = "/opknappen/api/wislogs/"


def read(name: str) -> bytes:
    return (LOGS / name).read_bytes()


@pytest.fixture
def token(refurbisher, refurbisher_org):
    _token, raw = services.station_token_create(
        organisation=refurbisher_org, name="Wisstation 1", by=refurbisher
    )
    return raw


@pytest.fixture
def received(donation):
    Device.objects.filter(donation=donation).update(state="received")


def post(client, raw, body, **headers):
    return client.generic(
        "POST",
        URL,
        body,
        content_type="text/plain",
        headers={"Authorization": f"Bearer {raw}", **headers},
    )


def test_the_url_is_stable():
    assert reverse("refurbish:api_erasure_logs") == URL


def test_a_station_posts_a_log_and_hears_what_was_recorded(client, token, received):
    response = post(client, token, read("erased_two_drives.log"), **{"X-Filename": "hp.log"})

    assert response.status_code == 201
    body = response.json()
    assert body["recorded"] == 1 and body["refused"] == 0
    [result] = body["results"]
    assert result["status"] == "erased" and result["file"] == "hp.log"
    assert result["device"]["serial_number"] == "5CG8341XYZ"
    assert result["device"]["state"] == "erased"
    assert [d["serial"] for d in result["drives"]] == ["WDEBXY12", "S41GNX1K608123"]
    record = ErasureRecord.objects.get()
    assert (record.source, record.operator, record.operator_name) == ("api", None, "Wisstation 1")
    event = Device.objects.get(serial_number="5CG8341XYZ").events.latest("id")
    assert event.to_state == "erased" and event.by is None


def test_a_failed_log_is_recorded_and_said_so(client, token, received):
    response = post(client, token, read("one_drive_failed.log"))
    assert response.status_code == 201
    assert response.json()["results"][0]["status"] == "failed"


def test_a_resent_log_is_recorded_once(client, token, received):
    post(client, token, read("erased_one_drive.log"))
    response = post(client, token, read("erased_one_drive.log"))
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "duplicate"
    assert ErasureRecord.objects.count() == 1


def test_a_log_that_is_not_nwipe_or_matches_nothing_is_refused(client, token, received):
    for name in ("not_a_log_plain_text.txt", "unknown_serial.log"):
        response = post(client, token, read(name))
        assert response.status_code == 422
        assert response.json()["results"][0]["status"] == "refused"
    assert ErasureRecord.objects.count() == 0


def test_an_empty_body_is_refused(client, token):
    assert post(client, token, b"").status_code == 400


def test_a_multipart_upload_is_handled_like_the_upload_page(client, token, received):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        URL,
        {"log": [SimpleUploadedFile("a.log", read("erased_one_drive.log"))]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201


def test_a_token_of_another_refurbisher_cannot_record_this_refurbishers_devices(
    client, received, other_refurbisher, other_refurbisher_org
):
    _token, raw = services.station_token_create(
        organisation=other_refurbisher_org, name="B", by=other_refurbisher
    )
    response = post(client, raw, read("erased_one_drive.log"))
    assert response.status_code == 422
    assert "Geen apparaat van uw organisatie" in response.json()["results"][0]["reason"]
    assert Device.objects.get(serial_number="PF0XK2LM").state == "received"
    assert ErasureRecord.objects.count() == 0


@pytest.mark.parametrize("header", ["", "Bearer ", "Bearer adw_nonsense", "Basic abc"])
def test_a_missing_or_unknown_token_is_refused(client, received, header):
    response = client.generic(
        "POST", URL, read("erased_one_drive.log"), headers={"Authorization": header}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert ErasureRecord.objects.count() == 0


def test_a_revoked_token_is_refused(client, token, refurbisher, received):
    services.station_token_revoke(StationToken.objects.get(), by=refurbisher)
    assert post(client, token, read("erased_one_drive.log")).status_code == 401


def test_a_token_of_an_organisation_no_longer_verified_is_refused(
    client, token, refurbisher_org, received
):
    refurbisher_org.status = "rejected"
    refurbisher_org.save(update_fields=["status"])
    assert post(client, token, read("erased_one_drive.log")).status_code == 401


def test_only_post_is_allowed(client, token):
    assert client.get(URL, headers={"Authorization": f"Bearer {token}"}).status_code == 405


def test_the_endpoint_needs_no_csrf_token_but_a_session_alone_is_not_enough(refurbisher, received):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(refurbisher)
    response = client.generic("POST", URL, read("erased_one_drive.log"))
    assert response.status_code == 401


# --- tokens ----------------------------------------------------------------------------------


def test_tokens_are_stored_hashed_and_shown_once(client, refurbisher, refurbisher_org):
    client.force_login(refurbisher)
    response = client.post(reverse("refurbish:station_tokens"), {"name": "Wisstation 2"})
    page = response.content.decode()
    token = StationToken.objects.get()
    raw = response.context["new_token"]
    assert raw.startswith("adw_") and raw in page
    assert token.token_hash != raw and raw not in token.token_hash
    assert token.prefix == raw[:8]
    assert raw not in client.get(reverse("refurbish:station_tokens")).content.decode()


def test_a_member_who_is_not_admin_cannot_manage_tokens(client, refurbisher_org):
    member = member_of(refurbisher_org, role="member")
    client.force_login(member)
    assert client.get(reverse("refurbish:station_tokens")).status_code == 403
    with pytest.raises(DomainError):
        services.station_token_create(organisation=refurbisher_org, name="X", by=member)


def test_the_admin_revokes_a_token(client, refurbisher, token):
    client.force_login(refurbisher)
    stored = StationToken.objects.get()
    response = client.post(reverse("refurbish:station_token_revoke", args=[stored.pk]))
    assert response.status_code == 302
    stored.refresh_from_db()
    assert stored.revoked_at is not None and stored.revoked_by == refurbisher
    assert services.station_token_authenticate(token) is None


def test_another_refurbisher_cannot_revoke_a_token(client, token, other_refurbisher):
    client.force_login(other_refurbisher)
    stored = StationToken.objects.get()
    response = client.post(reverse("refurbish:station_token_revoke", args=[stored.pk]))
    assert response.status_code == 404
    stored.refresh_from_db()
    assert stored.revoked_at is None


def test_a_token_needs_a_name(client, refurbisher):
    client.force_login(refurbisher)
    response = client.post(reverse("refurbish:station_tokens"), {"name": "  "})
    assert "Dit veld is verplicht" in response.content.decode()
    assert StationToken.objects.count() == 0
