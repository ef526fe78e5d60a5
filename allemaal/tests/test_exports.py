"""CSV and XLSX exports of the admin's lists: the filters apply, formulas never run, and only
coordinators take data out."""

import csv
import io
from datetime import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from allemaal.exports import safe_cell
from distribution.models import Allocation
from donations.tests.factories import DeviceFactory, DonationFactory
from helprequests.tests.factories import HelpRequestFactory, RequesterFactory

pytestmark = pytest.mark.django_db


def export_url(label: str, fmt: str = "csv") -> str:
    app_label, model_name = label.split(".")
    return reverse("coordination:export", args=[app_label, model_name, fmt])


def csv_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content), delimiter=";"))


@pytest.fixture
def coordinator_client(client, coordinator):
    client.force_login(coordinator)
    return client


# --- Cells ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("=1+1", "'=1+1"),
        ("Dell", "Dell"),
        ("+31 6 1234", "'+31 6 1234"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Gewoon tekst = prima", "Gewoon tekst = prima"),
        (None, ""),
        (-5, -5),
        (Decimal("1.5"), Decimal("1.5")),
        (True, "ja"),
        (False, "nee"),
    ],
)
def test_a_cell_never_starts_a_formula_and_numbers_stay_numbers(value, cell):
    assert safe_cell(value) == cell


def test_times_are_written_in_dutch_local_time():
    moment = timezone.make_aware(datetime(2026, 7, 1, 10, 30), timezone.get_fixed_timezone(0))
    assert safe_cell(moment) == "2026-07-01 12:30"


# --- The export of a filtered list ---------------------------------------------------------


def test_the_csv_holds_the_rows_of_the_filtered_list_on_all_pages(coordinator_client):
    utrecht = [HelpRequestFactory(delivery_province="Utrecht") for _ in range(3)]
    HelpRequestFactory(delivery_province="Limburg")
    response = coordinator_client.get(
        export_url("helprequests.helprequest"), {"delivery_province__exact": "Utrecht", "p": "2"}
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="hulpaanvragen-' in response["Content-Disposition"]
    header, *rows = csv_rows(response)
    assert header[:3] == ["referentie", "organisatie", "KvK-nummer"]
    assert sorted(row[0] for row in rows) == sorted(r.reference for r in utrecht)


def test_the_search_of_the_list_applies_too(coordinator_client):
    wanted = RequesterFactory(name="Zonnebloem Scholen")
    HelpRequestFactory(organisation=wanted)
    HelpRequestFactory()
    response = coordinator_client.get(export_url("helprequests.helprequest"), {"q": "zonnebloem"})
    assert [row[1] for row in csv_rows(response)[1:]] == ["Zonnebloem Scholen"]


def test_formula_cells_are_escaped_in_the_csv(coordinator_client):
    DonationFactory(brands="=cmd|' /C calc'!A0", contact_name="@Piet")
    header, row = csv_rows(coordinator_client.get(export_url("donations.donation")))
    assert row[header.index("merken")] == "'=cmd|' /C calc'!A0"
    assert row[header.index("contactpersoon")] == "'@Piet"


def test_the_xlsx_keeps_formulas_as_text_and_numbers_as_numbers(coordinator_client):
    DonationFactory(brands="=1+1", laptops=12)
    response = coordinator_client.get(export_url("donations.donation", "xlsx"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header = [cell.value for cell in sheet[1]]
    row = sheet[2]
    brands = row[header.index("merken")]
    assert (brands.value, brands.data_type) == ("'=1+1", "s")
    assert row[header.index("laptops")].value == 12


def test_devices_are_exported_with_their_donation_and_refurbisher(coordinator_client):
    device = DeviceFactory(serial_number="SN-EXPORT-1", asset_tag="7KQ3M9TXR4")
    header, row = csv_rows(coordinator_client.get(export_url("donations.device")))
    assert row[header.index("serienummer")] == "SN-EXPORT-1"
    assert row[header.index("donatie")] == device.donation.reference


def test_allocations_are_exported_with_the_filters_of_their_list(coordinator_client):
    for province in ("Utrecht", "Limburg"):
        request = HelpRequestFactory(approved=True, delivery_province=province)
        Allocation.objects.create(
            device=DeviceFactory(),
            request=request,
            status="approved",
            score=1,
            note="Test",
            decided_at=timezone.now(),
        )
    response = coordinator_client.get(
        export_url("distribution.allocation"), {"request__delivery_province__exact": "Limburg"}
    )
    header, *rows = csv_rows(response)
    assert [row[header.index("provincie")] for row in rows] == ["Limburg"]


def test_connectivity_assignments_are_exported(coordinator_client):
    from helprequests.tests.factories import ConnectivityAssignmentFactory

    assignment = ConnectivityAssignmentFactory()
    header, row = csv_rows(
        coordinator_client.get(export_url("helprequests.connectivityassignment"))
    )
    assert row[header.index("opdracht")] == assignment.reference


def test_the_export_costs_the_same_queries_for_few_or_many_rows(
    coordinator_client, django_assert_num_queries
):
    def export():
        return csv_rows(coordinator_client.get(export_url("donations.donation")))

    DonationFactory.create_batch(2, status="scheduled")
    export()
    # session, user, coordinator group (the page), permissions (user, groups), the list's
    # page with its total, and the rows with donor and refurbisher (streamed in chunks)
    with django_assert_num_queries(7):
        export()
    DonationFactory.create_batch(18, status="scheduled")
    with django_assert_num_queries(7):
        assert len(export()) == 21


# --- Who may export ------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(export_url("donations.donation"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("persona", ["helpdesk", "donor", "school_board"])
def test_only_coordinators_export(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(export_url("donations.donation")).status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "/coordinatie/export/donations/nothing.csv",
        "/coordinatie/export/allemaal/invitation.csv",  # no export for this list
        "/coordinatie/export/donations/donation.pdf",
        "/coordinatie/export/donations/donation.csv?unknown_filter=1",
    ],
)
def test_an_unknown_list_format_or_filter_is_not_found(coordinator_client, url):
    assert coordinator_client.get(url).status_code == 404


def test_the_list_shows_export_buttons_with_its_filters(coordinator_client, client, helpdesk):
    url = reverse("admin:helprequests_helprequest_changelist")
    page = coordinator_client.get(url, {"status__exact": "approved"}).content.decode()
    assert "/coordinatie/export/helprequests/helprequest.csv?status__exact=approved" in page
    assert "/coordinatie/export/helprequests/helprequest.xlsx?status__exact=approved" in page
    client.force_login(helpdesk)
    assert "/coordinatie/export/" not in client.get(url).content.decode()


def test_the_selected_rows_are_exported_by_an_action(coordinator_client):
    chosen, _other = HelpRequestFactory(), HelpRequestFactory()
    response = coordinator_client.post(
        reverse("admin:helprequests_helprequest_changelist"),
        {"action": "export_selected_xlsx", "_selected_action": [chosen.pk]},
    )
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == [chosen.reference]
