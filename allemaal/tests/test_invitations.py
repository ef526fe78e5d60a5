"""Invitations expire, can be withdrawn, work once, and tell nothing to anyone but the invitee."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from allemaal import services
from allemaal.models import Invitation, InvitationEvent, Membership
from tests.factories import UserFactory, member_of

INVITEE = "collega@alice-verzekeringen.example"


@pytest.fixture
def invited(donor, donor_org):
    created = services.invitation_create(
        organisation=donor_org, by=donor, email=INVITEE, role="member"
    )
    token = created.url.rstrip("/").rsplit("/", 1)[-1]
    return created.invitation, token


@pytest.fixture
def invitee(db):
    return UserFactory(email=INVITEE)


def _age(invitation, days):
    Invitation.objects.filter(pk=invitation.pk).update(
        created_at=timezone.now() - timedelta(days=days)
    )


def test_an_invitation_of_13_days_still_works(client, invited, invitee, donor_org):
    invitation, token = invited
    _age(invitation, 13)
    client.force_login(invitee)
    client.post(reverse("invitation_accept", args=[token]))
    assert Membership.objects.get(user=invitee).organisation == donor_org
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED
    assert InvitationEvent.objects.get(invitation=invitation).by == invitee


def test_an_invitation_older_than_14_days_is_refused(client, invited, invitee):
    invitation, token = invited
    _age(invitation, 15)
    client.force_login(invitee)
    response = client.post(reverse("invitation_accept", args=[token]))
    assert response.status_code == 403
    assert "Deze uitnodiging is verlopen" in response.content.decode()
    assert not Membership.objects.filter(user=invitee).exists()


def test_the_maximum_age_is_a_setting(client, invited, invitee, settings):
    settings.INVITATION_MAX_AGE_DAYS = 2
    invitation, token = invited
    _age(invitation, 3)
    client.force_login(invitee)
    assert "verlopen" in client.get(reverse("invitation_accept", args=[token])).content.decode()


def test_the_admin_withdraws_an_invitation_and_its_link_stops_working(
    client, invited, invitee, donor
):
    invitation, token = invited
    client.force_login(donor)
    page = client.get(reverse("organisation_detail")).content.decode()
    assert reverse("invitation_withdraw", args=[invitation.pk]) in page
    response = client.post(reverse("invitation_withdraw", args=[invitation.pk]))
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.WITHDRAWN
    event = InvitationEvent.objects.get(invitation=invitation)
    assert (event.from_status, event.to_status, event.by) == ("pending", "withdrawn", donor)
    assert INVITEE not in client.get(reverse("organisation_detail")).content.decode()

    client.force_login(invitee)
    response = client.post(reverse("invitation_accept", args=[token]))
    assert response.status_code == 403
    assert "Deze uitnodiging is ingetrokken" in response.content.decode()
    assert not Membership.objects.filter(user=invitee).exists()


def test_a_member_who_is_not_admin_cannot_withdraw(client, invited, donor_org):
    invitation, _token = invited
    client.force_login(member_of(donor_org, role="member"))
    assert client.post(reverse("invitation_withdraw", args=[invitation.pk])).status_code == 403
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING


def test_another_organisation_cannot_withdraw(client, invited, other_donor):
    invitation, _token = invited
    client.force_login(other_donor)
    assert client.post(reverse("invitation_withdraw", args=[invitation.pk])).status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING


def test_anonymous_cannot_withdraw(client, invited):
    invitation, _token = invited
    response = client.post(reverse("invitation_withdraw", args=[invitation.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response.url
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING


def test_a_used_invitation_is_refused(client, invited, invitee):
    _invitation, token = invited
    client.force_login(invitee)
    client.post(reverse("invitation_accept", args=[token]))
    Membership.objects.filter(user=invitee).delete()
    response = client.post(reverse("invitation_accept", args=[token]))
    assert response.status_code == 403
    assert "Deze uitnodiging is al gebruikt" in response.content.decode()
    assert not Membership.objects.filter(user=invitee).exists()


def test_an_anonymous_holder_of_the_link_sees_neither_address_nor_organisation(
    client, invited, donor_org
):
    _invitation, token = invited
    page = client.get(reverse("invitation_accept", args=[token])).content.decode()
    assert INVITEE not in page and "alice-verzekeringen" not in page
    assert donor_org.name not in page


def test_another_account_with_the_link_sees_neither_address_nor_organisation(
    client, invited, outsider, donor_org
):
    _invitation, token = invited
    client.force_login(outsider)
    for response in (
        client.get(reverse("invitation_accept", args=[token])),
        client.post(reverse("invitation_accept", args=[token]), follow=True),
    ):
        page = response.content.decode()
        assert "voor een ander e-mailadres" in page
        assert INVITEE not in page and donor_org.name not in page
    assert not Membership.objects.filter(user=outsider).exists()


def test_the_invitee_sees_which_organisation_invites(client, invited, invitee, donor_org):
    _invitation, token = invited
    client.force_login(invitee)
    assert donor_org.name in client.get(reverse("invitation_accept", args=[token])).content.decode()


def test_the_invite_form_answers_the_same_for_an_address_of_another_organisation(
    client, donor, other_donor
):
    client.force_login(donor)
    answers = []
    for email in (other_donor.email, "nog-onbekend@example.org"):
        response = client.post(
            reverse("organisation_detail"), {"email": email, "role": "member"}, follow=True
        )
        answers.append((response.status_code, [str(m) for m in response.context["messages"]]))
    assert answers[0] == answers[1]
    assert answers[0][1] == ["De uitnodiging is verstuurd."]
    # the member of the other organisation cannot use it: they already belong to one
    token_invitation = Invitation.objects.get(email=other_donor.email)
    assert token_invitation.status == Invitation.Status.PENDING


def test_a_member_of_another_organisation_cannot_accept(client, donor, donor_org, other_donor):
    created = services.invitation_create(
        organisation=donor_org, by=donor, email=other_donor.email, role="member"
    )
    token = created.url.rstrip("/").rsplit("/", 1)[-1]
    client.force_login(other_donor)
    response = client.post(reverse("invitation_accept", args=[token]))
    assert "U hoort al bij een organisatie" in response.content.decode()
    assert Membership.objects.get(user=other_donor).organisation != donor_org
