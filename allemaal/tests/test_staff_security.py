"""Issue 13, staff side: admin actions by role, no one-time link readable by staff, only
superusers manage staff, and a second factor before any page opens for staff."""

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.core import mail as django_mail
from django.core.management import call_command
from django.urls import reverse

from allemaal import services
from allemaal.middleware import MFA_SESSION_KEY
from allemaal.models import Notification, Organisation, User
from tests.factories import OrganisationFactory, UserFactory, staff_user


@pytest.fixture
def superuser(db):
    user = staff_user("coordinators", email="root@example.org")
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


def run_action(client, model_url: str, action: str, pk: int, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [pk], "index": 0, **extra}
    return client.post(reverse(f"admin:{model_url}_changelist"), data)


# --- Helpdesk cannot change another organisation's standing -----------------------------------


def _pending_org(**_):
    return OrganisationFactory(status=Organisation.Status.PENDING)


def _failed_mail(**_):
    return Notification.objects.create(
        kind="organisation_verified",
        to_email="x@example.org",
        subject="s",
        body_text="b",
        status=Notification.Status.FAILED,
    )


def _station_token(refurbisher, refurbisher_org, **_):
    from refurbish.services.tokens import station_token_create

    return station_token_create(organisation=refurbisher_org, name="Station 1", by=refurbisher)[0]


REFUSED_TO_HELPDESK = [
    ("allemaal_organisation", "verify", _pending_org, lambda o: o.status == "pending", {}),
    (
        "allemaal_organisation",
        "reject",
        _pending_org,
        lambda o: o.status == "pending",
        {"apply": "1", "reason": "Geen KvK"},
    ),
    ("allemaal_notification", "requeue", _failed_mail, lambda n: n.status == "failed", {}),
    ("refurbish_stationtoken", "revoke", _station_token, lambda t: t.revoked_at is None, {}),
]


@pytest.mark.parametrize(
    ("model_url", "action", "make", "unchanged", "extra"),
    REFUSED_TO_HELPDESK,
    ids=[f"{m}.{a}" for m, a, *_ in REFUSED_TO_HELPDESK],
)
def test_helpdesk_cannot_run_an_action_that_changes_an_organisations_standing(
    client, helpdesk, refurbisher, refurbisher_org, model_url, action, make, unchanged, extra
):
    obj = make(refurbisher=refurbisher, refurbisher_org=refurbisher_org)
    client.force_login(helpdesk)
    mails = Notification.objects.count()
    run_action(client, model_url, action, obj.pk, **extra)
    obj.refresh_from_db()
    assert unchanged(obj)
    assert Notification.objects.count() == mails


def test_a_coordinator_can_verify_an_organisation(client, coordinator):
    organisation = _pending_org()
    client.force_login(coordinator)
    run_action(client, "allemaal_organisation", "verify", organisation.pk)
    organisation.refresh_from_db()
    assert organisation.status == Organisation.Status.VERIFIED


# --- No one-time link is readable by staff ----------------------------------------------------


@pytest.fixture
def one_time_links(client, donor, donor_org, django_capture_on_commit_callbacks):
    """A password reset, an e-mail confirmation and an invitation, as mailed; returns the
    secrets that were sent."""
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": donor.email})
        client.post(
            reverse("account_signup"),
            {
                "first_name": "Nieuwe",
                "last_name": "Collega",
                "email": "nieuw@bedrijf.example",
                "password1": "Lang-Genoeg-Wachtwoord-7",
                "password2": "Lang-Genoeg-Wachtwoord-7",
            },
        )
        client.logout()
        created = services.invitation_create(
            organisation=donor_org, by=donor, email="collega@example.org", role="member"
        )
    sent = " ".join(m.body for m in django_mail.outbox)
    reset = re.search(r"/accounts/password/reset/key/([^/\s]+)/", sent)[1]
    confirm = re.search(r"/accounts/confirm-email/([^/\s]+)/", sent)[1]
    invitation = created.url.rstrip("/").rsplit("/", 1)[-1]
    return [reset, reset.split("-", 1)[1], confirm, invitation]


@pytest.mark.parametrize("role", ["helpdesk", "coordinator", "superuser"])
def test_the_outbox_never_shows_a_one_time_link_to_staff(client, request, one_time_links, role):
    staff = request.getfixturevalue(role)
    client.force_login(staff)
    mails = list(Notification.objects.filter(one_time_link=True))
    assert {m.kind for m in mails} >= {"password_reset_key", "email_confirmation_signup"}
    assert "invitation" in {m.kind for m in mails}
    pages = [reverse("admin:allemaal_notification_changelist")]
    pages += [reverse("admin:allemaal_notification_change", args=[m.pk]) for m in mails]
    pages += [reverse("admin:allemaal_invitation_changelist")]
    for fmt in ("csv", "xlsx"):
        pages.append(reverse("coordination:export", args=["allemaal", "notification", fmt]))
    for page in pages:
        content = client.get(page).content.decode(errors="replace")
        for secret in one_time_links:
            assert secret not in content, page
    shown = client.get(pages[1]).content.decode()
    assert "[eenmalige link verborgen]" in shown
    for mail in Notification.objects.all():
        assert mail.sealed_text == "" and mail.sealed_html == ""  # sent: nothing kept


def test_re_sending_a_reset_mail_sends_a_fresh_link(
    client, coordinator, one_time_links, django_capture_on_commit_callbacks
):
    reset_mail = Notification.objects.get(kind="password_reset_key")
    client.force_login(coordinator)
    django_mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        run_action(client, "allemaal_notification", "requeue", reset_mail.pk)
    [resent] = django_mail.outbox
    # A new mail with a link of its own, never the stored body sent again.
    assert re.search(r"/accounts/password/reset/key/([^/\s]+)/", resent.body)
    assert Notification.objects.filter(kind="password_reset_key").count() == 2
    assert "[eenmalige link verborgen]" in Notification.objects.latest("id").body_text


def test_re_sending_an_invitation_issues_a_new_link_and_the_old_one_stops(
    client, coordinator, one_time_links, django_capture_on_commit_callbacks
):
    invitation_mail = Notification.objects.get(kind="invitation")
    client.force_login(coordinator)
    django_mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        run_action(client, "allemaal_notification", "requeue", invitation_mail.pk)
    [resent] = django_mail.outbox
    token = re.search(r"/uitnodiging/([^/\s]+)/", resent.body)[1]
    assert token != one_time_links[3]
    invited = UserFactory(email="collega@example.org")
    with pytest.raises(services.DomainError):
        services.invitation_accept(token=one_time_links[3], user=invited)
    assert services.invitation_accept(token=token, user=invited).user == invited


# --- Only superusers manage staff -------------------------------------------------------------


def test_a_coordinator_cannot_make_itself_superuser_or_grant_groups(client, coordinator):
    client.force_login(coordinator)
    url = reverse("admin:allemaal_user_change", args=[coordinator.pk])
    client.post(
        url,
        {
            "email": coordinator.email,
            "language": "nl",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [Group.objects.get(name="coordinators").pk],
        },
    )
    coordinator.refresh_from_db()
    assert not coordinator.is_superuser


def test_a_coordinator_cannot_give_an_organisation_user_staff_rights(client, coordinator, donor):
    client.force_login(coordinator)
    helpdesk_group = Group.objects.get_or_create(name="helpdesk")[0]
    response = client.post(
        reverse("admin:allemaal_user_change", args=[donor.pk]),
        {
            "email": "coordinator-owned@example.org",  # would take the account over
            "language": "nl",
            "first_name": "Alice",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [helpdesk_group.pk],
        },
    )
    assert response.status_code == 302
    donor.refresh_from_db()
    assert donor.first_name == "Alice"  # the change the coordinator may make
    assert donor.email == "alice@alice-verzekeringen.example"
    assert not donor.is_staff and not donor.is_superuser and not donor.groups.exists()
    page = client.get(reverse("admin:allemaal_user_change", args=[donor.pk])).content.decode()
    assert 'name="is_superuser"' not in page and 'name="groups"' not in page


def test_a_coordinator_cannot_change_a_superusers_password(client, coordinator, superuser):
    client.force_login(coordinator)
    url = reverse("admin:auth_user_password_change", args=[superuser.pk])
    response = client.post(url, {"password1": "Nieuw-Wachtwoord-99", "password2": "x"})
    assert response.status_code == 403
    response = client.post(
        url.replace("auth_user", "allemaal_user"),
        {"password1": "Nieuw-Wachtwoord-99", "password2": "Nieuw-Wachtwoord-99"},
    )
    superuser.refresh_from_db()
    assert not superuser.check_password("Nieuw-Wachtwoord-99")


def test_a_coordinator_cannot_open_or_change_another_staff_account(client, coordinator, helpdesk):
    client.force_login(coordinator)
    url = reverse("admin:allemaal_user_change", args=[helpdesk.pk])
    assert client.get(url).status_code == 302  # "does not exist": out of its reach
    client.post(url, {"email": helpdesk.email, "language": "nl", "is_superuser": "on"})
    helpdesk.refresh_from_db()
    assert not helpdesk.is_superuser and helpdesk.is_active
    listing = client.get(reverse("admin:allemaal_user_changelist")).content.decode()
    assert helpdesk.email not in listing
    assert client.get(reverse("admin:allemaal_user_add")).status_code == 403


def test_a_superuser_manages_staff_in_the_admin(client, superuser, helpdesk):
    client.force_login(superuser)
    url = reverse("admin:allemaal_user_change", args=[helpdesk.pk])
    assert 'name="is_superuser"' in client.get(url).content.decode()


def test_create_staff_makes_an_account_that_must_set_up_two_step_first(
    client, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("create_staff", "Nieuw.Staf@Example.org", "--role", "coordinator")
    user = User.objects.get(email="nieuw.staf@example.org")
    assert user.is_staff and not user.is_superuser and not user.has_usable_password()
    assert list(user.groups.values_list("name", flat=True)) == ["coordinators"]
    assert "/accounts/password/reset/key/" in django_mail.outbox[-1].body
    client.force_login(user)
    assert client.get(reverse("admin:index")).url == reverse("mfa_index")


# --- Two-step verification for every staff session, everywhere -------------------------------

GATED = [
    "/",
    "/dashboard/",
    "/admin/",
    "/admin/allemaal/organisation/",
    "/helpdesk/",
    "/coordinatie/",
    "/organisatie/",
    "/donaties/",
    "/donaties/1/",
    "/hulpaanvragen/",
    "/opknappen/",
    "/opknappen/wisbewijs/1/",  # an erasure evidence file
    "/opknappen/certificaat/1/",  # a certificate PDF
    "/zendingen/1/paklijst.pdf",
    "/coordinatie/export/donations/donation.csv",
    "/accounts/email/",
    "/accounts/password/change/",
]


@pytest.mark.parametrize("path", GATED)
def test_staff_without_a_second_factor_reach_only_its_set_up(client, db, path):
    client.force_login(staff_user("helpdesk", with_totp=False))
    response = client.get(path)
    assert response.status_code == 302 and response.url == reverse("mfa_index")


@pytest.mark.parametrize("path", ["/opknappen/wisbewijs/1/", "/admin/", "/helpdesk/"])
def test_staff_whose_session_has_no_verified_factor_confirm_it_first(client, helpdesk, path):
    client.force_login(helpdesk)
    session = client.session
    session.pop(MFA_SESSION_KEY)
    session.save()
    assert client.get(path).url == reverse("mfa_reauthenticate")


@pytest.mark.parametrize("name", ["mfa_index", "mfa_activate_totp", "mfa_add_webauthn"])
def test_staff_without_a_second_factor_can_set_one_up(client, db, name):
    client.force_login(staff_user("coordinators", with_totp=False))
    response = client.get(reverse(name))
    # Setting up a factor asks for the password again when the log-in is not recent.
    if response.status_code == 302:
        assert response.url.startswith(reverse("account_reauthenticate"))
        response = client.get(response.url)
    assert response.status_code == 200


def test_passkeys_are_offered_besides_an_authenticator_app(client, donor):
    client.force_login(donor)
    page = client.get(reverse("mfa_index")).content.decode()
    assert reverse("mfa_add_webauthn") in page and reverse("mfa_activate_totp") in page


def test_organisation_users_are_not_forced_to_two_step(client, donor):
    client.force_login(donor)
    assert client.get(reverse("dashboard")).status_code in (200, 302)
    assert client.get(reverse("organisation_detail")).status_code == 200


def test_a_refurbisher_admin_is_asked_to_switch_two_step_on_until_it_does(client, refurbisher):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    client.force_login(refurbisher)
    notice = "Zet daarom tweestapsverificatie aan"
    assert notice in client.get(reverse("refurbish:log_upload")).content.decode()
    TOTP.activate(refurbisher, generate_totp_secret())
    assert notice not in client.get(reverse("refurbish:log_upload")).content.decode()
