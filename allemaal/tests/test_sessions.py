"""Session lifetimes (with time travel) and the log-outs that end a user's other sessions."""

import time
from datetime import timedelta

import pytest
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory, staff_user


class Clock:
    """Moves `django.utils.timezone.now` forward; everything that asks it travels along."""

    def __init__(self, monkeypatch):
        self.offset = timedelta()
        real_now = timezone.now

        monkeypatch.setattr(timezone, "now", lambda: real_now() + self.offset)

    def advance(self, **kwargs):
        self.offset += timedelta(**kwargs)


@pytest.fixture(autouse=True, params=["django.contrib.sessions.backends.db", "allemaal.sessions"])
def session_engine(request, settings):
    """Every rule holds with sessions in the database and with them cached (Redis in
    production: allemaal.sessions over the default cache)."""
    settings.SESSION_ENGINE = request.param
    return request.param


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def _logged_in(response) -> bool:
    return response.wsgi_request.user.is_authenticated


def _log_in(user) -> Client:
    client = Client()
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


@pytest.fixture
def member(donor):
    return donor


def test_an_organisation_user_stays_in_after_an_idle_hour_and_a_half(client, member, clock):
    client.force_login(member)
    clock.advance(minutes=110)
    assert _logged_in(client.get(reverse("organisation_detail")))


def test_an_organisation_user_is_logged_out_after_two_idle_hours(client, member, clock):
    client.force_login(member)
    clock.advance(minutes=121)
    response = client.get(reverse("organisation_detail"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert not _logged_in(client.get(reverse("organisation_detail")))


def test_staff_are_logged_out_after_thirty_idle_minutes(client, clock, db):
    agent = staff_user("helpdesk")
    client.force_login(agent)
    clock.advance(minutes=29)
    assert _logged_in(client.get(reverse("home")))
    clock.advance(minutes=29)  # active 29 minutes ago: still in
    assert _logged_in(client.get(reverse("home")))
    clock.advance(minutes=31)
    response = client.get(reverse("home"), follow=True)
    assert not response.wsgi_request.user.is_authenticated
    assert "U was te lang niet actief" in response.content.decode()


def test_any_session_ends_twelve_hours_after_its_log_in(client, member, clock):
    client.force_login(member)
    for _hour in range(7):  # active every 100 minutes: never idle, 11 h 40 in all
        clock.advance(minutes=100)
        assert _logged_in(client.get(reverse("organisation_detail")))
    clock.advance(minutes=21)
    assert not _logged_in(client.get(reverse("organisation_detail")))


def test_the_timeouts_are_settings(client, member, clock, settings):
    settings.SESSION_IDLE_MINUTES = 10
    client.force_login(member)
    clock.advance(minutes=11)
    assert not _logged_in(client.get(reverse("organisation_detail")))


def test_a_deactivated_user_is_out_at_the_next_request(client, member):
    client.force_login(member)
    key = client.session.session_key
    member.is_active = False
    member.save(update_fields=["is_active"])
    response = client.get(reverse("organisation_detail"))
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()


def test_logging_out_ends_the_users_other_sessions(member, outsider):
    laptop, phone = _log_in(member), _log_in(member)
    bystander = _log_in(outsider)
    assert UserSession.objects.filter(user=member).count() == 2
    laptop.post(reverse("account_logout"))
    assert not _logged_in(phone.get(reverse("organisation_detail")))
    assert not UserSession.objects.filter(user=member).exists()
    assert _logged_in(bystander.get(reverse("dashboard")))


def test_changing_the_password_ends_the_other_sessions_but_not_this_one(member):
    laptop, phone = _log_in(member), _log_in(member)
    new = "Zeven-Zwanen-Zwemmen-Zuid"
    response = laptop.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
    )
    assert response.status_code == 302
    assert _logged_in(laptop.get(reverse("organisation_detail")))
    assert not _logged_in(phone.get(reverse("organisation_detail")))
    assert UserSession.objects.filter(user=member).count() == 1


def test_users_see_and_end_their_own_sessions_from_the_account_page(member):
    laptop, phone = _log_in(member), _log_in(member)
    account = laptop.get(reverse("account_email")).content.decode()
    assert reverse("usersessions_list") in account
    listing = laptop.get(reverse("usersessions_list"))
    assert listing.status_code == 200
    assert len(listing.context["sessions"]) == 2
    laptop.post(reverse("usersessions_list"))
    assert not _logged_in(phone.get(reverse("organisation_detail")))
    assert _logged_in(laptop.get(reverse("organisation_detail")))


def test_a_user_sees_only_their_own_sessions(member):
    _log_in(UserFactory())
    client = _log_in(member)
    assert len(client.get(reverse("usersessions_list")).context["sessions"]) == 1


def test_with_the_cache_a_signed_in_page_reads_no_session_row(member, session_engine):
    client = _log_in(member)
    client.get(reverse("organisation_detail"))
    with CaptureQueriesContext(connection) as queries:
        assert _logged_in(client.get(reverse("organisation_detail")))
    read = [q for q in queries.captured_queries if '"django_session"' in q["sql"]]
    assert len(read) == (0 if session_engine == "allemaal.sessions" else 1)


def test_a_session_stays_in_the_cache_for_a_minute_at_most(member, session_engine, settings):
    from allemaal.sessions import CACHE_SECONDS, SessionStore

    client = _log_in(member)
    client.get(reverse("organisation_detail"))
    if session_engine != "allemaal.sessions":
        return
    key = SessionStore.cache_key_prefix + client.cookies[settings.SESSION_COOKIE_NAME].value
    cache = caches["default"]
    if hasattr(cache, "_expire_info"):  # the local-memory cache (no REDIS_URL)
        seconds_left = cache._expire_info[cache.make_key(key)] - time.time()
    else:  # Redis
        full_key = cache.make_and_validate_key(key)
        seconds_left = cache._cache.get_client(full_key).ttl(full_key)
    assert 0 < seconds_left <= CACHE_SECONDS
