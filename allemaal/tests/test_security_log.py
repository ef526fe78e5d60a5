"""The security log: a JSON line per security event, with who, where and what, and no secret."""

import json
import logging
import re
from datetime import datetime

import pytest
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse

from allemaal import services
from allemaal.models import Membership, Notification, Organisation
from tests.factories import PASSWORD, OrganisationFactory, member_of


class Lines(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.INFO)
        self.raw: list[str] = []

    def emit(self, record):
        self.raw.append(record.getMessage())

    def events(self, name):
        return [line for line in map(json.loads, self.raw) if line["event"] == name]


@pytest.fixture
def log():
    handler = Lines()
    logger = logging.getLogger("allemaal.security")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def _one(log, name, **expected):
    lines = [
        line for line in log.events(name) if all(line.get(k) == v for k, v in expected.items())
    ]
    assert len(lines) == 1, (name, expected, log.raw)
    return lines[0]


def test_a_log_in_is_a_json_line_with_actor_time_ip_and_route(client, donor, donor_org, log):
    client.post(
        reverse("account_login"),
        {"login": donor.email, "password": PASSWORD},
        REMOTE_ADDR="192.0.2.10",
    )
    line = _one(log, "login", outcome="success")
    assert line["actor"] == {"id": donor.pk, "email": donor.email}
    assert line["organisation"] == donor_org.pk
    assert line["ip"] == "192.0.2.10"
    assert line["route"] == "accounts/login/"
    assert datetime.fromisoformat(line["time"]).utcoffset().total_seconds() == 0


def test_a_failed_log_in_and_the_lock_out_are_logged(client, donor, log):
    for _ in range(6):
        client.post(reverse("account_login"), {"login": donor.email, "password": "fout-fout-fout"})
    failures = log.events("login")
    assert len(failures) == 5
    assert {line["outcome"] for line in failures} == {"failure"}
    assert failures[0]["login"] == donor.email and failures[0]["actor"] is None
    _one(log, "lockout", outcome="refused")


def test_an_mfa_change_is_logged(coordinator, log):
    request = RequestFactory().post("/accounts/2fa/", REMOTE_ADDR="192.0.2.11")
    request.user = coordinator
    authenticator = Authenticator.objects.get(user=coordinator, type=Authenticator.Type.TOTP)
    mfa_signals.authenticator_removed.send(
        sender=Authenticator, request=request, user=coordinator, authenticator=authenticator
    )
    line = _one(log, "mfa_removed")
    assert line["actor"]["id"] == coordinator.pk and line["authenticator_type"] == "totp"
    assert line["ip"] == "192.0.2.11"


def test_a_403_is_logged_with_its_route(client, donor, donor_org, log):
    invitation = services.invitation_create(
        organisation=donor_org, by=donor, email="x@x.example", role="member"
    ).invitation
    member = member_of(donor_org, role="member")
    client.force_login(member)
    assert client.post(reverse("invitation_withdraw", args=[invitation.pk])).status_code == 403
    line = _one(log, "access_refused", status=403)
    assert line["actor"]["id"] == member.pk
    assert line["route"] == "organisatie/uitnodiging/<int:pk>/intrekken/"


def test_another_organisations_404_is_logged_with_the_object(client, donor, other_donor, log):
    invitation = services.invitation_create(
        organisation=donor.membership.organisation, by=donor, email="x@x.example", role="member"
    ).invitation
    client.force_login(other_donor)
    assert client.post(reverse("invitation_withdraw", args=[invitation.pk])).status_code == 404
    line = _one(log, "access_refused", status=404)
    assert line["object"] == {"type": "allemaal.invitation", "id": invitation.pk}
    assert line["organisation"] == other_donor.membership.organisation_id
    # a plain 404 (nothing there) is not a security event
    client.post(reverse("invitation_withdraw", args=[invitation.pk + 1000]))
    assert len(log.events("access_refused")) == 1


def test_verification_and_rejection_are_logged(coordinator, log):
    organisation = OrganisationFactory(status=Organisation.Status.PENDING)
    services.organisation_verify(organisation, by=coordinator)
    services.organisation_reject(organisation, by=coordinator, reason="Geen KvK-inschrijving")
    for event in ("organisation_verified", "organisation_rejected"):
        line = _one(log, event)
        assert line["actor"]["id"] == coordinator.pk
        assert line["organisation"] == organisation.pk


def test_allocation_decisions_are_logged(coordinator, refurbisher_org, log):
    from distribution import services as distribution
    from distribution.tests.factories import (
        ApprovedRequestFactory,
        ProcessedDonationFactory,
        ProposalFactory,
        ready_devices,
    )

    donation = ProcessedDonationFactory(refurbisher=refurbisher_org)
    request = ApprovedRequestFactory(laptops=2)
    one, two = (
        ProposalFactory(device=device, request=request)
        for device in ready_devices(2, donation=donation)
    )
    distribution.allocations_approve([one.pk], by=coordinator)
    distribution.allocations_reject([two.pk], by=coordinator, reason="Verkeerde regio")
    approved = _one(log, "allocation_decision", outcome="approved")
    assert approved["object"] == {"type": "distribution.allocation", "count": 1, "ids": [one.pk]}
    assert _one(log, "allocation_decision", outcome="rejected")["object"]["ids"] == [two.pk]


def test_certificate_issue_is_logged(refurbisher_org, donor_org, log):
    from donations.models import Device
    from refurbish import services as refurbish
    from refurbish.tests.factories import device_in, received_donation

    donation = received_donation(refurbisher_org, donor=donor_org)
    device_in(donation, state=Device.State.RECYCLED)
    certificate = refurbish.certificate_issue_if_complete(donation.pk)
    line = _one(log, "certificate_issued")
    assert line["object"] == {"type": "refurbish.erasurecertificate", "id": certificate.pk}
    assert line["organisation"] == donor_org.pk


def test_station_tokens_created_and_revoked_are_logged_without_the_token(
    refurbisher, refurbisher_org, log
):
    from refurbish import services as refurbish

    token, raw = refurbish.station_token_create(
        organisation=refurbisher_org, name="Wisstation 1", by=refurbisher
    )
    refurbish.station_token_revoke(token, by=refurbisher)
    for event in ("station_token_created", "station_token_revoked"):
        line = _one(log, event)
        assert line["object"] == {"type": "refurbish.stationtoken", "id": token.pk}
        assert line["organisation"] == refurbisher_org.pk
    assert not any(raw in line or raw[4:20] in line for line in log.raw)


def test_role_changes_are_logged(donor, donor_org, outsider, log):
    membership = Membership.objects.get(user=donor)
    membership.role = Membership.Role.MEMBER
    membership.save()
    line = _one(log, "role_change", role_to="member")
    assert (line["role_from"], line["organisation"]) == ("admin", donor_org.pk)
    outsider.groups.add(Group.objects.get_or_create(name="helpdesk")[0])
    assert _one(log, "role_change", change="add")["groups"] == ["helpdesk"]
    outsider.is_staff = True
    outsider.save()
    assert _one(log, "role_change", is_staff=True)["object"]["id"] == outsider.pk


def test_no_line_holds_a_password_token_or_session_key(client, donor, donor_org, refurbisher, log):
    """Every kind of event this file covers, then the scan for the secrets it handled."""
    from refurbish import services as refurbish

    secrets = [PASSWORD, "fout-fout-fout"]
    for _ in range(6):
        client.post(reverse("account_login"), {"login": donor.email, "password": "fout-fout-fout"})
    client.post(reverse("account_reset_password"), {"email": donor.email})
    mail = Notification.objects.filter(to_email=donor.email).latest("created_at")
    # The outbox shows staff a placeholder; the real link waits sealed until the mail is sent.
    reset_url = re.search(r"https?://\S+/password/reset/key/(\S+)/", mail.sealed_text)
    assert reset_url, mail.sealed_text
    secrets.append(reset_url.group(1))
    from django.core.cache import cache

    cache.clear()  # the lock-out above ends here, so that the real log-in below goes through
    client.post(reverse("account_login"), {"login": donor.email, "password": PASSWORD})
    secrets.append(client.session.session_key)
    client.get(reverse("invitation_accept", args=["geen-echte-uitnodiging-token-1234"]))
    secrets.append("geen-echte-uitnodiging-token-1234")
    invitation = services.invitation_create(
        organisation=donor_org, by=donor, email="y@y.example", role="member"
    )
    secrets.append(invitation.url.rstrip("/").rsplit("/", 1)[-1])
    client.post(reverse("invitation_withdraw", args=[invitation.invitation.pk]))
    token, raw = refurbish.station_token_create(
        organisation=refurbisher.membership.organisation, name="Wisstation 2", by=refurbisher
    )
    refurbish.station_token_revoke(token, by=refurbisher)
    secrets.append(raw)
    client.post(reverse("account_logout"))

    events = {line["event"] for line in map(json.loads, log.raw)}
    assert {"login", "lockout", "logout", "invitation_withdrawn"} <= events
    assert {"station_token_created", "station_token_revoked"} <= events
    for secret in secrets:
        assert secret and not any(secret in line for line in log.raw), secret
