"""The requesting organisation's pages: form, confirmation, edit and cancel."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from allemaal.models import Notification, Organisation
from helprequests import services
from helprequests.models import HelpRequest, IntakeSwitch
from tests.factories import member_of

from .factories import HelpRequestFactory, RequesterFactory


def valid_form(**changes):
    data = {
        "target_group": "primary_pupils",
        "no_home_schooling": "on",
        "laptops": "30",
        "tablets": "0",
        "either": "5",
        "people_reached": "40",
        "connectivity_households": "6",
        "urgency": "high",
        "need_by": (timezone.localdate() + datetime.timedelta(days=14)).isoformat(),
        "motivation": "Veel leerlingen hebben thuis geen laptop.",
        "delivery_street": "Schoolstraat 5",
        "delivery_postcode": "4001ab",
        "delivery_city": "Tiel",
        "contact_name": "Carla Jansen",
        "contact_phone": "0344 123 456",
        "declaration": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def carla(client, school_board):
    client.force_login(school_board)
    return school_board


@pytest.fixture
def other_request(db):
    return HelpRequestFactory(organisation=RequesterFactory(name="Bob Welzijn"))


# --- Access --------------------------------------------------------------------------------

OWN_PAGES = [
    "coordination:request_detail",
    "helprequests:edit",
    "helprequests:review",
    "helprequests:cancel",
]


def test_anonymous_users_are_sent_to_log_in(client, other_request):
    urls = [reverse("coordination:requester_overview"), reverse("helprequests:create")]
    urls += [reverse(name, args=[other_request.pk]) for name in OWN_PAGES]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("name", OWN_PAGES)
def test_another_organisations_request_is_a_404_and_stays_unchanged(
    client, carla, other_request, name
):
    url = reverse(name, args=[other_request.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, valid_form(laptops="1")).status_code == 404
    other_request.refresh_from_db()
    assert (other_request.status, other_request.laptops) == (HelpRequest.Status.DRAFT, 10)


def test_a_donor_cannot_open_the_form_or_submit(client, donor, other_request):
    client.force_login(donor)
    assert client.get(reverse("helprequests:create")).status_code == 403
    assert client.post(reverse("helprequests:create"), valid_form()).status_code == 403
    url = reverse("helprequests:review", args=[other_request.pk])
    assert client.post(url).status_code == 403
    assert HelpRequest.objects.count() == 1


def test_an_unverified_organisation_cannot_submit(client, db):
    pending = RequesterFactory(status=Organisation.Status.PENDING)
    request = HelpRequestFactory(organisation=pending)
    client.force_login(member_of(pending))
    assert client.get(reverse("helprequests:create")).url == reverse("awaiting_verification")
    response = client.post(reverse("helprequests:review", args=[request.pk]))
    assert response.url == reverse("awaiting_verification")
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.DRAFT


# --- Form, confirmation page, submit -------------------------------------------------------


def test_the_form_asks_no_personal_data_and_warns_against_names(client, carla):
    page = client.get(reverse("helprequests:create")).content.decode()
    assert "Wij vragen geen persoonsgegevens" in page
    assert "zeker niet van kinderen" in page
    assert page.count("Noem geen namen") >= 2  # beside both free-text fields


def test_the_form_is_prefilled_with_the_organisations_address(client, carla):
    form = client.get(reverse("helprequests:create")).context["form"]
    assert form.initial["delivery_postcode"] == "4001 AB"
    assert form.initial["delivery_city"] == "Tiel"


def test_it_shows_the_whole_request_before_it_is_submitted(
    client, carla, school_board_org, django_capture_on_commit_callbacks
):
    response = client.post(reverse("helprequests:create"), valid_form())
    request = HelpRequest.objects.get()
    assert response.url == reverse("helprequests:review", args=[request.pk])
    assert request.status == HelpRequest.Status.DRAFT
    assert (request.delivery_postcode, request.delivery_province) == ("4001 AB", "Gelderland")
    assert str(request.contact_phone) == "+31344123456"

    review = client.get(response.url).content.decode()
    for text in ["Controleer uw hulpaanvraag", "Leerlingen in het basisonderwijs", "30", "Tiel"]:
        assert text in review
    assert "Hulpaanvraag indienen" in review
    assert Notification.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("helprequests:review", args=[request.pk]))
    assert response.url == reverse("coordination:requester_overview")
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.SUBMITTED
    assert Notification.objects.get(kind="helprequest_received").to_email == carla.email
    dashboard = client.get(response.url).content.decode()
    assert request.reference in dashboard and "Ingediend" in dashboard


def test_a_draft_can_be_saved_with_only_the_target_group(client, carla):
    response = client.post(
        reverse("helprequests:create"),
        {"target_group": "mbo_students", "urgency": "normal", "save_draft": "1"},
    )
    assert response.url == reverse("coordination:requester_overview")
    request = HelpRequest.objects.get()
    assert (request.status, request.target_group, request.laptops) == (
        HelpRequest.Status.DRAFT,
        "mbo_students",
        0,
    )
    review = client.get(reverse("helprequests:review", args=[request.pk])).content.decode()
    assert "U kunt deze aanvraag nog niet indienen" in review
    assert "Hulpaanvraag indienen" not in review
    client.post(reverse("helprequests:review", args=[request.pk]))
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.DRAFT


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"delivery_postcode": "123 AB"}, "delivery_postcode", "geldige Nederlandse postcode"),
        ({"contact_phone": "12345"}, "contact_phone", "geldig Nederlands telefoonnummer"),
        ({"laptops": "-1"}, "laptops", "0"),
        ({"laptops": "0", "either": "0"}, "laptops", "ten minste één"),
        (
            {"laptops": "501", "people_reached": "600"},
            "laptops",
            "maximaal 500 apparaten aanvragen; u vraagt er nu 506 aan",
        ),
        ({"people_reached": "10"}, "people_reached", "meer apparaten aan (35)"),
        ({"connectivity_households": "41"}, "connectivity_households", "niet meer huishoudens"),
        ({"need_by": "2020-01-01"}, "need_by", "verleden"),
        ({"need_by": None}, "need_by", "Vul dit veld in"),
        ({"motivation": ""}, "motivation", "Vul dit veld in"),
        ({"target_group": "other"}, "target_group_other", "Beschrijf"),
        ({"declaration": None}, "declaration", "Bevestig"),
    ],
)
def test_it_refuses_bad_input_with_a_dutch_message_beside_the_field(
    client, carla, changes, field, message
):
    response = client.post(reverse("helprequests:create"), valid_form(**changes))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert HelpRequest.objects.count() == 0


def test_the_form_refuses_a_closed_intake_and_says_why(client, carla):
    IntakeSwitch.objects.create(
        device_type="laptop",
        target_group="primary_pupils",
        is_open=False,
        reason="De laptops voor basisscholen zijn op.",
    )
    page = client.get(reverse("helprequests:create")).content.decode()
    assert "De laptops voor basisscholen zijn op." in page
    response = client.post(reverse("helprequests:create"), valid_form())
    errors = " ".join(response.context["form"].errors["laptops"])
    assert "geen aanvragen aan voor laptops" in errors
    assert "De laptops voor basisscholen zijn op." in errors
    assert HelpRequest.objects.count() == 0


def test_the_form_explains_the_limit_of_open_requests(client, carla, school_board_org, settings):
    settings.HELPREQUEST_MAX_OPEN_PER_ORGANISATION = 1
    HelpRequestFactory(organisation=school_board_org, submitted=True, target_group="newcomers")
    dashboard = client.get(reverse("coordination:requester_overview")).content.decode()
    assert "al 1 hulpaanvraag die nog loopt" in dashboard
    assert "Nieuwe hulpaanvraag" not in dashboard
    response = client.post(reverse("helprequests:create"), valid_form())
    assert "al 1 hulpaanvragen die nog lopen" in str(response.context["form"].non_field_errors())
    assert HelpRequest.objects.count() == 1


def test_the_overview_counts_only_open_requests_against_the_limit(
    client, carla, school_board_org, settings
):
    settings.HELPREQUEST_MAX_OPEN_PER_ORGANISATION = 2
    HelpRequestFactory(organisation=school_board_org)  # a draft
    for status in ("rejected", "fulfilled", "cancelled", "closed"):
        HelpRequestFactory(
            organisation=school_board_org, approved=True, status=status, decision_reason="-"
        )
    HelpRequestFactory(organisation=school_board_org, submitted=True)
    dashboard = client.get(reverse("coordination:requester_overview"))
    assert (
        dashboard.context["open_count"] == 1 and "Nieuwe hulpaanvraag" in dashboard.content.decode()
    )
    HelpRequestFactory(organisation=school_board_org, approved=True, target_group="newcomers")
    dashboard = client.get(reverse("coordination:requester_overview"))
    assert (
        dashboard.context["open_count"] == 2
        and "Nieuwe hulpaanvraag" not in dashboard.content.decode()
    )


# --- Edit and cancel -----------------------------------------------------------------------


def test_the_organisation_edits_its_submitted_request_until_a_decision(
    client, carla, school_board_org, coordinator
):
    request = services.helprequest_submit(
        HelpRequestFactory(organisation=school_board_org), by=carla
    )
    url = reverse("helprequests:edit", args=[request.pk])
    form = client.get(url).context["form"]
    assert "declaration" not in form.fields
    response = client.post(url, valid_form(laptops="12", declaration=None))
    assert response.url == reverse("coordination:request_detail", args=[request.pk])
    request.refresh_from_db()
    assert (request.laptops, request.status) == (12, HelpRequest.Status.SUBMITTED)

    services.helprequest_approve(request, by=coordinator)
    response = client.post(url, valid_form(laptops="20"))
    assert response.url == reverse("coordination:request_detail", args=[request.pk])
    request.refresh_from_db()
    assert request.laptops == 12


def test_the_organisation_cancels_its_request(client, carla, school_board_org):
    request = HelpRequestFactory(organisation=school_board_org, approved=True)
    url = reverse("helprequests:cancel", args=[request.pk])
    assert "annuleren?" in client.get(url).content.decode()
    assert client.post(url).url == reverse("coordination:requester_overview")
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.CANCELLED
    fulfilled = HelpRequestFactory(
        organisation=school_board_org, approved=True, status=HelpRequest.Status.FULFILLED
    )
    url = reverse("helprequests:cancel", args=[fulfilled.pk])
    assert "U kunt deze hulpaanvraag niet meer annuleren." in client.get(url).content.decode()
    response = client.post(url, follow=True)
    assert "kan niet van" in response.content.decode()
    fulfilled.refresh_from_db()
    assert fulfilled.status == HelpRequest.Status.FULFILLED
