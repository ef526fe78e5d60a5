"""Health endpoints, for load balancers, docker compose and monitoring.

- `/healthz`: liveness. The process answers; no dependency is asked (a dead database must not
  make an orchestrator restart healthy web processes).
- `/healthz/ready`: readiness. The database, the cache and the broker each answer within a short
  timeout; otherwise 503 with the failing part named, as JSON.

Both answer before host validation and the HTTPS redirect (the middleware is first), because
probes reach the process by its container address, whatever ALLOWED_HOSTS says.
"""

import logging
import time

from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse

log = logging.getLogger(__name__)

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/healthz/ready"
PROBE_TIMEOUT_SECONDS = 1.0


def check_database() -> None:
    # A dropped kept connection was already replaced at the request's start (CONN_HEALTH_CHECKS).
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    ping = getattr(cache, "ping", None)
    if ping is not None:
        ping()
        return
    cache.set("healthz:probe", "ok", 10)
    if cache.get("healthz:probe") != "ok":
        raise RuntimeError("the cache did not keep a value")


def check_broker() -> None:
    from config.celery import app

    if app.conf.task_always_eager:
        return  # no broker: jobs run in-process

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=0, timeout=PROBE_TIMEOUT_SECONDS)
        if conn.transport_cls in ("redis", "rediss"):
            conn.default_channel.client.ping()


CHECKS = {"database": check_database, "cache": check_cache, "broker": check_broker}


def liveness(request) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def readiness(request) -> JsonResponse:
    results, failing = {}, []
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", named
            failing.append(name)
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
            log.warning("Readiness: %s failed: %s", name, exc)
        else:
            results[name] = {"ok": True}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    body = {"status": "unavailable" if failing else "ok", "failing": failing, "checks": results}
    return JsonResponse(body, status=503 if failing else 200)


class HealthCheckMiddleware:
    """Answers the two health paths before any other middleware asks for the host."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == LIVENESS_PATH:
            return liveness(request)
        if request.path == READINESS_PATH:
            return readiness(request)
        return self.get_response(request)
