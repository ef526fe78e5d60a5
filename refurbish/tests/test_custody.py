"""Chain of custody: append-only events (the database refuses changes on PostgreSQL) and the
coordinators' read-only admin."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from donations.models import Device, DeviceEvent
from refurbish import services

from .factories import ErasureRecordFactory, device_in


@pytest.fixture
def event(donation, refurbisher, refurbisher_org):
    services.device_intake_scan(
        donation, "PF0XK2LM", kind="laptop", by=refurbisher, organisation=refurbisher_org
    )
    return DeviceEvent.objects.get(device__serial_number="PF0XK2LM")


@pytest.mark.postgres
def test_the_database_refuses_to_change_an_event(event):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        DeviceEvent.objects.filter(pk=event.pk).update(note="ander verhaal")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        event.to_state = "ready"
        event.save()
    event.refresh_from_db()
    assert (event.to_state, event.note) == ("received", "Inname")


@pytest.mark.postgres
def test_the_database_refuses_to_delete_an_event(event):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        DeviceEvent.objects.filter(pk=event.pk).delete()
    assert DeviceEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.postgres
def test_the_announcement_of_a_device_never_received_can_go_with_its_device(donation):
    device = device_in(donation, "announced", serial_number="NOOITGEKOMEN")
    DeviceEvent.objects.create(device=device, from_state="", to_state="announced")
    DeviceEvent.objects.filter(device=device).delete()
    device.delete()
    assert not Device.objects.filter(serial_number="NOOITGEKOMEN").exists()


def test_every_state_change_is_an_event_with_who_when_from_to(event, refurbisher, refurbisher_org):
    assert (event.from_state, event.to_state) == ("announced", "received")
    assert (event.by, event.organisation) == (refurbisher, refurbisher_org)
    assert event.at is not None


def test_coordinators_see_the_full_trail_of_any_device_read_only(client, coordinator, event):
    device = event.device
    ErasureRecordFactory(device=device)
    client.force_login(coordinator)
    url = reverse("admin:refurbish_devicetrail_change", args=[device.pk])
    page = client.get(url).content.decode()
    assert "Inname" in page and "Aangekondigd" in page and "nwipe" in page
    assert 'name="_save"' not in page
    printed = f"{device.asset_tag[:5]}-{device.asset_tag[5:]}".lower()
    changelist = client.get(reverse("admin:refurbish_devicetrail_changelist"), {"q": printed})
    assert device.serial_number in changelist.content.decode()
    response = client.post(
        reverse("admin:donations_deviceevent_change", args=[event.pk]), {"note": "weg"}
    )
    assert response.status_code == 403
    assert (
        client.post(
            reverse("admin:donations_deviceevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    event.refresh_from_db()
    assert event.note == "Inname"


@pytest.mark.parametrize(
    "name",
    [
        "refurbish_devicetrail",
        "refurbish_erasurerecord",
        "refurbish_deviceinspection",
        "refurbish_intakescan",
        "refurbish_erasurecertificate",
        "refurbish_stationtoken",
        "donations_deviceevent",
    ],
)
def test_admin_changelists_take_constant_queries(
    client, coordinator, donation, refurbisher, refurbisher_org, name
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from refurbish.models import IntakeScan

    from .factories import DeviceInspectionFactory

    def rows(n):
        for _ in range(n):
            device = device_in(donation, "received")
            DeviceEvent.objects.create(
                device=device,
                from_state="announced",
                to_state="received",
                organisation=refurbisher_org,
                by=refurbisher,
            )
            ErasureRecordFactory(device=device)
            DeviceInspectionFactory(device=device)
            IntakeScan.objects.create(
                device=device,
                donation=donation,
                on_manifest=True,
                scanned_value=device.serial_number,
                organisation=refurbisher_org,
                by=refurbisher,
            )
            services.station_token_create(organisation=refurbisher_org, name="S", by=refurbisher)

    client.force_login(coordinator)
    url = reverse(f"admin:{name}_changelist")
    rows(2)
    client.get(url)
    with CaptureQueriesContext(connection) as two:
        assert client.get(url).status_code == 200
    rows(18)
    # session, user, MFA flag check, permissions, count, rows with their related objects.
    with CaptureQueriesContext(connection) as twenty:
        client.get(url)
    assert len(twenty) == len(two)


@pytest.mark.postgres
def test_the_database_lets_a_misscan_go_but_keeps_a_listed_units_intake(
    donation, refurbisher, refurbisher_org, event
):
    added = services.device_intake_scan(
        donation, "LBL0001", kind="laptop", by=refurbisher, organisation=refurbisher_org
    ).device
    assert services.device_intake_undo(added.pk, by=refurbisher, organisation=refurbisher_org) == (
        "LBL0001"
    )
    assert not DeviceEvent.objects.filter(device_id=added.pk).exists()
    # The listed unit's intake event (from announced) stays, whatever the code tries.
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        DeviceEvent.objects.filter(pk=event.pk).delete()
