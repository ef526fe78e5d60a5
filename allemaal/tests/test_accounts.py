"""Sign-up, verification, log-in rate limit, password reset, admin access and staff MFA."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail as django_mail
from django.urls import reverse

from allemaal.models import Notification, User
from tests.factories import PASSWORD, UserFactory, staff_user


def signup(client, email="nieuw@bedrijf.example", password="Lang-Genoeg-Wachtwoord-7"):
    data = {"email": email, "password1": password, "password2": password}
    return client.post(reverse("account_signup"), {"first_name": "Ada", "last_name": "Bos", **data})


def test_signup_sends_a_verification_mail_through_the_outbox(
    client, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signup(client)
    assert response.status_code == 302
    user = User.objects.get(email="nieuw@bedrijf.example")
    assert not EmailAddress.objects.get(user=user).verified
    mail = Notification.objects.get(to_email=user.email)
    assert mail.status == Notification.Status.SENT
    assert "/accounts/confirm-email/" not in mail.body_text  # staff see no one-time link
    sent = django_mail.outbox[-1].body
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", sent).group(0)
    path = link.split("testserver", 1)[-1]
    client.post(path)
    assert EmailAddress.objects.get(user=user).verified


def test_an_unverified_user_cannot_log_in(client, db):
    signup(client)
    client.logout()
    response = client.post(
        reverse("account_login"),
        {"login": "nieuw@bedrijf.example", "password": "Lang-Genoeg-Wachtwoord-7"},
    )
    assert response.url == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session


def test_signup_with_a_taken_address_says_so_beside_the_field_and_creates_nothing(client, donor):
    response = signup(client, email=donor.email.upper())
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert "Er bestaat al een account met dit e-mailadres" in response.content.decode()
    assert User.objects.filter(email__iexact=donor.email).count() == 1


def test_signup_with_a_short_password_is_refused_in_dutch(client, db):
    response = signup(client, password="kort1")
    assert response.status_code == 200
    assert "Dit wachtwoord is te kort" in response.content.decode()
    assert not User.objects.exists()


def test_login_is_refused_after_five_failures_even_with_the_right_password(client, donor):
    url = reverse("account_login")
    for _ in range(5):
        client.post(url, {"login": donor.email, "password": "fout-wachtwoord"})
    response = client.post(url, {"login": donor.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Te veel" in response.content.decode() or "Too many" in response.content.decode()


def test_login_with_the_right_password_works(client, donor):
    response = client.post(reverse("account_login"), {"login": donor.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(donor.pk)


def test_password_reset_answers_the_same_for_known_and_unknown_addresses(client, donor):
    url = reverse("account_reset_password")
    known = client.post(url, {"email": donor.email})
    unknown = client.post(url, {"email": "niemand@nergens.example"})
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url


def test_admin_login_goes_through_allauth(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_a_non_staff_user_cannot_open_the_admin(client, donor):
    client.force_login(donor)
    for path in ["/admin/", "/admin/allemaal/organisation/"]:
        response = client.get(path, follow=True)
        assert response.status_code == 403


def test_staff_without_totp_are_sent_to_set_it_up_first(client, db):
    user = staff_user("coordinators", with_totp=False)
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.url == reverse("mfa_index")


def test_a_coordinator_with_totp_reaches_the_branded_admin(client, coordinator):
    client.force_login(coordinator)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "#allemaaldigitaal coördinatie" in response.content.decode()


def test_mfa_is_offered_to_every_user(client, donor):
    client.force_login(donor)
    assert client.get(reverse("mfa_index")).status_code == 200


def test_a_staff_user_logging_in_lands_on_the_admin(client, coordinator):
    client.force_login(coordinator)
    assert client.get(reverse("dashboard")).url == reverse("admin:index")


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/"])
def test_pages_send_a_content_security_policy(client, db, path):
    response = client.get(path)
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_invited_colleague_joins_the_organisation(client, donor, donor_org):
    from allemaal import services
    from allemaal.models import Membership

    created = services.invitation_create(
        organisation=donor_org,
        by=donor,
        email="Collega@Alice-Verzekeringen.example",
        role="member",
    )
    mail = Notification.objects.get(kind="invitation")
    assert created.url not in mail.body_text and created.url in mail.sealed_text
    colleague = UserFactory(email="collega@alice-verzekeringen.example")
    client.force_login(colleague)
    token = created.url.rstrip("/").rsplit("/", 1)[-1]
    client.post(reverse("invitation_accept", args=[token]))
    assert Membership.objects.get(user=colleague).organisation == donor_org
    # a token works once
    with pytest.raises(services.DomainError):
        services.invitation_accept(token=token, user=colleague)


def test_an_invitation_cannot_be_taken_by_another_address(client, donor, donor_org, outsider):
    from allemaal import services

    created = services.invitation_create(
        organisation=donor_org, by=donor, email="collega@alice.example", role="member"
    )
    token = created.url.rstrip("/").rsplit("/", 1)[-1]
    client.force_login(outsider)
    client.post(reverse("invitation_accept", args=[token]))
    assert not hasattr(User.objects.get(pk=outsider.pk), "membership")


def test_only_an_organisation_admin_can_invite(client, donor_org):
    from allemaal.models import Invitation
    from tests.factories import member_of

    member = member_of(donor_org, role="member")
    client.force_login(member)
    client.post(reverse("organisation_detail"), {"email": "x@alice.example", "role": "member"})
    assert not Invitation.objects.exists()


def test_the_admin_invites_through_the_organisation_page(client, donor):
    from allemaal.models import Invitation

    client.force_login(donor)
    response = client.post(
        reverse("organisation_detail"), {"email": "nieuw@alice.example", "role": "member"}
    )
    assert response.status_code == 302
    assert Invitation.objects.get().email == "nieuw@alice.example"


def test_a_helpdesk_agent_lands_on_the_helpdesk(client, helpdesk):
    client.force_login(helpdesk)
    assert client.get(reverse("dashboard")).url == reverse("distribution:helpdesk")


def test_signup_asks_the_name_and_the_mail_speaks_the_sites_tone(
    client, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signup(client)
    user = User.objects.get(email="nieuw@bedrijf.example")
    assert (user.first_name, user.last_name) == ("Ada", "Bos")
    mail = Notification.objects.get(to_email=user.email)
    assert mail.subject.endswith("Bevestig uw e-mailadres")
    assert (
        "Goedendag," in mail.body_text and "Bevestig uw e-mailadres met deze link" in mail.body_text
    )
    assert not re.search(r"\b(je|jouw|jij)\b", mail.body_text, re.IGNORECASE)


def test_signup_without_a_name_is_refused_beside_the_field(client, db):
    response = client.post(
        reverse("account_signup"),
        {"email": "a@b.example", "password1": "Lang-Genoeg-7!", "password2": "Lang-Genoeg-7!"},
    )
    assert "first_name" in response.context["form"].errors
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("name", "heading", "button"),
    [
        ("account_login", "Inloggen", "Inloggen"),
        ("account_signup", "Account aanmaken", "Account aanmaken"),
        ("account_reset_password", "Wachtwoord vergeten", "Stuur mij een link"),
    ],
)
def test_the_account_pages_use_the_sites_layout_and_words(client, db, name, heading, button):
    page = client.get(reverse(name)).content.decode()
    assert f"<h1>{heading}</h1>" in page
    assert f'<button type="submit" class="button">{button}</button>' in page
    assert 'class="site-header"' in page and "site-footer" in page
    assert ">Account aanmaken</a>" in page  # the header: not "Aanmelden" for both
    assert not re.search(r"\b(je|jouw|jij)\b", page.split('<main id="main"')[1], re.IGNORECASE)


def test_the_donation_form_starts_with_the_name_given_at_signup(client, donor):
    User.objects.filter(pk=donor.pk).update(first_name="Ada", last_name="Bos")
    client.force_login(donor)
    form = client.get(reverse("donations:create")).context["form"]
    assert form.initial["contact_name"] == "Ada Bos"
