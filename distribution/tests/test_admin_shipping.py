"""The coordinators' pages for shipments, hand-out reports, support contacts and returns."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from allemaal.tests.test_admin_speed import _unbounded_counts_or_distinct
from distribution import services
from distribution.models import Shipment, ShipmentItem

from .factories import ApprovedRequestFactory, approved_allocations, shipped_shipment

pytestmark = pytest.mark.django_db

SHIPMENTS = reverse("admin:distribution_shipment_changelist")
CONTACTS = reverse("admin:distribution_supportcontact_changelist")
HANDOUTS = reverse("admin:distribution_handoutreport_changelist")
RETURNS = reverse("admin:distribution_devicereturn_changelist")


@pytest.fixture
def admin_client(client, coordinator):
    client.force_login(coordinator)
    client.get(reverse("admin:index"))  # the MFA check is remembered in the session
    return client


def _delivered(count, *, refurbisher, donation, missing=False):
    """`count` delivered shipments of one device each; with `missing`, that device is missing."""
    shipments = []
    for number in range(count):
        request = ApprovedRequestFactory(laptops=1, delivery_street=f"Laan {number}")
        shipment = shipped_shipment(
            approved_allocations(request, 1, donation=donation), by=refurbisher
        )
        item = shipment.items.get()
        services.shipment_confirm_delivery(
            shipment.pk,
            by=refurbisher,
            organisation=request.organisation,
            outcomes={item.pk: "missing" if missing else "received"},
        )
        if not missing:
            services.handout_report_save(
                request.pk,
                by=refurbisher,
                organisation=request.organisation,
                devices_handed_out=1,
                people_reached=2,
            )
        shipments.append(shipment)
    return shipments


def _called_and_returned(device, helpdesk):
    """A resolved call to the support line about `device`, then its return (no replacement)."""
    services.support_contact_log(
        device.pk,
        by=helpdesk,
        channel="phone",
        category="hardware",
        summary="Scherm",
        outcome="resolved",
    )
    services.device_return_start(device.pk, by=helpdesk, reason="Kapot", replacement=False)


def test_anonymous_visitors_and_organisations_cannot_open_the_pages(client, school_board):
    for url in (SHIPMENTS, CONTACTS, HANDOUTS, RETURNS):
        assert "login" in client.get(url).url
    client.force_login(school_board)
    for url in (SHIPMENTS, CONTACTS, HANDOUTS, RETURNS):
        assert client.get(url).status_code == 302  # the admin's own log-in page


def test_coordinators_filter_shipments_with_an_open_discrepancy(
    admin_client, refurbisher, donation
):
    fine = _delivered(1, refurbisher=refurbisher, donation=donation)[0]
    flagged = _delivered(1, refurbisher=refurbisher, donation=donation, missing=True)[0]
    page = admin_client.get(SHIPMENTS + "?afwijking=open").content.decode()
    assert flagged.reference in page and fine.reference not in page
    page = admin_client.get(SHIPMENTS + "?afwijking=none").content.decode()
    assert fine.reference in page and flagged.reference not in page
    page = admin_client.get(SHIPMENTS + f"?q={flagged.reference}").content.decode()
    assert flagged.reference in page and fine.reference not in page


def test_shipments_are_found_by_tracking_code_organisation_or_refurbisher(
    admin_client, refurbisher, donation
):
    mine = _delivered(1, refurbisher=refurbisher, donation=donation)[0]
    other = shipped_shipment(
        approved_allocations(ApprovedRequestFactory(laptops=1), 1),
        by=refurbisher,
        tracking_code="3SZZZZ0000001",
    )
    other.organisation.name = "Stichting Andere School"
    other.organisation.save()

    def found(term):
        return set(admin_client.get(SHIPMENTS, {"q": term}).context["cl"].result_list)

    assert found(" 3szzzz 0000001") == {other}  # as typed off a label
    assert found("andere school") == {other}
    assert found(mine.organisation.name[3:]) >= {mine} and other not in found(mine.reference)
    assert mine in found(mine.refurbisher.name)
    assert found("3SZZZZ000000") == set()  # a code is matched whole


@pytest.mark.parametrize("url", [CONTACTS, RETURNS])
def test_support_contacts_and_returns_are_found_by_device_code_or_organisation(
    admin_client, refurbisher, donation, helpdesk, url
):
    shipments = _delivered(2, refurbisher=refurbisher, donation=donation)
    devices = [shipment.items.get().device for shipment in shipments]
    for device in devices:
        _called_and_returned(device, helpdesk)
    first, second = devices
    tag = first.asset_tag

    def found(term):
        rows = admin_client.get(url, {"q": term}).context["cl"].result_list
        return {row.device_id for row in rows}

    assert found(f"{tag[:5].lower()}-{tag[5:].lower()}") == {first.pk}
    assert found(f" {second.serial_number.lower()} ") == {second.pk}
    assert found(shipments[0].organisation.name) == {first.pk}
    assert found(tag[:6]) == set()


def test_the_resolve_action_settles_and_a_unit_still_missing_becomes_lost(
    admin_client, refurbisher, donation
):
    shipment = _delivered(1, refurbisher=refurbisher, donation=donation, missing=True)[0]
    data = {
        "action": "resolve",
        ACTION_CHECKBOX_NAME: [shipment.pk],
        "apply": "1",
        "reason": "Vervoerder vergoedt",
    }
    response = admin_client.post(SHIPMENTS, data, follow=True)
    assert "1 afwijkingen afgehandeld" in response.content.decode()
    shipment.refresh_from_db()
    assert not shipment.discrepancy_open
    item = ShipmentItem.objects.select_related("device").get(shipment=shipment)
    assert item.device.state == "lost"


def test_the_resolve_action_asks_for_a_reason_first(admin_client, refurbisher, donation):
    shipment = _delivered(1, refurbisher=refurbisher, donation=donation, missing=True)[0]
    response = admin_client.post(
        SHIPMENTS, {"action": "resolve", ACTION_CHECKBOX_NAME: [shipment.pk]}
    )
    assert response.status_code == 200 and "Reden" in response.content.decode()


def test_the_shipments_list_counts_and_sorts_by_devices(admin_client, refurbisher, donation):
    small, large = (
        shipped_shipment(
            approved_allocations(
                ApprovedRequestFactory(laptops=n, delivery_street=f"Laan {n}"), n, donation=donation
            ),
            by=refurbisher,
        )
        for n in (1, 2)
    )
    devices = admin_client.get(SHIPMENTS).context["cl"].list_display.index("devices")
    for order, expected in ((f"{devices}", [small, large]), (f"-{devices}", [large, small])):
        rows = admin_client.get(SHIPMENTS, {"o": order}).context["cl"].result_list
        assert [row.pk for row in rows] == [s.pk for s in expected]
        assert [row.n_items for row in rows] == [s.items.count() for s in expected]
    # Read a batch at a time too (an export): the counts come per batch.
    counted = Shipment.objects.with_counts().order_by("pk").iterator(chunk_size=1)
    assert [(s.pk, s.n_items, s.n_received) for s in counted] == [
        (small.pk, 1, 0),
        (large.pk, 2, 0),
    ]


@pytest.mark.parametrize("rows", [2, 20])
def test_the_changelists_take_a_constant_number_of_queries(
    admin_client, django_assert_num_queries, rows, refurbisher, donation, helpdesk
):
    shipments = _delivered(rows, refurbisher=refurbisher, donation=donation)
    for shipment in shipments:
        _called_and_returned(shipment.items.get().device, helpdesk)
    for url in (SHIPMENTS, CONTACTS, HANDOUTS, RETURNS):
        admin_client.get(url)  # warm the session's cached permissions and filter choices
        # session, user, the user's and its groups' permissions, and the page of rows with
        # their related rows joined and the total; the shipments' item counts, one query
        with django_assert_num_queries(6 if url == SHIPMENTS else 5):
            response = admin_client.get(url)
        assert response.status_code == 200
        assert response.context["cl"].result_count == rows


@pytest.mark.postgres
def test_the_changelists_never_count_a_whole_table_or_select_distinct(
    admin_client, refurbisher, donation, helpdesk
):
    shipments = _delivered(3, refurbisher=refurbisher, donation=donation)
    _called_and_returned(shipments[0].items.get().device, helpdesk)
    for url, filters in (
        (SHIPMENTS, {"afwijking": "open", "refurbisher__id__exact": refurbisher.pk}),
        (CONTACTS, {"outcome__exact": "resolved"}),
        (HANDOUTS, {"request__target_group__exact": "isolated_elderly"}),
        (RETURNS, {"replacement__exact": "0"}),
    ):
        for params in ({}, filters):
            with CaptureQueriesContext(connection) as captured:
                assert admin_client.get(url, params).status_code == 200
            assert _unbounded_counts_or_distinct(captured.captured_queries) == [], (url, params)


def test_shipments_and_support_contacts_offer_their_exports_with_the_filters(
    admin_client, refurbisher, donation
):
    _delivered(1, refurbisher=refurbisher, donation=donation)
    page = admin_client.get(SHIPMENTS, {"status__exact": "delivered"}).content.decode()
    assert "/coordinatie/export/distribution/shipment.csv?status__exact=delivered" in page
    page = admin_client.get(CONTACTS).content.decode()
    assert "/coordinatie/export/distribution/supportcontact.xlsx" in page
