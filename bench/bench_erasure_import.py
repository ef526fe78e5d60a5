"""Benchmark: 1,000 nwipe logs recorded from one zip (target: under 3 s on PostgreSQL).

Run from the project root (SQLite, or PostgreSQL with DATABASE_URL set):

    .venv/bin/python bench/bench_erasure_import.py [--logs 1000] [--size 50] [--runs 3]

The logs are bench_nwipe_parse's format-faithful nwipe logs (~50 KB each, 1-4 drives, some
failed or aborted), for received devices of one donation; about one in four has a placeholder
system serial and is matched by its first drive serial. Everything is generated before the
clock starts. Timed, per run with fresh logs and devices: the work of the background job that
an upload this size goes to (`erasure_logs_import` over the zip: unzipping, reading each log,
matching, recording the erasure records, drive rows and evidence files, and the device
transitions). Beside it, in the same run, the floor: unzipping and parsing the same logs alone.
The median of the runs is printed for both.
"""

import argparse
import io
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

from bench_nwipe_parse import make_log  # the same generated logs as the parse bench

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("FAST_PASSWORD_HASHER", "1")


@contextmanager
def bench_database():
    """A throw-away test database (DATABASE_URL's server, else SQLite) and media root."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    media = tempfile.mkdtemp(prefix="bench-media-")
    settings.MEDIA_ROOT = Path(media)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield connection
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
        shutil.rmtree(media, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=1000)
    parser.add_argument("--size", type=int, default=50, help="approximate KB per log")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with bench_database() as connection:
        from django.test.utils import CaptureQueriesContext

        from donations.models import Device
        from donations.tests.factories import DonationFactory
        from refurbish.erasure_logs import erasure_logs_import, expand_uploads
        from refurbish.models import DriveErasure, ErasureRecord, ErasureSource
        from refurbish.nwipe import candidate_serials, parse_nwipe_log
        from tests.factories import OrganisationFactory, member_of

        refurbisher = OrganisationFactory(kind="refurbisher")
        user = member_of(refurbisher)
        imports, floors, counts = [], [], []
        for run in range(args.runs):
            rng = random.Random(2025 + run)
            logs = [make_log(rng, args.size * 1024) for _ in range(args.logs)]
            donation = DonationFactory(
                status="received", refurbisher=refurbisher, laptops=args.logs
            )
            Device.objects.bulk_create(
                Device(
                    donation=donation,
                    serial_number=candidate_serials(parse_nwipe_log(text))[0],
                    kind="laptop",
                    state="received",
                )
                for text in logs
            )
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for index, text in enumerate(logs):
                    archive.writestr(f"station-{index:04d}.log", text)
            upload = [("wislogs.zip", buffer.getvalue())]

            start = time.perf_counter()
            for item in expand_uploads(upload):
                parse_nwipe_log(item.content)
            floors.append(time.perf_counter() - start)

            connection.queries_log.clear()  # its 9,000-query window would cut the count
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                results = erasure_logs_import(
                    upload, organisation=refurbisher, by=user, source=ErasureSource.UPLOAD
                )
                imports.append(time.perf_counter() - start)
            statuses = {}
            for result in results:
                statuses[result.status] = statuses.get(result.status, 0) + 1
            counts.append((len(queries), statuses))
            print(
                f"run {run + 1}: import {imports[-1]:.2f} s ({len(queries)} queries), "
                f"floor {floors[-1]:.2f} s: {statuses}"
            )

        size = sum(len(text) for text in logs)
        imported, floor = statistics.median(imports), statistics.median(floors)
        print(
            f"{connection.vendor}: {args.logs} logs ({size / 1e6:.1f} MB, one zip), median of "
            f"{args.runs}: recorded in {imported:.2f} s ({imported / args.logs * 1000:.1f} "
            f"ms/log, {counts[-1][0]} queries); floor (unzip + parse alone) {floor:.2f} s; "
            f"ratio {imported / floor:.1f}x; {ErasureRecord.objects.count()} erasure records, "
            f"{DriveErasure.objects.count()} drive rows, "
            f"{Device.objects.filter(state='erased').count()} devices erased in all"
        )
        print("target: < 3 s ->", "OK" if imported < 3 else "TOO SLOW")


if __name__ == "__main__":
    main()
