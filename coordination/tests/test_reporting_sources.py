"""What the reports read from the distribution app: open discrepancies and support contacts
on the dashboard, people reached in the donors' impact, shipments and contacts in the exports."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from coordination import selectors, snapshot, sources
from distribution.models import Allocation, HandoutReport, Shipment, SupportContact
from donations.models import Device
from tests.factories import member_of

from .test_reporting_fixture import build

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme():
    return build()


def shipment(programme, *, days_ago=1, discrepancy=False, resolved=False, status="delivered"):
    now = timezone.now()
    delivered = status == "delivered"
    return Shipment.objects.create(
        refurbisher=programme.r1,
        organisation=programme.o1,
        status=status,
        delivery_street="Schoolstraat 5",
        delivery_postcode="4001 AB",
        delivery_city="Tiel",
        carrier="" if status == "prepared" else "postnl",
        tracking_code="" if status == "prepared" else "3SABC123",
        shipped_at=None if status == "prepared" else now - timedelta(days=days_ago + 1),
        delivered_at=now - timedelta(days=days_ago) if delivered else None,
        has_discrepancy=discrepancy,
        discrepancy_resolved_at=now if resolved else None,
        resolution_note="Nagestuurd" if resolved else "",
    )


def contact(programme, *, follow_up=True, days_ago=1, device="a1"):
    at = timezone.now() - timedelta(days=days_ago)
    return SupportContact.objects.create(
        device=programme.devices[device],
        organisation=programme.o1,
        channel="phone",
        category="wifi",
        summary="Wifi doet het niet",
        outcome="follow_up" if follow_up else "resolved",
        at=at,
        resolved_at=None if follow_up else at,
    )


def test_open_discrepancies_are_delivered_shipments_not_settled_oldest_first(programme):
    newer = shipment(programme, days_ago=1, discrepancy=True)
    older = shipment(programme, days_ago=5, discrepancy=True)
    shipment(programme, days_ago=3, discrepancy=True, resolved=True)
    shipment(programme, days_ago=2)
    shipment(programme, status="prepared")
    found = sources.open_discrepancies()
    assert found.count == 2
    assert found.oldest == [older, newer]


def test_more_open_items_than_shown_are_counted(programme):
    for days in range(7):
        shipment(programme, days_ago=days + 1, discrepancy=True)
        contact(programme, days_ago=days + 1)
    assert sources.open_discrepancies(limit=5).count == 7
    assert len(sources.open_discrepancies(limit=5).oldest) == 5
    assert sources.open_support_contacts(limit=5).count == 7


def test_open_support_contacts_are_those_that_need_a_follow_up(programme):
    wanted = contact(programme, days_ago=2)
    contact(programme, follow_up=False)
    found = sources.open_support_contacts()
    assert (found.count, found.oldest) == (1, [wanted])


def test_people_reached_come_from_hand_out_reports_shared_by_the_donors_devices(programme):
    # Q1 got a1 and a2 (donor D1); Q2 got b1 (D2) and now a3 (D1) as well.
    Allocation.objects.filter(device=programme.devices["a3"]).update(status="delivered")
    Device.objects.filter(pk=programme.devices["a3"].pk).update(state="delivered")
    HandoutReport.objects.create(
        request=programme.requests["Q1"], devices_handed_out=2, people_reached=5
    )
    HandoutReport.objects.create(
        request=programme.requests["Q2"], devices_handed_out=2, people_reached=4
    )
    assert sources.people_reached_by_donor(programme.d1.pk) == 5 + 2
    assert sources.people_reached_by_donor(programme.d2.pk) == 2
    assert selectors.donation_impact(programme.d1).people_reached == 7


def test_a_donor_without_deliveries_reached_nobody_yet(programme):
    HandoutReport.objects.create(
        request=programme.requests["Q1"], devices_handed_out=2, people_reached=5
    )
    assert sources.people_reached_by_donor(programme.o3.pk) == 0


def test_people_reached_are_unknown_until_a_hand_out_is_reported(programme):
    assert sources.people_reached_by_donor(programme.d1.pk) is None
    assert selectors.donation_impact(programme.d1).people_reached is None


def test_the_impact_page_shows_the_people_reached(client, programme):
    HandoutReport.objects.create(
        request=programme.requests["Q1"], devices_handed_out=2, people_reached=6
    )
    client.force_login(member_of(programme.d1))
    page = client.get(reverse("coordination:impact")).content.decode()
    assert 'id="impact-people"><strong>6</strong>' in page


def test_the_dashboard_lists_open_discrepancies_and_support_contacts(
    client, coordinator, programme
):
    snapshot.refresh()
    late = shipment(programme, days_ago=4, discrepancy=True)
    contact(programme)
    client.force_login(coordinator)
    page = client.get("/coordinatie/").content.decode()
    assert "1 zending met een ontbrekend of beschadigd apparaat" in page
    assert reverse("admin:distribution_shipment_change", args=[late.pk]) in page
    assert "1 contact met de hulplijn heeft nog een vervolg nodig" in page


def _csv(response):
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content), delimiter=";"))


def test_shipments_are_exported_with_the_filters_of_their_list(client, coordinator, programme):
    delivered = shipment(programme, discrepancy=True)
    shipment(programme, status="prepared")
    client.force_login(coordinator)
    url = reverse("coordination:export", args=["distribution", "shipment", "csv"])
    header, *rows = _csv(client.get(url, {"status__exact": "delivered"}))
    assert [row[header.index("zending")] for row in rows] == [delivered.reference]
    assert rows[0][header.index("afwijking")] == "ja"


def test_support_contacts_are_exported_with_the_filters_of_their_list(
    client, coordinator, programme
):
    open_ = contact(programme)
    contact(programme, follow_up=False, device="a2")
    client.force_login(coordinator)
    url = reverse("coordination:export", args=["distribution", "supportcontact", "csv"])
    header, *rows = _csv(client.get(url, {"outcome__exact": "follow_up"}))
    assert [row[header.index("contact")] for row in rows] == [str(open_.pk)]
    assert rows[0][header.index("serienummer")] == "A1"
    # No summary of the call in the export: it may hold what a caller told about themselves.
    assert "Wifi doet het niet" not in ";".join(rows[0])
