"""Closing intake: listed units that never arrived become not received (the donor is told and
can answer "found later"); a unit added by mistake can be undone; dashes do not make a phantom."""

import pytest
from django.urls import reverse

from allemaal.models import Notification
from allemaal.services import DomainError
from donations import services as donation_services
from donations.models import Device, DeviceEvent, Donation
from refurbish import services
from refurbish.models import ErasureCertificate, IntakeScan

from .factories import device_in

pytestmark = pytest.mark.django_db


def scan(donation, value, user, org):
    return services.device_intake_scan(donation, value, kind="laptop", by=user, organisation=org)


def _complete(donation, refurbisher, refurbisher_org):
    return services.donation_intake_complete(
        donation.pk, by=refurbisher, organisation=refurbisher_org
    )


# --- Not received ------------------------------------------------------------------------------


def test_completing_intake_makes_the_unscanned_listed_units_not_received_and_tells_the_donor(
    donation, refurbisher, refurbisher_org, donor
):
    scan(donation, "PF0XK2LM", refurbisher, refurbisher_org)
    moved = _complete(donation, refurbisher, refurbisher_org)

    assert sorted(d.serial_number for d in moved) == ["5CG8341XYZ", "7QX4T52"]
    states = dict(Device.objects.values_list("serial_number", "state"))
    assert states == {
        "PF0XK2LM": "received",
        "5CG8341XYZ": "not_received",
        "7QX4T52": "not_received",
    }
    event = DeviceEvent.objects.filter(device__serial_number="7QX4T52").latest("id")
    assert (event.from_state, event.to_state, event.by, event.organisation) == (
        "announced",
        "not_received",
        refurbisher,
        refurbisher_org,
    )
    mails = Notification.objects.filter(kind="donation_not_received")
    assert mails.count() == 1 and mails.get().to_email == donor.email
    assert "5CG8341XYZ" in mails.get().body_text and "PF0XK2LM" not in mails.get().body_text


def test_the_donation_is_processed_and_certified_when_the_rest_has_an_outcome(
    donation, refurbisher, refurbisher_org
):
    device = scan(donation, "PF0XK2LM", refurbisher, refurbisher_org).device
    services.device_recycle(
        device.pk,
        services.RecycleInput(reason="broken", storage_destroyed=True),
        by=refurbisher,
        organisation=refurbisher_org,
    )
    donation.refresh_from_db()
    assert donation.status == "received"  # two listed units are still announced

    _complete(donation, refurbisher, refurbisher_org)

    donation.refresh_from_db()
    assert donation.status == Donation.Status.PROCESSED
    summary = ErasureCertificate.objects.get(donation=donation).summary
    outcomes = {d["serial_number"]: d["outcome"] for d in summary["devices"]}
    assert outcomes == {
        "PF0XK2LM": "destroyed",
        "5CG8341XYZ": "not_received",
        "7QX4T52": "not_received",
    }
    assert summary["counts"]["not_received"] == 2


def test_completing_intake_with_everything_scanned_tells_the_donor_nothing(
    donation, refurbisher, refurbisher_org
):
    for serial in ("PF0XK2LM", "5CG8341XYZ", "7QX4T52"):
        scan(donation, serial, refurbisher, refurbisher_org)
    assert _complete(donation, refurbisher, refurbisher_org) == []
    assert not Notification.objects.filter(kind="donation_not_received").exists()


def test_another_refurbisher_cannot_complete_the_intake(
    donation, other_refurbisher, other_refurbisher_org
):
    with pytest.raises(DomainError):
        _complete(donation, other_refurbisher, other_refurbisher_org)
    assert not Device.objects.filter(state="not_received").exists()


def test_found_later_reopens_intake_for_those_serials(
    donation, refurbisher, refurbisher_org, donor, donor_org
):
    scan(donation, "PF0XK2LM", refurbisher, refurbisher_org)  # still being worked on
    _complete(donation, refurbisher, refurbisher_org)
    found = Device.objects.get(serial_number="7QX4T52")

    donation_services.devices_found_later(donation.pk, [found.pk], by=donor, donor=donor_org)

    found.refresh_from_db()
    assert found.state == "announced"
    assert Device.objects.get(serial_number="5CG8341XYZ").state == "not_received"
    assert Notification.objects.filter(kind="donation_found_later").exists()
    assert scan(donation, "7qx4t52", refurbisher, refurbisher_org).device == found
    found.refresh_from_db()
    assert found.state == "received"


def test_found_later_is_refused_once_the_donation_is_processed(
    donation, refurbisher, refurbisher_org, donor, donor_org
):
    _complete(donation, refurbisher, refurbisher_org)  # nothing arrived: processed at once
    found = Device.objects.get(serial_number="7QX4T52")
    with pytest.raises(DomainError, match="al afgerond"):
        donation_services.devices_found_later(donation.pk, [found.pk], by=donor, donor=donor_org)


def test_a_not_received_unit_scanned_after_all_is_refused_with_the_way_out(
    donation, refurbisher, refurbisher_org
):
    scan(donation, "PF0XK2LM", refurbisher, refurbisher_org)
    _complete(donation, refurbisher, refurbisher_org)
    with pytest.raises(DomainError, match="alsnog gevonden"):
        scan(donation, "7QX4T52", refurbisher, refurbisher_org)


def test_another_donor_cannot_report_units_found(
    donation, refurbisher, refurbisher_org, other_donor, other_donor_org
):
    _complete(donation, refurbisher, refurbisher_org)
    found = Device.objects.get(serial_number="7QX4T52")
    with pytest.raises(DomainError):
        donation_services.devices_found_later(
            donation.pk, [found.pk], by=other_donor, donor=other_donor_org
        )
    found.refresh_from_db()
    assert found.state == "not_received"


# --- The intake-complete page ---------------------------------------------------------------


def test_the_intake_complete_page_lists_the_unscanned_serials_and_confirms(
    client, donation, refurbisher, refurbisher_org
):
    scan(donation, "PF0XK2LM", refurbisher, refurbisher_org)
    client.force_login(refurbisher)
    url = reverse("refurbish:intake_complete", args=[donation.pk])
    page = client.get(url).content.decode()
    assert "5CG8341XYZ" in page and "7QX4T52" in page and "PF0XK2LM" not in page

    response = client.post(url)

    assert response.status_code == 302
    assert Device.objects.filter(state="not_received").count() == 2


def test_the_intake_complete_page_is_not_for_others(client, donation, other_refurbisher, donor):
    url = reverse("refurbish:intake_complete", args=[donation.pk])
    assert client.post(url).status_code == 302  # anonymous: to the login page
    client.force_login(other_refurbisher)
    assert client.post(url).status_code == 404
    client.force_login(donor)
    assert client.get(url).status_code in (403, 404)
    assert not Device.objects.filter(state="not_received").exists()


# --- Phantom devices ---------------------------------------------------------------------------


@pytest.mark.parametrize("scanned", ["5CG-8341-XYZ", "5cg8341-xyz", " 5cg 8341-XYZ "])
def test_a_serial_scanned_with_dashes_the_manufacturer_has_not_is_the_listed_device(
    donation, refurbisher, refurbisher_org, scanned
):
    devices = Device.objects.count()
    result = scan(donation, scanned, refurbisher, refurbisher_org)
    assert result.device.serial_number == "5CG8341XYZ" and not result.added
    assert Device.objects.count() == devices


def test_a_listed_serial_with_dashes_matches_a_scan_without_them(
    donation, refurbisher, refurbisher_org
):
    listed = device_in(donation, "announced", serial_number="C02-XK1-ABC")
    result = scan(donation, "c02xk1abc", refurbisher, refurbisher_org)
    assert (result.device, result.added) == (listed, False)


def test_an_added_unit_says_so_and_a_misscan_can_be_undone(donation, refurbisher, refurbisher_org):
    result = scan(donation, "TYPO123", refurbisher, refurbisher_org)
    assert result.added
    event = DeviceEvent.objects.get(device=result.device)
    assert "niet op de lijst" in event.note

    serial = services.device_intake_undo(
        result.device.pk, by=refurbisher, organisation=refurbisher_org
    )

    assert serial == "TYPO123"
    assert not Device.objects.filter(serial_number="TYPO123").exists()
    assert not IntakeScan.objects.filter(scanned_value="TYPO123").exists()
    assert donation.events.filter(note__contains="TYPO123").exists()


def test_a_listed_unit_cannot_be_undone_as_a_misscan(donation, refurbisher, refurbisher_org):
    device = scan(donation, "PF0XK2LM", refurbisher, refurbisher_org).device
    with pytest.raises(DomainError, match="stond op de lijst"):
        services.device_intake_undo(device.pk, by=refurbisher, organisation=refurbisher_org)
    assert Device.objects.filter(pk=device.pk).exists()


def test_an_added_unit_with_history_beyond_intake_cannot_be_undone(
    donation, refurbisher, refurbisher_org
):
    device = scan(donation, "EXTRA999", refurbisher, refurbisher_org).device
    services.device_recycle(
        device.pk,
        services.RecycleInput(reason="broken", storage_destroyed=True),
        by=refurbisher,
        organisation=refurbisher_org,
    )
    with pytest.raises(DomainError, match="geschiedenis"):
        services.device_intake_undo(device.pk, by=refurbisher, organisation=refurbisher_org)
    assert Device.objects.filter(pk=device.pk).exists()


def test_the_undo_button_is_for_the_assigned_refurbisher_only(
    client, donation, refurbisher, refurbisher_org, other_refurbisher
):
    device = scan(donation, "TYPO456", refurbisher, refurbisher_org).device
    url = reverse("refurbish:intake_undo", args=[donation.pk, device.pk])
    client.force_login(other_refurbisher)
    assert client.post(url).status_code == 404
    assert Device.objects.filter(pk=device.pk).exists()
    client.force_login(refurbisher)
    assert "TYPO456" in client.get(reverse("refurbish:intake", args=[donation.pk])).content.decode()
    assert client.post(url).status_code == 302
    assert not Device.objects.filter(pk=device.pk).exists()
