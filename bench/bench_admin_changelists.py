"""Admin change lists at a million rows on PostgreSQL (run by hand; prints figures).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_admin \\
        .venv/bin/python bench/bench_admin_changelists.py [--devices 1000000] [--repeat 40]

The data is bench_dashboard's (created with COPY when the database is empty): 1,000,000
devices with ~5 custody events each, 20,000 donations, 100,000 help requests, 1,000,000
e-mails, 22,045 organisations, 20,000 internet assignments and the distribution app's rows:
~650,000 decided allocations and ~150,000 open proposals of the latest of 15 allocation runs,
one priority policy, ~80,000 shipments with their items, hand-out reports, support contacts
and returns. Each change list is requested by a coordinator (group permissions, two-step check
done) through Django's test client, unfiltered, with a filter, with a search on an exact code
(serial number, asset tag, AAN-number) and on a later page; it prints p50 / p95 / max at the
server and the number of queries, and checks the captured SQL for a COUNT(*) over a whole
table and for SELECT DISTINCT. Targets: p95 under 150 ms, at most 5 queries.

For comparison it also calls the Device list directly (no session or middleware), once with
Django's default ModelAdmin (same columns and filters) and once with this project's admin.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def bad_sql(queries) -> list[str]:
    """A COUNT(*) over a whole table (no WHERE and no capping LIMIT after it), or DISTINCT."""
    found = []
    for query in queries:
        sql = query["sql"].upper()
        if "DISTINCT" in sql:
            found.append("SELECT DISTINCT")
        for match in re.finditer(r"COUNT\(\*\)", sql):
            rest = sql[match.end() :]
            if " WHERE " not in rest and " LIMIT " not in rest:
                found.append("full COUNT(*)")
    return sorted(set(found))


def cases() -> list[tuple[str, str]]:
    from urllib.parse import urlencode

    from django.urls import reverse
    from django.utils import timezone

    from distribution.models import Allocation, Shipment, SupportContact
    from donations.models import Device, DeviceEvent

    device = Device.objects.order_by("id").values("serial_number", "donation__refurbisher_id")[0]
    events = reverse(f"admin:{DeviceEvent._meta.app_label}_deviceevent_changelist")
    # One proposal of the latest run (a device to search by serial number and asset tag) and
    # one request holding delivered devices (to search by its AAN-number).
    proposal = (
        Allocation.objects.filter(status="proposed")
        .order_by("device_id")
        .values("device__serial_number", "device__asset_tag")[0]
    )
    delivered = (
        Allocation.objects.filter(status="delivered")
        .order_by("id")
        .values("request_id", "request__created_at")[0]
    )
    year = timezone.localtime(delivered["request__created_at"]).year
    reference = f"AAN-{year}-{delivered['request_id']:05d}"
    shipment = (
        Shipment.objects.exclude(tracking_code="")
        .order_by("id")
        .values("tracking_code", "organisation__name")[0]
    )
    by_name = urlencode({"q": shipment["organisation__name"]})
    contact = SupportContact.objects.order_by("id").values("device__serial_number")[0]
    allocations = reverse("admin:distribution_allocation_changelist")
    shipments = reverse("admin:distribution_shipment_changelist")
    contacts = reverse("admin:distribution_supportcontact_changelist")
    c = [
        ("Device", reverse("admin:donations_device_changelist")),
        (
            "Device, state=ready",
            reverse("admin:donations_device_changelist") + "?state__exact=ready",
        ),
        (
            "Device, refurbisher filter",
            reverse("admin:donations_device_changelist")
            + f"?donation__refurbisher__id__exact={device['donation__refurbisher_id']}",
        ),
        (
            "Device, search serial",
            reverse("admin:donations_device_changelist") + f"?q={device['serial_number']}",
        ),
        ("Device, page 50", reverse("admin:donations_device_changelist") + "?p=50"),
        ("Donation", reverse("admin:donations_donation_changelist")),
        (
            "Donation, status=received",
            reverse("admin:donations_donation_changelist") + "?status__exact=received",
        ),
        ("HelpRequest", reverse("admin:helprequests_helprequest_changelist")),
        (
            "HelpRequest, approved + Utrecht",
            reverse("admin:helprequests_helprequest_changelist")
            + "?status__exact=approved&delivery_province__exact=Utrecht",
        ),
        ("DeviceEvent (custody events)", events),
        ("DeviceEvent, to_state=delivered", events + "?to_state__exact=delivered"),
        ("DeviceTrail (herkomst)", reverse("admin:refurbish_devicetrail_changelist")),
        (
            "DeviceTrail, search serial",
            reverse("admin:refurbish_devicetrail_changelist") + f"?q={device['serial_number']}",
        ),
        ("Organisation", reverse("admin:allemaal_organisation_changelist")),
        (
            "Organisation, requesters in Utrecht",
            reverse("admin:allemaal_organisation_changelist")
            + "?kind__exact=requester&province__exact=Utrecht",
        ),
        ("Notification", reverse("admin:allemaal_notification_changelist")),
        (
            "Notification, pending",
            reverse("admin:allemaal_notification_changelist") + "?status__exact=pending",
        ),
        (
            "Notification, search e-mail",
            reverse("admin:allemaal_notification_changelist") + "?q=user4242@bench.example",
        ),
        ("ConnectivityAssignment", reverse("admin:helprequests_connectivityassignment_changelist")),
        ("Allocation (distribution admin)", allocations),
        ("Allocation, status=proposed", allocations + "?status=proposed"),
        ("Allocation, status=delivered", allocations + "?status=delivered"),
        ("Allocation, status=returned (rare)", allocations + "?status=returned"),
        ("Allocation, latest run", allocations + "?run=latest"),
        ("Allocation, search serial", allocations + f"?q={proposal['device__serial_number']}"),
        ("Allocation, search asset tag", allocations + f"?q={proposal['device__asset_tag']}"),
        ("Allocation, search AAN-number", allocations + f"?q={reference}"),
        ("Allocation, page 50", allocations + "?p=50"),
        ("AllocationRun", reverse("admin:distribution_allocationrun_changelist")),
        ("PriorityPolicy", reverse("admin:distribution_prioritypolicy_changelist")),
        ("Shipment", shipments),
        ("Shipment, open discrepancy", shipments + "?afwijking=open"),
        ("Shipment, search tracking code", shipments + f"?q={shipment['tracking_code'].lower()}"),
        ("Shipment, search organisation", f"{shipments}?{by_name}"),
        ("HandoutReport", reverse("admin:distribution_handoutreport_changelist")),
        ("SupportContact", contacts),
        ("SupportContact, follow-up open", contacts + "?outcome__exact=follow_up"),
        ("SupportContact, search serial", contacts + f"?q={contact['device__serial_number']}"),
        ("DeviceReturn", reverse("admin:distribution_devicereturn_changelist")),
    ]
    return c


def measure(repeat: int) -> None:
    from bench_dashboard import coordinator_client, timed_get
    from django.contrib import admin

    from donations.models import Device

    client = coordinator_client()
    print(f"{'change list':<40} {'p50':>8} {'p95':>8} {'max':>8}  queries  SQL")
    for label, url in cases():
        result = timed_get(client, url, repeat)
        problems = bad_sql(result["sql"]) or ["ok"]
        verdict = "met" if result["p95"] < 150 and result["queries"] <= 5 else "MISSED"
        print(
            f"{label:<40} {result['p50']:6.1f}ms {result['p95']:6.1f}ms {result['max']:6.1f}ms"
            f"  {result['queries']:>7}  {', '.join(problems)}  ({verdict})"
        )
    # For comparison, the Device list called directly (same page, without session and
    # middleware, the user's permissions loaded afresh each time): with Django's defaults and
    # with this project's admin.
    tuned = admin.site._registry[Device]
    default = admin.ModelAdmin(Device, admin.site)
    default.list_display = tuned.list_display
    default.list_filter = [
        "state",
        "kind",
        ("donation__refurbisher", admin.RelatedOnlyFieldListFilter),
    ]
    default.list_select_related = ["donation"]
    default.search_fields = ["=serial_number", "=asset_tag"]
    for label, model_admin, path in [
        ("Device with Django's defaults", default, "/admin/donations/device/"),
        ("Device, this project's admin", tuned, "/admin/donations/device/"),
    ]:
        result = direct(model_admin, path, repeat)
        print(
            f"{label:<40} {result['p50']:6.1f}ms {result['p95']:6.1f}ms {result['max']:6.1f}ms"
            f"  {result['queries']:>7}  {', '.join(bad_sql(result['sql'])) or 'ok'}  (direct)"
        )


def direct(model_admin, path: str, repeat: int) -> dict:
    """Time `model_admin.changelist_view` for a coordinator, rendering included."""
    import statistics
    import time

    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from allemaal.models import User

    def call():
        request = RequestFactory().get(path)
        request.user = User.objects.get(email="bench-coordinator@bench.example")
        request.session = SessionStore()
        request._messages = FallbackStorage(request)
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            model_admin.changelist_view(request).render()
            elapsed = (time.perf_counter() - began) * 1000
        return elapsed, captured.captured_queries

    call()
    runs = [call() for _ in range(repeat)]
    times = sorted(t for t, _sql in runs)
    return {
        "p50": statistics.median(times),
        "p95": times[max(0, int(round(0.95 * len(times))) - 1)],
        "max": times[-1],
        "queries": len(runs[-1][1]),
        "sql": runs[-1][1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (it is created if needed).")
    from bench_dashboard import ensure_database, generate, setup_django

    ensure_database(url, args.regenerate)
    setup_django()
    info = generate(args.devices, args.requests)
    if info.get("generated"):
        print(f"generated in {info['seconds']} s: {info}")
    measure(args.repeat)


if __name__ == "__main__":
    main()
