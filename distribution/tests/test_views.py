"""The pages: the refurbisher's shipping, the organisation's shipments and hand-out, the
helpdesk, the public help pages. Access first, then behaviour, then query counts."""

import pytest
from django.urls import reverse

from allemaal.models import Notification
from distribution import services
from distribution.models import HandoutReport, Shipment, ShipmentItem, SupportContact
from donations.models import Device
from refurbish.asset_tags import format_asset_tag
from tests.factories import OrganisationFactory, member_of, staff_user

from .factories import (
    ApprovedRequestFactory,
    ProcessedDonationFactory,
    approved_allocations,
    packed_shipment,
    shipped_shipment,
)

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def shipment(allocations, refurbisher):
    return packed_shipment(allocations, by=refurbisher)


@pytest.fixture
def other_refurbisher():
    return member_of(OrganisationFactory(kind="refurbisher", name="Ander ICT BV"))


@pytest.fixture
def other_requester():
    return member_of(OrganisationFactory(kind="requester", sector="municipality"))


def _helpdesk_client(client, user):
    client.force_login(user)
    client.get(reverse("distribution:helpdesk"))  # the MFA check is remembered in the session
    return client


# --- Access ---------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, shipment, help_request):
    urls = [
        reverse("distribution:shipping"),
        reverse("distribution:outgoing", args=[shipment.pk]),
        reverse("distribution:shipments"),
        reverse("distribution:shipment", args=[shipment.pk]),
        reverse("distribution:handout", args=[help_request.pk]),
        reverse("distribution:helpdesk"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "login" in response.url, url


def test_another_refurbisher_gets_a_404_for_a_shipment(client, shipment, other_refurbisher):
    client.force_login(other_refurbisher)
    for name in ("outgoing", "packing_list", "instruction_sheets"):
        assert client.get(reverse(f"distribution:{name}", args=[shipment.pk])).status_code == 404
    url = reverse("distribution:outgoing_scan", args=[shipment.pk])
    assert client.post(url, {"tag": "X"}).status_code == 404
    assert client.post(reverse("distribution:outgoing_ship", args=[shipment.pk])).status_code == 404


def test_another_organisation_gets_a_404_for_a_shipment_and_a_hand_out(
    client, shipment, other_requester, help_request
):
    client.force_login(other_requester)
    assert client.get(reverse("distribution:shipment", args=[shipment.pk])).status_code == 404
    url = reverse("distribution:shipment_confirm", args=[shipment.pk])
    assert client.post(url, {"all": "1"}).status_code == 404
    assert client.get(reverse("distribution:handout", args=[help_request.pk])).status_code == 404
    assert Shipment.objects.get().status == "prepared"


def test_each_side_sees_only_its_own_list(
    client, shipment, refurbisher, other_refurbisher, school_board, other_requester
):
    client.force_login(refurbisher)
    assert shipment.reference in client.get(reverse("distribution:shipping")).content.decode()
    client.force_login(other_refurbisher)
    assert shipment.reference not in client.get(reverse("distribution:shipping")).content.decode()
    client.force_login(school_board)
    assert shipment.reference in client.get(reverse("distribution:shipments")).content.decode()
    client.force_login(other_requester)
    assert shipment.reference not in client.get(reverse("distribution:shipments")).content.decode()


def test_a_requester_cannot_use_the_shipping_pages_nor_a_refurbisher_the_receiving_ones(
    client, shipment, refurbisher, school_board
):
    client.force_login(school_board)
    assert client.get(reverse("distribution:shipping")).status_code == 403
    client.force_login(refurbisher)
    assert client.get(reverse("distribution:shipments")).status_code == 403


def test_the_helpdesk_is_for_helpdesk_staff_and_coordinators_with_two_step_verification(
    client, school_board, helpdesk, coordinator
):
    url = reverse("distribution:helpdesk")
    client.force_login(school_board)
    assert client.get(url).status_code == 403
    client.force_login(staff_user("helpdesk", with_totp=False, email="nieuw@example.org"))
    response = client.get(url)
    assert response.status_code == 302 and response.url == reverse("mfa_index")
    for user in (helpdesk, coordinator):
        client.force_login(user)
        assert client.get(url).status_code == 200


def test_the_help_pages_are_public(client):
    assert client.get(reverse("distribution:help")).status_code == 200
    for kind, words in [
        ("laptop", "Windows"),
        ("chromebook", "ChromeOS"),
        ("tablet", "Android"),
    ]:
        page = client.get(reverse("distribution:help_kind", args=[kind])).content.decode()
        assert words in page and "Verbinden met wifi" in page and "0800 0255" in page
    assert client.get(reverse("distribution:help_kind", args=["broodrooster"])).status_code == 404


# --- Refurbisher ----------------------------------------------------------------------------------


def test_the_shipping_page_lists_destinations_and_starts_a_shipment(
    client, refurbisher, allocations, school_board_org
):
    client.force_login(refurbisher)
    page = client.get(reverse("distribution:shipping")).content.decode()
    assert school_board_org.name in page and "Zending maken" in page
    response = client.post(
        reverse("distribution:shipment_start"), {"request": allocations[0].request_id}
    )
    shipment = Shipment.objects.get()
    assert response.url == reverse("distribution:outgoing", args=[shipment.pk])
    assert (
        f"Verder met {shipment.reference}"
        in client.get(reverse("distribution:shipping")).content.decode()
    )


def test_scanning_answers_in_json_with_the_running_count(client, refurbisher, allocations):
    client.force_login(refurbisher)
    shipment = services.shipment_create(
        refurbisher=allocations[0].device.donation.refurbisher,
        request_id=allocations[0].request_id,
        by=refurbisher,
    )
    url = reverse("distribution:outgoing_scan", args=[shipment.pk])
    tag = allocations[0].device.asset_tag
    answer = client.post(url, {"tag": tag.lower()}, **JSON).json()
    assert answer["ok"] and answer["count_text"] == "1 apparaat in deze zending"
    assert answer["item"]["tag"] == format_asset_tag(tag)
    refused = client.post(url, {"tag": tag}, **JSON)
    assert refused.status_code == 409 and "zit al in deze zending" in refused.json()["message"]
    bad = client.post(url, {"tag": "12345"}, **JSON)
    assert bad.status_code == 409 and "10 tekens" in bad.json()["message"]
    empty = client.post(url, {"tag": ""}, **JSON)
    assert empty.status_code == 400 and "Scan of typ" in empty.json()["message"]
    assert ShipmentItem.objects.count() == 1
    # Without JavaScript: a redirect with the message.
    response = client.post(url, {"tag": allocations[1].device.asset_tag}, follow=True)
    assert "Toegevoegd" in response.content.decode()


def test_shipping_needs_a_carrier_and_tracking_code_beside_the_field(client, refurbisher, shipment):
    client.force_login(refurbisher)
    url = reverse("distribution:outgoing_ship", args=[shipment.pk])
    response = client.post(url, {"carrier": "postnl", "tracking_code": ""})
    assert response.status_code == 400
    assert "Vul de track-and-tracecode" in response.content.decode()
    assert Shipment.objects.get().status == "prepared"
    assert Device.objects.filter(state="shipped").count() == 0
    response = client.post(url, {"carrier": "postnl", "tracking_code": "3SXYZ"})
    assert response.status_code == 302
    assert Shipment.objects.get().status == "shipped"


def test_removing_and_cancelling_from_the_page(client, refurbisher, shipment):
    client.force_login(refurbisher)
    item = shipment.items.first()
    client.post(reverse("distribution:outgoing_remove", args=[shipment.pk, item.pk]))
    assert shipment.items.count() == 2
    client.post(reverse("distribution:outgoing_cancel", args=[shipment.pk]), {"reason": "Fout"})
    assert Shipment.objects.get().status == "cancelled"


# --- Requesting organisation ----------------------------------------------------------------------


def test_the_organisation_confirms_everything_with_one_button(
    client, school_board, allocations, refurbisher
):
    shipment = shipped_shipment(allocations, by=refurbisher)
    client.force_login(school_board)
    page = client.get(reverse("distribution:shipment", args=[shipment.pk])).content.decode()
    assert "Ik heb alle 3 apparaten ontvangen" in page
    client.post(reverse("distribution:shipment_confirm", args=[shipment.pk]), {"all": "1"})
    assert Shipment.objects.get().status == "delivered"
    assert set(Device.objects.values_list("state", flat=True)) == {"delivered"}


def test_the_organisation_reports_a_missing_unit_per_tag(
    client, school_board, allocations, refurbisher, coordinator
):
    shipment = shipped_shipment(allocations, by=refurbisher)
    items = list(shipment.items.order_by("pk"))
    client.force_login(school_board)
    data = {f"item_{i.pk}": "received" for i in items} | {f"item_{items[2].pk}": "missing"}
    response = client.post(reverse("distribution:shipment_confirm", args=[shipment.pk]), data)
    assert response.status_code == 302
    shipment.refresh_from_db()
    assert shipment.discrepancy_open
    assert Notification.objects.filter(kind="shipment_discrepancy").count() == 1
    page = client.get(reverse("distribution:shipment", args=[shipment.pk])).content.decode()
    assert "Ontbreekt" in page and "Toch ontvangen" in page


def test_a_damaged_unit_without_a_note_is_refused_beside_the_field(
    client, school_board, allocations, refurbisher
):
    shipment = shipped_shipment(allocations, by=refurbisher)
    items = list(shipment.items.order_by("pk"))
    client.force_login(school_board)
    data = {f"item_{i.pk}": "received" for i in items} | {f"item_{items[0].pk}": "damaged"}
    response = client.post(reverse("distribution:shipment_confirm", args=[shipment.pk]), data)
    assert response.status_code == 400
    assert "Schrijf kort wat er beschadigd is" in response.content.decode()
    assert Shipment.objects.get().status == "shipped"
    assert Device.objects.filter(state="delivered").count() == 0


def test_the_hand_out_form_saves_and_refuses_impossible_numbers(
    client, school_board, allocations, refurbisher, school_board_org, help_request
):
    shipment = shipped_shipment(allocations, by=refurbisher)
    services.shipment_confirm_delivery(shipment.pk, by=school_board, organisation=school_board_org)
    client.force_login(school_board)
    url = reverse("distribution:handout", args=[help_request.pk])
    response = client.post(url, {"devices_handed_out": 5, "people_reached": 2})
    assert response.status_code == 400
    page = response.content.decode()
    assert "vul 0 tot en met 3 in" in page and "minstens 5" in page
    assert HandoutReport.objects.count() == 0
    response = client.post(url, {"devices_handed_out": 3, "people_reached": 9, "note": ""})
    assert response.status_code == 302
    assert HandoutReport.objects.get().people_reached == 9
    page = client.get(reverse("distribution:shipments")).content.decode()
    assert f'id="uitgifte-{help_request.pk}"' in page and "Bijwerken" in page


# --- Helpdesk -------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["lower", "no dash", "dash", "serial"])
def test_the_helpdesk_finds_a_device_however_the_caller_reads_it(
    client, helpdesk, allocations, typed
):
    device = allocations[0].device
    value = {
        "lower": format_asset_tag(device.asset_tag).lower(),
        "no dash": device.asset_tag,
        "dash": format_asset_tag(device.asset_tag),
        "serial": device.serial_number.lower(),
    }[typed]
    _helpdesk_client(client, helpdesk)
    response = client.get(reverse("distribution:helpdesk"), {"q": value})
    assert response.url == reverse("distribution:helpdesk_device", args=[device.pk])


def test_a_mistyped_tag_is_refused_with_the_reason(client, helpdesk, allocations):
    tag = allocations[0].device.asset_tag
    wrong = tag[:-1] + ("0" if tag[-1] != "0" else "1")
    _helpdesk_client(client, helpdesk)
    response = client.get(reverse("distribution:helpdesk"), {"q": wrong})
    assert response.status_code == 200
    assert "Deze apparaatcode klopt niet" in response.content.decode()


def test_the_device_page_shows_where_it_is_and_logs_a_contact(
    client, helpdesk, allocations, refurbisher, school_board_org
):
    shipment = shipped_shipment(allocations, by=refurbisher)
    device = allocations[0].device
    _helpdesk_client(client, helpdesk)
    url = reverse("distribution:helpdesk_device", args=[device.pk])
    page = client.get(url).content.decode()
    assert school_board_org.name in page and shipment.reference in page
    assert "Retour starten" in page
    response = client.post(
        reverse("distribution:helpdesk_contact", args=[device.pk]),
        {"channel": "phone", "category": "", "summary": "", "outcome": "resolved"},
    )
    assert response.status_code == 400 and SupportContact.objects.count() == 0
    client.post(
        reverse("distribution:helpdesk_contact", args=[device.pk]),
        {
            "channel": "phone",
            "category": "wifi",
            "summary": "Wifi uitgelegd",
            "outcome": "follow_up",
        },
    )
    contact = SupportContact.objects.get()
    assert contact.organisation == school_board_org
    client.post(
        reverse("distribution:helpdesk_resolve", args=[contact.pk]), {"note": "Teruggebeld"}
    )
    contact.refresh_from_db()
    assert contact.outcome == "resolved"


def test_a_return_started_from_the_device_page(client, helpdesk, allocations, refurbisher):
    shipped_shipment(allocations, by=refurbisher)
    device = allocations[0].device
    _helpdesk_client(client, helpdesk)
    url = reverse("distribution:helpdesk_return", args=[device.pk])
    response = client.post(url, {"reason": "", "replacement": "1"})
    assert response.status_code == 400
    response = client.post(url, {"reason": "Scherm kapot", "replacement": "1"}, follow=True)
    assert "Retour gestart" in response.content.decode()
    assert Device.objects.get(pk=device.pk).state == "received"


# --- Query counts ---------------------------------------------------------------------------------


def _shipments(count, refurbisher, school_board_org):
    donation = ProcessedDonationFactory(refurbisher=refurbisher.membership.organisation)
    for number in range(count):
        request = ApprovedRequestFactory(
            organisation=school_board_org, laptops=1, delivery_street=f"Schoolstraat {number}"
        )
        allocation = approved_allocations(request, 1, donation=donation)
        shipped_shipment(allocation, by=refurbisher)


@pytest.mark.parametrize("rows", [2, 20])
def test_the_lists_take_a_constant_number_of_queries(
    client, django_assert_num_queries, rows, refurbisher, school_board, school_board_org
):
    _shipments(rows, refurbisher, school_board_org)
    client.force_login(refurbisher)
    # session, user with membership and organisation, destinations, prepared shipments, the
    # shipments' count and one page of them with their item counts
    with django_assert_num_queries(7):
        assert client.get(reverse("distribution:shipping")).status_code == 200
    client.force_login(school_board)
    # session, user with membership and organisation, the shipments' count and one page of them
    # with their item counts, requests with hand-out reports
    with django_assert_num_queries(6):
        assert client.get(reverse("distribution:shipments")).status_code == 200


def test_every_shipment_stays_reachable_a_page_at_a_time(
    client, monkeypatch, refurbisher, school_board, school_board_org
):
    from distribution.models import Shipment
    from distribution.views import common

    monkeypatch.setattr(common, "SHIPMENTS_PER_PAGE", 2)
    _shipments(3, refurbisher, school_board_org)
    oldest, *newer = Shipment.objects.order_by("created_at", "id")
    for user, name in (
        (refurbisher, "distribution:shipping"),
        (school_board, "distribution:shipments"),
    ):
        client.force_login(user)
        first = client.get(reverse(name)).content.decode()
        assert oldest.reference not in first
        assert all(shipment.reference in first for shipment in newer)
        assert "?pagina=2#zendingen" in first
        assert "Pagina 1 van 2 (3 zendingen)" in first
        second = client.get(reverse(name), {"pagina": "2"}).content.decode()
        assert oldest.reference in second
        assert not any(shipment.reference in second for shipment in newer)
        # A page number past the end or not a number shows a page, never an error.
        assert oldest.reference in client.get(reverse(name), {"pagina": "9"}).content.decode()
        assert client.get(reverse(name), {"pagina": "x"}).status_code == 200


@pytest.mark.parametrize("rows", [2, 20])
def test_the_helpdesk_page_takes_a_constant_number_of_queries(
    client, django_assert_num_queries, rows, helpdesk, donation
):
    from .factories import ReadyDeviceFactory

    device = ReadyDeviceFactory(donation=donation)
    for _ in range(rows):
        services.support_contact_log(
            device.pk,
            by=helpdesk,
            channel="phone",
            category="other",
            summary="Vraag",
            outcome="follow_up",
        )
    _helpdesk_client(client, helpdesk)
    # session, user, groups check, follow-ups, recent contacts
    with django_assert_num_queries(5):
        assert client.get(reverse("distribution:helpdesk")).status_code == 200
