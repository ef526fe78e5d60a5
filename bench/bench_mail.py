"""Benchmark: the mails of a national approval (issue 21: 20,000 mails, broker messages at most
one per 50 mails, the provider's rate never exceeded, no mail twice).

Run from the project root against PostgreSQL, with a Redis (its database 12 by default):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_mail \\
        .venv/bin/python bench/bench_mail.py [--mails 20000] [--runs 3] [--redis URL]

Creates 19,980 requesting organisations and 20 refurbishers (one member each) and queues their
mails the way a national approval does: `notify_allocations_approved` over one allocation per
organisation, a part of 1,000 organisations per transaction (the allocations are built in memory;
only the recipients need rows). A real Celery worker (a subprocess, 2 processes) sends them
through Redis to a counting mail backend (the mail server is outside) that logs each send's time
and address. Prints the broker messages published (counted by `before_task_publish` in this
process and in the worker's), the most sends in any 60 s beside EMAIL_MAX_PER_MINUTE,
duplicates, and the time from the first commit to the last send beside the floor: the same mails
sent by one plain loop through the same backend, in the same run. Median of --runs at a rate of
30,000 a minute, then one short run at a low rate (--low-rate, --low-mails) that must wait for
the budget.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("FAST_PASSWORD_HASHER", "1")

from celery import signals  # noqa: E402
from django.core.mail.backends.base import BaseEmailBackend  # noqa: E402

from config.celery import app  # noqa: E402, F401 - `celery -A bench.bench_mail` finds it here

PUBLISHED_KEY = "bench:mail:published"


class CountingBackend(BaseEmailBackend):
    """The mail server is outside: this one appends `time address` per mail to BENCH_MAIL_LOG."""

    def send_messages(self, messages):
        lines = "".join(f"{time.time():.6f} {m.to[0]}\n" for m in messages)
        fd = os.open(os.environ["BENCH_MAIL_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, lines.encode())
        finally:
            os.close(fd)
        return len(messages)


@signals.before_task_publish.connect
def _count_published(**kwargs):
    import redis

    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).incr(PUBLISHED_KEY)


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bench.bench_mail",
            "worker",
            "--concurrency=2",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    deadline = time.monotonic() + 60
    while " ready." not in log.read_text():
        if time.monotonic() > deadline or worker.poll() is not None:
            raise SystemExit(f"the worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return worker


def stop(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def recipients(count: int, refurbishers: int = 20):
    """Organisations with one member each: `count - refurbishers` requesters, the rest
    refurbishers. Returns (requesters, refurbishers) as saved Organisation rows."""
    from django.contrib.auth.hashers import make_password

    from allemaal.models import Membership, Organisation, User

    unusable = make_password(None)

    def make(kind: str, n: int, prefix: str) -> list:
        orgs = Organisation.objects.bulk_create(
            Organisation(
                kind=kind,
                name=f"{prefix} {i}",
                kvk_number=f"{prefix[:1]}{i:07d}",
                street="Dorpsstraat 1",
                postcode="3511 AB",
                city="Utrecht",
                province="Utrecht",
                phone="+31301234567",
                status=Organisation.Status.VERIFIED,
            )
            for i in range(n)
        )
        users = User.objects.bulk_create(
            User(email=f"{prefix.lower()}{i}@bench.example", password=unusable, language="nl")
            for i in range(n)
        )
        Membership.objects.bulk_create(
            Membership(user=u, organisation=o, role=Membership.Role.ADMIN)
            for u, o in zip(users, orgs, strict=True)
        )
        return orgs

    return make("requester", count - refurbishers, "School"), make(
        "refurbisher", refurbishers, "Opknap"
    )


def allocations_for(requesters, refurbishers):
    """One approved allocation per requesting organisation, in memory, spread over the
    refurbishers (what `notify_allocations_approved` reads of them)."""
    from distribution.models import Allocation
    from donations.models import Device, Donation
    from helprequests.models import HelpRequest

    donations = [Donation(pk=i + 1, refurbisher=r) for i, r in enumerate(refurbishers)]
    result = []
    for i, organisation in enumerate(requesters):
        request = HelpRequest(pk=i + 1, organisation=organisation, target_group="pupils_primary")
        device = Device(
            pk=i + 1, kind="laptop", asset_tag=f"AD-{i:06d}", donation=donations[i % len(donations)]
        )
        result.append(Allocation(pk=i + 1, request=request, device=device, status="approved"))
    return result


def queue_national_approval(allocations, part_size: int, run: int) -> tuple[float, float]:
    """Queue the mails part by part, one transaction each; returns when the first and the last
    part committed."""
    from django.db import transaction

    from distribution.services.notify import notify_allocations_approved

    first_commit = None
    by_refurbisher: dict = {}
    for a in allocations:
        by_refurbisher.setdefault(a.device.donation.refurbisher_id, []).append(a)
    # Parts as a set-based approval makes them: whole requests, here grouped per refurbisher so
    # that each refurbisher gets one mail for its part (20 parts for 20 refurbishers).
    parts = [p for group in by_refurbisher.values() for p in _chunks(group, part_size)]
    for number, part in enumerate(parts):
        with transaction.atomic():
            notify_allocations_approved(part, part=f"bench-{run}:{number}")
        first_commit = first_commit or time.time()
    return first_commit, time.time()


def _chunks(items: list, size: int) -> list[list]:
    return [items[j : j + size] for j in range(0, len(items), size)]


def max_in_any_minute(stamps: list[float]) -> int:
    stamps = sorted(stamps)
    best, left = 0, 0
    for right, t in enumerate(stamps):
        while t - stamps[left] >= 60:
            left += 1
        best = max(best, right - left + 1)
    return best


def read_log(path: Path) -> list[tuple[float, str]]:
    if not path.exists():
        return []
    return [(float(t), to) for t, to in (line.split() for line in path.read_text().splitlines())]


def one_run(args, env: dict, *, rate: int, mails: int, run: int, workdir: Path) -> dict:
    import redis
    from django.conf import settings

    from allemaal.models import Notification, User

    settings.EMAIL_MAX_PER_MINUTE = rate
    client = redis.Redis.from_url(args.redis)
    client.flushdb()
    Notification.objects.all().delete()
    log = workdir / f"sent-{run}.log"
    log.unlink(missing_ok=True)
    os.environ["BENCH_MAIL_LOG"] = str(log)
    worker = start_worker(
        {**env, "EMAIL_MAX_PER_MINUTE": str(rate), "BENCH_MAIL_LOG": str(log)},
        workdir / f"worker-{run}.log",
    )
    try:
        requesters = list(args.requesters[: mails - len(args.refurbishers)])
        allocations = allocations_for(requesters, args.refurbishers)
        started = time.perf_counter()
        first_commit, last_commit = queue_national_approval(allocations, args.part_size, run)
        queued_s = time.perf_counter() - started
        total = Notification.objects.count()
        deadline = time.monotonic() + max(600, 3 * 60 * total / max(rate, 1))
        while len(read_log(log)) < total and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # anything sent twice would show up now
    finally:
        stop(worker)
    sends = read_log(log)
    last_send = max(t for t, _to in sends)
    addresses = [to for _t, to in sends]
    return {
        "mails": total,
        "members": User.objects.count(),
        "sent": len(sends),
        "duplicates": len(addresses) - len(set(addresses)),
        "unsent": Notification.objects.exclude(status="sent").count(),
        "published": int(client.get(PUBLISHED_KEY) or 0),
        "max_minute": max_in_any_minute([t for t, _to in sends]),
        "rate": rate,
        "queue_s": queued_s,
        "send_s": last_send - first_commit,
        "drain_s": last_send - last_commit,
    }


def floor(mails: list[tuple[str, str, str]], workdir: Path, run: int) -> float:
    """The same mails through the same backend by one plain loop."""
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives

    os.environ["BENCH_MAIL_LOG"] = str(workdir / f"floor-{run}.log")
    started = time.perf_counter()
    for to, subject, body in mails:
        EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [to]).send()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=int, default=30_000)
    parser.add_argument("--low-rate", type=int, default=200)
    parser.add_argument("--low-mails", type=int, default=350)
    parser.add_argument("--part-size", type=int, default=1000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    os.environ.update(
        CELERY_BROKER_URL=args.redis,
        REDIS_URL=args.redis,
        EMAIL_BACKEND="bench.bench_mail.CountingBackend",
    )
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from allemaal.models import Notification

    settings.IN_PROCESS_SCHEDULER = False
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    workdir = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    try:
        db = connection.settings_dict
        env = {**os.environ, "SQLITE_PATH": str(db["NAME"])}
        if "postgresql" in db["ENGINE"]:
            env["DATABASE_URL"] = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + db["NAME"]
        started = time.perf_counter()
        args.requesters, args.refurbishers = recipients(args.mails)
        took = time.perf_counter() - started
        print(f"{args.mails:,} organisations with a member each in {took:.1f} s")

        results, floors = [], []
        for run in range(args.runs):
            result = one_run(args, env, rate=args.rate, mails=args.mails, run=run, workdir=workdir)
            mails = list(Notification.objects.values_list("to_email", "subject", "body_text"))
            floors.append(floor(mails, workdir, run))
            results.append(result)
            print(
                f"run {run + 1}: {result['sent']:,} of {result['mails']:,} mails sent "
                f"({result['unsent']} unsent, {result['duplicates']} duplicates); "
                f"broker messages {result['published']} "
                f"(1 per {result['mails'] / max(result['published'], 1):.0f} mails); "
                f"most in 60 s {result['max_minute']:,} (limit {result['rate']:,}); "
                f"queued in {result['queue_s']:.1f} s; first commit to last send "
                f"{result['send_s']:.1f} s (after the last commit {result['drain_s']:.1f} s); "
                f"floor (plain loop) {floors[-1]:.2f} s"
            )
        if results:
            duplicates = max(r["duplicates"] for r in results)
            send, fl = statistics.median(r["send_s"] for r in results), statistics.median(floors)
            published = statistics.median(r["published"] for r in results)
            print(
                f"\nmedian of {args.runs}: {args.mails:,} mails, broker messages {published:.0f} "
                f"(target <= {args.mails // 50}); duplicates {duplicates}; "
                f"first commit to last send {send:.1f} s, floor {fl:.2f} s ({send / fl:.0f}x); "
                f"after the last commit {statistics.median(r['drain_s'] for r in results):.1f} s; "
                f"queueing {statistics.median(r['queue_s'] for r in results):.1f} s"
            )
        if args.low_mails <= len(args.refurbishers):
            return

        low = one_run(
            args, env, rate=args.low_rate, mails=args.low_mails, run=args.runs, workdir=workdir
        )
        print(
            f"low rate: {low['sent']:,} of {low['mails']:,} mails at EMAIL_MAX_PER_MINUTE="
            f"{low['rate']}: most in any 60 s {low['max_minute']} "
            f"({'respected' if low['max_minute'] <= low['rate'] else 'EXCEEDED'}); "
            f"{low['duplicates']} duplicates; broker messages {low['published']}; "
            f"first commit to last send {low['send_s']:.1f} s"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
