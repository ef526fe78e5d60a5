"""Benchmark donations.services.manifest_import on a 20,000-row manifest on PostgreSQL.

Run from the project root:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_donations \\
        .venv/bin/python bench/bench_manifest_import.py [--rows N] [--repeat N]

The script creates and migrates its own database when it is missing. It times, in one run:
  * a bare COPY of the same rows into the devices table (no parsing, no checks, no events),
  * the full import of a CSV file: read, validate every cell, look every serial up, COPY the
    devices in and write one custody event per device (all in one transaction),
  * the same for an XLSX file (openpyxl in read-only mode), for information,
  * the bulk_create alternative to COPY, for information.
Each figure is the best of --repeat runs; every run is undone before the next one. Targets
(issue 3): the CSV import under 5 s and within 3x the bare COPY; peak memory under 300 MB.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

MAKES = [
    ("Dell", "Latitude 5490", "Intel Core i5-8350U"),
    ("HP", "EliteBook 840 G5", "Intel Core i5-8250U"),
    ("Lenovo", "ThinkPad T480", "Intel Core i7-8550U"),
    ("Apple", "iPad (7th generation)", "Apple A10 Fusion"),
    ("Acer", "Chromebook 314", "Intel Celeron N4020"),
]
KINDS = {"Apple": "tablet", "Acer": "chromebook"}
HEADER = "serienummer;type;merk;model;bouwjaar;processor;werkgeheugen (GB);opslag (GB);eigen code"


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def make_rows(n: int, seed: int = 42) -> list[list]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        make, model, cpu = rng.choice(MAKES)
        rows.append(
            [
                f"BENCH{i:06d}{rng.randrange(10**6):06d}",
                KINDS.get(make, "laptop"),
                make,
                model,
                rng.randint(2015, 2022),
                cpu,
                rng.choice([4, 8, 16]),
                rng.choice([128, 256, 512]),
                f"IT-{i:06d}",
            ]
        )
    return rows


def as_csv(rows) -> bytes:
    lines = [HEADER] + [";".join(str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def as_xlsx(rows) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Apparaten")
    sheet.append(HEADER.split(";"))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit(
            "Set DATABASE_URL to a PostgreSQL database, e.g. postgres://postgres@127.0.0.1/bench"
        )
    ensure_database(url)

    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    call_command("migrate", verbosity=0)

    from allemaal.models import Membership, Organisation, User
    from donations import services
    from donations.manifest import manifest_parse
    from donations.models import Device, DeviceEvent, Donation, Manifest

    donor, _ = Organisation.objects.get_or_create(
        kind="donor",
        kvk_number="99999999",
        brin_code="",
        defaults=dict(
            name="Bench BV", street="Straat 1", postcode="3511 AB", city="Utrecht",
            province="Utrecht", phone="+31301234567", status="verified",
        ),
    )  # fmt: skip
    user, _ = User.objects.get_or_create(email="bench@example.org")
    Membership.objects.get_or_create(user=user, defaults={"organisation": donor})
    donation = Donation.objects.create(
        donor=donor, laptops=20_000, pickup_street="Straat 1", pickup_postcode="3511 AB",
        pickup_city="Utrecht", pickup_province="Utrecht", contact_name="Bench",
        contact_phone="+31301234567", consent_transfer=True,
    )  # fmt: skip

    def clean_up():
        # Raw deletes: only this script's rows, without loading 20,000 objects to delete them.
        tables = {m: m._meta.db_table for m in (Device, DeviceEvent, Manifest, Donation)}
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {tables[DeviceEvent]} WHERE device_id IN "
                f"(SELECT id FROM {tables[Device]} WHERE donation_id = %s)",
                [donation.pk],
            )
            for model in (Device, Manifest):
                cursor.execute(f"DELETE FROM {tables[model]} WHERE donation_id = %s", [donation.pk])
        # Every timed run starts from the same table state, without the dead rows of the last.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {tables[Device]}, {tables[DeviceEvent]}")

    rows = make_rows(args.rows)
    csv_bytes, xlsx_bytes = as_csv(rows), as_xlsx(rows)
    print(f"{args.rows:,} rows: CSV {len(csv_bytes) / 2**20:.2f} MB, "
          f"XLSX {len(xlsx_bytes) / 2**20:.2f} MB; PostgreSQL {connection.pg_version}")  # fmt: skip
    rss_before = peak_rss_mb()

    # Bare COPY: the same rows, already typed, straight into the devices table.
    fields = [f for f in Device._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    now = timezone.now()
    full_rows = []
    for serial, kind, make, model, year, cpu, ram, storage, tag in rows:
        values = {
            "donation_id": donation.pk, "state": "announced", "state_changed_at": now,
            "serial_number": serial, "asset_tag": None, "kind": kind, "make": make,
            "model": model, "year": year, "cpu": cpu, "ram_gb": ram, "storage_gb": storage,
            "donor_asset_tag": tag, "grade": "", "os_installed": "", "charger_included": None,
            "recycle_reason": "", "created_at": now,
        }  # fmt: skip
        full_rows.append([values[f.attname] for f in fields])

    def bare_copy() -> float:
        # Committed, like the import: both pay for writing the WAL to disk.
        start = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            sql = f"COPY {Device._meta.db_table} ({columns}) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:
                for row in full_rows:
                    copy.write_row(row)
        elapsed = time.perf_counter() - start
        clean_up()
        return elapsed

    def full_import(content: bytes, name: str) -> float:
        upload = SimpleUploadedFile(name, content)
        start = time.perf_counter()
        result = services.manifest_import(donation.pk, by=user, donor=donor, uploaded_file=upload)
        elapsed = time.perf_counter() - start
        assert result.rows == args.rows
        assert DeviceEvent.objects.filter(device__donation=donation).count() == args.rows
        clean_up()
        return elapsed

    def bulk_create_import(content: bytes) -> float:
        start = time.perf_counter()
        parsed = manifest_parse(SimpleUploadedFile("lijst.csv", content))
        with transaction.atomic():
            stamp = timezone.now()
            services._devices_bulk_create(donation, parsed.rows, stamp)
            services._announcements_insert(donation, stamp, user)
        elapsed = time.perf_counter() - start
        clean_up()
        return elapsed

    def parse_only(content: bytes, name: str) -> float:
        start = time.perf_counter()
        manifest_parse(SimpleUploadedFile(name, content))
        return time.perf_counter() - start

    # Rows left behind by an interrupted earlier run.
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM donations_deviceevent WHERE device_id IN "
            "(SELECT id FROM donations_device WHERE serial_number LIKE 'BENCH%%')"
        )
        cursor.execute("DELETE FROM donations_device WHERE serial_number LIKE 'BENCH%%'")
    copy_s = min(bare_copy() for _ in range(args.repeat))
    csv_s = min(full_import(csv_bytes, "lijst.csv") for _ in range(args.repeat))
    rss_after_csv = peak_rss_mb()
    csv_parse_s = min(parse_only(csv_bytes, "lijst.csv") for _ in range(args.repeat))
    xlsx_s = min(full_import(xlsx_bytes, "lijst.xlsx") for _ in range(args.repeat))
    bulk_s = min(bulk_create_import(csv_bytes) for _ in range(args.repeat))
    rss_end = peak_rss_mb()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM donations_donationevent WHERE donation_id = %s", [donation.pk])
        cursor.execute("DELETE FROM donations_donation WHERE id = %s", [donation.pk])

    ratio = csv_s / copy_s
    print(f"bare COPY of the rows:              {copy_s:6.3f} s")
    print(f"CSV import (validate + COPY + events): {csv_s:6.3f} s  "
          f"(of which reading and checking {csv_parse_s:.3f} s)")  # fmt: skip
    print(f"ratio CSV import / bare COPY:        {ratio:6.2f}x  (target < 3x)")
    print(f"XLSX import:                        {xlsx_s:6.3f} s")
    print(f"CSV import with bulk_create instead of COPY: {bulk_s:6.3f} s")
    print(f"peak RSS: {rss_before:.0f} MB before, {rss_after_csv:.0f} MB after the CSV imports, "
          f"{rss_end:.0f} MB at the end (target < 300 MB)")  # fmt: skip
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (2 cores)")
    ok = csv_s < 5 and ratio < 3 and xlsx_s < 5 and rss_end < 300
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
