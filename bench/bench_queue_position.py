"""An organisation's request list and request page at national scale (run by hand; prints figures).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_allocation \\
        .venv/bin/python bench/bench_queue_position.py [--quick] [--repeat 15]

Uses bench_allocation.py's national database (1,000,000 ready devices, 100,000 approved requests
of 20,000 organisations; --quick: its 100,000 x 10,000 one), generating it when missing. One
allocation run stores every waiting request's queue place; then, as a member of an
organisation with five or a few more approved requests, it times `/hulpaanvragen/` and one
request's page (Django's test client: middleware, view, templates; no network) beside
`/healthz` in the same run, p50 / p95 and queries; and that organisation's places computed the
old way, from the whole queue (`queue_positions_live`). Target: under 100 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def timed(call, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()  # warm
    times, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            call()
            times.append((time.perf_counter() - began) * 1000)
        queries = len(captured.captured_queries)
    times.sort()
    return {
        "p50": statistics.median(times),
        "p95": times[max(0, int(round(0.95 * len(times))) - 1)],
        "queries": queries,
    }


def show(label: str, result: dict, target_ms: float | None = None) -> None:
    verdict = ""
    if target_ms is not None:
        verdict = (
            f"  (target < {target_ms:g} ms: {'met' if result['p95'] < target_ms else 'MISSED'})"
        )
    print(
        f"  {label:<46} p50 {result['p50']:8.1f} ms  p95 {result['p95']:8.1f} ms  "
        f"{result['queries']:>3} queries{verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the 100,000-device database")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL server, e.g. postgres://postgres@...")
    import bench_allocation

    size = "quick" if args.quick else "full"
    url = bench_allocation.case_url(base_url, "national", args.quick)
    bench_allocation.ensure_database(url, bench_allocation.CASES[size]["national"], False)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("FAST_PASSWORD_HASHER", "1")
    import django

    django.setup()
    from bench_solver import TODAY
    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse

    import config.wsgi  # noqa: F401
    from allemaal.models import Membership, User
    from distribution import selectors, services
    from helprequests.models import HelpRequest

    load = os.getloadavg()[0]
    began = time.perf_counter()
    run = services.allocation_run(trigger="command", today=TODAY)
    print(
        f"allocation run {run.pk}: {time.perf_counter() - began:.1f} s, "
        f"{run.requests_open:,} waiting requests (load average {load:.1f})"
    )
    organisation_id = (
        HelpRequest.objects.filter(status=HelpRequest.Status.APPROVED)
        .values("organisation_id")
        .annotate(n=Count("id"))
        .filter(n__gte=5)
        .order_by("n", "organisation_id")
        .values_list("organisation_id", flat=True)
        .first()
    )
    user, _created = User.objects.get_or_create(email="bench-requester@bench.example")
    Membership.objects.get_or_create(
        user=user, organisation_id=organisation_id, defaults={"role": Membership.Role.ADMIN}
    )
    requests = list(HelpRequest.objects.filter(organisation_id=organisation_id).order_by("id"))
    ids = [r.pk for r in requests]
    client = Client()
    client.force_login(user)
    listing = reverse("coordination:requester_overview")
    detail = reverse("coordination:request_detail", args=[ids[0]])

    def get(path):
        return lambda: client.get(path)

    print(f"organisation {organisation_id}: {len(ids)} requests; load average {load:.1f}")
    show("/healthz", timed(get("/healthz"), args.repeat))
    show("/hulpaanvragen/ (the organisation's list)", timed(get(listing), args.repeat), 100)
    show("/hulpaanvragen/<id>/ (one request)", timed(get(detail), args.repeat), 100)
    show("queue_positions (stored places)", timed(lambda: selectors.queue_positions(ids), 3))
    show(
        "queue_positions_live (whole queue, before)",
        timed(lambda: selectors.queue_positions_live(ids), 3),
    )
    print(f"  load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
