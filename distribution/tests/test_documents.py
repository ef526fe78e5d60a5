"""The packing list and the instruction sheets: checked on their text, not only on coming back."""

from io import BytesIO

import pytest
from django.urls import reverse
from pypdf import PdfReader

from refurbish.asset_tags import format_asset_tag
from tests.factories import member_of

from .factories import (
    AllocatedDeviceFactory,
    ApprovedRequestFactory,
    approved_allocations,
    packed_shipment,
)

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


def pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(BytesIO(content)).pages]


@pytest.fixture
def shipment(allocations, refurbisher):
    return packed_shipment(allocations, by=refurbisher)


def _get(client, user, name, shipment, query=""):
    client.force_login(user)
    return client.get(reverse(f"distribution:{name}", args=[shipment.pk]) + query)


def test_the_packing_list_names_the_organisation_the_address_and_every_device(
    client, refurbisher, shipment, allocations, school_board_org, settings
):
    response = _get(client, refurbisher, "packing_list", shipment)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f"paklijst-{shipment.reference}.pdf" in response["Content-Disposition"]
    text = pdf_text(response.content)
    assert f"Paklijst zending {shipment.reference}" in text
    assert school_board_org.name in text
    assert "Schoolstraat 5, 4001 AB Tiel" in text and "Carla Jansen" in text
    for allocation in allocations:
        device = allocation.device
        assert format_asset_tag(device.asset_tag) in text
        assert device.serial_number in text
    assert "Dell Latitude 5490" in text
    assert settings.SUPPORT_PHONE in text


def test_the_packing_list_in_english(client, refurbisher, shipment):
    text = pdf_text(_get(client, refurbisher, "packing_list", shipment, "?lang=en").content)
    assert "Asset tag" in text and "Serial number" in text and "Make and model" in text


def test_every_device_gets_its_own_instruction_sheet(
    client, refurbisher, shipment, allocations, settings
):
    response = _get(client, refurbisher, "instruction_sheets", shipment)
    assert response.status_code == 200
    pages = pdf_pages(response.content)
    assert len(pages) == len(allocations)
    for allocation, page in zip(sorted(allocations, key=lambda a: a.pk), pages, strict=True):
        tag = format_asset_tag(allocation.device.asset_tag)
        assert f"Apparaatcode: {tag}" in page
        assert "Uw laptop van #allemaaldigitaal" in page
        assert "Aanzetten" in page and "De eerste keer" in page and "Verbinden met wifi" in page
        assert "Werkt het niet?" in page
        assert "Windows 11" in page  # what was installed
        assert settings.SUPPORT_PHONE in page and settings.SUPPORT_HOURS in page
        assert "/hulp/laptop/" in page


def test_the_sheet_follows_the_device_type_and_operating_system(
    client, refurbisher, donation, school_board_org
):
    request = ApprovedRequestFactory(organisation=school_board_org, laptops=0, tablets=1)
    tablet = approved_allocations(
        request,
        1,
        donation=donation,
        kind="tablet",
        os_installed="ipados",
        make="Apple",
        model="iPad",
    )
    shipment = packed_shipment(tablet, by=refurbisher)
    text = pdf_text(_get(client, refurbisher, "instruction_sheets", shipment).content)
    assert "Uw tablet van #allemaaldigitaal" in text
    assert "iPadOS" in text and "Instellingen" in text
    assert "/hulp/tablet/" in text


def test_english_sheets_on_request(client, refurbisher, shipment):
    response = _get(client, refurbisher, "instruction_sheets", shipment, "?lang=en")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('-en.pdf"')
    assert "Asset tag" not in pdf_text(
        _get(client, refurbisher, "instruction_sheets", shipment, "?lang=xx").content
    )


def test_the_receiving_organisation_downloads_the_same_documents(
    client, school_board, shipment, allocations
):
    text = pdf_text(_get(client, school_board, "packing_list", shipment).content)
    assert format_asset_tag(allocations[0].device.asset_tag) in text


@pytest.mark.parametrize("name", ["packing_list", "instruction_sheets"])
def test_documents_are_not_for_other_organisations_or_anonymous_visitors(
    client, name, shipment, refurbisher_org, school_board_org
):
    url = reverse(f"distribution:{name}", args=[shipment.pk])
    response = client.get(url)
    assert response.status_code == 302 and "login" in response.url
    other_refurbisher = member_of(
        type(refurbisher_org).objects.create(
            kind="refurbisher",
            name="Ander ICT",
            kvk_number="99887766",
            street="Weg 1",
            postcode="3511 AB",
            city="Utrecht",
            phone="+31301234567",
            status="verified",
        )
    )
    other_requester = member_of(ApprovedRequestFactory().organisation)
    for user in (other_refurbisher, other_requester):
        client.force_login(user)
        assert client.get(url).status_code == 404


def test_a_device_without_os_gets_the_usual_steps_of_its_kind(donation):
    from distribution import pdf

    device = AllocatedDeviceFactory(donation=donation, kind="chromebook", os_installed="")
    text = pdf_text(pdf.instruction_sheets_pdf([device]))
    assert "Uw Chromebook van #allemaaldigitaal" in text and "ChromeOS" in text
