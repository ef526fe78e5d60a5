"""How long a log-in lasts, and which log-ins end together.

A session ends after SESSION_IDLE_MINUTES_STAFF (staff) or SESSION_IDLE_MINUTES (everyone else)
without a request, and SESSION_MAX_AGE_HOURS after its log-in however active it was. Logging out
or changing the password ends the user's other sessions; a deactivated user's session ends at
its next request. The sessions themselves are listed by allauth.usersessions, which the user
sees and ends on the Account page.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.backends import cached_db
from django.utils import timezone
from django.utils.translation import gettext as _

STARTED_KEY = "allemaal_session_started"
SEEN_KEY = "allemaal_session_seen"
# Last-seen is written at most this often, so a busy page does not save the session each time.
SEEN_RESOLUTION_SECONDS = 60
# How long a session stays in the cache (SESSION_ENGINE with Redis, config/settings.py).
CACHE_SECONDS = 60


def _now() -> float:
    return timezone.now().timestamp()


def idle_limit_seconds(user) -> int:
    minutes = (
        settings.SESSION_IDLE_MINUTES_STAFF if user.is_staff else settings.SESSION_IDLE_MINUTES
    )
    return minutes * 60


def session_mark_login(request) -> None:
    """Start the clocks of a fresh log-in (user_logged_in)."""
    now = _now()
    request.session[STARTED_KEY] = now
    request.session[SEEN_KEY] = now


def sessions_end(user, *, keep=None) -> int:
    """End every tracked session of `user`, except the one with key `keep`; returns how many."""
    from allauth.usersessions.models import UserSession

    ended = 0
    for user_session in UserSession.objects.filter(user_id=user.pk).exclude(session_key=keep):
        user_session.end()
        ended += 1
    return ended


class _MinuteCache:
    """The session cache, each entry kept at most CACHE_SECONDS. The database stays the truth:
    when Redis cannot be reached, a session is read from the database, and a delete that failed
    then (a log-out, an ended session) leaves a stale copy in the cache for a minute at most."""

    def __init__(self, cache):
        self._cache = cache

    def set(self, key, value, timeout=None):
        timeout = CACHE_SECONDS if timeout is None else min(timeout, CACHE_SECONDS)
        return self._cache.set(key, value, timeout)

    def __contains__(self, key):
        return key in self._cache

    def __getattr__(self, name):
        return getattr(self._cache, name)


class SessionStore(cached_db.SessionStore):
    """Django's cached database sessions, cached for a minute at most (`_MinuteCache`)."""

    cache_key_prefix = "allemaal.session."

    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._cache = _MinuteCache(self._cache)


class SessionTimeoutMiddleware:
    """Ends idle and too-old sessions, and those of users who were deactivated since.

    Goes after AuthenticationMiddleware and before anything that acts on `request.user`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            if self._expired(request, user):
                return self._end(request, _("U was te lang niet actief. Log opnieuw in."))
        elif SESSION_KEY in request.session and BACKEND_SESSION_KEY in request.session:
            # The session names a user the backend no longer lets in (deactivated).
            request.session.flush()
        return self.get_response(request)

    @staticmethod
    def _expired(request, user) -> bool:
        session, now = request.session, _now()
        started, seen = session.get(STARTED_KEY), session.get(SEEN_KEY)
        if started is None or seen is None:  # a log-in from before these clocks existed
            session_mark_login(request)
            return False
        if now - started > settings.SESSION_MAX_AGE_HOURS * 3600:
            return True
        if now - seen > idle_limit_seconds(user):
            return True
        if now - seen > SEEN_RESOLUTION_SECONDS:
            session[SEEN_KEY] = now
        return False

    @staticmethod
    def _end(request, message):
        # Not auth.logout(): that is the user's own log-out, which also ends their other
        # sessions; a timeout ends only this one.
        request.session.flush()
        request.user = AnonymousUser()
        messages.info(request, message)
        return redirect_to_login(request.get_full_path() if request.method == "GET" else "/")


def connect_signals() -> None:
    """Called from AllemaalConfig.ready()."""
    from allauth.account import signals as account_signals
    from django.contrib.auth import signals as auth_signals

    def on_login(sender, request=None, user=None, **kwargs):
        if request is not None and hasattr(request, "session"):
            session_mark_login(request)

    def on_logout(sender, request=None, user=None, **kwargs):
        if user is not None and user.pk:
            sessions_end(user)

    def on_new_password(sender, request=None, user=None, **kwargs):
        if user is not None and user.pk:
            sessions_end(user, keep=getattr(getattr(request, "session", None), "session_key", None))

    auth_signals.user_logged_in.connect(on_login, weak=False, dispatch_uid="allemaal_session_login")
    auth_signals.user_logged_out.connect(on_logout, weak=False, dispatch_uid="allemaal_logout")
    for signal in (account_signals.password_changed, account_signals.password_reset):
        signal.connect(on_new_password, weak=False, dispatch_uid="allemaal_new_password")
