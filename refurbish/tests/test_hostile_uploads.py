"""The hostile nwipe-log uploads of issue #17: each is refused clearly and fast, no 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from allemaal.tests import hostile
from refurbish import services
from refurbish.models import ErasureRecord

from .factories import LOGS, zip_of

pytestmark = pytest.mark.django_db

PAGE = "refurbish:log_upload"
API = "/opknappen/api/wislogs/"


def reasons(response) -> str:
    assert response.status_code == 200
    assert ErasureRecord.objects.count() == 0
    results = response.context["results"]
    assert results and all(r.refused for r in results)
    return " ".join(f"{r.name}: {r.reason}" for r in results)


def post_logs(client, files):
    return client.post(reverse(PAGE), {"logs": files})


@pytest.fixture
def dirk(client, refurbisher):
    client.force_login(refurbisher)
    post_logs(client, [SimpleUploadedFile("warm.log", b"x")])  # imports and templates, once
    return refurbisher


@pytest.mark.parametrize(
    ("name", "make", "words"),
    [
        ("bom.zip", hostile.zip_bomb, ["keer samengeperst", "100 keer"]),
        ("veel.zip", hostile.zip_of_many, ["1.001 bestanden", "maximum is 1.000"]),
        ("pagina.log", hostile.html_bytes, ["webpagina"]),
        ("plaatje.log", hostile.png_bytes, ["PNG"]),
        ("nul.log", hostile.csv_nul_late, ["rij 401", "NUL"]),
    ],
)
def test_a_hostile_log_upload_is_refused_within_the_limits(client, dirk, name, make, words):
    content = make()
    with hostile.within_limits():
        response = post_logs(client, [SimpleUploadedFile(name, content)])
    text = reasons(response)
    for word in words:
        assert word in text


def test_a_zip_holding_a_web_page_as_a_log_is_refused(client, dirk):
    content = zip_of({"a.log": hostile.html_bytes()})
    assert "webpagina" in reasons(post_logs(client, [SimpleUploadedFile("l.zip", content)]))


def test_a_log_whose_serial_or_drive_model_is_a_formula_is_refused(client, dirk):
    text = (LOGS / "erased_one_drive.log").read_text()
    for bad in (
        text.replace("PF0XK2LM", "@PF0XK2LM"),
        text.replace("Samsung SSD 860 E", '=HYPERLINK("x")'),
    ):
        refused = reasons(post_logs(client, [SimpleUploadedFile("f.log", bad.encode())]))
        assert "formule" in refused


def test_1001_files_at_once_are_a_413_with_a_message_not_a_500(client, dirk):
    files = [SimpleUploadedFile(f"{n}.log", b"x") for n in range(1001)]
    response = post_logs(client, files)
    assert response.status_code == 413
    assert "Te veel bestanden tegelijk" in response.content.decode()


def test_a_100_mb_upload_is_refused_before_it_is_read(client, dirk):
    with hostile.within_limits():
        response = client.generic(
            "POST",
            reverse(PAGE),
            b"--x--",
            content_type="multipart/form-data; boundary=x",
            CONTENT_LENGTH=str(100 * hostile.MB),
        )
    assert response.status_code == 413
    assert "Het maximum is 50 MB" in response.content.decode()


@pytest.fixture
def token(refurbisher, refurbisher_org):
    _token, raw = services.station_token_create(
        organisation=refurbisher_org, name="Wisstation 1", by=refurbisher
    )
    return raw


def test_the_station_api_refuses_a_body_over_the_maximum_with_413(client, token):
    response = client.generic(
        "POST",
        API,
        b"x",
        content_type="text/plain",
        headers={"Authorization": f"Bearer {token}"},
        CONTENT_LENGTH=str(21 * hostile.MB),
    )
    assert response.status_code == 413
    assert "20 MB" in response.json()["error"]


def test_the_station_api_refuses_a_zip_bomb_and_html_with_422(client, token):
    for body in (hostile.zip_bomb(), hostile.html_bytes()):
        with hostile.within_limits():
            response = client.generic(
                "POST",
                API,
                body,
                content_type="application/octet-stream",
                headers={"Authorization": f"Bearer {token}"},
            )
        assert response.status_code == 422
        assert response.json()["refused"] == 1
