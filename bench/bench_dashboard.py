"""The coordinators' dashboard at national scale on PostgreSQL (run by hand; prints figures).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_dashboard \\
        .venv/bin/python bench/bench_dashboard.py [--devices 1000000] [--requests 100000]
        [--repeat 30] [--regenerate]

The database (the name in DATABASE_URL) is created, migrated and filled once with COPY: a year
of donations from 2,000 donors to 40 refurbishers, 1,000,000 devices with their custody events
(about 5 per device) along the real road (announced, received, erased, ready or recycled,
allocated, shipped, delivered), 100,000 help requests of 20,000 organisations with the
allocations of the allocated devices, 1,000,000 e-mails in the outbox and 20,000 internet
assignments (`bench_admin_changelists.py` measures the admin on the same data). A database that
holds its data already is reused (--regenerate starts again).

It then times the reporting job (a full rebuild of the device facts and the snapshot, and a
refresh after a few donations changed) and the dashboard page at the server (Django's test
client: middleware, view, templates; no network), unfiltered and with each filter, printing
p50 / p95 / max and the number of queries. Target: under 500 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROVINCES = [
    "Groningen",
    "Friesland",
    "Drenthe",
    "Overijssel",
    "Flevoland",
    "Gelderland",
    "Utrecht",
    "Noord-Holland",
    "Zuid-Holland",
    "Zeeland",
    "Noord-Brabant",
    "Limburg",
]
GROUPS = [
    "primary_pupils",
    "secondary_pupils",
    "mbo_students",
    "isolated_elderly",
    "low_income_families",
    "disability",
    "newcomers",
    "other",
]
DONORS, REFURBISHERS, REQUESTERS, TELECOMS = 2_000, 40, 20_000, 5
DEVICES_PER_DONATION = 50


# --- Database --------------------------------------------------------------------------------


def ensure_database(url: str, regenerate: bool) -> None:
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin_url = urlunparse(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and regenerate:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"],
        env={**os.environ, "DATABASE_URL": url},
        check=True,
    )


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allemaal.settings")
    os.environ.setdefault("FAST_PASSWORD_HASHER", "1")
    import django

    django.setup()


def copy_rows(model, fixed: dict, varying: tuple[str, ...], rows) -> int:
    """COPY rows into a model's table: `varying` columns from each row, every other concrete
    column the value of a prototype built from `fixed` (defaults included)."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if f.attname in varying or not f.primary_key]
    prototype = model(**fixed)
    values = {
        f.attname: f.get_db_prep_save(getattr(prototype, f.attname), connection) for f in fields
    }
    slots = [
        (values[f.attname], varying.index(f.attname) if f.attname in varying else None)
        for f in fields
    ]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([value if i is None else row[i] for value, i in slots])
            count += 1
    return count


def _noon(day):
    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, clock(12)))


# --- Data ------------------------------------------------------------------------------------


def _path(rng: random.Random, received_on, today) -> list[tuple[str, object]]:
    """A device's road from its donation's reception, stopping at today."""
    steps, day = [], received_on
    plan = [("received", 0), ("erased", rng.randrange(1, 8)), ("ready", rng.randrange(1, 10))]
    if rng.random() < 0.12:
        plan = [*plan[:2], ("recycled", rng.randrange(1, 5))]
    elif rng.random() < 0.8:
        plan += [
            ("allocated", rng.randrange(2, 25)),
            ("shipped", rng.randrange(1, 5)),
            ("delivered", rng.randrange(1, 4)),
        ]
    for state, wait in plan:
        day = day + timedelta(days=wait)
        if day > today:
            break
        steps.append((state, day))
    return steps


def generate(n_devices: int, n_requests: int) -> dict:
    """Fill an empty database (ids are set here, so rows can point at each other)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from allemaal.models import Notification, Organisation
    from distribution.models import Allocation
    from donations.models import Device, DeviceEvent, Donation
    from helprequests.models import ConnectivityAssignment, HelpRequest

    if Device.objects.exists():
        return {"generated": False}
    started = time.perf_counter()
    rng = random.Random(8)  # noqa: S311 - bench data
    today = timezone.localdate()
    start = today - timedelta(weeks=52)
    with transaction.atomic(), connection.cursor() as cursor:
        # Bench data only: skip the per-row triggers (the allocation and connectivity checks);
        # the quantities below satisfy them by construction.
        cursor.execute("SET LOCAL session_replication_role = replica")
        orgs, org_id = [], 0
        kinds = [
            ("donor", DONORS),
            ("refurbisher", REFURBISHERS),
            ("requester", REQUESTERS),
            ("telecom", TELECOMS),
        ]
        by_kind: dict[str, list[tuple[int, str]]] = {}
        for kind, count in kinds:
            for _ in range(count):
                org_id += 1
                province = PROVINCES[org_id % len(PROVINCES)]
                orgs.append((org_id, kind, f"Bench {kind} {org_id}", f"{30000000 + org_id}"))
                orgs[-1] += (province, "school_board" if kind == "requester" else "")
                by_kind.setdefault(kind, []).append((org_id, province))
        copy_rows(
            Organisation,
            dict(
                street="Benchstraat 1",
                postcode="3511 AA",
                city="Utrecht",
                phone="+31301234567",
                status="verified",
                kind="donor",
                name="x",
                kvk_number="00000000",
                province="Utrecht",
            ),
            ("id", "kind", "name", "kvk_number", "province", "sector"),
            orgs,
        )
        requesters = by_kind["requester"]
        requests = []
        for pk in range(1, n_requests + 1):
            org, province = requesters[pk % len(requesters)]
            status = rng.choices(
                ["approved", "submitted", "draft", "fulfilled", "rejected"], [60, 15, 10, 10, 5]
            )[0]
            requests.append([pk, org, province, GROUPS[pk % len(GROUPS)], status])
        approved = [r for r in requests if r[4] in ("approved", "fulfilled")]
        held = {r[0]: [0, 0] for r in approved}

        n_donations = max(1, n_devices // DEVICES_PER_DONATION)
        donations, devices, allocations = [], [], []

        def events():
            device_id = 0
            for donation_id in range(1, n_donations + 1):
                pledged = start + timedelta(days=rng.randrange(0, 364))
                received = pledged + timedelta(days=rng.randrange(3, 12))
                donor = by_kind["donor"][donation_id % DONORS][0]
                refurbisher, province = by_kind["refurbisher"][donation_id % REFURBISHERS]
                status = "received" if received <= today else "scheduled"
                donations.append(
                    (donation_id, donor, status, refurbisher, province, _noon(pledged), received)
                )
                for _ in range(DEVICES_PER_DONATION):
                    device_id += 1
                    kind = rng.choices(["laptop", "chromebook", "tablet"], [70, 10, 20])[0]
                    path = [("announced", pledged)]
                    if received <= today:
                        path += _path(rng, received, today)
                    state, since = path[-1]
                    devices.append((device_id, donation_id, f"BENCH{device_id:09d}", kind, state))
                    devices[-1] += (_noon(since), _noon(pledged))
                    previous = ""
                    for to_state, day in path:
                        yield (device_id, previous, to_state, _noon(day), refurbisher)
                        previous = to_state
                    if state in ("allocated", "shipped", "delivered"):
                        request = approved[rng.randrange(len(approved))]
                        held[request[0]][kind == "tablet"] += 1
                        status = "approved" if state == "allocated" else state
                        allocations.append((device_id, request[0], status, _noon(since)))

        n_events = copy_rows(
            DeviceEvent,
            dict(to_state="x"),
            ("device_id", "from_state", "to_state", "at", "organisation_id"),
            events(),
        )
        copy_rows(
            Donation,
            dict(
                pickup_street="x",
                pickup_postcode="3511 AA",
                pickup_city="x",
                pickup_province="Utrecht",
                contact_name="x",
                contact_phone="+31301234567",
                consent_transfer=True,
                laptops=35,
                chromebooks=5,
                tablets=10,
                received_laptops=35,
                received_chromebooks=5,
                received_tablets=10,
                received_chargers=0,
            ),
            (
                "id",
                "donor_id",
                "status",
                "refurbisher_id",
                "pickup_province",
                "created_at",
                "pickup_date",
            ),
            donations,
        )
        copy_rows(
            Device,
            dict(serial_number="x", kind="laptop"),
            (
                "id",
                "donation_id",
                "serial_number",
                "kind",
                "state",
                "state_changed_at",
                "created_at",
            ),
            devices,
        )
        request_rows = []
        for pk, org, province, group, status in requests:
            laptops, tablets = held.get(pk, (0, 0))
            laptops, tablets = laptops + rng.randrange(1, 20), tablets + rng.randrange(0, 8)
            decided = status in ("approved", "fulfilled")
            created = _noon(start + timedelta(days=rng.randrange(0, 360)))
            request_rows.append(
                (
                    pk,
                    org,
                    status,
                    group,
                    province,
                    laptops,
                    tablets,
                    laptops if decided else 0,
                    tablets if decided else 0,
                    created,
                    None if status == "draft" else created,
                    created if decided else None,
                    "Afgewezen (bench)" if status == "rejected" else "",
                    4 if pk % 5 == 0 else 0,
                )
            )
        copy_rows(
            HelpRequest,
            dict(
                organisation_id=1,
                target_group="other",
                declaration=True,
                delivery_street="Benchstraat 1",
                delivery_postcode="3511 AA",
                delivery_city="Utrecht",
                contact_name="x",
                contact_phone="+31301234567",
            ),
            (
                "id",
                "organisation_id",
                "status",
                "target_group",
                "delivery_province",
                "laptops",
                "tablets",
                "approved_laptops",
                "approved_tablets",
                "created_at",
                "submitted_at",
                "approved_at",
                "decision_reason",
                "connectivity_households",
            ),
            request_rows,
        )
        copy_rows(
            Allocation,
            dict(status="approved", score=100, note="Bench"),
            ("device_id", "request_id", "status", "decided_at"),
            allocations,
        )
        telecoms = by_kind["telecom"]
        copy_rows(
            ConnectivityAssignment,
            dict(households=1),
            ("help_request_id", "provider_id", "households"),
            (
                (row[0], telecoms[i % len(telecoms)][0], 2)
                for i, row in enumerate(r for r in request_rows if r[13] and r[11])
            ),
        )
        kinds_of_mail = ["donation_registered", "helprequest_approved", "allocation_approved"]
        copy_rows(
            Notification,
            dict(to_email="x@example.org", kind="x", subject="Bench", body_text="Bench"),
            ("to_email", "kind", "status", "created_at"),
            (
                (
                    f"user{i % 50000}@bench.example",
                    kinds_of_mail[i % 3],
                    "sent" if i % 50 else "pending",
                    _noon(start + timedelta(days=i % 364)),
                )
                for i in range(n_devices)
            ),
        )
        for table in (
            "allemaal_organisation",
            "donations_donation",
            "donations_device",
            "helprequests_helprequest",
        ):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {
        "generated": True,
        "seconds": round(time.perf_counter() - started, 1),
        "devices": len(devices),
        "events": n_events,
        "requests": len(request_rows),
        "allocations": len(allocations),
    }


# --- Measuring -------------------------------------------------------------------------------


def coordinator_client():
    """A test client logged in as a coordinator whose two-step check is done."""
    from django.contrib.auth.models import Group
    from django.test import Client

    from allemaal.middleware import MFA_SESSION_KEY
    from allemaal.models import User

    user, _created = User.objects.get_or_create(
        email="bench-coordinator@bench.example", defaults={"is_staff": True}
    )
    user.groups.add(Group.objects.get(name="coordinators"))
    client = Client()
    client.force_login(user)
    session = client.session
    session[MFA_SESSION_KEY] = True
    session.save()
    return client


def timed_get(client, url: str, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm: caches, the first compile of templates
    times, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured.captured_queries)
    times.sort()
    return {
        "p50": statistics.median(times),
        "p95": times[max(0, int(round(0.95 * len(times))) - 1)],
        "max": times[-1],
        "queries": queries,
        "sql": captured.captured_queries,
    }


def show(label: str, result: dict, target_ms: float) -> None:
    verdict = "met" if result["p95"] < target_ms else "MISSED"
    print(
        f"  {label:<44} p50 {result['p50']:7.1f} ms  p95 {result['p95']:7.1f} ms  "
        f"max {result['max']:7.1f} ms  {result['queries']:>2} queries  ({verdict})"
    )


def measure_dashboard(repeat: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from allemaal.models import Organisation
    from allemaal.reporting import snapshot
    from donations.models import DeviceEvent

    began = time.perf_counter()
    stored = snapshot.refresh(full=True)
    print(
        f"  reporting job, full rebuild:{'':16} {time.perf_counter() - began:7.1f} s "
        f"({stored.facts_refreshed:,} device facts)"
    )
    # Fifty devices get a custody event now, as between two runs of the job.
    devices = list(DeviceEvent.objects.order_by("-id").values_list("device_id", flat=True)[:50])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO donations_deviceevent (device_id, from_state, to_state, at, note) "
            "SELECT id, state, state, %s, 'bench' FROM donations_device WHERE id = ANY(%s)",
            [timezone.now(), devices],
        )
    began = time.perf_counter()
    stored = snapshot.refresh()
    print(
        f"  reporting job, every ten minutes:{'':11} {time.perf_counter() - began:7.1f} s "
        f"({stored.facts_refreshed:,} device facts of changed donations)"
    )
    client = coordinator_client()
    refurbisher = Organisation.objects.filter(kind="refurbisher").order_by("id").first()
    cases = [
        ("unfiltered (from the snapshot)", "/coordinatie/"),
        ("last 4 weeks (from the snapshot)", "/coordinatie/?periode=4w"),
        ("province Utrecht (live)", "/coordinatie/?provincie=Utrecht"),
        ("target group isolated elderly (live)", "/coordinatie/?doelgroep=isolated_elderly"),
        ("one refurbisher (live)", f"/coordinatie/?opknappartner={refurbisher.pk}"),
        (
            "province + group + 12 weeks (live)",
            "/coordinatie/?provincie=Gelderland&doelgroep=primary_pupils&periode=12w",
        ),
    ]
    for label, url in cases:
        show(label, timed_get(client, url, repeat), 500)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (it is created if needed).")
    ensure_database(url, args.regenerate)
    setup_django()
    info = generate(args.devices, args.requests)
    if info.get("generated"):
        print(f"generated in {info['seconds']} s: {info}")
    print(f"dashboard: {args.devices:,} devices, {args.requests:,} help requests")
    measure_dashboard(args.repeat)


if __name__ == "__main__":
    main()
