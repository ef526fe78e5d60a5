"""The hostile uploads of issue #17, through the real pages and the station API.

Run from the project root:

    .venv/bin/python bench/bench_hostile_uploads.py [--only NAME]

It generates every hostile file of the issue (nothing is committed), posts each to its page
as the right persona and prints, per file: the time of the request, the peak memory it added
(the process's maximum resident set size, measured in a forked child per file, so files do
not share their peaks), the status and the refusal, and beside it the floor: the same
request with an honest file of the same type and size (or "over the limit" when no honest
file may be that large). Targets: every hostile file under 2 s and 200 MB, refused with its
message. Uses DATABASE_URL when set, else a SQLite file in the temp directory.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault(
    "DATABASE_URL", f"sqlite:///{Path(tempfile.gettempdir()) / 'bench_hostile.sqlite3'}"
)
os.environ.setdefault("FAST_PASSWORD_HASHER", "1")

MB = 1024 * 1024
LOG = (ROOT / "refurbish/tests/nwipe_logs/erased_one_drive.log").read_bytes()


# --- Honest files of a given size, for the floor -------------------------------------------


def honest_csv(size: int, header: bytes = b"serienummer;type;merk;model;bouwjaar\n") -> bytes:
    rng = random.Random(1)
    out = io.BytesIO()
    out.write(header)
    n = 0
    while out.tell() < size:
        n += 1
        out.write(b"SN%08d%04d;laptop;Dell;Latitude 5490;2019\n" % (n, rng.randrange(10_000)))
    return out.getvalue()[:size].rsplit(b"\n", 1)[0] + b"\n"


def honest_xlsx(size: int) -> bytes:
    from openpyxl import Workbook

    rng = random.Random(1)
    rows = min(20_000, max(1, size // 28))
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["serienummer", "type", "merk", "model", "bouwjaar"])
    for n in range(rows):
        sheet.append([f"SN{n:08d}{rng.randrange(10_000):04d}", "laptop", "Dell", "E5490", 2019])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def honest_log_zip(size: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        n = 0
        while out.tell() < size and n < 1000:
            archive.writestr(f"log{n:04d}.log", LOG.replace(b"PF0XK2LM", b"PF%06d" % n))
            n += 1
    return out.getvalue()


def honest_logs(size: int) -> bytes:
    return (LOG * (size // len(LOG) + 1))[:size]


# --- The cases -----------------------------------------------------------------------------


def cases():
    from allemaal.tests import hostile
    from donations.manifest import MAX_BYTES as MANIFEST_MAX
    from helprequests.telecom_csv import MAX_BYTES as TELECOM_MAX
    from refurbish.erasure_logs import MAX_LOG_BYTES, MAX_UPLOAD_REQUEST_BYTES

    telecom_header = b"opdracht;simkaarten;mobiele hotspots;databundel loopt af op\n"
    # name, page, file name, hostile maker, honest maker (size -> bytes), the page's maximum
    return [
        (
            "xlsx huge dimension",
            "manifest",
            "a.xlsx",
            hostile.xlsx_huge_dimension,
            honest_xlsx,
            MANIFEST_MAX,
        ),
        (
            "xlsx 3M empty rows",
            "manifest",
            "a.xlsx",
            hostile.xlsx_empty_rows,
            honest_xlsx,
            MANIFEST_MAX,
        ),
        (
            "xlsx row 3,000,000",
            "manifest",
            "a.xlsx",
            hostile.xlsx_row_gap,
            honest_xlsx,
            MANIFEST_MAX,
        ),
        (
            "xlsx 400 MB string",
            "manifest",
            "a.xlsx",
            hostile.xlsx_huge_string,
            honest_xlsx,
            MANIFEST_MAX,
        ),
        (
            "csv field 131,073",
            "manifest",
            "a.csv",
            hostile.csv_long_field,
            honest_csv,
            MANIFEST_MAX,
        ),
        ("csv one 5 MB line", "manifest", "a.csv", hostile.csv_long_line, honest_csv, MANIFEST_MAX),
        ("csv NUL after 4 KB", "manifest", "a.csv", hostile.csv_nul_late, honest_csv, MANIFEST_MAX),
        ("png renamed .csv", "manifest", "a.csv", hostile.png_bytes, honest_csv, MANIFEST_MAX),
        (
            "formula \\n=2+2",
            "manifest",
            "a.csv",
            lambda: b'serienummer;type;model\nS1;laptop;"\n=2+2"\n',
            honest_csv,
            MANIFEST_MAX,
        ),
        (
            "telecom field 131,073",
            "telecom",
            "t.csv",
            lambda: telecom_header + b'1;"' + b"A" * 131_073 + b'"\n',
            lambda n: honest_csv(n, telecom_header),
            TELECOM_MAX,
        ),
        (
            "telecom NUL after 4 KB",
            "telecom",
            "t.csv",
            lambda: hostile.csv_nul_late(telecom_header),
            lambda n: honest_csv(n, telecom_header),
            TELECOM_MAX,
        ),
        (
            "log zip bomb",
            "logs",
            "bom.zip",
            hostile.zip_bomb,
            honest_log_zip,
            MAX_UPLOAD_REQUEST_BYTES,
        ),
        (
            "log zip 1,001 files",
            "logs",
            "veel.zip",
            hostile.zip_of_many,
            honest_log_zip,
            MAX_UPLOAD_REQUEST_BYTES,
        ),
        ("1,001 files at once", "logs-many", "x.log", lambda: b"x", None, MAX_UPLOAD_REQUEST_BYTES),
        (
            "100 MB upload",
            "logs",
            "groot.log",
            lambda: b"0" * (100 * MB),
            honest_logs,
            MAX_UPLOAD_REQUEST_BYTES,
        ),
        (
            "html renamed .log",
            "logs",
            "a.log",
            hostile.html_bytes,
            honest_logs,
            MAX_UPLOAD_REQUEST_BYTES,
        ),
        (
            "api body 25 MB",
            "api",
            "nwipe.log",
            lambda: b"0" * (25 * MB),
            honest_logs,
            MAX_LOG_BYTES,
        ),
        ("api zip bomb", "api", "bom.zip", hostile.zip_bomb, honest_log_zip, MAX_LOG_BYTES),
    ]


# --- Running one request in a child --------------------------------------------------------


def setup():
    import logging

    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()  # templates report their context, as in the tests
    logging.disable(logging.WARNING)  # the 413 and 422 answers are the point, not news

    call_command("migrate", verbosity=0)
    from allemaal.models import Organisation
    from donations.tests.factories import DonationFactory
    from refurbish import services
    from tests.factories import OrganisationFactory, member_of

    def persona(kind, name, email):
        org = Organisation.objects.filter(name=name).first() or OrganisationFactory(
            kind=kind, name=name
        )
        user = org.memberships.first().user if org.memberships.exists() else None
        return org, user or member_of(org, user__email=email)

    donor_org, donor = persona(Organisation.Kind.DONOR, "Bench Donor BV", "d@bench.example")
    refurb_org, refurbisher = persona(
        Organisation.Kind.REFURBISHER, "Bench Opknap BV", "r@bench.example"
    )
    _telecom_org, telecom = persona(Organisation.Kind.TELECOM, "Bench Telecom", "t@bench.example")
    donation = DonationFactory(donor=donor_org)
    _token, raw = services.station_token_create(
        organisation=refurb_org, name="Bench", by=refurbisher
    )
    return {
        "donor": donor,
        "refurbisher": refurbisher,
        "telecom": telecom,
        "donation": donation.pk,
        "token": raw,
    }


def prepare(page: str, name: str, content: bytes, world: dict):
    """The logged-in client and the WSGI environ of the request, body encoded beforehand, so
    that the child measures only the server's side."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
    from django.urls import reverse

    client = Client()
    headers = {}
    if page == "api":
        path, content_type, body = "/opknappen/api/wislogs/", "application/octet-stream", content
        headers = {"HTTP_AUTHORIZATION": f"Bearer {world['token']}", "HTTP_X_FILENAME": name}
    else:
        user = {"manifest": "donor", "telecom": "telecom"}.get(page, "refurbisher")
        client.force_login(world[user])
        if page == "manifest":
            path, field = reverse("donations:manifest_upload", args=[world["donation"]]), "file"
        elif page == "telecom":
            path, field = reverse("helprequests:telecom_upload"), "file"
        else:
            path, field = reverse("refurbish:log_upload"), "logs"
        files = [SimpleUploadedFile(name, content)]
        if page == "logs-many":
            files = [SimpleUploadedFile(f"{n}.log", content) for n in range(1001)]
        content_type, body = MULTIPART_CONTENT, encode_multipart(BOUNDARY, {field: files})
    environ = client._base_environ(
        PATH_INFO=path,
        REQUEST_METHOD="POST",
        CONTENT_TYPE=content_type,
        CONTENT_LENGTH=str(len(body)),
        **headers,
    )
    return client, environ, body


def send(client, environ, body):
    from functools import partial

    from django.test import signals
    from django.test.client import store_rendered_templates

    data = {}
    signals.template_rendered.connect(
        partial(store_rendered_templates, data), weak=False, dispatch_uid="bench"
    )
    environ["wsgi.input"] = io.BytesIO(body)
    try:
        response = client.handler(environ)
    finally:
        signals.template_rendered.disconnect(dispatch_uid="bench")
    response.context = data.get("context")
    return response


def refusal(response) -> str:
    if response.status_code in (413, 422, 400) and response.get("Content-Type", "").startswith(
        "application/json"
    ):
        data = json.loads(response.content)
        return data.get("error") or "; ".join(r["reason"] for r in data.get("results", []))
    context = response.context or {}
    if hasattr(context, "flatten"):
        context = context.flatten()
    elif isinstance(context, list):  # one context per template rendered
        context = {key: value for c in context for key, value in c.flatten().items()}
    failure = context.get("failure")
    if isinstance(failure, dict):  # the background job's page
        if not failure["errors"]:
            return "(failed)"
        first = failure["errors"][0]
        return f"Rij {first['row']}: {first['message']}" if first["row"] else first["message"]
    if failure:
        return str(failure.errors[0])
    preview = context.get("preview")
    if preview is not None and getattr(preview, "errors", None):  # the asset list's preview
        return str(preview.errors[0])
    if context.get("results"):
        return "; ".join(r.reason for r in context["results"] if r.refused) or "(recorded)"
    if context.get("message"):
        return context["message"]
    return f"(no refusal; status {response.status_code})"


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB


def measured(page, name, content, world) -> dict:
    """Run one request in a forked child: its time, the memory it added and its refusal."""
    from django.db import connections

    client, environ, body = prepare(page, name, content, world)
    del content
    connections.close_all()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its database changes and its memory die with it
        os.close(read_end)
        try:
            before = rss_mb()
            started = time.perf_counter()
            response = send(client, environ, body)
            elapsed = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
            if response.status_code == 302 and "/apparatenlijst/" in response["Location"]:
                # A large list goes to the background job (in-process here, inside the request
                # measured above); its refusal is on the job's page.
                response = client.get(response["Location"])
            result = {
                "s": elapsed,
                "mb": max(peak, 0.0),
                "status": response.status_code,
                "refusal": refusal(response),
            }
        except Exception as exc:  # noqa: BLE001 - reported, not hidden
            result = {"s": 0, "mb": 0, "status": 500, "refusal": f"{type(exc).__name__}: {exc}"}
        os.write(write_end, json.dumps(result).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return json.loads(data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", help="run only the cases whose name contains this")
    args = parser.parse_args()
    world = setup()
    # Warm up imports and templates once, as a running server has them.
    send(*prepare("manifest", "w.csv", b"serienummer\n", world))
    send(*prepare("logs", "w.log", b"x\n", world))
    print(
        f"{'file':24} {'size':>10} {'time':>7} {'memory':>8}  {'floor time':>10} "
        f"{'floor mem':>9}  status  refusal"
    )
    failures = 0
    for name, page, file_name, make, honest, maximum in cases():
        if args.only and args.only not in name:
            continue
        content = make()
        hostile = measured(page, file_name, content, world)
        floor = "over the limit"
        if honest is not None and len(content) <= maximum:
            honest_result = measured(page, file_name, honest(len(content)), world)
            floor = f"{honest_result['s']:9.2f}s {honest_result['mb']:7.0f}MB"
        elif honest is None:
            floor = "—"
        ok = hostile["s"] < 2 and hostile["mb"] < 200 and hostile["status"] in (200, 413, 422)
        ok = ok and not hostile["refusal"].startswith("(")
        failures += not ok
        print(
            f"{name:24} {len(content):>10,} {hostile['s']:6.2f}s {hostile['mb']:6.0f}MB  "
            f"{floor:>20}  {hostile['status']}  {'' if ok else 'FAIL '}"
            f"{hostile['refusal'][:110]}"
        )
    print(
        "all hostile files refused within 2 s and 200 MB"
        if not failures
        else f"{failures} file(s) over a limit or not refused"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
