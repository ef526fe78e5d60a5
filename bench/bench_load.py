"""Pages under load: locust against gunicorn, PostgreSQL, Redis and a Celery worker (run by hand).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_load \\
        .venv/bin/python bench/bench_load.py [--national] [--duration 300] [--users 50]
        [--saturation 30] [--saturation-users 24] [--worker-class gthread|sync]
        [--workers N] [--threads N] [--serial N] [--budgets-only] [--regenerate]
        [--skip-steady] [--roles organisation,refurbisher] [--baseline]

The data is bench_dashboard's (created with COPY when the database is empty): by default
100,000 devices and 10,000 help requests (a tenth of the country, which fits this two-core
machine beside its other work); `--national` takes 1,000,000 devices and 100,000 requests
(another database: the name gets `_national`). The broker and cache are Redis database 13
(CELERY_BROKER_URL / REDIS_URL to change it; the bench empties that database first).

It starts gunicorn in production mode with config/gunicorn.py (gthread unless told otherwise)
and one Celery worker, creates users of each role with logged-in sessions (coordinators with
their two-step check done) and checks that every page of the mix answers 200 to its role.
First each page alone, one request at a time on the warm server (`--serial` 9 times, the
median), beside its budget in RENDER_BUDGET_MS, pages over budget flagged (`--budgets-only`
stops there: the before and after of a page made cheaper). Then locust, headless:

(a) steady: `--users` users (50), each waiting 1-5 s between two pages, for `--duration`
    seconds over the mix: an organisation's /hulpaanvragen/ list, a request page and its
    shipments; a donor's donations, one donation and its impact; a refurbisher's workshop, the
    intake page of a received donation and the shipping page; the coordinators' dashboard, the
    admin start page, the change lists of devices, help requests and shipments and the
    allocation list of the latest run. Two writes among them: the refurbisher's intake scan
    (the handheld scanner's POST of a new serial on its received donation: a device, its event
    and the scan written) and the donor's pledge (the form's POST: a donation, its history and
    a mail, whose sending is a Celery job). Prints p50 / p95 per page and overall, the error
    count (a refused scan, 409, is an answer; a 4xx/5xx otherwise is an error) and how long the
    Celery queue took to drain afterwards (the queue in Redis and the jobs taken but not done,
    a mail's dispatch waiting for the provider's rate among them).
(b) saturation: `--saturation-users` users without waiting over the same mix for
    `--saturation` seconds, then the same number asking only /healthz: both rates in req/s.

Targets: p95 under 300 ms, 0 errors, the queue drained within 2 minutes, and a saturated mix at
least 4x the 31 req/s that two sync workers served (124 req/s). The machine's load average is
printed beside the figures: other work on the machine lowers them.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
BIN = Path(sys.executable).parent
USERS_PER_ROLE = 12
# How often each role opens a page, relative to the others: organisations are the most users.
WEIGHTS = {"organisation": 4, "donor": 2, "refurbisher": 3, "coordinator": 2}
# Each page's own time, alone on a warm server (render_times): the pages are mostly CPU, so
# the mix's throughput on two cores is set by these. A page over its budget is the first to make
# cheaper; its query budget is tests/test_page_budgets.py's.
RENDER_BUDGET_MS = {
    "organisation: /hulpaanvragen/": 40,
    "organisation: zendingen": 40,
    "organisation: request page": 40,
    "donor: /donaties/": 40,
    "donor: impact": 30,
    "donor: donation page": 40,
    "refurbisher: workshop": 50,
    "refurbisher: shipping": 50,
    "refurbisher: intake page": 30,
    "coordinator: dashboard": 30,
    "coordinator: admin start": 40,
    "admin: devices": 60,
    "admin: help requests": 60,
    "admin: shipments": 60,
    "allocation list (latest run)": 60,
}
MIX = ["OrganisationUser", "DonorUser", "RefurbisherUser", "CoordinatorUser"]
SECRET = "bench-load-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105
# The CSRF cookie's secret every simulated user sends, as a browser keeps the one it was given;
# the writes send it back (the form field / header), as the pages' forms do.
CSRF_SECRET = "benchloadcsrfsecret0123456789abc"  # noqa: S105
# The contact of the bench's own pledges (load_locustfile.pledge): never a page of the mix, so
# every run opens the same donation whatever the runs before pledged.
PLEDGED_BY = "Bench Load"


def environment(args, static_root: Path) -> dict:
    """The production settings gunicorn, the worker and this process (its sessions) share."""
    broker = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")
    return {
        "DJANGO_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": args.database_url,
        "CELERY_BROKER_URL": broker,
        "REDIS_URL": os.environ.get("REDIS_URL", broker),
        "STATIC_ROOT": str(static_root),
        "SITE_URL": "http://127.0.0.1",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "GUNICORN_ACCESS_LOG": "",
        "GUNICORN_WORKER_CLASS": args.worker_class,
        **({"WEB_CONCURRENCY": str(args.workers)} if args.workers else {}),
        **({"GUNICORN_THREADS": str(args.threads)} if args.threads else {}),
    }


# --- Users, sessions and pages ---------------------------------------------------------------


def _session_for(user, *, staff: bool = False) -> str:
    from django.test import Client

    from allemaal.middleware import MFA_SESSION_KEY

    client = Client()
    client.force_login(user)
    if staff:
        session = client.session
        session[MFA_SESSION_KEY] = True
        session.save()
    return client.cookies["sessionid"].value


def _member(org, n: int):
    from allemaal.models import Membership, User

    user, _created = User.objects.get_or_create(email=f"bench-load-{org.kind}-{n}@bench.example")
    Membership.objects.update_or_create(
        user=user, defaults={"organisation": org, "role": Membership.Role.ADMIN}
    )
    return user


def plan() -> dict:
    """Users of each role with their sessions and the pages each opens."""
    from django.contrib.auth.models import Group
    from django.db.models import Count, Q

    from allemaal.models import Organisation, User
    from donations.models import Donation
    from helprequests.models import HelpRequest

    roles = {role: {"weight": w, "sessions": [], "pages": []} for role, w in WEIGHTS.items()}
    # Organisations with approved requests, spread over the ids (not only the first few).
    requesters = list(
        Organisation.objects.filter(kind="requester")
        .annotate(approved=Count("help_requests", filter=Q(help_requests__status="approved")))
        .filter(approved__gt=0)
        .order_by("id")
        .values_list("id", flat=True)
    )
    step = max(1, len(requesters) // USERS_PER_ROLE)
    for n, org_id in enumerate(requesters[::step][:USERS_PER_ROLE]):
        org = Organisation.objects.get(pk=org_id)
        roles["organisation"]["sessions"].append(_session_for(_member(org, n)))
    # The same pages for every user of a role; a page of one object is of the user's own
    # (its organisation's oldest approved request, its donor's latest donation).
    roles["organisation"]["pages"] = [
        ("organisation: /hulpaanvragen/", "/hulpaanvragen/"),
        ("organisation: zendingen", "/zendingen/"),
    ]
    roles["organisation"]["own_pages"] = [
        ("organisation: request page", "/hulpaanvragen/{}/"),
    ]
    roles["organisation"]["own"] = {
        s: HelpRequest.objects.filter(organisation_id=o, status="approved").order_by("id")[0].pk
        for s, o in zip(
            roles["organisation"]["sessions"], requesters[::step][:USERS_PER_ROLE], strict=False
        )
    }

    donors = list(
        Organisation.objects.filter(kind="donor", donations__status="received")
        .distinct()
        .order_by("id")
        .values_list("id", flat=True)
    )
    step = max(1, len(donors) // USERS_PER_ROLE)
    chosen = donors[::step][:USERS_PER_ROLE]
    for n, org_id in enumerate(chosen):
        roles["donor"]["sessions"].append(
            _session_for(_member(Organisation.objects.get(pk=org_id), n))
        )
    roles["donor"]["pages"] = [
        ("donor: /donaties/", "/donaties/"),
        ("donor: impact", "/donaties/impact/"),
    ]
    roles["donor"]["own_pages"] = [("donor: donation page", "/donaties/{}/")]
    # A write and a mail: the pledge form's POST saves a donation and its history, writes the
    # donor's mail and queues its dispatch in Celery (the queue the bench sees drained).
    roles["donor"]["writes"] = [("donor: pledge (POST)", "/donaties/nieuw/", "pledge")]
    roles["donor"]["own"] = {
        s: Donation.objects.filter(donor_id=o)
        .exclude(contact_name=PLEDGED_BY)
        .order_by("-id")[0]
        .pk
        for s, o in zip(roles["donor"]["sessions"], chosen, strict=False)
    }

    refurbishers = list(
        Organisation.objects.filter(kind="refurbisher").order_by("id").values_list("id", flat=True)
    )[:USERS_PER_ROLE]
    for n, org_id in enumerate(refurbishers):
        roles["refurbisher"]["sessions"].append(
            _session_for(_member(Organisation.objects.get(pk=org_id), n))
        )
    roles["refurbisher"]["pages"] = [
        ("refurbisher: workshop", "/opknappen/"),
        ("refurbisher: shipping", "/verzenden/"),
    ]
    roles["refurbisher"]["own_pages"] = [
        ("refurbisher: intake page", "/opknappen/donatie/{}/inname/")
    ]
    own = {}
    for s, o in zip(roles["refurbisher"]["sessions"], refurbishers, strict=False):
        donation = (
            Donation.objects.filter(refurbisher_id=o, status="received").order_by("-id").first()
        )
        own[s] = donation.pk
    roles["refurbisher"]["own"] = own
    # The handheld scanner's POST, a new serial each time: the donation locked, a device, its
    # custody event and the intake scan written.
    roles["refurbisher"]["own_writes"] = [
        ("refurbisher: intake scan (POST)", "/opknappen/donatie/{}/inname/", "scan")
    ]

    coordinators = Group.objects.get(name="coordinators")
    for n in range(USERS_PER_ROLE):
        user, _created = User.objects.get_or_create(
            email=f"bench-load-coordinator-{n}@bench.example", defaults={"is_staff": True}
        )
        user.groups.add(coordinators)
        roles["coordinator"]["sessions"].append(_session_for(user, staff=True))
    roles["coordinator"]["pages"] = [
        ("coordinator: dashboard", "/coordinatie/"),
        ("coordinator: admin start", "/admin/"),
        ("admin: devices", "/admin/donations/device/"),
        ("admin: help requests", "/admin/helprequests/helprequest/?status__exact=approved"),
        ("admin: shipments", "/admin/distribution/shipment/"),
        ("allocation list (latest run)", "/admin/distribution/allocation/?run=latest"),
    ]
    return {"roles": roles}


def per_session_pages(the_plan: dict) -> dict:
    """Pages with the session's own object filled in: one plan entry per session. A page is
    (label, url) for a GET, (label, url, action) for a write (load_locustfile.WRITES)."""
    out = {"roles": {}, "csrf": CSRF_SECRET, "pledged_by": PLEDGED_BY}
    for role, entry in the_plan["roles"].items():
        sessions = []
        for session in entry["sessions"]:
            pages = list(entry["pages"])
            for label, pattern in entry.get("own_pages", []):
                pages.append((label, pattern.format(entry["own"][session])))
            pages += entry.get("writes", [])
            for label, pattern, action in entry.get("own_writes", []):
                pages.append((label, pattern.format(entry["own"][session]), action))
            sessions.append({"cookie": session, "pages": pages})
        out["roles"][role] = {"weight": entry["weight"], "sessions": sessions}
    return out


def reads(session: dict) -> list[tuple[str, str]]:
    """The session's GET pages (a write is not repeated outside the load)."""
    return [(page[0], page[1]) for page in session["pages"] if len(page) == 2]


def _time_get(base: str, url: str, cookie: str) -> float:
    req = urllib.request.Request(  # noqa: S310 - our own http:// address
        base + url, headers={"Cookie": f"sessionid={cookie}"}
    )
    began = time.perf_counter()
    urllib.request.urlopen(req, timeout=60).read()  # noqa: S310
    return (time.perf_counter() - began) * 1000


def render_times(base: str, the_plan: dict, repeat: int, workers: int) -> int:
    """Each page of the mix alone, one request at a time (no queue, no other user): its own
    time in gunicorn, the median of `repeat` after one request per worker process to warm them
    (templates, translations, the session's clocks). Printed beside its budget
    (RENDER_BUDGET_MS) and the /healthz round trip of the same moment (the floor of a request);
    returns how many pages were over their budget."""
    health = sorted(_time_get(base, "/healthz", "") for _ in range(repeat))[repeat // 2]
    print(
        f"  each page alone, median of {repeat} (warm; /healthz {health:.1f} ms):"
        f"\n  {'page':<40} {'median':>7} {'max':>7} {'budget':>7}"
    )
    over = 0
    for entry in the_plan["roles"].values():
        session = entry["sessions"][0]
        for label, url in reads(session):
            for _ in range(2 * workers):
                _time_get(base, url, session["cookie"])
            times = sorted(_time_get(base, url, session["cookie"]) for _ in range(repeat))
            median, budget = times[len(times) // 2], RENDER_BUDGET_MS[label]
            over += median > budget
            print(
                f"  {label:<40} {median:5.0f}ms {times[-1]:5.0f}ms {budget:5d}ms"
                + ("  OVER" if median > budget else "")
            )
    print(f"  {over} of {len(RENDER_BUDGET_MS)} pages over their budget")
    return over


def check_pages(base: str, the_plan: dict) -> None:
    """Every session's pages answer 200 through gunicorn (not a log-in or two-step redirect)."""
    opener = urllib.request.build_opener(NoRedirect)
    for role, entry in the_plan["roles"].items():
        for session in entry["sessions"]:
            for label, url in reads(session):
                req = urllib.request.Request(  # noqa: S310 - our own http:// address
                    base + url, headers={"Cookie": f"sessionid={session['cookie']}"}
                )
                try:
                    status = opener.open(req, timeout=60).status
                except urllib.error.HTTPError as error:
                    status = error.code
                if status != 200:
                    raise SystemExit(f"{role} {label} {url}: {status}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def park_generated_mails() -> int:
    """bench_dashboard's outbox keeps a pending mail in fifty over a past year (its counts); a
    live platform sent them long ago. Parked a month ahead, so the queue a run drains is its
    own (the pledges' mails), not that backlog sent at the provider's rate (20,000 at national
    scale: 20 minutes at 1,000 a minute)."""
    from datetime import timedelta

    from django.utils import timezone

    from allemaal.models import Notification

    return Notification.objects.filter(status="pending", subject="Bench").update(
        next_attempt_at=timezone.now() + timedelta(days=30)
    )


def latest_run_places() -> None:
    """The organisations' pages read the queue places and the recent supply the latest
    allocation run stored: run one, as every day does, when the generated runs stored none."""
    from distribution import services
    from distribution.models import AllocationRun

    latest = AllocationRun.objects.filter(status="completed").order_by("-id").first()
    if latest is None or "supply" not in (latest.stats or {}).get("queue", {}):
        began = time.perf_counter()
        run = services.allocation_run(trigger="command")
        print(
            f"allocation run {run.pk} (stores the queue places): "
            f"{time.perf_counter() - began:.1f} s, {run.requests_open:,} waiting requests"
        )


# --- Processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own commands
        cmd,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:  # noqa: S310 - localhost
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def queue_length(redis_client) -> int:
    """Jobs waiting in the broker (the default queue) plus those taken but not yet done."""
    return redis_client.llen("celery") + redis_client.hlen("unacked")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- locust ----------------------------------------------------------------------------------


def run_locust(
    base: str,
    plan_file: Path,
    out: Path,
    *,
    classes: list[str],
    users: int,
    seconds: int,
    wait: str,
    tag: str = "",
) -> list[dict]:
    slug = "".join(c if c.isalnum() else "-" for c in tag)
    prefix = out / f"locust-{classes[0]}-{users}-{wait}-{slug}"
    subprocess.run(  # noqa: S603 - our own command
        [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "bench" / "load_locustfile.py"),
            "--headless",
            "--host",
            base,
            "--users",
            str(users),
            "--spawn-rate",
            str(max(users, 10)),
            "--run-time",
            f"{seconds}s",
            "--stop-timeout",
            "10",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
            *classes,
        ],
        env={**os.environ, "BENCH_LOAD_PLAN": str(plan_file), "BENCH_LOAD_WAIT": wait},
        check=False,  # exits 1 when a request failed; the figures say so
        stdout=subprocess.DEVNULL,
        stderr=(out / "locust.log").open("ab"),
    )
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def show_rows(rows: list[dict], target_ms: float) -> None:
    print(f"  {'page':<40} {'requests':>8} {'errors':>6} {'p50':>7} {'p95':>7} {'max':>7}")
    for row in rows:
        name = "all pages" if row["Name"] == "Aggregated" else row["Name"]
        p95 = float(row["95%"])
        verdict = (
            "" if row["Name"] != "Aggregated" else ("  (met)" if p95 < target_ms else "  (MISSED)")
        )
        print(
            f"  {name:<40} {int(row['Request Count']):>8} {int(row['Failure Count']):>6} "
            f"{float(row['50%']):>5.0f}ms {p95:>5.0f}ms {float(row['Max Response Time']):>5.0f}ms"
            f"{verdict}"
        )


def main() -> None:  # noqa: PLR0915 - one bench, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--national", action="store_true", help="1,000,000 devices")
    parser.add_argument("--duration", type=int, default=300, help="steady run, seconds")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--saturation", type=int, default=30, help="each saturated run, seconds")
    parser.add_argument("--saturation-users", type=int, default=24)
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--workers", type=int, default=0, help="default: config/gunicorn.py's")
    parser.add_argument("--threads", type=int, default=0, help="default: config/gunicorn.py's")
    parser.add_argument("--skip-steady", action="store_true")
    parser.add_argument(
        "--roles", default="", help="saturate only these roles (comma-separated; default all)"
    )
    parser.add_argument(
        "--baseline", action="store_true", help="saturate 2 sync workers too (the old serving)"
    )
    parser.add_argument(
        "--serial", type=int, default=9, help="each page alone, N times first (0: not)"
    )
    parser.add_argument(
        "--budgets-only", action="store_true", help="each page alone against its budget, then stop"
    )
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (it is created if needed).")
    devices, requests = (1_000_000, 100_000) if args.national else (100_000, 10_000)
    if args.national:
        url = url.rstrip("/") + "_national"
    args.database_url = url

    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    env = environment(args, work / "static")
    os.environ.update(env)
    from bench_dashboard import ensure_database, generate, setup_django

    ensure_database(url, args.regenerate)
    setup_django()
    info = generate(devices, requests)
    if info.get("generated"):
        print(f"generated in {info['seconds']} s: {info}")
    latest_run_places()
    park_generated_mails()
    subprocess.run(  # noqa: S603 - our own command
        [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v0"],
        env=os.environ,
        check=True,
    )
    import redis

    broker = redis.Redis.from_url(env["CELERY_BROKER_URL"])
    broker.flushdb()  # this bench's own database: no queued job of an earlier run
    import logging

    logging.getLogger("allemaal.security").disabled = True  # the log-ins of the bench's users
    the_plan = per_session_pages(plan())
    plan_file = work / "plan.json"
    plan_file.write_text(json.dumps(the_plan))
    from django.db import connections

    connections.close_all()

    worker = start(
        [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--loglevel=WARNING",
            "--concurrency=1",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            "bench-load@%h",
        ],
        env,
        work / "worker.log",
    )
    from config import gunicorn as web_config

    workers = args.workers or web_config.workers
    threads = args.threads or web_config.threads
    served = f"{args.worker_class}, {workers} workers" + (
        f" x {threads} threads" if args.worker_class == "gthread" else ""
    )
    print(
        f"pages under load: {devices:,} devices, {requests:,} help requests; gunicorn {served}; "
        f"logs in {work}"
    )
    try:
        with serving(env, work, "web") as base:
            check_pages(base, the_plan)
            if args.serial or args.budgets_only:
                render_times(base, the_plan, args.serial or 9, workers)
            if args.budgets_only:
                return
            if not args.skip_steady:
                steady(args, base, plan_file, work, broker)
            print(
                f"(b) saturation: {args.saturation_users} users without waiting, "
                f"{args.saturation} s each (load average before: {load_average()})"
            )
            rate, floor_rate = saturate(args, base, plan_file, work, served)
        if args.baseline:
            today = {**env, "GUNICORN_WORKER_CLASS": "sync", "WEB_CONCURRENCY": "2"}
            with serving(today, work, "web-sync") as base:
                old, old_floor = saturate(args, base, plan_file, work, "sync, 2 workers (before)")
            print(
                f"  {served} / sync x 2: {rate / old:.2f}x the mixed rate (floors "
                f"{floor_rate:.0f} and {old_floor:.0f} req/s)"
            )
    finally:
        stop(worker)
    shutil.rmtree(work / "static", ignore_errors=True)


@contextlib.contextmanager
def serving(env: dict, work: Path, name: str):
    """gunicorn with config/gunicorn.py on a free port; yields its base URL."""
    port = free_port()
    web = start(
        [
            str(BIN / "gunicorn"),
            "-c",
            str(ROOT / "config" / "gunicorn.py"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        env,
        work / f"{name}.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/healthz", 60)
        yield base
    finally:
        stop(web)


def steady(args, base: str, plan_file: Path, work: Path, broker) -> None:
    print(
        f"(a) {args.users} users, 1-5 s between pages, {args.duration} s "
        f"(load average before: {load_average()})"
    )
    rows = run_locust(
        base, plan_file, work, classes=MIX, users=args.users, seconds=args.duration, wait="1-5"
    )
    print(f"  load average after: {load_average()}")
    show_rows(rows, 300)
    began = time.monotonic()
    waiting = queue_length(broker)
    while waiting and time.monotonic() - began < 600:
        time.sleep(0.5)
        waiting = queue_length(broker)
    drained = time.monotonic() - began
    print(
        f"  Celery queue drained {drained:.1f} s after the run"
        + (f" ({waiting} jobs still waiting)" if waiting else "")
        + f"  ({'met' if not waiting and drained < 120 else 'MISSED'}; target 120 s)"
    )


def saturate(args, base: str, plan_file: Path, work: Path, served: str) -> tuple[float, float]:
    """Mixed pages, then /healthz, each with `--saturation-users` users that never wait."""
    users, seconds = args.saturation_users, args.saturation
    mix = [f"{role.strip().capitalize()}User" for role in args.roles.split(",") if role.strip()]
    mixed = run_locust(
        base,
        plan_file,
        work,
        classes=mix or MIX,
        users=users,
        seconds=seconds,
        wait="0",
        tag=served,
    )
    floor = run_locust(
        base,
        plan_file,
        work,
        classes=["HealthzUser"],
        users=users,
        seconds=seconds,
        wait="0",
        tag=served,
    )
    total = next(r for r in mixed if r["Name"] == "Aggregated")
    health = next(r for r in floor if r["Name"] == "Aggregated")
    rate, floor_rate = float(total["Requests/s"]), float(health["Requests/s"])
    print(
        f"  {served}: mixed pages {rate:6.1f} req/s, p50 {float(total['50%']):.0f} ms, "
        f"p95 {float(total['95%']):.0f} ms, {int(total['Failure Count'])} errors "
        f"({'met' if rate >= 124 else 'MISSED'}: target 124 req/s = 4 x 31); /healthz "
        f"{floor_rate:.0f} req/s (floor), mixed / floor {rate / floor_rate:.3f}; "
        f"load average {load_average()}"
    )
    return rate, floor_rate


if __name__ == "__main__":
    main()
