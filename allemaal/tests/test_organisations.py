import pytest
from django.urls import reverse

from allemaal import services
from allemaal.models import Membership, Notification, Organisation
from tests.factories import OrganisationFactory, UserFactory, member_of

VALID = {
    "kind": "requester",
    "name": "Stichting Basisscholen Noord",
    "kvk_number": "12345678",
    "brin_code": "12ab",
    "sector": "school_board",
    "street": "Schoolweg 1",
    "postcode": "9711ab",
    "city": "Groningen",
    "phone": "050 123 4567",
    "website": "https://scholen-noord.example",
}


@pytest.fixture
def newcomer(db, client):
    user = UserFactory(email="nieuw@scholen-noord.example")
    client.force_login(user)
    return user


def test_it_creates_an_organisation_awaiting_verification_with_its_creator_as_admin(
    client, newcomer, coordinator
):
    response = client.post(reverse("organisation_create"), VALID)
    assert response.status_code == 302
    assert response.url == reverse("awaiting_verification")
    org = Organisation.objects.get()
    assert org.status == Organisation.Status.PENDING
    assert org.postcode == "9711 AB"
    assert org.province == "Groningen"
    assert org.brin_code == "12AB"
    assert str(org.phone) == "+31501234567"
    membership = Membership.objects.get(user=newcomer)
    assert membership.organisation == org and membership.is_admin
    assert Notification.objects.filter(
        kind="organisation_registered", to_email=coordinator.email
    ).exists()


def test_a_kvk_number_typed_with_spaces_is_taken_whole(client, newcomer):
    page = client.get(reverse("organisation_create")).content.decode()
    assert 'maxlength="8"' not in page  # the browser would cut "6123 4567" to "6123 456"
    client.post(reverse("organisation_create"), {**VALID, "kvk_number": " 6123 4567 "})
    assert Organisation.objects.get().kvk_number == "61234567"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kvk_number", "1234567", "precies 8 cijfers"),
        ("kvk_number", "6123 456", "precies 8 cijfers"),
        ("kvk_number", "1234567a", "precies 8 cijfers"),
        ("postcode", "123 AB", "geldige Nederlandse postcode"),
        ("phone", "12345", "geldig Nederlands telefoonnummer"),
        ("brin_code", "1AB", "BRIN-code"),
        ("sector", "", "Kies de sector"),
    ],
)
def test_it_refuses_bad_input_with_a_dutch_message_beside_the_field(
    client, newcomer, field, value, message
):
    response = client.post(reverse("organisation_create"), {**VALID, field: value})
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert message in response.content.decode()
    assert Organisation.objects.count() == 0
    assert Membership.objects.count() == 0


def test_it_sends_a_user_who_already_has_an_organisation_to_the_dashboard(client, donor):
    client.force_login(donor)
    response = client.get(reverse("organisation_create"))
    assert response.url == reverse("dashboard")


def test_unverified_organisation_sees_awaiting_verification_and_cannot_act(client, db):
    org = OrganisationFactory(status=Organisation.Status.PENDING, kind="donor")
    client.force_login(member_of(org))
    assert client.get(reverse("dashboard")).url == reverse("awaiting_verification")
    assert client.get(reverse("coordination:donor_overview")).url == reverse(
        "awaiting_verification"
    )
    assert client.get(reverse("organisation_detail")).url == reverse("awaiting_verification")
    page = client.get(reverse("awaiting_verification"))
    assert "wacht op controle" in page.content.decode()


def test_rejected_organisation_sees_the_reason(client, db, coordinator):
    org = OrganisationFactory(status=Organisation.Status.PENDING)
    user = member_of(org)
    services.organisation_reject(org, by=coordinator, reason="KvK-nummer hoort bij een ander")
    client.force_login(user)
    page = client.get(reverse("awaiting_verification")).content.decode()
    assert "afgewezen" in page and "KvK-nummer hoort bij een ander" in page


@pytest.mark.parametrize(
    ("kind", "target"),
    [
        ("donor", "coordination:donor_overview"),
        ("requester", "coordination:requester_overview"),
        ("refurbisher", "refurbish:dashboard"),
        ("telecom", "helprequests:telecom_dashboard"),
    ],
)
def test_each_actor_lands_on_its_own_dashboard(client, db, kind, target):
    org = OrganisationFactory(kind=kind, sector="school" if kind == "requester" else "")
    client.force_login(member_of(org))
    response = client.get(reverse("dashboard"))
    assert response.url == reverse(target)
    assert client.get(response.url).status_code == 200


def test_a_member_cannot_open_another_kinds_dashboard(client, donor):
    client.force_login(donor)
    assert client.get(reverse("coordination:requester_overview")).status_code == 403


def test_anonymous_users_are_sent_to_log_in(client, db):
    for name in [
        "dashboard",
        "organisation_detail",
        "organisation_create",
        "coordination:donor_overview",
    ]:
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))


def test_a_user_without_organisation_is_asked_to_create_one(client, outsider):
    client.force_login(outsider)
    assert client.get(reverse("dashboard")).url == reverse("organisation_create")
    assert client.get(reverse("coordination:donor_overview")).url == reverse("organisation_create")


def test_the_organisation_page_shows_only_the_own_organisation(client, donor, other_donor):
    client.force_login(donor)
    page = client.get(reverse("organisation_detail")).content.decode()
    assert "Alice Verzekeringen BV" in page
    assert "Bob Bouw BV" not in page and other_donor.email not in page


def test_coordinator_verifies_and_the_organisation_is_told(
    db, coordinator, django_capture_on_commit_callbacks
):
    org = OrganisationFactory(status=Organisation.Status.PENDING)
    member = member_of(org)
    with django_capture_on_commit_callbacks(execute=True):
        services.organisation_verify(org, by=coordinator)
    org.refresh_from_db()
    assert org.status == Organisation.Status.VERIFIED
    assert org.status_changed_by == coordinator
    mail = Notification.objects.get(kind="organisation_verified")
    assert mail.to_email == member.email and mail.status == Notification.Status.SENT


def test_rejection_needs_a_reason(db, coordinator):
    org = OrganisationFactory(status=Organisation.Status.PENDING)
    with pytest.raises(services.DomainError):
        services.organisation_reject(org, by=coordinator, reason="  ")
    org.refresh_from_db()
    assert org.status == Organisation.Status.PENDING


def test_admin_actions_verify_and_reject_with_reason(client, db, coordinator):
    a = OrganisationFactory(status=Organisation.Status.PENDING, name="A")
    b = OrganisationFactory(status=Organisation.Status.PENDING, name="B")
    member_of(b)
    client.force_login(coordinator)
    url = reverse("admin:allemaal_organisation_changelist")
    client.post(url, {"action": "verify", "_selected_action": [a.pk]})
    ask = client.post(url, {"action": "reject", "_selected_action": [b.pk]})
    assert ask.status_code == 200 and "reason" in ask.content.decode()
    client.post(
        url, {"action": "reject", "_selected_action": [b.pk], "apply": "1", "reason": "Geen school"}
    )
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == "verified"
    assert (b.status, b.status_reason) == ("rejected", "Geen school")
    assert Notification.objects.filter(kind="organisation_rejected").count() == 1


def test_admin_organisation_changelist_query_count_is_constant(
    client, coordinator, django_assert_max_num_queries
):
    client.force_login(coordinator)
    url = reverse("admin:allemaal_organisation_changelist")
    OrganisationFactory.create_batch(2)
    client.get(url)
    # session, user, groups/permissions, count, filtered count, rows (+ savepoints on PG)
    with django_assert_max_num_queries(10) as small:
        client.get(url)
    OrganisationFactory.create_batch(18)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url)


def test_verifying_and_rejecting_write_the_organisation_history(db, coordinator):
    org = OrganisationFactory(status=Organisation.Status.PENDING)
    services.organisation_verify(org, by=coordinator)
    services.organisation_verify(org, by=coordinator)  # a second click changes nothing
    services.organisation_reject(org, by=coordinator, reason="Geen school")
    org.refresh_from_db()
    rows = [(e.from_status, e.to_status, e.by, e.note) for e in org.events.all()]
    assert rows == [
        ("pending", "verified", coordinator, ""),
        ("verified", "rejected", coordinator, "Geen school"),
    ]
    assert org.status_changed_at == org.events.last().at


def test_an_organisation_never_goes_back_to_awaiting_verification(db, coordinator):
    from allemaal.transitions import transition

    org = OrganisationFactory(status=Organisation.Status.VERIFIED)
    with pytest.raises(services.DomainError, match="kan niet van 'Gecontroleerd'"):
        transition(org, Organisation.Status.PENDING, by=coordinator)
    assert not org.events.exists()


def test_admin_shows_the_organisation_history_read_only_in_constant_queries(
    client, db, coordinator, django_assert_max_num_queries
):
    from allemaal.models import OrganisationEvent

    org = OrganisationFactory(status=Organisation.Status.PENDING)
    services.organisation_verify(org, by=coordinator)
    client.force_login(coordinator)
    url = reverse("admin:allemaal_organisation_change", args=[org.pk])
    page = client.get(url)
    assert "geschiedenis" in page.content.decode().lower()
    assert page.context["inline_admin_formsets"][1].has_change_permission is False
    # session, user, the organisation, permissions (2), its history joined with who made each
    # change and the organisation each row names, its memberships with their users.
    with django_assert_max_num_queries(9) as few:
        client.get(url)
    OrganisationEvent.objects.bulk_create(
        OrganisationEvent(
            organisation=org, from_status="verified", to_status="rejected", by=coordinator
        )
        for _ in range(20)
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)
