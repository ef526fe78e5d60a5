import re

import pytest
from playwright.sync_api import expect

from donations.models import Device, Donation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROW = "laptop;HP;EliteBook 840;2019;{ram};256"
HEADER = "serienummer;type;merk;model;bouwjaar;werkgeheugen (GB);opslag (GB)"
# Row 3 has no serial number, row 5 a memory size that is no number.
WRONG = [
    HEADER,
    "5CG001;" + ROW.format(ram=8),
    ";" + ROW.format(ram=8),
    "5CG003;" + ROW.format(ram=8),
    "5CG004;" + ROW.format(ram="veel"),
]
FIXED = [
    HEADER,
    "5CG001;" + ROW.format(ram=8),
    "5CG002;" + ROW.format(ram=8),
    "5CG003;" + ROW.format(ram=8),
    "5CG004;" + ROW.format(ram=16),
]


def test_a_donor_registers_a_donation_fixes_its_manifest_and_sees_the_devices_announced(
    page, log_in, donor, tmp_path
):
    log_in(donor)
    page.goto("/donaties/")
    page.get_by_role("link", name="Donatie aanmelden").click()
    page.get_by_label("Aantal laptops").fill("12")
    page.get_by_label("Aantal opladers").fill("12")
    page.get_by_label("Contactpersoon voor het ophalen").fill("Alice de Vries")
    page.get_by_label(re.compile("Wij dragen het eigendom")).check()
    page.get_by_role("button", name="Donatie aanmelden").click()

    page.wait_for_url(re.compile(r"/donaties/\d+/$"))
    donation = Donation.objects.get()
    expect(page.get_by_text(f"Uw donatie {donation.reference} is aangemeld")).to_be_visible()
    page.get_by_role("link", name="Apparatenlijst uploaden").click()

    wrong = tmp_path / "apparaten.csv"
    wrong.write_text("\n".join(WRONG) + "\n")
    page.get_by_label("Apparatenlijst (CSV of Excel)").set_input_files(wrong)
    page.get_by_role("button", name="Lijst uploaden").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="2 fouten in de lijst")).to_be_visible()
    errors = page.locator("table.manifest-errors tbody tr")
    assert errors.count() == 2
    assert errors.nth(0).locator("td").first.inner_text() == "3"
    assert "serienummer" in errors.nth(0).inner_text()
    assert errors.nth(1).locator("td").first.inner_text() == "5"
    assert "werkgeheugen" in errors.nth(1).inner_text()
    assert Device.objects.count() == 0

    fixed = tmp_path / "apparaten-verbeterd.csv"
    fixed.write_text("\n".join(FIXED) + "\n")
    page.get_by_role("link", name="Een ander bestand uploaden").click()
    page.get_by_label("Apparatenlijst (CSV of Excel)").set_input_files(fixed)
    page.get_by_role("button", name="Lijst uploaden").click()
    expect(
        page.get_by_text("Wij herkennen deze lijst: hij komt uit ons voorbeeldbestand.")
    ).to_be_visible()
    assert Device.objects.count() == 0
    page.get_by_role("button", name="Lijst overnemen").click()

    page.wait_for_url(re.compile(rf"/donaties/{donation.pk}/$"))
    expect(
        page.get_by_text("4 apparaten uit apparaten-verbeterd.csv zijn aangekondigd")
    ).to_be_visible()
    assert page.locator('table.device-counts td[data-state="announced"]').inner_text() == "4"
    assert page.locator("table.devices tbody tr").count() == 4
    assert Device.objects.filter(donation=donation, state="announced").count() == 4


INTUNE_EXPORT = [
    "Device name,OS,Primary user display name,Primary user UPN,Serial number,Manufacturer,"
    "Model,Total storage,Category,Managed by,Ownership,Compliance",
    "LPT-0001,Windows,Jan Jansen,j.jansen@voorbeeld.nl,5CG1234ABC,HP,EliteBook 840 G8,"
    "238475,Laptops,Intune,Corporate,Compliant",
    "IPAD-0002,iPadOS,Kees Klaassen,k.klaassen@voorbeeld.nl,DMPXK1234,Apple,"
    "iPad (9th generation),65536,,Intune,Corporate,Compliant",
]


def test_an_it_manager_previews_an_intune_export_changes_one_column_and_imports(
    page, log_in, donor, donor_org, tmp_path
):
    from donations.tests.factories import DonationFactory

    donation = DonationFactory(donor=donor_org)
    log_in(donor)
    page.goto(f"/donaties/{donation.pk}/apparatenlijst/")
    export = tmp_path / "intune-all-devices.csv"
    export.write_text("\n".join(INTUNE_EXPORT) + "\n")
    page.get_by_label("Apparatenlijst (CSV of Excel)").set_input_files(export)
    page.get_by_role("button", name="Lijst uploaden").click()

    expect(
        page.get_by_text("Wij herkennen deze lijst: hij komt uit Microsoft Intune.")
    ).to_be_visible()
    expect(page.locator("#personal-columns")).to_contain_text(
        "Wij slaan deze kolommen niet op, want er staan persoonsgegevens in: "
        "Primary user display name, "
        "Primary user UPN"
    )
    preview = page.locator("table.manifest-preview")
    expect(preview).to_contain_text("afgeleid, uit 238475")
    expect(preview).not_to_contain_text("Jan Jansen")
    expect(preview).not_to_contain_text("LPT-0001")

    page.get_by_label("A · Device name").select_option("donor_asset_tag")
    page.get_by_role("button", name="Voorbeeld bijwerken").click()
    expect(page.locator("table.manifest-preview")).to_contain_text("LPT-0001")
    assert Device.objects.count() == 0
    page.get_by_role("button", name="Lijst overnemen").click()

    page.wait_for_url(re.compile(rf"/donaties/{donation.pk}/$"))
    expect(
        page.get_by_text("2 apparaten uit intune-all-devices.csv zijn aangekondigd")
    ).to_be_visible()
    assert sorted(Device.objects.values_list("serial_number", "kind", "donor_asset_tag")) == [
        ("5CG1234ABC", "laptop", "LPT-0001"),
        ("DMPXK1234", "tablet", "IPAD-0002"),
    ]
