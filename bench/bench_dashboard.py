"""The coordinators' dashboard at national scale on PostgreSQL (run by hand; prints figures).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_dashboard \\
        .venv/bin/python bench/bench_dashboard.py [--devices 1000000] [--requests 100000]
        [--repeat 30] [--regenerate]

The database (the name in DATABASE_URL) is created, migrated and filled once with COPY: a year
of donations from 2,000 donors to 40 refurbishers, 1,000,000 devices with their custody events
(about 5 per device) along the real road (announced, received, erased, ready or recycled,
allocated, shipped, delivered), an asset tag from intake and a make, model, specification and
grade once ready, 100,000 help requests of 20,000 organisations, 1,000,000 e-mails in the outbox
and 20,000 internet assignments (`bench_admin_changelists.py` measures the admin on the same
data). A database that holds its data already is reused (--regenerate starts again).

The distribution app's tables match those devices. The active priority policy (version 1);
thirteen allocation runs four weeks apart (superseded), one failed and the latest, completed,
whose ~150,000 open proposals are ready devices for approved requests with room left. Every
allocated, shipped or delivered device has its allocation (a batch of one donation's devices
for one request; 85% from the run before, the rest by hand), ~650,000 in all. The shipped ones
are in ~80,000 shipments, a refurbisher's boxes of about ten devices for one organisation,
shipped or delivered as their devices are; a few units arrived damaged or went missing (still
shipped), which flags the box until settled. 60% of the requests with delivered devices
reported their hand-out, ~2% of the delivered devices had a call to the support line, and a
few of those went back to their refurbisher (allocation returned or replaced, the device
received again).

It then times the reporting job (a full rebuild of the device facts and the snapshot, and a
refresh after a few donations changed) and the dashboard page at the server (Django's test
client: middleware, view, templates; no network), unfiltered and with each filter, printing
p50 / p95 / max and the number of queries. Target: under 500 ms.
"""

from __future__ import annotations

import argparse
import functools
import json
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
# What a device is once refurbished: (make, model, RAM GB, storage GB, grade, operating system).
# Every laptop and Chromebook meets the minimum the default policy asks for pupils (4 GB, 64 GB).
CATALOGUE = {
    "laptop": [
        ("Dell", "Latitude 7490", 8, 256, "A", "windows11"),
        ("HP", "ProBook 450 G5", 8, 256, "B", "windows11"),
        ("Lenovo", "ThinkPad T470", 8, 128, "B", "windows11"),
        ("Fujitsu", "Lifebook E548", 4, 128, "B", "windows11"),
        ("Lenovo", "ThinkPad X240", 4, 128, "C", "ubuntu"),
    ],
    "chromebook": [
        ("HP", "Chromebook 14 G5", 4, 64, "B", "chromeos_flex"),
        ("Acer", "Chromebook 314", 4, 64, "A", "chromeos_flex"),
    ],
    "tablet": [
        ("Apple", "iPad (6e generatie)", 2, 32, "B", "ipados"),
        ("Samsung", "Galaxy Tab A 10.1", 3, 32, "A", "android"),
        ("Lenovo", "Tab M10", 2, 32, "C", "android"),
    ],
}
UNGRADED = ("", "", None, None, "", "")
CARRIERS = {"postnl": "3SBNCH", "dhl": "JVGL05", "dpd": "05345", "gls": "GLS", "own": ""}
CARRIER_WEIGHTS = [45, 20, 12, 8, 15]
DAMAGE = ["Scherm gebarsten.", "Toetsenbord mist toetsen.", "Behuizing gedeukt.", "Geen oplader."]
RESOLUTIONS = [
    "Vervangend apparaat meegegeven met de volgende zending.",
    "Organisatie houdt het apparaat; schade is klein.",
    "Vervoerder aansprakelijk gesteld.",
]
SUPPORT = {
    "does_not_start": "Apparaat start niet op, ook niet met de oplader.",
    "account": "Beller kon niet inloggen; nieuw account aangemaakt.",
    "wifi": "Geen verbinding met wifi; wachtwoord van de router laten zoeken.",
    "hardware": "Toetsen werken niet of scherm geeft strepen.",
    "other": "Vraag over het gebruik van het apparaat.",
}
SUPPORT_WEIGHTS = [20, 25, 25, 15, 15]
# People reached per device handed out, by target group (a family shares one laptop).
PEOPLE_PER_DEVICE = {"low_income_families": 3, "newcomers": 2}
HANDOUT_NOTES = ["Uitgereikt tijdens de ouderavond.", "Twee apparaten nog in voorraad.", ""]
RUN_EVERY = 28  # days between two (automatic or manual) allocation runs in the bench year


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
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
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


@functools.cache  # a few hundred days, asked for millions of times
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


@functools.cache
def _at(day, hour: int, minute: int = 0):
    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, clock(hour, minute)))


def _asset_tag(device_id: int, alphabet: str, check_symbol) -> str:
    """A valid asset tag that looks random and is the same for the same device (the id times an
    odd number, modulo 32**9, is one-to-one), so search cases can use it."""
    n = device_id * 0x5DEECE66D % 32**9
    payload = "".join(alphabet[(n >> shift) & 31] for shift in range(0, 45, 5))
    return payload + check_symbol(payload)


def generate(n_devices: int, n_requests: int) -> dict:
    """Fill an empty database (ids are set here, so rows can point at each other)."""
    from collections import Counter, defaultdict

    from django.db import connection, transaction
    from django.utils import timezone

    from allemaal.models import Notification, Organisation
    from distribution.models import (
        Allocation,
        AllocationRun,
        DeviceReturn,
        HandoutReport,
        PriorityPolicy,
        Shipment,
        ShipmentItem,
        SupportContact,
    )
    from distribution.solver_classes import Policy
    from donations.models import Device, DeviceEvent, Donation
    from helprequests.models import ConnectivityAssignment, HelpRequest
    from refurbish.asset_tags import ALPHABET, check_symbol

    if Device.objects.exists():
        return {"generated": False}
    started = time.perf_counter()
    rng = random.Random(8)  # noqa: S311 - bench data
    # The distribution's choices draw from a stream of their own: the devices, their roads and
    # the requests stay what they were before those tables were filled too.
    drng = random.Random(9)  # noqa: S311 - bench data
    now = timezone.now()
    today = timezone.localdate()
    start = today - timedelta(weeks=52)
    # Allocation runs every four weeks (each superseded by the next), one that failed three days
    # ago, and the latest, completed two hours ago, whose proposals are open.
    run_days = [start + timedelta(days=RUN_EVERY * k) for k in range(365 // RUN_EVERY)]
    failed_run_id, latest_run_id = len(run_days) + 1, len(run_days) + 2
    latest_started = now - timedelta(hours=2)
    latest_finished = latest_started + timedelta(seconds=95)
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
        held = {r[0]: [0, 0] for r in approved}  # allocated laptops, tablets per request
        replaced = defaultdict(lambda: [0, 0])  # of those, returned with a replacement

        n_donations = max(1, n_devices // DEVICES_PER_DONATION)
        donations, devices, allocations = [], [], []
        # Per allocation that was shipped: (allocation, device, request, organisation,
        # refurbisher, allocated on, shipped on, delivered on or None, "missing"/"damaged"/"").
        shipping = []
        contacts, returns = [], []

        def support(device_id, allocation_id, request, refurbisher, delivered, path):
            """Maybe a call to the support line about a delivered device, maybe a return it led
            to (the device back at its refurbisher); the allocation's status after a return."""
            day = delivered + timedelta(days=drng.randrange(1, 120))
            if day >= today:
                return None
            contact_id = len(contacts) + 1
            category = drng.choices(list(SUPPORT), SUPPORT_WEIGHTS)[0]
            channel = "phone" if drng.random() < 0.7 else "email"
            at = _at(day, drng.randrange(9, 12), drng.randrange(60))
            summary, status = SUPPORT[category], None
            if category in ("does_not_start", "hardware") and drng.random() < 0.35:
                back = min(day + timedelta(days=drng.randrange(0, 3)), today - timedelta(days=1))
                replacement = drng.random() < 0.6
                path.append(("received", back))
                status = "replaced" if replacement else "returned"
                reason = f"{summary} Terug naar de opknappartner."
                returns.append(
                    (len(returns) + 1, device_id, allocation_id, request[0], request[1])
                    + (refurbisher, contact_id, reason, replacement, _noon(back))
                )
                outcome, resolved = "resolved", _noon(back)
                note = "Retour gestart, " + ("met" if replacement else "zonder") + " vervanging."
                summary += " Retour afgesproken."
            elif (today - day).days < 45 and drng.random() < 0.5:
                outcome, resolved, note = "follow_up", None, ""
            elif drng.random() < 0.7:
                outcome, resolved, note = "resolved", at, ""
            else:
                resolved = min(at + timedelta(days=drng.randrange(1, 10)), now)
                outcome, note = "resolved", "Teruggebeld; werkt nu."
            contacts.append(
                (contact_id, device_id, request[1], channel, category, summary, outcome, at)
                + (resolved, note)
            )
            return status

        def allocate(device_id, kind, refurbisher, request, path, days):
            """The device's allocation and what came after its delivery (may extend `path`)."""
            tablet = kind == "tablet"
            held[request[0]][tablet] += 1
            state = path[-1][0]
            status = "approved" if state == "allocated" else state
            allocation_id = len(allocations) + 1
            allocated = days["allocated"]
            decided = _noon(allocated)
            if drng.random() < 0.85:  # approved from the run before; the others by hand
                k = min((allocated - start).days // RUN_EVERY, len(run_days) - 1)
                run_id, note, created = k + 1, "", _at(run_days[k], 2, 2)
            else:
                run_id, note, created = None, "Met de hand toegewezen (bench)", decided
            fate = ""
            if state == "delivered":
                chance = drng.random()
                if chance < 0.003 and (today - days["delivered"]).days < 90:
                    path.pop()  # reported missing at the delivery: still shipped
                    status, fate = "shipped", "missing"
                elif chance < 0.006:
                    fate = "damaged"  # delivered all the same
                elif chance < 0.034:
                    returned = support(
                        device_id, allocation_id, request, refurbisher, days["delivered"], path
                    )
                    status = returned or status
                    if returned == "replaced":
                        replaced[request[0]][tablet] += 1
            allocations.append(
                (allocation_id, device_id, request[0], run_id, status, drng.randint(40, 260))
                + (note, decided, created)
            )
            if "shipped" in days:
                shipping.append(
                    (allocation_id, device_id, request[0], request[1], refurbisher, allocated)
                    + (days["shipped"], days.get("delivered"), fate)
                )

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
                box, box_left = None, 0
                for _ in range(DEVICES_PER_DONATION):
                    device_id += 1
                    kind = rng.choices(["laptop", "chromebook", "tablet"], [70, 10, 20])[0]
                    path = [("announced", pledged)]
                    if received <= today:
                        path += _path(rng, received, today)
                    days = dict(path)
                    spec = drng.choice(CATALOGUE[kind]) if "ready" in days else UNGRADED
                    tag = _asset_tag(device_id, ALPHABET, check_symbol) if len(path) > 1 else None
                    if path[-1][0] in ("allocated", "shipped", "delivered"):
                        # A run gives a request a batch of one donation's devices (one box from
                        # the refurbisher); the main stream still draws a request per device.
                        pick = approved[rng.randrange(len(approved))]
                        if box_left == 0:
                            box, box_left = pick, drng.randint(6, 18)
                        box_left -= 1
                        allocate(device_id, kind, refurbisher, box, path, days)
                    state, since = path[-1]
                    devices.append(
                        (device_id, donation_id, f"BENCH{device_id:09d}", kind, state)
                        + (_noon(since), _noon(pledged), tag, *spec)
                    )
                    previous = ""
                    for to_state, day in path:
                        yield (device_id, previous, to_state, _noon(day), refurbisher)
                        previous = to_state

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
                "asset_tag",
                "make",
                "model",
                "ram_gb",
                "storage_gb",
                "grade",
                "os_installed",
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

        # The latest run's proposals: ready devices (graded before today) for approved requests
        # with room left per type, in batches per request, for up to 15% of all devices.
        room = {}  # request -> [laptops, tablets] it may still receive
        for row in request_rows:
            if row[2] == "approved":
                taken = held.get(row[0], (0, 0))
                gone = replaced.get(row[0], (0, 0))
                room[row[0]] = [row[7] - taken[0] + gone[0], row[8] - taken[1] + gone[1]]
        units_open = sum(a + b for a, b in room.values())
        requests_open = sum(1 for a, b in room.values() if a + b)
        ready = [d for d in devices if d[4] == "ready" and d[5].date() < today]
        share = min(1.0, 0.15 * n_devices / max(1, len(ready)))
        pools = {t: [pk for pk, left in room.items() if left[t]] for t in (0, 1)}

        def pick(tablet: int):
            pool = pools[tablet]
            while pool:
                i = drng.randrange(len(pool))
                if room[pool[i]][tablet]:
                    return pool[i]
                pool[i] = pool[-1]
                pool.pop()
            return None

        proposals, current = [], {0: [None, 0], 1: [None, 0]}
        for device in ready:
            if drng.random() >= share:
                continue
            tablet = int(device[3] == "tablet")
            request_id, left = current[tablet]
            if left == 0 or not room[request_id][tablet]:
                request_id, left = pick(tablet), drng.randint(3, 12)
                if request_id is None:
                    continue
            room[request_id][tablet] -= 1
            current[tablet] = [request_id, left - 1]
            proposals.append(
                (len(allocations) + len(proposals) + 1, device[0], request_id, latest_run_id)
                + ("proposed", drng.randint(40, 260), "", None, latest_finished)
            )
        copy_rows(
            Allocation,
            dict(status="approved", score=100),
            (
                "id",
                "device_id",
                "request_id",
                "run_id",
                "status",
                "score",
                "note",
                "decided_at",
                "created_at",
            ),
            (*allocations, *proposals),
        )
        copy_rows(
            PriorityPolicy,
            dict(version=1, weights=Policy().to_dict(), is_active=True, note="Standaardbeleid"),
            ("id", "created_at"),
            [(1, _at(start - timedelta(days=1), 9))],
        )
        per_run = defaultdict(lambda: [0, set(), 0])  # allocations, requests, total score
        for row in allocations:
            if row[3]:
                tally = per_run[row[3]]
                tally[0] += 1
                tally[1].add(row[2])
                tally[2] += row[5]
        runs, previous = [], 0
        for k, day in enumerate(run_days):
            count, served, score = per_run[k + 1]
            stats = {"today": day.isoformat(), "replaced_proposals": previous}
            stats.update(seconds_load=2.1, seconds_solve=8.4, seconds_write=1.9)
            runs.append(
                (k + 1, "superseded", "manual" if k % 4 == 0 else "automatic", _at(day, 2))
                + (_at(day, 2, 2), count + count // 5, 3 * len(served), 4 * count, count)
                + (len(served), score, json.dumps(stats), "")
            )
            previous = count
        failed = _at(today - timedelta(days=3), 2)
        runs.append(
            (failed_run_id, "failed", "automatic", failed, failed + timedelta(seconds=40))
            + (0, 0, 0, 0, 0, 0, "{}", "OperationalError: connection lost (bench)")
        )
        stats = {"today": today.isoformat(), "replaced_proposals": previous}
        stats.update(seconds_load=2.3, seconds_solve=9.1, seconds_write=2.0)
        runs.append(
            (latest_run_id, "completed", "automatic", latest_started, latest_finished)
            + (len(ready), requests_open, units_open, len(proposals))
            + (len({p[2] for p in proposals}), sum(p[5] for p in proposals))
            + (json.dumps(stats), "")
        )
        copy_rows(
            AllocationRun,
            dict(trigger="automatic", policy_id=1, policy_version=1),
            (
                "id",
                "status",
                "trigger",
                "started_at",
                "finished_at",
                "devices_available",
                "requests_open",
                "units_open",
                "proposals",
                "requests_served",
                "total_score",
                "stats",
                "error",
            ),
            runs,
        )

        # Shipments: what one refurbisher sent to one organisation, in boxes of about ten,
        # shipped or delivered as their devices are (a missing unit stays shipped in a
        # delivered box; a delivered box with a missing or damaged unit has a discrepancy).
        groups = defaultdict(list)
        for entry in shipping:
            groups[(entry[4], entry[3], entry[7] is not None)].append(entry)
        boxes = []
        for (refurbisher, org, arrived), entries in groups.items():
            entries.sort(key=lambda e: (e[6], e[0]))
            i = 0
            while i < len(entries):
                size = drng.randint(8, 14)
                if len(entries) - i - size < 3:
                    size = len(entries) - i
                box = entries[i : i + size]
                boxes.append((max(e[5] for e in box), refurbisher, org, arrived, box))
                i += size
        boxes.sort(key=lambda b: b[:3])
        shipments, items = [], []
        for shipment_id, (made, refurbisher, org, arrived, box) in enumerate(boxes, 1):
            created = min(_at(made, 9, drng.randrange(60)), now)
            shipped = min(_at(max(e[6] for e in box), 15, drng.randrange(60)), now)
            last = max(e[7] for e in box) if arrived else None
            delivered = min(_at(last, 11, drng.randrange(60)), now) if arrived else None
            carrier = drng.choices(list(CARRIERS), CARRIER_WEIGHTS)[0]
            tracking = f"{CARRIERS[carrier]}{shipment_id:09d}" if CARRIERS[carrier] else ""
            fates = {e[8] for e in box}
            discrepancy = bool(arrived and fates - {""})
            resolved, resolution, delivery_note = None, "", ""
            if discrepancy:
                delivery_note = "Niet alles kwam goed aan."
                if "missing" not in fates and (today - last).days > 14 and drng.random() < 0.9:
                    resolved = min(delivered + timedelta(days=drng.randrange(1, 10)), now)
                    resolution = drng.choice(RESOLUTIONS)
            shipments.append(
                (shipment_id, refurbisher, org, "delivered" if arrived else "shipped")
                + (f"Contactpersoon {org}", carrier, tracking, created, shipped, delivered)
                + (delivery_note, discrepancy, resolved, resolution)
            )
            for n, entry in enumerate(box):
                outcome = (entry[8] or "received") if arrived else "pending"
                note = drng.choice(DAMAGE) if outcome == "damaged" else ""
                items.append(
                    (len(items) + 1, shipment_id, entry[0], entry[1], entry[2], outcome, note)
                    + (created + timedelta(minutes=n),)
                )
        copy_rows(
            Shipment,
            dict(
                delivery_street="Benchstraat 1",
                delivery_postcode="3511 AA",
                delivery_city="Utrecht",
                contact_phone="+31301234567",
            ),
            (
                "id",
                "refurbisher_id",
                "organisation_id",
                "status",
                "contact_name",
                "carrier",
                "tracking_code",
                "created_at",
                "shipped_at",
                "delivered_at",
                "delivery_note",
                "has_discrepancy",
                "discrepancy_resolved_at",
                "resolution_note",
            ),
            shipments,
        )
        copy_rows(
            ShipmentItem,
            dict(outcome="pending"),
            ("id", "shipment_id", "allocation_id", "device_id", "request_id", "outcome")
            + ("note", "added_at"),
            items,
        )

        # Hand-out reports of 60% of the requests with delivered devices.
        delivered_count, last_delivery = Counter(), {}
        for entry in shipping:
            if allocations[entry[0] - 1][4] == "delivered":
                delivered_count[entry[2]] += 1
                last_delivery[entry[2]] = max(entry[7], last_delivery.get(entry[2], entry[7]))
        reports = []
        for request_id in sorted(delivered_count):
            if drng.random() >= 0.6:
                continue
            count = delivered_count[request_id]
            handed = drng.randint(max(1, count * 3 // 4), count)
            people = handed * PEOPLE_PER_DEVICE.get(requests[request_id - 1][3], 1)
            people += drng.randrange(0, handed + 1)
            day = last_delivery[request_id] + timedelta(days=drng.randrange(3, 45))
            reported = min(_at(day, 16), now)
            updated = reported
            if drng.random() < 0.15:
                updated = min(reported + timedelta(days=drng.randrange(1, 30)), now)
            note = drng.choice(HANDOUT_NOTES) if drng.random() < 0.2 else ""
            reports.append((len(reports) + 1, request_id, handed, people, note, reported, updated))
        copy_rows(
            HandoutReport,
            dict(devices_handed_out=0, people_reached=0),
            ("id", "request_id", "devices_handed_out", "people_reached", "note")
            + ("reported_at", "updated_at"),
            reports,
        )
        copy_rows(
            SupportContact,
            dict(channel="phone", category="other", outcome="resolved"),
            ("id", "device_id", "organisation_id", "channel", "category", "summary", "outcome")
            + ("at", "resolved_at", "resolution_note"),
            contacts,
        )
        copy_rows(
            DeviceReturn,
            dict(replacement=False),
            ("id", "device_id", "allocation_id", "request_id", "organisation_id")
            + ("refurbisher_id", "contact_id", "reason", "replacement", "at"),
            returns,
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
        for model in (
            Organisation,
            Donation,
            Device,
            HelpRequest,
            Allocation,
            PriorityPolicy,
            AllocationRun,
            Shipment,
            ShipmentItem,
            HandoutReport,
            SupportContact,
            DeviceReturn,
        ):
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    statuses = Counter(row[4] for row in allocations)
    return {
        "generated": True,
        "seconds": round(time.perf_counter() - started, 1),
        "devices": len(devices),
        "events": n_events,
        "requests": len(request_rows),
        "allocations": len(allocations),
        "allocation_statuses": dict(sorted(statuses.items())),
        "proposals": len(proposals),
        "runs": len(runs),
        "shipments": len(shipments),
        "shipment_items": len(items),
        "discrepancies_open": sum(1 for s in shipments if s[11] and s[12] is None),
        "handout_reports": len(reports),
        "support_contacts": len(contacts),
        "device_returns": len(returns),
    }


# --- Measuring -------------------------------------------------------------------------------


def coordinator_client():
    """A test client logged in as a coordinator whose two-step check is done, in a process set
    up as the web server's (config.wsgi: long-lived objects frozen after the first request)."""
    from django.contrib.auth.models import Group
    from django.test import Client

    import config.wsgi  # noqa: F401
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
    from coordination import snapshot
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
