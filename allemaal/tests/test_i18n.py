"""Dutch first, English beside it: the committed catalogues are complete and compiled."""

import gettext
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
# Every app of ours (the installed apps that live in this checkout), and the templates.
SOURCES = [
    *(app for app in settings.INSTALLED_APPS if "." not in app and (ROOT / app).is_dir()),
    "templates",
]
needs_gettext = pytest.mark.skipif(
    not (shutil.which("msgfmt") and shutil.which("xgettext")), reason="needs GNU gettext"
)


def test_english_works_from_the_committed_compiled_catalogue():
    with translation.override("en"):
        assert translation.gettext("Organisatie aanmelden") != "Organisatie aanmelden"


def test_the_site_switches_language(client, db):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get("/").content.decode()
    assert '<html lang="en">' in page
    client.post(reverse("set_language"), {"language": "nl", "next": "/"})
    assert '<html lang="nl">' in client.get("/").content.decode()


@needs_gettext
def test_every_string_in_the_code_has_an_english_translation(tmp_path):
    """Extract the strings anew from a copy of the sources and require them all translated."""
    for name in SOURCES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("tests"))
    shutil.copy(ROOT / "manage.py", tmp_path)
    shutil.copytree(ROOT / "locale", tmp_path / "locale")
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-obsolete"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    po = tmp_path / "locale/en/LC_MESSAGES/django.po"
    stats = subprocess.run(
        ["msgfmt", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    assert "untranslated" not in stats and "fuzzy" not in stats, (
        f"{stats.strip()}: run `make messages` and translate locale/en/LC_MESSAGES/django.po"
    )


@needs_gettext
@pytest.mark.parametrize("language", ["en", "nl"])
def test_the_committed_mo_file_matches_its_po_file(tmp_path, language):
    folder = ROOT / "locale" / language / "LC_MESSAGES"
    subprocess.run(
        ["msgfmt", "-o", str(tmp_path / "fresh.mo"), str(folder / "django.po")], check=True
    )
    with (tmp_path / "fresh.mo").open("rb") as fresh, (folder / "django.mo").open("rb") as kept:
        assert gettext.GNUTranslations(fresh)._catalog == gettext.GNUTranslations(kept)._catalog


@pytest.mark.parametrize(
    "english, dutch",
    [
        (
            "Your account is protected by two-factor authentication. Please enter an "
            "authenticator code:",
            "Uw account is beveiligd met tweestapsverificatie. Vul de code uit uw "
            "authenticator-app in:",
        ),
        ("Are you sure?", "Weet u het zeker?"),
        ("Your password has been changed.", "Uw wachtwoord is veranderd."),
    ],
)
def test_allauths_own_pages_say_u_like_the_site(english, dutch):
    with translation.override("nl"):
        assert translation.gettext(english) == dutch


def test_no_allauth_string_on_the_two_step_pages_says_je(client, db):
    from tests.factories import PASSWORD, staff_user

    user = staff_user("coordinators")
    client.post(reverse("set_language"), {"language": "nl", "next": "/"})
    page = client.post(
        reverse("account_login"), {"login": user.email, "password": PASSWORD}, follow=True
    ).content.decode()
    assert "Uw account is beveiligd met tweestapsverificatie" in page
    assert "Je account" not in page
