"""Approving a whole allocation run as sets, beside its floor, on PostgreSQL (run by hand; it
creates its own database).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_approve_bench \\
        .venv/bin/python bench/bench_approval.py [--quick] [--repeat 3] [--chains 2] [--regenerate]

The data is bench_allocation's national case (its generator, its database layout: 1,000,000
ready devices x 100,000 approved requests; --quick: 100,000 x 10,000), in the database named in
DATABASE_URL (plus `_quick`). Before each measurement the run's tables are emptied, the devices
made ready again, and a real allocation run (`services.allocation_run`) writes the proposals.

- approve: `allocations_approve_run_part_set` part after part, as the `approve_run` task does
  (each part its own transaction: locks, rule checks, the writes, the e-mails, the progress),
  in --chains processes side by side as the task's APPROVAL_CHAINS chains (default 2, as the
  settings; --chains 1: one part after another in one process);
- floor: what approving cannot go below, in one transaction with the statement-level check
  switched off: one `UPDATE … FROM` of the allocations and one of the devices, and COPY of the
  custody events and the allocation history;
- floor + check: the same with the check on (what the check itself costs).

Runs and floors alternate --repeat times; the medians are printed with the ratio and the load
average (a shared 2-core machine). At the end of every approve measurement the invariants are
checked by SQL: no request holds more than approved (per type), every allocated device has
exactly one live allocation and every approved allocation an allocated device, every approval
has its custody event and its history row, and nothing is left proposed that was not refused.
Target (issue 21): 1,000,000 approved in under 3 minutes, at most 3x the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

SIZES = {"full": (1_000_000, 100_000, 20_000), "quick": (100_000, 10_000, 2_000)}
TARGET_PER_MILLION = 180.0
TARGET_RATIO = 3.0

COUNTS = """
SELECT (SELECT count(*) FROM distribution_allocation WHERE status = 'approved'),
       (SELECT count(*) FROM distribution_allocationevent WHERE to_status = 'approved'),
       (SELECT count(*) FROM donations_deviceevent WHERE to_state = 'allocated'),
       (SELECT count(*) FROM distribution_allocation WHERE status = 'proposed')
"""


def database_url(base_url: str, quick: bool) -> str:
    parts = urlparse(base_url)
    name = (parts.path.lstrip("/") or "wt_approve_bench") + ("_quick" if quick else "")
    return urlunparse(parts._replace(path=f"/{name}"))


def child(url: str, *args: str) -> dict:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"child {args} failed")
    return json.loads(result.stdout.strip().splitlines()[-1])


def median(results: list[dict]) -> dict:
    ordered = sorted(results, key=lambda result: result["seconds"])
    middle = dict(ordered[len(ordered) // 2])
    middle["all"] = [round(result["seconds"], 2) for result in results]
    middle["loads"] = [round(result["load_avg"], 1) for result in results]
    return middle


# --- Children -------------------------------------------------------------------------------------


def prepare() -> dict:
    """Empty the run's tables, make every device ready again, and run the allocation."""
    from bench_allocation import truncate
    from bench_solver import TODAY
    from django.db import connection

    from distribution import services

    with connection.cursor() as cursor:
        cursor.execute("UPDATE donations_device SET state = 'ready' WHERE state <> 'ready'")
        cursor.execute("TRUNCATE donations_deviceevent, allemaal_notification")
    truncate()
    run = services.allocation_run(trigger="command", today=TODAY)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE distribution_allocation")
        cursor.execute("CHECKPOINT")
    return {"run": run.pk, "proposals": run.proposals}


def _bench_user():
    from allemaal.models import User

    return User.objects.filter(is_superuser=True).first() or User.objects.create_superuser(
        email="bench@example.org", password=None
    )


def chain(run_id: int, first: int, stride: int) -> dict:
    """One of the approve_run task's chains: parts first, first + stride, … in this process,
    each its own transaction, as a Celery worker process runs them."""
    from distribution import services

    by = _bench_user()
    bounds = services.approval_parts(run_id, by=by)
    approved, refused, parts = 0, 0, 0
    for part in range(first, len(bounds), stride):
        decision, _last = services.allocations_approve_run_part_set(
            run_id, by=by, after_request=services.part_start(bounds, part)
        )
        approved, refused, parts = (
            approved + len(decision.done),
            refused + len(decision.refused),
            parts + 1,
        )
    return {"approved": approved, "refused": refused, "parts": parts}


def approve(run_id: int, chains: int) -> dict:
    """Plan the parts, then `chains` processes side by side (the task's APPROVAL_CHAINS), each
    its own database connection; timed from the plan to the last part's commit."""
    from django.db import connection

    from distribution import services
    from distribution.selectors.invariants import devices_out_of_step, overfull_requests

    by = _bench_user()
    url = os.environ["DATABASE_URL"]
    started = time.perf_counter()
    services.approval_parts(run_id, by=by)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    processes = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", "chain", str(run_id), str(k), str(chains)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(chains)
    ]
    results = []
    for process in processes:
        out, err = process.communicate()
        if process.returncode:
            raise SystemExit(f"chain failed: {out}{err}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    seconds = time.perf_counter() - started
    approved = sum(result["approved"] for result in results)
    refused = sum(result["refused"] for result in results)
    parts = sum(result["parts"] for result in results)
    overfull = len(overfull_requests())
    mismatched = len(devices_out_of_step())
    with connection.cursor() as cursor:
        cursor.execute(COUNTS)
        in_table, histories, custody, proposed = cursor.fetchone()
        cursor.execute(
            "SELECT approval->>'finished_at' IS NOT NULL FROM distribution_allocationrun"
            " WHERE id = %s",
            [run_id],
        )
        (finished,) = cursor.fetchone()
    invariants = {
        "overfull_requests": overfull,
        "devices_not_matching": mismatched,
        "approved_without_history": in_table - histories,
        "approved_without_custody_event": in_table - custody,
        "proposed_not_refused": proposed - refused,
        "run_not_marked_finished": int(not finished),
    }
    return {
        "seconds": seconds,
        "approved": approved,
        "refused": refused,
        "parts": parts,
        "chains": chains,
        "invariants": invariants,
        "ok": approved == in_table and not any(invariants.values()),
    }


def floor(run_id: int, check: bool) -> dict:
    """One UPDATE … FROM of the allocations and of the devices, COPY of both event tables, in
    one transaction; the statement-level check switched off unless `check`."""
    from django.db import connection, transaction
    from django.utils import timezone

    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if not check:
            cursor.execute(
                "ALTER TABLE distribution_allocation "
                "DISABLE TRIGGER allocation_request_within_approved_update"
            )
        cursor.execute(
            "CREATE TEMP TABLE approving ON COMMIT DROP AS "
            "SELECT a.id, a.device_id, r.organisation_id FROM distribution_allocation a "
            "JOIN helprequests_helprequest r ON r.id = a.request_id "
            "WHERE a.run_id = %s AND a.status = 'proposed'",
            [run_id],
        )
        cursor.execute(
            "UPDATE distribution_allocation a SET status = 'approved', decided_at = %s "
            "FROM approving t WHERE a.id = t.id",
            [now],
        )
        cursor.execute(
            "UPDATE donations_device d SET state = 'allocated', state_changed_at = %s "
            "FROM approving t WHERE d.id = t.device_id",
            [now],
        )
        cursor.execute("SELECT id, device_id, organisation_id FROM approving")
        rows = cursor.fetchall()
        with cursor.cursor.copy(
            "COPY donations_deviceevent (device_id, from_state, to_state, at, organisation_id, "
            "note) FROM STDIN"
        ) as copy:
            for _id, device, organisation in rows:
                copy.write_row((device, "ready", "allocated", now, organisation, "x"))
        with cursor.cursor.copy(
            "COPY distribution_allocationevent (allocation_id, from_status, to_status, at, note)"
            " FROM STDIN"
        ) as copy:
            for allocation, _device, _organisation in rows:
                copy.write_row((allocation, "proposed", "approved", now, ""))
        if not check:
            cursor.execute(
                "ALTER TABLE distribution_allocation "
                "ENABLE TRIGGER allocation_request_within_approved_update"
            )
    return {"seconds": time.perf_counter() - started, "approved": len(rows)}


def child_main(what: str, args: list[str]) -> None:
    import django

    django.setup()
    handlers = {
        "prepare": prepare,
        "approve": lambda: approve(int(args[0]), int(args[1])),
        "chain": lambda: chain(int(args[0]), int(args[1]), int(args[2])),
        "floor": lambda: floor(int(args[0]), check=False),
        "floor_check": lambda: floor(int(args[0]), check=True),
    }
    print(json.dumps(handlers[what](), default=str))


# --- Parent ---------------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child_main(sys.argv[2], sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 x 10,000")
    parser.add_argument("--repeat", type=int, default=3, help="measurements per figure")
    parser.add_argument("--regenerate", action="store_true", help="drop and refill the data")
    parser.add_argument(
        "--chains",
        type=int,
        default=2,
        help="parts side by side, as the task's APPROVAL_CHAINS (default 2; 1: one after another)",
    )
    args = parser.parse_args()
    from bench_allocation import ensure_database

    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wt_approve_bench")
    url = database_url(base, args.quick)
    sizes = SIZES["quick" if args.quick else "full"]
    print(f"database {urlparse(url).path.lstrip('/')}: {sizes[0]:,} devices x {sizes[1]:,}")
    ensure_database(url, sizes, args.regenerate)
    figures: dict[str, list[dict]] = {"approve": [], "floor": [], "floor_check": []}
    for _ in range(args.repeat):
        for what in figures:
            run = child(url, "--child", "prepare")
            extra = (str(args.chains),) if what == "approve" else ()
            result = child(url, "--child", what, str(run["run"]), *extra)
            figures[what].append({**result, "load_avg": os.getloadavg()[0]})
            if what == "approve" and not result["ok"]:
                raise SystemExit(f"invariants broken: {result}")
    approve, floor_, checked = (median(figures[key]) for key in figures)
    per_million = approve["seconds"] / approve["approved"] * 1_000_000
    ratio = approve["seconds"] / floor_["seconds"]
    print(
        f"approve {approve['approved']:,} in {approve['seconds']:.2f} s "
        f"({approve['parts']} parts in {approve['chains']} chain(s) side by side, "
        f"{approve['refused']} refused; runs {approve['all']}, "
        f"load {approve['loads']})"
    )
    print(
        f"floor (UPDATE … FROM + COPY, no check) {floor_['seconds']:.2f} s "
        f"(runs {floor_['all']}); with the statement-level check {checked['seconds']:.2f} s "
        f"(runs {checked['all']})"
    )
    print(
        f"ratio {ratio:.2f}x the floor (target <= {TARGET_RATIO:.0f}x); "
        f"{per_million:.0f} s per million (target < {TARGET_PER_MILLION:.0f} s)"
    )
    print(f"invariants by SQL: {approve['invariants']} -> ok")


if __name__ == "__main__":
    main()
