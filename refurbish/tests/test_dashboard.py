"""The refurbisher's workspace: backlog, throughput and yield from the custody events."""

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from donations.models import Device, DeviceEvent
from refurbish import selectors, services
from refurbish.services import ErasureInput, InspectionInput, RecycleInput

from .factories import device_in, received_donation

URL = "/opknappen/"


def _work(donation, user, org, serials, *, ready=(), recycled=()):
    for serial in serials:
        services.device_intake_scan(donation, serial, kind="laptop", by=user, organisation=org)
    ids = dict(Device.objects.filter(serial_number__in=serials).values_list("serial_number", "pk"))
    erase = ErasureInput(standard="clear", technique="overwrite", result="passed", tool="nwipe")
    if ready or recycled:
        services.devices_record_erasure(
            [ids[s] for s in (*ready, *recycled)], erase, by=user, organisation=org
        )
    if ready:
        good = InspectionInput.all_working(grade="B", os_installed="ubuntu")
        services.devices_record_inspection([ids[s] for s in ready], good, by=user, organisation=org)
    if recycled:
        services.devices_recycle(
            [ids[s] for s in recycled], RecycleInput(reason="broken"), by=user, organisation=org
        )


def test_yield_is_the_share_of_received_devices_that_became_ready(
    donation, refurbisher, refurbisher_org
):
    serials = ["PF0XK2LM", "5CG8341XYZ", "7QX4T52", "EXTRA1"]
    _work(donation, refurbisher, refurbisher_org, serials, ready=serials[:2], recycled=serials[2:3])
    result = selectors.refurbisher_yield(refurbisher_org)
    assert (result.received, result.ready, result.recycled, result.percentage) == (4, 2, 1, 50)


def test_yield_and_throughput_come_from_events_not_the_current_state(
    donation, refurbisher, refurbisher_org
):
    _work(donation, refurbisher, refurbisher_org, ["PF0XK2LM"], ready=["PF0XK2LM"])
    Device.objects.filter(serial_number="PF0XK2LM").update(state="shipped")
    assert selectors.refurbisher_yield(refurbisher_org).ready == 1
    [this_week, *_older] = selectors.throughput(refurbisher_org)
    assert (this_week.received, this_week.ready, this_week.recycled) == (1, 1, 0)
    assert this_week.week == timezone.localdate() - timezone.timedelta(
        days=timezone.localdate().weekday()
    )


def test_throughput_counts_per_week(donation, refurbisher, refurbisher_org):
    _work(donation, refurbisher, refurbisher_org, ["PF0XK2LM"], ready=["PF0XK2LM"])
    device = Device.objects.get(serial_number="5CG8341XYZ")
    DeviceEvent.objects.create(
        device=device,
        from_state="announced",
        to_state="received",
        at=timezone.now() - timezone.timedelta(weeks=2),
    )
    weeks = selectors.throughput(refurbisher_org)
    assert len(weeks) == 8
    assert [w.received for w in weeks[:3]] == [1, 0, 1]


def test_the_backlog_lists_each_state_oldest_first(donation, refurbisher_org, other_donation):
    old = device_in(donation, "received", serial_number="OUD")
    old.state_changed_at = timezone.now() - timezone.timedelta(days=9)
    old.save(update_fields=["state_changed_at"])
    device_in(donation, "received", serial_number="NIEUW")
    device_in(donation, "erased")
    device_in(other_donation, "received", serial_number="NIETVANMIJ")
    backlog = {item.state: item for item in selectors.backlog(refurbisher_org)}
    assert backlog["announced"].count == 3
    assert backlog["received"].count == 2
    assert [d.serial_number for d in backlog["received"].oldest] == ["OUD", "NIEUW"]
    assert backlog["erased"].count == 1


def test_announced_devices_of_donations_not_yet_received_are_not_backlog(refurbisher_org):
    scheduled = received_donation(refurbisher_org)
    scheduled.status = "collected"
    scheduled.save(update_fields=["status"])
    device_in(scheduled, "announced")
    assert {b.state: b.count for b in selectors.backlog(refurbisher_org)}["announced"] == 0


def test_the_dashboard_for_anonymous_donor_and_refurbisher(client, donation, donor, refurbisher):
    assert client.get(URL).status_code == 302
    client.force_login(donor)
    assert client.get(URL).status_code == 403
    client.force_login(refurbisher)
    page = client.get(URL).content.decode()
    assert donation.reference in page
    assert reverse("refurbish:intake", args=[donation.pk]) in page


def test_the_dashboard_shows_only_own_donations(client, donation, other_donation, refurbisher):
    client.force_login(refurbisher)
    page = client.get(URL).content.decode()
    assert donation.reference in page and other_donation.reference not in page


def test_the_dashboard_takes_constant_queries(client, refurbisher, refurbisher_org, donor_org):
    client.force_login(refurbisher)
    for _ in range(2):
        donation = received_donation(refurbisher_org, donor=donor_org)
        device_in(donation, "received")
    cache.clear()  # the history figures counted at each of the two views
    with CaptureQueriesContext(connection) as two:
        client.get(URL)
    for _ in range(18):
        donation = received_donation(refurbisher_org, donor=donor_org)
        device_in(donation, "received")
        device_in(donation, "erased")
    # session, user, membership, backlog counts, oldest per state (3), throughput, yield,
    # donations with counts, certificates, context processor.
    cache.clear()
    with CaptureQueriesContext(connection) as twenty:
        page = client.get(URL).content.decode()
    assert len(twenty) == len(two)
    assert page.count(reverse("refurbish:intake", args=[donation.pk])) == 1


def test_the_received_donations_come_a_page_at_a_time_oldest_first(
    client, monkeypatch, refurbisher, refurbisher_org
):
    from refurbish.views import workshop

    monkeypatch.setattr(workshop, "DONATIONS_PER_PAGE", 2)
    oldest, middle, newest = (received_donation(refurbisher_org) for _ in range(3))
    client.force_login(refurbisher)
    first = client.get(URL).content.decode()
    assert oldest.reference in first and middle.reference in first
    assert newest.reference not in first
    assert "Pagina 1 van 2 (3 ontvangen donaties)" in first
    assert "?pagina=2#donations-title" in first
    second = client.get(URL, {"pagina": "2"}).content.decode()
    assert newest.reference in second and oldest.reference not in second
    assert client.get(URL, {"pagina": "x"}).status_code == 200


def test_the_workspace_links_to_the_pickups_to_collect(client, refurbisher):
    client.force_login(refurbisher)
    assert reverse("donations:pickups") in client.get(URL).content.decode()


def test_the_workspace_links_to_shipping(client, refurbisher):
    client.force_login(refurbisher)
    assert reverse("distribution:shipping") in client.get(URL).content.decode()


def test_the_workspace_counts_its_history_once_per_few_minutes(client, refurbisher, donation):
    """Throughput and yield read every custody event of the refurbisher: not at every view."""
    client.force_login(refurbisher)
    device_in(donation, "received")
    client.get(URL)
    with CaptureQueriesContext(connection) as again:
        assert client.get(URL).status_code == 200
    assert not [q for q in again if "donations_deviceevent" in q["sql"]]
