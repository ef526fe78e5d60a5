"""Free text (issue 18): the notice beside each field, a cap on its length, and a check before
saving that warns about what looks like personal data, and lets the writer save once checked."""

import pytest
from django.urls import reverse

from allemaal.privacy import FREE_TEXT_NOTICE, personal_data_hints
from helprequests.models import HelpRequest
from helprequests.tests.test_views import valid_form


@pytest.mark.parametrize(
    "text, found",
    [
        ("Voor Jan Jansen uit groep 7.", "een naam"),
        ("Ook Fatima el Amrani heeft niets.", "een naam"),
        ("Mail naar moeder@voorbeeld.nl als het komt.", "een e-mailadres"),
        ("Bel 06 12345678 voor de bezorging.", "een telefoonnummer"),
        ("Bel +31 6 1234 5678.", "een telefoonnummer"),
        ("BSN 111222333 van de leerling.", "BSN"),
        ("BSN 1112.22.333 van de leerling.", "BSN"),
    ],
)
def test_the_detector_sees_what_looks_personal(text, found):
    assert any(found in str(h) for h in personal_data_hints(text))


@pytest.mark.parametrize(
    "text",
    [
        "Veel leerlingen hebben thuis geen laptop.",
        "Dertig gezinnen in Tiel wachten op een apparaat; 12 met kinderen in groep 8.",
        "Leerlingen van De Regenboog en De Wegwijzer.",  # school names after 'van'/'De' only
        "Bestelnummer 123456789 van de leverancier.",  # nine digits, not a valid BSN
    ],
)
def test_ordinary_text_passes(text):
    assert personal_data_hints(text) == []


def test_the_form_shows_the_notice_and_caps_the_length(client, school_board):
    client.force_login(school_board)
    page = client.get(reverse("helprequests:create")).content.decode()
    assert str(FREE_TEXT_NOTICE) in page
    response = client.post(reverse("helprequests:create"), valid_form(motivation="x" * 2001))
    assert response.status_code == 200
    assert not HelpRequest.objects.exists()


def test_a_name_gets_a_warning_beside_the_field_and_saves_once_checked(client, school_board):
    client.force_login(school_board)
    data = valid_form(motivation="Vooral voor Jan Jansen uit groep 7.")
    response = client.post(reverse("helprequests:create"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Kijk dit nog even na: er staat iets dat op een naam lijkt in." in page
    assert 'name="motivation_nagekeken"' in page
    assert not HelpRequest.objects.exists()  # a warning: nothing saved yet

    response = client.post(reverse("helprequests:create"), {**data, "motivation_nagekeken": "1"})
    assert response.status_code == 302
    assert HelpRequest.objects.get().motivation == "Vooral voor Jan Jansen uit groep 7."
