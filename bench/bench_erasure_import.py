"""Benchmark: 1,000 nwipe logs imported in one upload (target: under 20 s on 2 cores).

Run from the project root (SQLite, or PostgreSQL with DATABASE_URL set):

    .venv/bin/python bench/bench_erasure_import.py [--logs 1000] [--size 50] [--separate]

The logs are bench_nwipe_parse's format-faithful nwipe logs (~50 KB each, 1-4 drives, some
failed or aborted), for 1,000 received devices of one donation; about one in four has a
placeholder system serial and is matched by its first drive serial. Everything is generated
before the clock starts; the clock covers the whole HTTP request through the upload page:
multipart parsing, unzipping, reading each log, matching, recording the erasure records, drive
rows and evidence files, and the device transitions. By default the logs travel as one zip
file; --separate posts them as separate files instead (Django's DATA_UPLOAD_MAX_NUMBER_FILES,
100 by default, is raised for that run).
"""

import argparse
import io
import os
import random
import shutil
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
    parser.add_argument("--separate", action="store_true", help="post separate files, no zip")
    args = parser.parse_args()

    with bench_database() as connection:
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.test import Client
        from django.test.utils import CaptureQueriesContext, override_settings

        from donations.models import Device
        from donations.tests.factories import DonationFactory
        from refurbish.models import DriveErasure, ErasureRecord
        from refurbish.nwipe import candidate_serials, parse_nwipe_log
        from tests.factories import OrganisationFactory, member_of

        rng = random.Random(2025)
        logs = [make_log(rng, args.size * 1024) for _ in range(args.logs)]
        refurbisher = OrganisationFactory(kind="refurbisher")
        user = member_of(refurbisher)
        donation = DonationFactory(status="received", refurbisher=refurbisher, laptops=args.logs)
        Device.objects.bulk_create(
            Device(
                donation=donation,
                serial_number=candidate_serials(parse_nwipe_log(text))[0],
                kind="laptop",
                state="received",
            )
            for text in logs
        )
        names = [f"station-{i:04d}.log" for i in range(len(logs))]
        if args.separate:
            files = [
                SimpleUploadedFile(name, text.encode())
                for name, text in zip(names, logs, strict=True)
            ]
        else:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, text in zip(names, logs, strict=True):
                    archive.writestr(name, text)
            files = [SimpleUploadedFile("wislogs.zip", buffer.getvalue())]
        client = Client()
        client.force_login(user)
        size = sum(len(text) for text in logs)

        with (
            override_settings(DATA_UPLOAD_MAX_NUMBER_FILES=len(files) + 10),
            CaptureQueriesContext(connection) as queries,
        ):
            start = time.perf_counter()
            response = client.post("/opknappen/wislogs/", {"logs": files})
            elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.status_code
        results = response.context["results"]
        statuses = {}
        for result in results:
            statuses[result.status] = statuses.get(result.status, 0) + 1
        print(
            f"{connection.vendor}: {len(logs)} logs ({size / 1e6:.1f} MB, "
            f"{'separate files' if args.separate else 'one zip'}) imported in {elapsed:.2f} s "
            f"({elapsed / len(logs) * 1000:.1f} ms/log, {len(queries)} queries): {statuses}; "
            f"{ErasureRecord.objects.count()} erasure records, "
            f"{DriveErasure.objects.count()} drive rows, "
            f"{Device.objects.filter(state='erased').count()} devices erased"
        )
        print("target: < 20 s ->", "OK" if elapsed < 20 else "TOO SLOW")


if __name__ == "__main__":
    main()
