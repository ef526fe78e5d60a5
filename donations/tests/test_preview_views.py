"""The preview of an uploaded asset list: who may see it, what it says, changing a column."""

import pytest
from django.urls import reverse

from donations.models import ColumnMapping, Device, ManifestImport
from donations.tests.factories import DonationFactory
from donations.tests.test_asset_exports import INTUNE, SNIPE_IT, csv_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def donation(donor_org):
    return DonationFactory(donor=donor_org)


def upload(client, donation, rows, sep=","):
    response = client.post(
        reverse("donations:manifest_upload", args=[donation.pk]),
        {"file": csv_upload(rows, sep=sep)},
    )
    assert response.status_code == 302, response.content
    return response.url


def form_data(client, url, **changes):
    form = client.get(url).context["form"]
    data = {name: field.initial or "" for name, field in form.fields.items()}
    data.update(changes)
    return data


def test_anonymous_visitors_are_sent_to_log_in(client, donor, donation):
    client.force_login(donor)
    url = upload(client, donation, INTUNE)
    client.logout()
    assert client.get(url).status_code == 302
    assert client.post(url, {"importeren": "1"}).status_code == 302
    assert not Device.objects.exists()


def test_another_organisation_gets_404_and_cannot_import(client, donor, other_donor, donation):
    client.force_login(donor)
    url = upload(client, donation, INTUNE)
    data = form_data(client, url, importeren="1")
    client.force_login(other_donor)
    assert client.get(url).status_code == 404
    assert client.post(url, data).status_code == 404
    assert not Device.objects.exists()
    assert ManifestImport.objects.get().status == "preview"


def test_the_preview_names_the_tool_the_personal_columns_and_the_derived_values(
    client, donor, donation
):
    client.force_login(donor)
    page = client.get(upload(client, donation, INTUNE)).content.decode()
    assert "Wij herkennen deze lijst: hij komt uit Microsoft Intune." in page
    assert (
        "Wij slaan deze kolommen niet op, want er staan persoonsgegevens in: Primary user UPN, "
        "Primary user email address, Primary user display name, IMEI, MEID, Wi-Fi MAC, "
        "Phone number." in page
    )
    assert "afgeleid, uit 238475" in page and "afgeleid, uit Laptops" in page
    assert "Jan Jansen" not in page and "jan.jansen@voorbeeld.nl" not in page
    assert not Device.objects.exists()


def test_the_donor_changes_a_column_and_imports_and_the_choice_is_remembered(
    client, donor, donation, donor_org
):
    client.force_login(donor)
    url = upload(client, donation, INTUNE)
    # "Device name" (column A) becomes the donor's own code.
    response = client.post(url, form_data(client, url, kolom_0="donor_asset_tag", bijwerken="1"))
    assert response.url == url and "LPT-0001" in client.get(url).content.decode()
    response = client.post(url, form_data(client, url, importeren="1"))
    assert response.url == reverse("donations:detail", args=[donation.pk])
    device = Device.objects.get(serial_number="5CG1234ABC")
    assert (device.kind, device.storage_gb, device.donor_asset_tag) == ("laptop", 233, "LPT-0001")
    assert ColumnMapping.objects.get(organisation=donor_org).mapping["0"] == "donor_asset_tag"

    again = DonationFactory(donor=donor_org)
    rows = [INTUNE[0], [c.replace("5CG1234ABC", "NIEUW1") for c in INTUNE[1]]]
    page = client.get(upload(client, again, rows)).content.decode()
    assert "Wij gebruiken weer de indeling die u toen koos" in page
    assert client.get(upload(client, again, rows)).context["form"]["kolom_0"].initial == (
        "donor_asset_tag"
    )


def test_desktops_are_skipped_with_their_reason_when_the_donor_chooses_so(client, donor, donation):
    client.force_login(donor)
    url = upload(client, donation, SNIPE_IT, sep=";")
    assert "desktop" in " ".join(str(e) for e in client.get(url).context["preview"].errors)
    response = client.post(url, form_data(client, url, importeren="1"))
    assert not Device.objects.exists()
    response = client.post(url, form_data(client, url, importeren="1", skip_unaccepted="on"))
    assert response.url == reverse("donations:detail", args=[donation.pk])
    assert list(Device.objects.values_list("serial_number", flat=True)) == ["PF1ABC23"]
    page = client.get(response.url).content.decode()
    assert "1 rij is overgeslagen: rij 3 (Een desktop nemen wij niet aan)" in page
