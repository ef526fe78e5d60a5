"""An intake scan costs at most five queries of its own, whatever the size of the donation
(issue 21): the donation (locked, with its running count), the device (locked, matched by
serial, by serial without dashes or by asset tag), its update or insert, its custody event and
the intake scan. Every signed-in page adds two before that: the session (none when sessions
are cached, allemaal.sessions with Redis) and the user with their membership and organisation
(allemaal.backends)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from donations.models import Device, DeviceEvent
from refurbish.models import IntakeScan

from .factories import device_in, received_donation

JSON = {"HTTP_ACCEPT": "application/json"}
SIGNED_IN = 2  # session, user with membership: every signed-in page
SCAN_BUDGET = 5

# BEGIN and COMMIT (SQLite logs them), or the savepoints of a test's transaction, are not
# queries of the scan: on PostgreSQL the scan is one transaction with five statements.
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


@pytest.fixture
def scanning(client, refurbisher, refurbisher_org, donor_org):
    """Scan into a received donation of `size` listed units through the page; answers the
    JSON and the number of queries."""

    def make(size, prefix="LIST"):
        donation = received_donation(refurbisher_org, donor=donor_org, laptops=size)
        for index in range(size - 1):
            device_in(donation, "announced", serial_number=f"{prefix}{index:04d}")
        device_in(donation, "announced", serial_number=f"{prefix}-8341-XYZ")
        client.force_login(refurbisher)
        url = reverse("refurbish:intake", args=[donation.pk])

        def scan(serial, status=200):
            with CaptureQueriesContext(connection) as queries:
                response = client.post(url, {"serial": serial, "kind": "laptop"}, **JSON)
            assert response.status_code == status, response.content
            statements = [q["sql"] for q in queries.captured_queries]
            data = [sql for sql in statements if not sql.startswith(TRANSACTION_CONTROL)]
            return response.json(), len(data) - SIGNED_IN

        return donation, scan

    return make


@pytest.mark.parametrize("size", [2, 200])
def test_every_kind_of_scan_takes_at_most_five_queries(scanning, size, db):
    donation, scan = scanning(size)

    matched, matched_queries = scan("list0000")
    dashless, dashless_queries = scan("LIST8341XYZ")  # issue 14: listed with dashes
    unknown, unknown_queries = scan("EXTRA0001")
    refused, refused_queries = scan("LIST0000", status=409)
    tag = Device.objects.get(serial_number="LIST0000").asset_tag
    as_tag, as_tag_queries = scan(tag, status=409)

    assert matched_queries <= SCAN_BUDGET
    assert dashless_queries <= SCAN_BUDGET
    assert unknown_queries <= SCAN_BUDGET
    assert refused_queries <= SCAN_BUDGET
    assert as_tag_queries <= SCAN_BUDGET
    # The rules and the answer are those of every scan.
    assert matched["ok"] and not matched["device"]["added"]
    assert dashless["device"]["serial_number"] == "LIST-8341-XYZ"
    assert unknown["device"]["added"] is True
    assert "al gescand" in refused["message"]
    assert "apparaatcode, geen serienummer" in as_tag["message"]
    assert unknown["counts"] == {
        "on_manifest": size,
        "scanned_on_manifest": 2,
        "added": 1,
        "scanned": 3,
        "to_go": size - 2,
        "pledged": size,
    }
    assert refused["counts"] == unknown["counts"]
    assert IntakeScan.objects.filter(donation=donation).count() == 3
    assert DeviceEvent.objects.filter(device__donation=donation, to_state="received").count() == 3


def test_the_count_does_not_grow_with_the_donation(scanning, db):
    counts = []
    for size in (2, 200):
        prefix = f"S{size}X"
        _, scan = scanning(size, prefix)
        first = f"{prefix}0000"
        counts.append([scan(first)[1], scan(f"EXTRA{size}")[1], scan(first, status=409)[1]])
    assert counts[0] == counts[1]


@pytest.mark.parametrize("engine", ["django.contrib.sessions.backends.db", "allemaal.sessions"])
def test_the_whole_scan_request_takes_at_most_seven_queries(scanning, engine, settings, db):
    """Session, user (with membership and organisation) and the scan's five; six when the
    session comes from the cache."""
    settings.SESSION_ENGINE = engine
    _, scan = scanning(20)
    scan("LIST0000")  # the first request of a session reads it from the database
    whole = [scan(serial)[1] + SIGNED_IN for serial in ("LIST0001", "EXTRA1")]
    whole.append(scan("LIST0001", status=409)[1] + SIGNED_IN)
    budget = SCAN_BUDGET + 1 + (engine != "allemaal.sessions")
    assert max(whole) <= budget
