"""The hostile telecom CSV uploads of issue #17: each is refused clearly and fast, no 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from allemaal.tests import hostile
from helprequests.models import ConnectivityAssignment

from .factories import ConnectivityAssignmentFactory, HelpRequestFactory

pytestmark = pytest.mark.django_db

UPLOAD = "helprequests:telecom_upload"
HEADER = b"opdracht;simkaarten;mobiele hotspots;databundel loopt af op;uw opmerking\n"


@pytest.fixture
def eva(client, telecom):
    client.force_login(telecom)
    upload(client, "warm.csv", b"x")  # imports and templates, once
    return telecom


@pytest.fixture
def mine(telecom_org, school_board_org):
    request = HelpRequestFactory(
        organisation=school_board_org, approved=True, connectivity_households=6
    )
    return ConnectivityAssignmentFactory(help_request=request, provider=telecom_org, households=4)


def upload(client, name, content):
    return client.post(reverse(UPLOAD), {"file": SimpleUploadedFile(name, content)})


def refusal(response) -> str:
    assert response.status_code == 200
    assert not ConnectivityAssignment.objects.filter(
        status=ConnectivityAssignment.Status.FULFILLED
    ).exists()
    return " ".join(str(error) for error in response.context["failure"].errors)


@pytest.mark.parametrize(
    ("name", "make", "words"),
    [
        ("veld.csv", lambda: HEADER + b'1;"' + b"A" * 131_073 + b'"\n', ["Rij 2", "te lang"]),
        ("regel.csv", lambda: HEADER + b"1;" * 900_000, ["Rij 2", "te lang"]),
        ("nul.csv", lambda: hostile.csv_nul_late(HEADER), ["Rij 401", "NUL"]),
        ("plaatje.csv", hostile.png_bytes, ["geen CSV-bestand"]),
        ("pagina.csv", hostile.html_bytes, ["webpagina"]),
    ],
)
def test_a_hostile_telecom_csv_is_refused_within_the_limits(client, eva, mine, name, make, words):
    content = make()
    with hostile.within_limits():
        response = upload(client, name, content)
    text = refusal(response)
    for word in words:
        assert word in text


def test_a_note_that_is_a_formula_behind_a_line_break_is_refused(client, eva, mine):
    content = HEADER + f'{mine.reference};2;0;31-12-2099;"\n=2+2"\n'.encode()
    text = refusal(upload(client, "opdrachten.csv", content))
    assert "Rij 2, kolom E (uw opmerking)" in text and "formule" in text


def test_a_request_over_the_maximum_is_413(client, eva):
    response = client.generic(
        "POST",
        reverse(UPLOAD),
        b"--x--",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(10 * hostile.MB),
    )
    assert response.status_code == 413
    assert "Het maximum is 2 MB" in response.content.decode()
