import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from allemaal.services import DomainError
from donations import manifest
from donations.models import Device, DeviceEvent
from refurbish import services
from refurbish.asset_tags import is_valid_asset_tag
from refurbish.models import IntakeScan

from .factories import device_in, received_donation

JSON = {"HTTP_ACCEPT": "application/json"}


def scan(donation, value, user, org, kind="laptop"):
    return services.device_intake_scan(donation, value, kind=kind, by=user, organisation=org)


# --- service ---------------------------------------------------------------------------------


def test_it_receives_an_announced_device_and_gives_it_an_asset_tag(
    donation, refurbisher, refurbisher_org
):
    result = scan(donation, "PF0XK2LM", refurbisher, refurbisher_org)

    device = Device.objects.get(serial_number="PF0XK2LM")
    assert result.device == device and not result.added
    assert device.state == "received"
    assert is_valid_asset_tag(device.asset_tag)
    event = DeviceEvent.objects.filter(device=device).latest("id")
    assert (event.from_state, event.to_state, event.by, event.organisation) == (
        "announced",
        "received",
        refurbisher,
        refurbisher_org,
    )
    assert IntakeScan.objects.get(device=device).on_manifest is True


def test_it_matches_a_serial_typed_in_another_case(donation, refurbisher, refurbisher_org):
    scan(donation, " pf0xk2lm ", refurbisher, refurbisher_org)
    assert Device.objects.get(serial_number="PF0XK2LM").state == "received"


def _listed_serial(typed_in_the_list: str) -> str:
    """The serial number as the donor's asset list import stores it."""
    uploaded = SimpleUploadedFile(
        "lijst.csv", f"serienummer;type\n{typed_in_the_list};laptop\n".encode(), "text/csv"
    )
    rows = manifest.manifest_parse(uploaded).rows
    return rows[0][manifest.COLUMN_KEYS.index("serial_number")]


@pytest.mark.parametrize("scanned", ["5cd 1234", " 5Cd1234 ", "5CD\t12 34", "5cd1234"])
def test_a_listed_serial_scanned_with_spaces_or_in_lower_case_is_the_listed_device(
    donation, refurbisher, refurbisher_org, scanned
):
    listed = device_in(donation, "announced", serial_number=_listed_serial("5CD1234"))
    devices = Device.objects.count()

    result = scan(donation, scanned, refurbisher, refurbisher_org)

    assert (result.device, result.added) == (listed, False)
    assert Device.objects.count() == devices  # no phantom second device
    listed.refresh_from_db()
    assert (listed.serial_number, listed.state) == ("5CD1234", "received")
    assert IntakeScan.objects.get(device=listed).on_manifest is True


def test_an_unknown_serial_is_stored_as_the_asset_list_would_store_it(
    donation, refurbisher, refurbisher_org
):
    as_listed = _listed_serial("new serial 1")
    device = scan(donation, " new serial 1 ", refurbisher, refurbisher_org).device
    assert device.serial_number == as_listed == "NEWSERIAL1"
    with pytest.raises(DomainError, match="al gescand"):
        scan(donation, "NewSerial1", refurbisher, refurbisher_org)


def test_it_adds_an_unknown_device_to_the_donation(donation, refurbisher, refurbisher_org):
    result = scan(donation, "NEWSERIAL1", refurbisher, refurbisher_org, kind="tablet")

    device = result.device
    assert result.added
    assert (device.donation, device.state, device.kind) == (donation, "received", "tablet")
    assert is_valid_asset_tag(device.asset_tag)
    assert IntakeScan.objects.get(device=device).on_manifest is False
    assert "niet op de lijst" in device.events.latest("id").note


def test_it_refuses_a_second_scan_of_the_same_serial(donation, refurbisher, refurbisher_org):
    first = scan(donation, "PF0XK2LM", refurbisher, refurbisher_org).device
    scan(donation, "NEWSERIAL1", refurbisher, refurbisher_org)

    for value in ("PF0XK2LM", "NEWSERIAL1"):
        with pytest.raises(DomainError, match="al gescand"):
            scan(donation, value, refurbisher, refurbisher_org)
    first.refresh_from_db()
    assert Device.objects.filter(donation=donation).count() == 4
    assert IntakeScan.objects.count() == 2
    assert first.events.count() == 1


def test_it_refuses_a_serial_of_another_donation(
    donation, other_donation, refurbisher, refurbisher_org
):
    device_in(other_donation, "announced", serial_number="ELSEWHERE1")
    with pytest.raises(DomainError, match="andere donatie"):
        scan(donation, "ELSEWHERE1", refurbisher, refurbisher_org)
    assert Device.objects.get(serial_number="ELSEWHERE1").state == "announced"


def test_it_refuses_a_scanned_asset_tag_instead_of_a_serial(donation, refurbisher, refurbisher_org):
    device = scan(donation, "PF0XK2LM", refurbisher, refurbisher_org).device
    with pytest.raises(DomainError, match="apparaatcode, geen serienummer"):
        scan(donation, device.asset_tag, refurbisher, refurbisher_org)
    assert Device.objects.filter(donation=donation).count() == 3


def test_it_refuses_scans_for_a_donation_that_is_not_received(refurbisher, refurbisher_org):
    donation = received_donation(refurbisher_org)
    donation.status = "processed"
    donation.save(update_fields=["status"])
    with pytest.raises(DomainError, match="ontvangen"):
        scan(donation, "X1", refurbisher, refurbisher_org)


@pytest.mark.parametrize("value", ["", "   ", "A" * 101, "ab\x00cd"])
def test_it_refuses_an_empty_or_broken_serial(donation, refurbisher, refurbisher_org, value):
    with pytest.raises(DomainError):
        scan(donation, value, refurbisher, refurbisher_org)
    assert IntakeScan.objects.count() == 0


def test_it_draws_a_new_tag_when_a_random_tag_is_already_taken(
    donation, refurbisher, refurbisher_org, monkeypatch
):
    taken = device_in(donation, "received", serial_number="TAKEN").asset_tag
    fresh = iter([taken, taken, "0000000000"])
    monkeypatch.setattr(services.intake, "generate_asset_tag", lambda: next(fresh))
    device = scan(donation, "PF0XK2LM", refurbisher, refurbisher_org).device
    assert device.asset_tag == "0000000000"


def test_it_receives_a_device_already_marked_received_without_a_scan(
    donation, refurbisher, refurbisher_org
):
    device = device_in(donation, "received", serial_number="COUNTED1", asset_tag=None)
    scan(donation, "COUNTED1", refurbisher, refurbisher_org)
    device.refresh_from_db()
    assert device.state == "received" and device.asset_tag


# --- page ------------------------------------------------------------------------------------


def url(donation):
    return reverse("refurbish:intake", args=[donation.pk])


def test_the_intake_page_asks_anonymous_users_to_log_in(client, donation):
    response = client.get(url(donation))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_another_refurbisher_gets_404_and_changes_nothing(client, donation, other_refurbisher):
    client.force_login(other_refurbisher)
    assert client.get(url(donation)).status_code == 404
    assert client.post(url(donation), {"serial": "PF0XK2LM", "kind": "laptop"}).status_code == 404
    assert Device.objects.get(serial_number="PF0XK2LM").state == "announced"


def test_a_donor_cannot_open_the_intake_page(client, donation, donor):
    client.force_login(donor)
    assert client.get(url(donation)).status_code == 403


def test_a_scan_answers_json_with_the_running_count(client, donation, refurbisher):
    client.force_login(refurbisher)
    page = client.get(url(donation)).content.decode()
    assert "0 van 3 aangekondigde apparaten gescand" in page
    assert "autofocus" in page

    answer = client.post(url(donation), {"serial": "PF0XK2LM", "kind": "laptop"}, **JSON).json()
    assert answer["ok"] is True
    assert "Ontvangen: PF0XK2LM" in answer["message"]
    assert answer["counts"]["scanned_on_manifest"] == 1
    assert answer["counts_text"] == "1 van 3 aangekondigde apparaten gescand"

    answer = client.post(url(donation), {"serial": "EXTRA1", "kind": "laptop"}, **JSON).json()
    assert answer["device"]["added"] is True
    assert answer["counts_text"].endswith("1 extra (niet op de lijst)")

    response = client.post(url(donation), {"serial": "PF0XK2LM", "kind": "laptop"}, **JSON)
    assert response.status_code == 409
    assert response.json()["ok"] is False and "al gescand" in response.json()["message"]


def test_a_scan_without_javascript_redirects_back_with_a_message(client, donation, refurbisher):
    client.force_login(refurbisher)
    response = client.post(url(donation), {"serial": "PF0XK2LM", "kind": "laptop"}, follow=True)
    page = response.content.decode()
    assert "Ontvangen: PF0XK2LM" in page
    assert "1 van 3 aangekondigde apparaten gescand" in page


def test_an_empty_scan_is_refused_with_a_dutch_message(client, donation, refurbisher):
    client.force_login(refurbisher)
    response = client.post(url(donation), {"serial": "", "kind": "laptop"}, **JSON)
    assert response.status_code == 400
    assert "Scan of typ een serienummer" in response.json()["message"]
    assert IntakeScan.objects.count() == 0


def cached_sessions() -> int:
    """1 when sessions are read from the cache (Redis, allemaal.sessions): no session query."""
    from django.conf import settings

    return int(settings.SESSION_ENGINE == "allemaal.sessions")


def test_a_scan_takes_a_constant_number_of_queries(client, donation, refurbisher):
    client.force_login(refurbisher)
    counts = []
    for serial in ("PF0XK2LM", "5CG8341XYZ"):
        with CaptureQueriesContext(connection) as queries:
            client.post(url(donation), {"serial": serial, "kind": "laptop"}, **JSON)
        counts.append(len(queries))
    for _ in range(20):
        device_in(donation, "announced")
    with CaptureQueriesContext(connection) as queries:
        client.post(url(donation), {"serial": "7QX4T52", "kind": "laptop"}, **JSON)
    counts.append(len(queries))
    # session, user (with membership and organisation), savepoint (the test's transaction),
    # donation (locked, with its running count), device (locked, with its scan), device state
    # and asset tag, custody event, intake scan, release. See test_intake_scan_queries.py.
    assert counts[0] == counts[1] == counts[2] == 9 - cached_sessions()


def test_the_intake_page_lists_scans_in_constant_queries(
    client, donation, refurbisher, refurbisher_org, django_assert_max_num_queries
):
    client.force_login(refurbisher)
    scan(donation, "PF0XK2LM", refurbisher, refurbisher_org)
    scan(donation, "5CG8341XYZ", refurbisher, refurbisher_org)
    with CaptureQueriesContext(connection) as two:
        client.get(url(donation))
    for n in range(18):
        scan(donation, f"EXTRA{n}", refurbisher, refurbisher_org)
    # session, user, membership, donation, running count, scans with their devices, and the
    # context processor's membership.
    with django_assert_max_num_queries(len(two)):
        page = client.get(url(donation)).content.decode()
    assert "EXTRA17" in page


def test_the_intake_page_shows_the_newest_scans_a_page_at_a_time(
    client, donation, refurbisher, refurbisher_org, monkeypatch
):
    """A bulk donation's scan page renders one page of scans, not thousands; the older ones,
    with their undo, are on the next pages."""
    from refurbish.views import workshop

    monkeypatch.setattr(workshop, "SCANS_PER_PAGE", 5)
    client.force_login(refurbisher)
    for n in range(7):
        scan(donation, f"BULK{n}", refurbisher, refurbisher_org)
    first = client.get(url(donation)).content.decode()
    assert [f"BULK{n}" in first for n in range(7)] == [False, False, *[True] * 5]
    assert 'data-page-size="5"' in first and "data-later-page" not in first
    assert "Pagina 1 van 2 (7 gescand)" in first
    second = client.get(url(donation), {"pagina": 2}).content.decode()
    assert [f"BULK{n}" in second for n in range(7)] == [True, True, *[False] * 5]
    assert "data-later-page" in second
    # BULK0 was not on the donor's list: its undo is on the page where it is listed.
    assert second.count("Verkeerd gescand: verwijderen") == 2


def test_a_second_scan_names_the_local_time_and_tag_of_the_first(
    donation, refurbisher, refurbisher_org
):
    from django.utils import timezone

    from refurbish.asset_tags import format_asset_tag

    device = scan(donation, "PF0XK2LM", refurbisher, refurbisher_org).device
    first = IntakeScan.objects.get(device=device)
    with pytest.raises(DomainError) as refused:
        scan(donation, "PF0XK2LM", refurbisher, refurbisher_org)
    assert timezone.localtime(first.at).strftime("%H:%M") in str(refused.value)
    assert format_asset_tag(device.asset_tag) in str(refused.value)
