"""Named personas and shared fixtures for the whole suite.

Personas: coordinator, helpdesk, donor (Alice's company), other_donor (Bob's company),
school_board, refurbisher, telecom, outsider (a logged-in user without organisation).
"""

import os
import shutil
import socket

import pytest
from django.contrib import admin
from django.core.cache import cache

from allemaal.models import Organisation
from config.celery import app as celery_app
from tests.factories import OrganisationFactory, UserFactory, member_of, staff_user

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _redis_available() -> bool:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        return False
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(config, items):
    """Skip service-bound tests with a visible reason where the service is missing."""
    from django.conf import settings

    on_postgres = "postgresql" in settings.DATABASES["default"]["ENGINE"]
    reasons = {
        "postgres": None if on_postgres else "needs PostgreSQL: set DATABASE_URL",
        "redis": None if _redis_available() else "needs Redis: set CELERY_BROKER_URL",
        "browser": None if shutil.which("chromium") else "needs Debian's chromium",
    }
    for item in items:
        for marker, reason in reasons.items():
            # In CI (REQUIRE_SERVICES=1) nothing is skipped: a missing service fails the test.
            if reason and marker in item.keywords and not REQUIRE_SERVICES:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _isolated_run(settings, tmp_path):
    """Run background jobs in-process and keep rate limits and mail per test."""
    celery_app.conf.task_always_eager = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    # Query counts name the session's query: sessions in the database, also where REDIS_URL
    # caches them (CI, production). The cached engine has its own tests (test_sessions.py).
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    cache.clear()
    # The admin's app lists are kept per process for a minute (allemaal.admin_speed).
    getattr(admin.site, "forget_app_lists", dict)()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _force_login_passes_second_factor():
    """`client.force_login` stands for a whole log-in: for a user with a second factor, the
    session records that it was verified, as allauth's log-in does. Tests of a session without
    it pop `MFA_SESSION_KEY` (see allemaal/tests/test_staff_security.py)."""
    from django.contrib.auth.signals import user_logged_in
    from django.http import HttpRequest

    from allemaal.middleware import MFA_SESSION_KEY, has_second_factor

    def mark(sender, request, user, **kwargs):
        if type(request) is HttpRequest and user.is_staff and has_second_factor(user):
            request.session[MFA_SESSION_KEY] = True

    user_logged_in.connect(mark, dispatch_uid="test_force_login_mfa")
    yield
    user_logged_in.disconnect(dispatch_uid="test_force_login_mfa")


@pytest.fixture
def coordinator(db):
    return staff_user("coordinators", email="coordinator@example.org")


@pytest.fixture
def helpdesk(db):
    return staff_user("helpdesk", email="helpdesk@example.org")


@pytest.fixture
def donor_org(db):
    return OrganisationFactory(kind=Organisation.Kind.DONOR, name="Alice Verzekeringen BV")


@pytest.fixture
def donor(donor_org):
    return member_of(donor_org, user__email="alice@alice-verzekeringen.example")


@pytest.fixture
def other_donor_org(db):
    return OrganisationFactory(kind=Organisation.Kind.DONOR, name="Bob Bouw BV")


@pytest.fixture
def other_donor(other_donor_org):
    return member_of(other_donor_org, user__email="bob@bob-bouw.example")


@pytest.fixture
def school_board_org(db):
    return OrganisationFactory(
        kind=Organisation.Kind.REQUESTER,
        sector=Organisation.Sector.SCHOOL_BOARD,
        name="Stichting Carla Scholen",
        brin_code="",
        postcode="4001 AB",
        city="Tiel",
        province="Gelderland",
    )


@pytest.fixture
def school_board(school_board_org):
    return member_of(school_board_org, user__email="carla@carla-scholen.example")


@pytest.fixture
def refurbisher_org(db):
    return OrganisationFactory(kind=Organisation.Kind.REFURBISHER, name="Dirk Opknap ICT BV")


@pytest.fixture
def refurbisher(refurbisher_org):
    return member_of(refurbisher_org, user__email="dirk@dirk-ict.example")


@pytest.fixture
def telecom_org(db):
    return OrganisationFactory(kind=Organisation.Kind.TELECOM, name="Eva Telecom NV")


@pytest.fixture
def telecom(telecom_org):
    return member_of(telecom_org, user__email="eva@eva-telecom.example")


@pytest.fixture
def outsider(db):
    return UserFactory(email="olaf@example.org")
