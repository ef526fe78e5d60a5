"""What the site shows when a dependency is down: a plain 503 page, not a 500.

Requests that do not need the failing part still answer (the cache fails safe, the outbox keeps
mail when the broker is down); this catches what truly cannot work: the database is gone, or
log-in cannot be rate limited because the cache is down.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.views import defaults
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from .cache import CacheUnavailable

log = logging.getLogger(__name__)

DEPENDENCY_ERRORS = (OperationalError, InterfaceError, CacheUnavailable, RedisError, BrokerError)


def _is_dependency_failure(exc: BaseException | None) -> bool:
    # Only a lost connection: an IntegrityError or a bad query is a bug and stays a 500.
    return isinstance(exc, DEPENDENCY_ERRORS)


def service_unavailable(request, exc: BaseException) -> HttpResponse:
    """The plain 503 page, Dutch with English beside it. Rendered without the request: its
    context processors would ask the database (or the cache) that just failed."""
    log.error("503 for %s %s: %s: %s", request.method, request.path, type(exc).__name__, exc)
    login = isinstance(exc, CacheUnavailable)
    response = HttpResponse(render_to_string("503.html", {"login": login}), status=503)
    response["Retry-After"] = "120"
    return response


class ServiceUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if _is_dependency_failure(exception):
            return service_unavailable(request, exception)
        return None


def server_error(request):
    """handler500: failures outside views (a middleware reaching a dead database) get the 503
    page too; everything else is Django's 500 page."""
    exc = sys.exc_info()[1]
    if _is_dependency_failure(exc):
        return service_unavailable(request, exc)
    return defaults.server_error(request)
