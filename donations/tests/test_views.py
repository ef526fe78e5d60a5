"""The donor's and the refurbisher's pages: who may see what, forms, and query counts."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from allemaal.models import Notification
from donations.models import Device, DeviceEvent, Donation, DonationPolicy
from donations.tests.factories import DeviceFactory, DonationFactory

DONOR_PAGES = ["donations:detail", "donations:manifest_upload", "donations:devices_csv",
               "donations:cancel"]  # fmt: skip
FORM = {
    "laptops": "12",
    "chromebooks": "0",
    "tablets": "3",
    "chargers": "12",
    "year_from": "2016",
    "year_to": "2020",
    "brands": "Dell, HP",
    "pickup_street": "Marktplein 3",
    "pickup_postcode": "9711ab",
    "pickup_city": "Groningen",
    "contact_name": "Alice de Vries",
    "contact_phone": "050 123 4567",
    "consent_transfer": "on",
}


@pytest.fixture
def donation(donor_org):
    return DonationFactory(donor=donor_org)


# --- Who may see what ----------------------------------------------------------------------


@pytest.mark.parametrize("name", DONOR_PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, donation, name):
    response = client.get(reverse(name, args=[donation.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("name", DONOR_PAGES)
def test_another_donor_gets_404_for_every_page_of_a_donation(client, donation, other_donor, name):
    client.force_login(other_donor)
    assert client.get(reverse(name, args=[donation.pk])).status_code == 404
    assert client.post(reverse(name, args=[donation.pk])).status_code in (404, 405)


@pytest.mark.parametrize("name", DONOR_PAGES)
def test_the_donor_opens_every_page_of_its_donation(client, donation, donor, name):
    client.force_login(donor)
    assert client.get(reverse(name, args=[donation.pk])).status_code == 200


def test_guessing_a_nonexistent_donation_is_the_same_404(client, donor):
    client.force_login(donor)
    assert client.get(reverse("donations:detail", args=[999999])).status_code == 404


def test_another_donor_cannot_cancel_or_upload_to_a_donation(client, donation, other_donor):
    DeviceFactory(donation=donation)
    client.force_login(other_donor)
    client.post(reverse("donations:cancel", args=[donation.pk]), {"reason": "weg"})
    upload = SimpleUploadedFile("a.csv", b"serienummer;type\nX1;laptop\n")
    client.post(reverse("donations:manifest_upload", args=[donation.pk]), {"file": upload})
    donation.refresh_from_db()
    assert donation.status == Donation.Status.PLEDGED
    assert Device.objects.count() == 1


@pytest.mark.parametrize("name", ["coordination:donor_overview", "donations:create"])
def test_a_requester_cannot_register_or_follow_donations(client, school_board, name):
    client.force_login(school_board)
    assert client.get(reverse(name)).status_code == 403
    assert client.post(reverse("donations:create"), FORM).status_code == 403
    assert not Donation.objects.exists()


# --- Registering ---------------------------------------------------------------------------


def test_the_form_starts_from_the_organisations_address_and_explains_the_minimum(
    client, donor, donor_org
):
    client.force_login(donor)
    response = client.get(reverse("donations:create"))
    assert response.context["form"].initial["pickup_street"] == donor_org.street
    assert "minstens 10 apparaten" in response.content.decode()


def test_a_donor_registers_a_donation(client, donor, donor_org):
    client.force_login(donor)
    response = client.post(reverse("donations:create"), FORM)
    donation = Donation.objects.get()
    assert response.url == reverse("donations:detail", args=[donation.pk])
    assert (donation.donor, donation.laptops, donation.tablets) == (donor_org, 12, 3)
    assert (donation.pickup_postcode, donation.pickup_province) == ("9711 AB", "Groningen")
    assert str(donation.contact_phone) == "+31501234567"
    assert Notification.objects.filter(kind="donation_registered").count() == 1


def test_the_donation_page_names_each_step_of_its_history(client, donor):
    client.force_login(donor)
    client.post(reverse("donations:create"), FORM)
    page = client.get(reverse("donations:detail", args=[Donation.objects.get().pk]))
    history = page.content.decode().split('class="history"')[1].split("</ul>")[0]
    assert "Aangemeld" in history, history


@pytest.mark.parametrize(
    ("language", "written", "not_written"),
    [("nl", "3 december 2026", "Dec"), ("en", "3 December 2026", "Dec 2026")],
)
def test_the_timeline_writes_dates_in_the_pages_language(client, donor, language, written,
                                                         not_written):  # fmt: skip
    from donations.models import DonationEvent

    client.force_login(donor)
    client.post(reverse("donations:create"), FORM)
    donation = Donation.objects.get()
    at = timezone.make_aware(datetime.datetime(2026, 12, 3, 10, 0))
    DonationEvent.objects.filter(donation=donation).update(at=at)
    client.cookies["django_language"] = language
    page = client.get(reverse("donations:detail", args=[donation.pk])).content.decode()
    timeline = page.split('class="timeline"')[1].split("</ol>")[0]
    assert written in timeline and not_written not in timeline.replace(written, "")
    # The steps' names too (kept as text per language: allemaal.models.choice_labels).
    with translation.override(language):
        pledged, collected = Donation.Status.PLEDGED.label, Donation.Status.COLLECTED.label
        assert f">{pledged} <small>" in timeline and f">{collected}</li>" in timeline


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("pickup_postcode", "97110", "geldige Nederlandse postcode"),
        ("contact_phone", "123", "geldig Nederlands telefoonnummer"),
        ("consent_transfer", "", "Zonder uw toestemming"),
        ("year_to", "2010", "vóór het bouwjaar"),
        ("year_from", "1980", "tussen 1990"),
        ("laptops", "-1", ""),
    ],
)
def test_bad_input_is_refused_beside_the_field_and_nothing_is_saved(
    client, donor, field, value, message
):
    client.force_login(donor)
    response = client.post(reverse("donations:create"), {**FORM, field: value})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert message in str(response.context["form"].errors[field])
    assert not Donation.objects.exists()
    assert not Notification.objects.exists()


def test_a_pickup_window_in_the_past_or_reversed_is_refused(client, donor):
    client.force_login(donor)
    today = timezone.localdate()
    past = {**FORM, "pickup_window_start": str(today - datetime.timedelta(days=1))}
    assert (
        "pickup_window_start"
        in client.post(reverse("donations:create"), past).context["form"].errors
    )
    reversed_ = {
        **FORM,
        "pickup_window_start": str(today + datetime.timedelta(days=5)),
        "pickup_window_end": str(today + datetime.timedelta(days=2)),
    }
    assert (
        "pickup_window_end"
        in client.post(reverse("donations:create"), reversed_).context["form"].errors
    )
    assert not Donation.objects.exists()


def test_below_the_minimum_the_form_says_why_and_where_to_go(client, donor):
    client.force_login(donor)
    response = client.post(reverse("donations:create"), {**FORM, "laptops": "2", "tablets": "1"})
    errors = " ".join(response.context["form"].non_field_errors())
    assert "minstens 10 apparaten" in errors and "kringloopwinkel" in errors
    assert not Donation.objects.exists()


def test_with_individual_donations_open_one_device_is_enough(client, donor):
    DonationPolicy.objects.create(pk=1, individual_donations_open=True)
    client.force_login(donor)
    client.post(reverse("donations:create"), {**FORM, "laptops": "1", "tablets": "0"})
    assert Donation.objects.get().pledged_devices == 1


# --- Manifest, devices, cancel -------------------------------------------------------------


def test_an_upload_with_errors_shows_each_with_row_and_column_and_imports_nothing(
    client, donor, donation
):
    client.force_login(donor)
    content = b"serienummer;type;werkgeheugen\nA1;laptop;8\n;laptop;8\nA3;laptop;veel\n"
    response = client.post(
        reverse("donations:manifest_upload", args=[donation.pk]),
        {"file": SimpleUploadedFile("lijst.csv", content)},
    )
    assert response.status_code == 302
    response = client.get(response.url)
    page = response.content.decode()
    assert "2 fouten in de lijst" in page
    errors = response.context["preview"].errors
    assert [(e.row, e.column) for e in errors] == [
        (3, "A (serienummer)"),
        (4, "C (werkgeheugen)"),
    ]
    assert Device.objects.count() == 0 and DeviceEvent.objects.count() == 0


def test_a_good_upload_announces_the_devices(client, donor, donation):
    client.force_login(donor)
    content = b"serienummer;type;afdeling\nA1;laptop;x\nA2;tablet;y\n"
    response = client.post(
        reverse("donations:manifest_upload", args=[donation.pk]),
        {"file": SimpleUploadedFile("lijst.csv", content)},
        follow=True,
    )
    page = response.content.decode()
    assert "afdeling" in page and "niet gebruiken" in page
    assert not Device.objects.exists()
    job_url = response.redirect_chain[-1][0]
    response = client.post(
        job_url, {"kolom_0": "serial_number", "kolom_1": "kind", "importeren": "1"}, follow=True
    )
    assert "2 apparaten uit lijst.csv zijn aangekondigd" in response.content.decode()
    assert Device.objects.filter(donation=donation, state="announced").count() == 2


def test_the_manifest_templates_download_as_csv_and_xlsx(client, donor):
    client.force_login(donor)
    csv_response = client.get(reverse("donations:template_csv"))
    assert csv_response.content.decode("utf-8-sig").startswith("serienummer;type;merk")
    xlsx = client.get(reverse("donations:template_xlsx")).content
    sheet = load_workbook(io.BytesIO(xlsx), read_only=True).worksheets[0]
    assert next(sheet.iter_rows(values_only=True))[0] == "serienummer"


def test_the_device_list_download_escapes_formula_cells(client, donor, donation):
    DeviceFactory(donation=donation, serial_number="SN1", model="=HYPERLINK(1)")
    client.force_login(donor)
    body = client.get(reverse("donations:devices_csv", args=[donation.pk])).content.decode(
        "utf-8-sig"
    )
    assert "SN1;Laptop;Dell;'=HYPERLINK(1)" in body


def test_the_donor_cancels_a_pledged_donation(client, donor, donation):
    client.force_login(donor)
    response = client.post(reverse("donations:cancel", args=[donation.pk]), {"reason": "Verkocht"})
    assert response.url == reverse("donations:detail", args=[donation.pk])
    donation.refresh_from_db()
    assert (donation.status, donation.status_reason) == (Donation.Status.CANCELLED, "Verkocht")


def test_cancelling_after_collection_shows_why_and_changes_nothing(client, donor, donor_org):
    donation = DonationFactory(donor=donor_org, status=Donation.Status.COLLECTED)
    client.force_login(donor)
    response = client.post(reverse("donations:cancel", args=[donation.pk]), follow=True)
    assert "al opgehaald" in response.content.decode()
    donation.refresh_from_db()
    assert donation.status == Donation.Status.COLLECTED


# --- The refurbisher's pickups -------------------------------------------------------------


@pytest.fixture
def scheduled(refurbisher_org):
    return DonationFactory(status=Donation.Status.SCHEDULED, refurbisher=refurbisher_org)


def test_the_refurbisher_sees_only_its_own_pickups(client, refurbisher, scheduled):
    other = DonationFactory(status=Donation.Status.SCHEDULED)
    client.force_login(refurbisher)
    response = client.get(reverse("donations:pickups"))
    assert [d.pk for d in response.context["open"]] == [scheduled.pk]
    assert other.reference not in response.content.decode()


def test_pickup_pages_need_a_refurbisher(client, donor, scheduled):
    assert client.get(reverse("donations:pickups")).status_code == 302
    client.force_login(donor)
    assert client.get(reverse("donations:pickups")).status_code == 403
    url = reverse("donations:pickup_collected", args=[scheduled.pk])
    assert client.post(url).status_code == 403


def test_another_refurbisher_gets_404_for_a_pickup(client, refurbisher, db):
    theirs = DonationFactory(status=Donation.Status.COLLECTED)
    client.force_login(refurbisher)
    assert client.post(reverse("donations:pickup_collected", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("donations:pickup_received", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Donation.Status.COLLECTED


def test_the_refurbisher_confirms_collection_then_reception_with_counts(
    client, refurbisher, scheduled
):
    client.force_login(refurbisher)
    client.post(reverse("donations:pickup_collected", args=[scheduled.pk]))
    scheduled.refresh_from_db()
    assert scheduled.status == Donation.Status.COLLECTED
    url = reverse("donations:pickup_received", args=[scheduled.pk])
    assert client.get(url).context["form"].initial["laptops"] == 10
    counts = {"laptops": "9", "chromebooks": "0", "tablets": "0", "chargers": "7"}
    assert client.post(url, counts).url == reverse("donations:pickups")
    scheduled.refresh_from_db()
    assert (scheduled.status, scheduled.received_laptops, scheduled.received_chargers) == (
        Donation.Status.RECEIVED,
        9,
        7,
    )


def test_reception_with_a_negative_count_is_refused_beside_the_field(
    client, refurbisher, refurbisher_org
):
    donation = DonationFactory(status=Donation.Status.COLLECTED, refurbisher=refurbisher_org)
    client.force_login(refurbisher)
    counts = {"laptops": "-1", "chromebooks": "0", "tablets": "0", "chargers": "0"}
    response = client.post(reverse("donations:pickup_received", args=[donation.pk]), counts)
    assert "laptops" in response.context["form"].errors
    donation.refresh_from_db()
    assert donation.status == Donation.Status.COLLECTED


@pytest.mark.parametrize("n", [2, 20])
def test_the_pickups_query_count_is_constant(
    client, refurbisher, refurbisher_org, django_assert_num_queries, n
):
    for i in range(n):
        DonationFactory(
            status=[Donation.Status.SCHEDULED, Donation.Status.COLLECTED, Donation.Status.RECEIVED][
                i % 3
            ],
            refurbisher=refurbisher_org,
        )
    client.force_login(refurbisher)
    # session, user with membership and organisation, donations with their donors
    with django_assert_num_queries(3):
        client.get(reverse("donations:pickups"))


def test_the_donor_finds_the_erasure_certificate_once_it_is_issued(client, donor, donor_org):
    from django.urls import reverse

    from donations.tests.factories import DonationFactory
    from refurbish.models import ErasureCertificate
    from tests.factories import OrganisationFactory

    refurbisher = OrganisationFactory(kind="refurbisher")
    donation = DonationFactory(donor=donor_org, status="processed", refurbisher=refurbisher)
    client.force_login(donor)
    link = reverse("refurbish:certificate", args=[donation.pk])
    assert link not in client.get(reverse("donations:detail", args=[donation.pk])).content.decode()
    ErasureCertificate.objects.create(donation=donation, code="A" * 26, summary={})
    for page in [
        reverse("coordination:donor_overview"),
        reverse("donations:detail", args=[donation.pk]),
    ]:
        assert link in client.get(page).content.decode()


def test_a_failed_submit_lists_every_problem_at_the_top_linked_to_its_field(client, donor):
    client.force_login(donor)
    response = client.post(reverse("donations:create"), {**FORM, "pickup_postcode": "97110"})
    page = response.content.decode()
    summary = page.split("data-error-summary")[1].split("</div>")[0]
    assert "Er is een probleem" in summary
    assert '<a href="#id_pickup_postcode">' in summary and "geldige Nederlandse postcode" in summary
    assert page.index("data-error-summary") < page.index('name="pickup_postcode"')
    assert not Donation.objects.exists()
