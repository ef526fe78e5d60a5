"""The telecom provider's pages: its assignments, the fulfil form, the CSV round trip."""

import csv
import datetime
import io

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from allemaal.models import Notification
from helprequests.models import ConnectivityAssignment, ConnectivityEvent, HelpRequest
from helprequests.services import connectivity

from .factories import ConnectivityAssignmentFactory, HelpRequestFactory, TelecomFactory

DASHBOARD = "helprequests:telecom_dashboard"
CSV = "helprequests:telecom_csv"
UPLOAD = "helprequests:telecom_upload"


def in_days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def eva(client, telecom):
    client.force_login(telecom)
    return telecom


@pytest.fixture
def mine(telecom_org, school_board_org):
    request = HelpRequestFactory(
        organisation=school_board_org, approved=True, connectivity_households=6
    )
    return ConnectivityAssignmentFactory(help_request=request, provider=telecom_org, households=4)


@pytest.fixture
def theirs(db):
    return ConnectivityAssignmentFactory(
        provider=TelecomFactory(name="Bob Mobiel BV"),
        help_request__organisation__name="Welzijn Elders",
    )


def fulfil_form(**changes):
    data = {"sim_cards": "3", "hotspots": "1", "bundle_ends_on": in_days(60).isoformat()}
    data.update(changes)
    return data


def download(client, **params) -> list[list[str]]:
    response = client.get(reverse(CSV), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def csv_file(rows, *, delimiter=";", name="opdrachten.csv", encoding="utf-8-sig"):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(encoding), content_type="text/csv")


def filled(rows, values: dict[str, tuple]) -> list[list[str]]:
    """The downloaded rows with the provision columns of some assignments filled in."""
    header = rows[0]
    sims, hotspots, until = (
        header.index(h) for h in ["simkaarten", "mobiele hotspots", "databundel loopt af op"]
    )
    result = [header]
    for row in rows[1:]:
        row = list(row)
        if row[0] in values:
            row[sims], row[hotspots], row[until] = values[row[0]]
        result.append(row)
    return result


def upload(client, file):
    return client.post(reverse(UPLOAD), {"file": file})


# --- Access --------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_log_in(client, mine):
    urls = [reverse(DASHBOARD), reverse(CSV), reverse(UPLOAD)]
    urls.append(reverse("helprequests:telecom_detail", args=[mine.pk]))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("persona", ["school_board", "donor", "refurbisher"])
def test_other_kinds_of_organisation_cannot_open_the_telecom_pages(client, request, mine, persona):
    client.force_login(request.getfixturevalue(persona))
    for url in [
        reverse(DASHBOARD),
        reverse(CSV),
        reverse(UPLOAD),
        reverse("helprequests:telecom_detail", args=[mine.pk]),
    ]:
        assert client.get(url).status_code == 403
    response = client.post(reverse("helprequests:telecom_detail", args=[mine.pk]), fulfil_form())
    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.status == ConnectivityAssignment.Status.ASSIGNED


def test_another_providers_assignment_is_a_404_and_stays_unchanged(client, eva, theirs):
    url = reverse("helprequests:telecom_detail", args=[theirs.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, fulfil_form()).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ConnectivityAssignment.Status.ASSIGNED


def test_the_provider_sees_only_its_own_assignments(client, eva, mine, theirs):
    page = client.get(reverse(DASHBOARD)).content.decode()
    for text in [
        mine.reference,
        mine.help_request.reference,
        "Stichting Carla Scholen",
        "Schoolstraat 5, 4001 AB Tiel",
        "Carla Jansen, 0344 123 456",
    ]:
        assert text in page
    assert theirs.reference not in page and "Welzijn Elders" not in page
    rows = download(client, alles="1")
    assert [row[0] for row in rows[1:]] == [mine.reference]


# --- Dashboard -----------------------------------------------------------------------------


def test_the_dashboard_lists_open_ending_and_provided_assignments(client, eva, telecom_org, mine):
    ending = ConnectivityAssignmentFactory(provider=telecom_org, fulfilled=True)
    later = ConnectivityAssignmentFactory(provider=telecom_org, fulfilled=True)
    ConnectivityAssignment.objects.filter(pk=ending.pk).update(bundle_ends_on=in_days(12))
    ConnectivityAssignment.objects.filter(pk=later.pk).update(bundle_ends_on=in_days(45))
    response = client.get(reverse(DASHBOARD))
    lists = response.context["lists"]
    assert [a.pk for a in lists.open] == [mine.pk]
    assert [a.pk for a in lists.ending] == [ending.pk]
    assert {a.pk for a in lists.fulfilled} == {ending.pk, later.pk}
    page = response.content.decode()
    assert "Databundels die binnen 30 dagen aflopen" in page
    assert "2 simkaarten" in page


def test_the_dashboard_query_count_is_constant(client, eva, telecom_org, django_assert_num_queries):
    def make(n):
        for i in range(n):
            ConnectivityAssignmentFactory(provider=telecom_org, fulfilled=i % 2 == 0)

    url = reverse(DASHBOARD)
    make(2)
    client.get(url)
    # session, user with membership and organisation, open assignments with their request and its
    # organisation, bundles ending soon (same), provided ones (same), count of provided ones
    with django_assert_num_queries(6):
        client.get(url)
    make(18)
    with django_assert_num_queries(6):
        assert len(client.get(url).context["lists"].open) == 10


def test_the_csv_query_count_is_constant(client, eva, telecom_org, django_assert_num_queries):
    url = reverse(CSV) + "?alles=1"
    ConnectivityAssignmentFactory.create_batch(2, provider=telecom_org)
    # session, user with membership and organisation, the assignments with request and organisation
    with django_assert_num_queries(3):
        client.get(url)
    ConnectivityAssignmentFactory.create_batch(18, provider=telecom_org, fulfilled=True)
    with django_assert_num_queries(3):
        assert len(download(client, alles="1")) == 21


# --- Fulfil one by one ---------------------------------------------------------------------


def test_the_provider_marks_an_assignment_provided(
    client, eva, mine, school_board, django_capture_on_commit_callbacks
):
    url = reverse("helprequests:telecom_detail", args=[mine.pk])
    page = client.get(url).content.decode()
    assert "Melden als geleverd" in page and "Carla Jansen" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, fulfil_form(note="Afgegeven op school"))
    assert response.url == reverse(DASHBOARD)
    mine.refresh_from_db()
    assert (mine.status, mine.sim_cards, mine.hotspots, mine.bundle_ends_on) == (
        ConnectivityAssignment.Status.FULFILLED,
        3,
        1,
        in_days(60),
    )
    assert mine.fulfilled_by == eva and mine.provider_note == "Afgegeven op school"
    mail = Notification.objects.get(kind="helprequest_connectivity_fulfilled")
    assert mail.to_email == school_board.email
    page = client.get(url).content.decode()
    assert "3 simkaarten en 1 mobiele hotspot" in page
    assert "Melden als geleverd" not in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"sim_cards": "0", "hotspots": "0"}, "sim_cards", "hoeveel simkaarten"),
        ({"sim_cards": "", "hotspots": ""}, "sim_cards", "hoeveel simkaarten"),
        ({"sim_cards": "-2"}, "sim_cards", "Vul 0 of meer in"),
        ({"hotspots": "twee"}, "hotspots", "heel getal"),
        ({"bundle_ends_on": ""}, "bundle_ends_on", "tot wanneer de databundel loopt"),
        ({"bundle_ends_on": "morgen"}, "bundle_ends_on", "geen datum"),
        ({"bundle_ends_on": "2020-01-01"}, "bundle_ends_on", "verleden"),
    ],
)
def test_it_refuses_a_bad_report_with_a_dutch_message_beside_the_field(
    client, eva, mine, changes, field, message
):
    url = reverse("helprequests:telecom_detail", args=[mine.pk])
    response = client.post(url, fulfil_form(**changes))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    mine.refresh_from_db()
    assert mine.status == ConnectivityAssignment.Status.ASSIGNED
    assert mine.events.count() == 0  # the factory writes no history


def test_a_withdrawn_assignment_cannot_be_reported(client, eva, mine, coordinator):
    connectivity.connectivity_withdraw(mine, by=coordinator, reason="Al geregeld via school")
    url = reverse("helprequests:telecom_detail", args=[mine.pk])
    page = client.get(url).content.decode()
    assert "Al geregeld via school" in page and "Melden als geleverd" not in page
    response = client.post(url, fulfil_form(), follow=True)
    assert "ingetrokken" in response.content.decode()
    mine.refresh_from_db()
    assert mine.status == ConnectivityAssignment.Status.WITHDRAWN


# --- CSV download and upload ---------------------------------------------------------------


def test_the_csv_holds_what_the_provider_needs_and_escapes_formula_cells(client, eva, mine):
    HelpRequest.objects.filter(pk=mine.help_request_id).update(
        contact_name='=HYPERLINK("http://x")', delivery_street="+31 Straat 1"
    )
    rows = download(client)
    header, row = rows[0], rows[1]
    assert header[:4] == ["opdracht", "hulpaanvraag", "organisatie", "huishoudens"]
    cells = dict(zip(header, row, strict=True))
    assert cells["opdracht"] == mine.reference
    assert cells["hulpaanvraag"] == mine.help_request.reference
    assert cells["huishoudens"] == "4"
    assert cells["contactpersoon"] == '\'=HYPERLINK("http://x")'
    assert cells["straat en huisnummer"] == "'+31 Straat 1"
    assert cells["telefoon"] == "0344 123 456"
    assert cells["simkaarten"] == cells["databundel loopt af op"] == ""


def test_the_csv_lists_open_assignments_and_on_request_the_provided_ones_too(
    client, eva, telecom_org, mine
):
    done = ConnectivityAssignmentFactory(provider=telecom_org, fulfilled=True)
    assert [row[0] for row in download(client)[1:]] == [mine.reference]
    rows = download(client, alles="1")
    assert [row[0] for row in rows[1:]] == [mine.reference, done.reference]
    cells = dict(zip(rows[0], rows[2], strict=True))
    assert cells["simkaarten"] == "2"
    assert cells["databundel loopt af op"] == done.bundle_ends_on.strftime("%d-%m-%Y")


def test_the_provider_uploads_the_filled_in_csv(
    client, eva, telecom_org, mine, school_board, django_capture_on_commit_callbacks
):
    later = ConnectivityAssignmentFactory(provider=telecom_org)
    done = ConnectivityAssignmentFactory(provider=telecom_org, fulfilled=True)
    rows = download(client, alles="1")
    until = in_days(90).strftime("%d-%m-%Y")
    rows = filled(rows, {mine.reference: ("4", "", until)})  # `later` stays empty
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, csv_file(rows))
    assert response.url == reverse(DASHBOARD)
    mine.refresh_from_db()
    later.refresh_from_db()
    assert (mine.status, mine.sim_cards, mine.hotspots) == (
        ConnectivityAssignment.Status.FULFILLED,
        4,
        0,
    )
    assert mine.bundle_ends_on == in_days(90)
    assert later.status == ConnectivityAssignment.Status.ASSIGNED
    message = str(list(get_messages(response.wsgi_request))[0])
    assert "1 opdracht is gemarkeerd als geleverd" in message
    assert "1 regel was al eerder gemeld" in message  # `done`, with its own values
    assert Notification.objects.filter(kind="helprequest_connectivity_fulfilled").count() == 1
    assert done.events.count() == 0


def test_an_upload_with_commas_iso_dates_and_english_headers_is_read_too(client, eva, mine):
    rows = [
        ["assignment", "sim cards", "mobile hotspots", "data bundle ends on"],
        [str(mine.pk), "0", "2", in_days(30).isoformat()],
    ]
    response = upload(client, csv_file(rows, delimiter=",", encoding="cp1252"))
    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.status, mine.hotspots) == (ConnectivityAssignment.Status.FULFILLED, 2)


def test_a_bad_upload_is_refused_whole_with_every_error_by_row_and_column(
    client, eva, telecom_org, mine, theirs, coordinator
):
    good = ConnectivityAssignmentFactory(provider=telecom_org)
    withdrawn = ConnectivityAssignmentFactory(provider=telecom_org)
    connectivity.connectivity_withdraw(withdrawn, by=coordinator, reason="Dubbel")
    done = ConnectivityAssignmentFactory(provider=telecom_org, fulfilled=True)
    future = in_days(60).strftime("%d-%m-%Y")
    header = ["opdracht", "simkaarten", "mobiele hotspots", "databundel loopt af op"]
    rows = [
        header,
        [good.reference, "2", "0", future],  # row 2: fine on its own
        [theirs.reference, "1", "0", future],  # row 3: another provider's
        ["INT-99999", "1", "0", future],  # row 4: unknown
        [mine.reference, "-1", "0", "01-01-2020"],  # row 5: negative, and in the past
        [mine.reference, "veel", "0", future],  # row 6: not a number (and twice in the file)
        [withdrawn.reference, "1", "0", future],  # row 7: withdrawn
        [done.reference, "9", "0", future],  # row 8: provided with other values
        ["", "1", "0", future],  # row 9: no assignment
        ["hallo", "1", "0", future],  # row 10: not an assignment number
        [good.reference.replace("INT-", ""), "0", "0", future],  # row 11: nothing provided
        [mine.reference, "1", "0", "31-02-2026"],  # row 12: not a date
        [mine.reference, "1", "0", "01-01-2020"],  # row 13: in the past
        [mine.reference, "1", "0", ""],  # row 14: no end date
    ]
    events = ConnectivityEvent.objects.count()
    response = upload(client, csv_file(rows))
    assert response.status_code == 200
    failure = response.context["failure"]
    found = {(e.row, e.column.split(" ")[0]): e.message for e in failure.errors}
    expected = {
        (3, "A"): "niet aan uw organisatie",
        (4, "A"): "niet aan uw organisatie",
        (5, "B"): "0 of meer",
        (5, "D"): "verleden",
        (6, "B"): "heel getal",
        (6, "A"): "ook al in rij 5",
        (7, "A"): "ingetrokken",
        (8, "A"): "al gemeld als geleverd",
        (9, "A"): "Vul het opdrachtnummer in",
        (10, "A"): "geen opdrachtnummer",
        (11, "B"): "hoeveel simkaarten",
        (11, "A"): "ook al in rij 2",
        (12, "D"): "geen datum",
        (13, "D"): "verleden",
        (14, "D"): "tot wanneer",
    }
    for where, text in expected.items():
        assert text in found.get(where, ""), (where, found)
    assert failure.total == len(failure.errors) >= len(expected)
    page = response.content.decode()
    assert "Er is niets veranderd" in page and "D (databundel loopt af op)" in page
    assert (
        ConnectivityAssignment.objects.filter(
            status=ConnectivityAssignment.Status.FULFILLED
        ).count()
        == 1
    )  # `done`
    assert ConnectivityEvent.objects.count() == events
    assert not Notification.objects.filter(kind="helprequest_connectivity_fulfilled").exists()


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (SimpleUploadedFile("lijst.xlsx", b"PK\x03\x04..."), "bestandstype"),
        (SimpleUploadedFile("lijst.csv", b"PK\x03\x04..."), "geen CSV-bestand"),
        (SimpleUploadedFile("lijst.csv", b"naam;telefoon\nx;y\n"), "ontbreken"),
        (
            SimpleUploadedFile(
                "lijst.csv",
                b"opdracht;simkaarten;mobiele hotspots;databundel loopt af op\nINT-1;;;\n",
            ),
            "niets ingevuld",
        ),
    ],
)
def test_a_file_that_cannot_be_read_changes_nothing(client, eva, mine, file, message):
    response = upload(client, file)
    assert response.status_code == 200
    assert message in response.content.decode()
    mine.refresh_from_db()
    assert mine.status == ConnectivityAssignment.Status.ASSIGNED


def test_an_empty_upload_asks_for_a_file(client, eva):
    response = client.post(reverse(UPLOAD), {})
    assert "Kies het bestand" in " ".join(response.context["form"].errors["file"])


# --- The requesting organisation -----------------------------------------------------------


def test_the_requesting_organisation_sees_its_internet_connections(
    client, school_board, telecom_org, mine
):
    done = ConnectivityAssignmentFactory(
        help_request=mine.help_request, provider=TelecomFactory(name="Snel Net BV"), fulfilled=True
    )
    client.force_login(school_board)
    page = client.get(
        reverse("coordination:request_detail", args=[mine.help_request_id])
    ).content.decode()
    assert "6 huishoudens hebben ook een internetverbinding nodig" in page
    assert "Eva Telecom NV (4 huishoudens): wordt geregeld" in page
    assert "Snel Net BV (2 huishoudens): geleverd, 2 simkaarten" in page
    assert done.bundle_ends_on.year and "De internetverbinding werkt tot" in page
