"""Password rules: 12 characters, not common, not like the user, no repeats or keyboard runs."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from allemaal.models import User
from tests.factories import UserFactory


def _messages(password, user=None):
    with translation.override("nl"):
        try:
            validate_password(password, user)
        except ValidationError as exc:
            return list(exc.messages)
    return []


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaaaaaa",
        "AAAAAAAAAAAAAAA",
        "abababababab",
        "qwertyuiopas",
        "QWERTYUIOPASDF",
        "123456789012",
        "210987654321",
        "azertyuiopqsd",
        "lkjhgfdsapoiu",
        "abcdefghijklm",
    ],
)
def test_repeats_and_keyboard_runs_are_refused_in_dutch(db, password):
    messages = _messages(password)
    assert messages
    assert any("herhaalt steeds hetzelfde teken" in m or "rij toetsen" in m for m in messages)


def test_eleven_characters_are_too_short_in_dutch(db):
    assert any("minstens 12 tekens" in m for m in _messages("Zomer-Fiets7"[:11]))


def test_a_common_password_is_refused(db):
    assert any("te algemeen" in m for m in _messages("password1234"))


def test_a_password_like_the_users_address_is_refused(db):
    user = User(email="marieke.janssen@example.org")
    assert any("lijkt te veel" in m for m in _messages("marieke.janssen", user))


@pytest.mark.parametrize(
    "password",
    ["correct paard batterij", "483920175638", "zonnebloemveld", "Fietsen naar Zwolle"],
)
def test_long_passwords_need_no_digits_capitals_or_symbols(db, password):
    assert _messages(password) == []


def test_sign_up_shows_the_rule_beside_the_field_and_creates_nobody(client, db):
    response = client.post(
        reverse("account_signup"),
        {"email": "nieuw@example.org", "password1": "qwertyuiopas", "password2": "qwertyuiopas"},
    )
    assert response.status_code == 200
    assert "rij toetsen op het toetsenbord" in response.content.decode()
    assert not User.objects.filter(email="nieuw@example.org").exists()


def test_changing_a_password_follows_the_same_rules(client, db):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": "Correct-Paard-Batterij-9",
            "password1": "aaaaaaaaaaaa",
            "password2": "aaaaaaaaaaaa",
        },
    )
    assert response.status_code == 200
    assert "herhaalt steeds hetzelfde teken" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("Correct-Paard-Batterij-9")
