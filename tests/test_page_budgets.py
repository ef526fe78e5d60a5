"""Query budgets of the pages in the load mix (bench/bench_load.py).

Each page is requested as its role, once with 2 rows of everything it lists and once with 20:
the count of queries stays the same (nothing is fetched per row) and within the page's budget.
A page over its budget, or one that grows with its rows, is slow under load whatever the
serving: fix the page, never the budget, unless a query was added on purpose (then say why in
the budget's comment).

Each page's time budget (milliseconds alone on a warm server) is bench/bench_load.py's
RENDER_BUDGET_MS, measured there and never here: a timed assertion fails on a busy machine.
"""

import pytest
from django.urls import reverse

from distribution.tests.factories import (
    ApprovedRequestFactory,
    ProcessedDonationFactory,
    ProposalFactory,
    ReadyDeviceFactory,
    RunFactory,
    approved_allocations,
    shipped_shipment,
)
from donations.tests.factories import DonationFactory
from refurbish.tests.factories import device_in

# Page: (role, its URL in the world, budget in queries). An organisation's pages pay session,
# user and membership first, a coordinator's session, user and permissions.
PAGES = {
    # session, user, membership+organisation, its requests, their progress, the latest run and
    # the queue places (from the same allocation counts as the progress), the request limits
    "organisation: /hulpaanvragen/": ("school_board", lambda w: "/hulpaanvragen/", 11),
    "organisation: request page": (
        "school_board",
        lambda w: reverse("coordination:request_detail", args=[w["request"].pk]),
        15,  # + its delivery, why it waits (policy, supply, the run's verdict), internet, events
    ),
    # + the shipments' count (a page of 50 with "Pagina 1 van N") and their item counts
    "organisation: shipments": ("school_board", lambda w: reverse("distribution:shipments"), 7),
    # + a page of donations with their history and device counts, the impact figures
    "donor: /donaties/": ("donor", lambda w: "/donaties/", 12),
    "donor: donation page": (
        "donor",
        lambda w: reverse("donations:detail", args=[w["donation"].pk]),
        11,
    ),
    "donor: impact": ("donor", lambda w: reverse("coordination:impact"), 8),
    "refurbisher: workshop": ("refurbisher", lambda w: reverse("refurbish:dashboard"), 12),
    "refurbisher: intake page": (
        "refurbisher",
        lambda w: reverse("refurbish:intake", args=[w["donation"].pk]),
        7,
    ),
    # + the shipments' count (a page of 50 with "Pagina 1 van N") and their item counts
    "refurbisher: shipping": ("refurbisher", lambda w: reverse("distribution:shipping"), 8),
    # Staff: session, user, permissions; the dashboard reads the stored snapshot.
    "coordinator: dashboard": ("coordinator", lambda w: reverse("coordination:dashboard"), 5),
    # + what waits for the coordinators, one count per kind of work
    "coordinator: admin start": ("coordinator", lambda w: reverse("admin:index"), 12),
    # Change lists: + the capped count and the page of rows (no full COUNT, no DISTINCT)
    "admin: devices": ("coordinator", lambda w: reverse("admin:donations_device_changelist"), 5),
    "admin: help requests": (
        "coordinator",
        lambda w: reverse("admin:helprequests_helprequest_changelist") + "?status__exact=approved",
        5,
    ),
    "admin: shipments": (
        "coordinator",
        lambda w: reverse("admin:distribution_shipment_changelist"),
        6,  # + the page's item counts
    ),
    "allocation list (latest run)": (
        "coordinator",
        lambda w: reverse("admin:distribution_allocation_changelist") + "?run=latest",
        5,
    ),
}


@pytest.fixture
def world(donor_org, refurbisher_org, school_board_org, refurbisher):
    """What every page shows at least one of: a received donation of the donor at the
    refurbisher, the organisation's approved request, processed devices to allocate from and a
    completed allocation run."""
    return {
        "donation": DonationFactory(
            donor=donor_org, status="received", refurbisher=refurbisher_org
        ),
        "request": ApprovedRequestFactory(organisation=school_board_org, laptops=3),
        "stock": ProcessedDonationFactory(refurbisher=refurbisher_org, donor=donor_org),
        "run": RunFactory(),
        "orgs": (donor_org, refurbisher_org, school_board_org),
        "refurbisher": refurbisher,
    }


def grow(world: dict, rows: int) -> None:
    """`rows` more of everything the pages list: devices scanned in, donations, requests of
    the organisation and of others, shipped boxes and open proposals of the latest run."""
    donor_org, refurbisher_org, school_board_org = world["orgs"]
    for number in range(rows):
        device_in(world["donation"])
        DonationFactory(donor=donor_org, status="received", refurbisher=refurbisher_org)
        ApprovedRequestFactory()  # another organisation's, ahead in the queue or not
        request = ApprovedRequestFactory(
            organisation=school_board_org, laptops=1, delivery_street=f"Schoolstraat {number}"
        )
        shipped_shipment(
            approved_allocations(request, 1, donation=world["stock"]), by=world["refurbisher"]
        )
        ProposalFactory(
            run=world["run"],
            device=ReadyDeviceFactory(donation=world["stock"]),
            request=world["request"] if number % 2 else ApprovedRequestFactory(),
        )


@pytest.mark.parametrize("page", list(PAGES))
def test_a_page_of_the_load_mix_takes_the_same_queries_for_2_and_20_rows(
    page, world, client, request, django_assert_max_num_queries
):
    role, url_of, budget = PAGES[page]
    client.force_login(request.getfixturevalue(role))
    grow(world, 2)
    url = url_of(world)
    assert client.get(url).status_code == 200  # warm: content types, the session's clocks
    with django_assert_max_num_queries(budget) as few:
        assert client.get(url).status_code == 200
    grow(world, 18)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


# Tables that grow with the whole country. An organisation's, a donor's or a refurbisher's page
# reads them only through an index on what is its own; a sequential scan of one grows with the
# nation (the organisation's /zendingen/ once counted delivered devices over every allocation:
# 141 ms at a million, 0.4 ms on the index).
NATIONAL_TABLES = (
    "distribution_allocation",
    "distribution_shipment",
    "distribution_shipmentitem",
    "donations_device",
    "donations_deviceevent",
    "helprequests_helprequest",
)
OWN_PAGES = [page for page, (role, _url, _budget) in PAGES.items() if role != "coordinator"]


def _national_scans(sql: str) -> list[str]:
    """The big tables `sql` can only read whole: planned with sequential scans made as costly
    as the planner allows, so a scan that remains has no index to take its place."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return [table for table in NATIONAL_TABLES if f"Seq Scan on {table} " in plan + " "]


@pytest.mark.postgres
@pytest.mark.parametrize("page", OWN_PAGES)
def test_an_own_page_reads_no_national_table_whole(page, world, client, request):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL")
    from distribution.models import AllocationRun
    from distribution.services import allocation_run

    role, url_of, _budget = PAGES[page]
    client.force_login(request.getfixturevalue(role))
    grow(world, 2)
    # As on the platform: the latest run stored the queue's places (before the first run, the
    # organisations' pages compute them from the whole queue, once).
    allocation_run(trigger=AllocationRun.Trigger.MANUAL)
    url = url_of(world)
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    scans = {
        query["sql"][:160]: tables
        for query in captured.captured_queries
        if query["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
        and (tables := _national_scans(query["sql"]))
    }
    assert not scans, scans
