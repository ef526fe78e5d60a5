"""The admin home is the coordinators' start page: what waits for them, with links to the
filtered lists, in a constant number of queries."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from allemaal.models import Notification, Organisation
from coordination import todo
from distribution.services import shipment_confirm_delivery
from distribution.tests.factories import (
    ApprovedRequestFactory,
    ProposalFactory,
    approved_allocations,
    shipped_shipment,
)
from helprequests.tests.factories import HelpRequestFactory
from tests.factories import OrganisationFactory, member_of

pytestmark = pytest.mark.django_db


def _mail(status):
    return Notification.objects.create(
        to_email="someone@example.org", kind="x", subject="x", body_text="y", status=status
    )


def _work(n: int):
    OrganisationFactory.create_batch(n, status=Organisation.Status.PENDING)
    OrganisationFactory(status=Organisation.Status.VERIFIED)
    HelpRequestFactory.create_batch(n, submitted=True)
    HelpRequestFactory(approved=True)
    ProposalFactory.create_batch(n)
    for _ in range(n):
        _mail(Notification.Status.FAILED)
    _mail(Notification.Status.SENT)


def _open_discrepancy(coordinator):
    request = ApprovedRequestFactory(laptops=2)
    allocations = approved_allocations(request, 2)
    shipment = shipped_shipment(allocations, by=coordinator)
    first, second = shipment.items.order_by("pk")
    shipment_confirm_delivery(
        shipment.pk,
        by=member_of(request.organisation),
        organisation=request.organisation,
        outcomes={first.pk: "missing", second.pk: "received"},
    )


def _counts(html: str) -> dict[str, tuple[str, str]]:
    rows = re.findall(
        r'<tr id="waiting-(\w+)"[^>]*>\s*<th scope="row"><a href="([^"]+)">[^<]+</a></th>\s*'
        r'<td class="waiting-count">([^<]+)</td>',
        html,
    )
    return {key: (url.replace("&amp;", "&"), count) for key, url, count in rows}


def test_the_admin_home_counts_what_waits_and_links_to_the_filtered_lists(client, coordinator):
    _work(2)
    _open_discrepancy(coordinator)
    client.force_login(coordinator)
    counts = _counts(client.get("/admin/").content.decode())
    assert counts == {
        "organisations": ("/admin/allemaal/organisation/?status__exact=pending", "2"),
        "requests": ("/admin/helprequests/helprequest/?status__exact=submitted", "2"),
        "proposals": ("/admin/distribution/allocation/?status=proposed", "2"),
        "discrepancies": ("/admin/distribution/shipment/?afwijking=open", "1"),
        "mails": ("/admin/allemaal/notification/?status__exact=failed", "2"),
    }
    # Each link opens the list with exactly the rows counted.
    for key, (url, count) in counts.items():
        page = client.get(url).content.decode()
        assert re.search(rf"\b{count} (resultaat|resultaten|results?)\b", page) or (
            page.count('class="action-select"') == int(count)
        ), key


def test_the_start_page_costs_the_same_queries_at_2_and_20_rows(client, coordinator):
    client.force_login(coordinator)
    _work(2)
    client.get("/admin/")
    with CaptureQueriesContext(connection) as few:
        client.get("/admin/")
    _work(18)
    with CaptureQueriesContext(connection) as many:
        assert _counts(client.get("/admin/").content.decode())["proposals"][1] == "20"
    assert len(few) == len(many)


def test_a_count_stops_at_the_cap(monkeypatch):
    monkeypatch.setattr(todo, "CAP", 2)
    _mail(Notification.Status.FAILED)
    for _ in range(3):
        _mail(Notification.Status.FAILED)
    mails = {w.key: w for w in todo.waiting()}["mails"]
    assert mails.capped and mails.shown == "2+"


def test_the_helpdesk_sees_no_counts(client, helpdesk):
    client.force_login(helpdesk)
    assert 'id="waiting"' not in client.get("/admin/").content.decode()


@pytest.mark.postgres
def test_the_proposals_are_counted_without_reading_the_decided_history():
    """A run's proposals sit at the end of the table, after the country's decided allocations:
    the count reads the index of live allocations, not the table from its start."""
    request = HelpRequestFactory(approved=True)
    # Devices in no order of the table's, as a run writes them (with the devices in table order
    # the planner takes the index either way).
    insert = (
        "INSERT INTO distribution_allocation (status, score, note, decided_at, device_id, "
        "request_id) SELECT %s, 0, 'x', %s, g, %s FROM generate_series(%s, %s) g ORDER BY random()"
    )
    with connection.cursor() as cursor:
        cursor.execute(insert, ["replaced", timezone.now(), request.pk, 1, 20000])
        cursor.execute(insert, ["proposed", None, request.pk, 20001, 25000])
        cursor.execute("ANALYZE distribution_allocation")
    with CaptureQueriesContext(connection) as captured:
        proposals = {w.key: w for w in todo.waiting()}["proposals"]
    assert proposals.capped
    (sql,) = [q["sql"] for q in captured if "distribution_allocation" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on distribution_allocation" not in plan, plan
