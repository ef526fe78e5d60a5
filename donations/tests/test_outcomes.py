"""One outcome vocabulary for every unit: the donor's page, its CSV, the coordinators' export
and the impact report say where it ended (never a person), or the state it is still in."""

import pytest
from django.urls import reverse

from allemaal.vocabulary import TargetGroup
from donations.models import Device
from donations.outcomes import Outcome, device_outcome, outcome_counts
from donations.tests.factories import DeviceFactory, DonationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def donation(donor_org):
    return DonationFactory(donor=donor_org, status="received")


def _delivered(donation, serial="DLV1"):
    return DeviceFactory(
        donation=donation,
        serial_number=serial,
        state=Device.State.DELIVERED,
        delivered_sector="school_board",
        delivered_province="Utrecht",
        delivered_target_group=TargetGroup.PRIMARY_PUPILS,
    )


def _one_of_each(donation):
    _delivered(donation)
    DeviceFactory(
        donation=donation,
        serial_number="RCY1",
        state=Device.State.RECYCLED,
        recycle_reason="Defect: scherm kapot",
    )
    DeviceFactory(donation=donation, serial_number="NRC1", state=Device.State.NOT_RECEIVED)
    DeviceFactory(donation=donation, serial_number="LST1", state=Device.State.LOST)
    DeviceFactory(donation=donation, serial_number="ERS1", state=Device.State.ERASED)


def test_each_state_has_one_outcome_with_its_detail(donation):
    _one_of_each(donation)
    outcomes = {d.serial_number: device_outcome(d) for d in Device.objects.all()}
    assert outcomes["DLV1"].outcome == Outcome.DELIVERED
    assert outcomes["DLV1"].detail == "Schoolbestuur, Utrecht, Leerlingen in het basisonderwijs"
    assert (outcomes["RCY1"].outcome, outcomes["RCY1"].detail) == (
        Outcome.RECYCLED,
        "Defect: scherm kapot",
    )
    assert outcomes["NRC1"].outcome == Outcome.NOT_RECEIVED
    assert outcomes["LST1"].outcome == Outcome.LOST
    assert (outcomes["ERS1"].outcome, outcomes["ERS1"].detail) == (Outcome.IN_PROGRESS, "Gewist")
    assert str(outcomes["ERS1"]) == "Nog bezig: Gewist"


def test_outcome_counts_follow_the_vocabulary(donation):
    _one_of_each(donation)
    assert outcome_counts(Device.objects.all()) == [
        ("Afgeleverd", 1),
        ("Gerecycled", 1),
        ("Niet ontvangen", 1),
        ("Zoekgeraakt", 1),
        ("Nog bezig", 1),
    ]


def test_the_donor_page_and_its_csv_say_where_each_unit_ended(client, donor, donation):
    _one_of_each(donation)
    client.force_login(donor)
    page = client.get(reverse("donations:detail", args=[donation.pk])).content.decode()
    assert "Schoolbestuur, Utrecht, Leerlingen in het basisonderwijs" in page
    assert "Defect: scherm kapot" in page and "Zoekgeraakt" in page
    assert "Alsnog gevonden" in page  # the not-received unit can be answered

    body = client.get(reverse("donations:devices_csv", args=[donation.pk])).content.decode(
        "utf-8-sig"
    )
    assert body.splitlines()[0].endswith("uitkomst;toelichting uitkomst")
    rows = {line.split(";")[0]: line for line in body.splitlines()[1:]}
    assert rows["DLV1"].endswith(
        "Afgeleverd;Schoolbestuur, Utrecht, Leerlingen in het basisonderwijs"
    )
    assert rows["NRC1"].split(";")[-2] == "Niet ontvangen"
    assert rows["ERS1"].endswith("Nog bezig;Gewist")


def test_the_donor_reports_a_not_received_unit_found_later(client, donor, donation):
    from refurbish.tests.factories import refurbisher_factory

    donation.refurbisher = refurbisher_factory()
    donation.save(update_fields=["refurbisher"])
    unit = DeviceFactory(donation=donation, serial_number="NRC2", state="not_received")
    url = reverse("donations:found_later", args=[donation.pk])
    assert client.post(url, {"device": [unit.pk]}).status_code == 302  # anonymous: log in
    unit.refresh_from_db()
    assert unit.state == "not_received"
    client.force_login(donor)
    client.post(url, {"device": [unit.pk]})
    unit.refresh_from_db()
    assert unit.state == "announced"


def test_another_donor_cannot_report_found_later(client, other_donor, donation):
    unit = DeviceFactory(donation=donation, serial_number="NRC3", state="not_received")
    client.force_login(other_donor)
    url = reverse("donations:found_later", args=[donation.pk])
    assert client.post(url, {"device": [unit.pk]}).status_code == 404
    unit.refresh_from_db()
    assert unit.state == "not_received"


@pytest.mark.parametrize("n", [2, 20])
def test_the_donor_page_with_outcomes_takes_a_constant_number_of_queries(
    client, donor, donation, django_assert_num_queries, n
):
    for i in range(n):
        _delivered(donation, serial=f"DLV{i:03d}")
    client.force_login(donor)
    # session, user with membership and organisation, donation, device count, device page,
    # counts per state, timeline events, manifests, not-received devices, history events.
    with django_assert_num_queries(10):
        client.get(reverse("donations:detail", args=[donation.pk]))


def test_the_coordinators_device_export_carries_the_outcome(client, coordinator, donation):
    _one_of_each(donation)
    client.force_login(coordinator)
    response = client.get(reverse("coordination:export", args=["donations", "device", "csv"]))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "uitkomst;toelichting uitkomst" in body.splitlines()[0]
    assert "Afgeleverd;Schoolbestuur, Utrecht, Leerlingen in het basisonderwijs" in body
    assert "Zoekgeraakt;" in body
