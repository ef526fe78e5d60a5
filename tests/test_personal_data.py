"""A person's data (issue 18): exported whole, following the register, and erased everywhere.

The demo data gives a row in almost every model; one person is then put into every field the
register lists (their account in the user fields, their address in the e-mail fields, their
name and phone as contact person, their address quoted in free text), so that the export must
hold every register field and the erasure must leave no trace in any table.
"""

import io
import json

import pytest
from allauth.usersessions.models import UserSession
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.urls import reverse

from allemaal import personal_data, privacy
from allemaal.models import Organisation
from tests.factories import OrganisationFactory, member_of

EMAIL = "petra.de.vries@bedrijf-voorbeeld.nl"
PHONE = "+31612345678"
NAME = ("Petra", "de Vries")


def _row_for(model):
    row = model._default_manager.order_by("pk").first()
    if row is not None:
        return row
    return None


def seed_everywhere(person, organisation) -> list[str]:
    """Put `person` into every register field; returns the models without any row."""
    from allauth.account.models import EmailAddress, EmailConfirmation
    from allauth.mfa.models import Authenticator
    from django.contrib.admin.models import ADDITION, LogEntry

    address = EmailAddress.objects.filter(user=person).first() or EmailAddress.objects.create(
        user=person, email=EMAIL, verified=True, primary=True
    )
    EmailConfirmation.create(address)
    Authenticator.objects.create(user=person, type=Authenticator.Type.TOTP, data={"secret": "x"})
    from allauth.usersessions.models import UserSession

    UserSession.objects.create(
        user=person, ip="203.0.113.7", user_agent="Firefox", session_key="k" * 32, data={}
    )
    LogEntry.objects.create(
        user=person, object_repr=EMAIL, action_flag=ADDITION, change_message=f"door {EMAIL}"
    )
    empty = []
    for registered in personal_data.registered_models():
        model = registered.model
        if personal_data._is_user_model(model) or registered.label == "sessions.Session":
            continue
        about = personal_data._about(registered, person)
        if about is not None and model._default_manager.filter(about).exists():
            continue  # made for them above
        if registered.label in personal_data.APPEND_ONLY:
            # Never updated (a trigger refuses): a new event by them, as the platform writes it.
            event = model._default_manager.order_by("pk").first()
            event.pk, event.by, event.note = None, person, "Ontvangen bij de inname."
            event.save()
            continue
        row = _row_for(model)
        if row is None:
            empty.append(registered.label)
            continue
        updates = {}
        for field in registered.fields:
            if field.is_relation and personal_data._is_user_model(field.related_model):
                updates[field.attname] = person.pk
            elif isinstance(field, models.EmailField):
                updates[field.name] = EMAIL
            elif field.name == "contact_name":
                updates[field.name] = " ".join(NAME)
            elif "PhoneNumber" in type(field).__name__:
                updates[field.name] = PHONE
            elif (
                isinstance(field, models.TextField | models.CharField)
                and field.name not in ("password", "data")
                and getattr(row, field.attname)  # empty ones may have to stay empty (checks)
            ):
                text = f"Gebeld met {EMAIL}"
                updates[field.name] = text[: field.max_length] if field.max_length else text
        model._default_manager.filter(pk=row.pk).update(**updates)
        # Free text left empty on that row: quote them on a row where it is filled in.
        for field in registered.free_text_fields():
            if field.name in updates:
                continue
            other = model._default_manager.exclude(**{field.name: ""}).first()
            if other is not None:
                text = f"Gebeld met {EMAIL}"
                text = text[: field.max_length] if field.max_length else text
                model._default_manager.filter(pk=other.pk).update(**{field.name: text})
    return empty


def every_text_value():
    """Every text-like value of every row of every model, as one big string per table."""
    for model in apps.get_models():
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
            or "PhoneNumber" in type(f).__name__
        ]
        if not fields:
            continue
        for values in model._default_manager.values_list(*fields).iterator():
            yield model._meta.label, json.dumps([str(v) for v in values])


@pytest.fixture
def person(db):
    call_command("seed_demo", stdout=io.StringIO())
    organisation = OrganisationFactory(name="Voorbeeld Bedrijf BV", kind=Organisation.Kind.DONOR)
    person = member_of(
        organisation, user__email=EMAIL, user__first_name=NAME[0], user__last_name=NAME[1]
    )
    empty = seed_everywhere(person, organisation)
    return person, organisation, empty


def test_the_export_holds_every_register_field_and_the_erasure_leaves_no_trace(person):
    person, organisation, empty = person
    # A handful of models may be empty in the demo; everything else must be covered.
    assert set(empty) <= {
        "allemaal.Invitation",
        "allemaal.InvitationEvent",
        "refurbish.ErasureLogImport",
        "donations.ManifestImport",
        "helprequests.ProvisionUpload",
        "helprequests.IntakeSwitch",
        "distribution.DeviceReturn",
        "distribution.HandoutReport",
        "distribution.PriorityPolicy",
        "refurbish.StationToken",
    }, empty
    export = personal_data.personal_data_export(person)
    json.dumps(export, default=str)  # serialisable
    covered = {(r["model"], name) for r in export["records"] for name in r["fields"]}
    expected = {
        tuple(label.rsplit(".", 1))
        for label in privacy.registered_fields()
        if label.rsplit(".", 2)[0] + "." + label.rsplit(".", 2)[1] not in empty
        and not label.startswith("sessions.")
    }
    assert expected - covered == set()
    # The values are theirs, never a secret.
    flat = json.dumps(export, default=str)
    assert EMAIL in flat and "Petra" in flat
    assert '"secret"' not in flat and person.password not in flat

    events_before = {
        m._meta.label: m._default_manager.count()
        for m in apps.get_models()
        if m._meta.label.endswith("Event")
    }
    personal_data.personal_data_erase(person)

    traces = [
        label
        for label, text in every_text_value()
        if EMAIL in text.lower() or PHONE in text or "Petra" in text
    ]
    assert traces == []
    assert not UserSession.objects.filter(user=person).exists()  # where they logged in from
    events_after = {
        m._meta.label: m._default_manager.count()
        for m in apps.get_models()
        if m._meta.label.endswith("Event")
    }
    assert events_after == events_before  # the histories keep every event
    person.refresh_from_db()
    assert str(person) == "een oud-medewerker van Voorbeeld Bedrijf BV"
    assert not person.is_active and not person.has_usable_password()


def test_a_person_downloads_their_own_data_from_account(client, donor):
    client.force_login(donor)
    account = client.get(reverse("account_email")).content.decode()
    assert reverse("personal_data") in account  # in the Account menu
    response = client.get(reverse("personal_data_export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["person"] == donor.email
    assert any(r["model"] == "allemaal.User" for r in data["records"])


def test_a_person_downloads_a_readable_pdf_summary_too(client, donor):
    client.force_login(donor)
    response = client.get(reverse("personal_data_export"), {"pdf": "1"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_anonymous_users_are_sent_to_log_in_for_the_export(client, db):
    response = client.get(reverse("personal_data_export"))
    assert response.status_code == 302


def test_a_coordinator_exports_and_erases_a_person_from_the_admin(client, coordinator, donor):
    client.force_login(coordinator)
    changelist = reverse("admin:allemaal_user_changelist")
    response = client.post(
        changelist, {"action": "export_personal_data", "_selected_action": [donor.pk]}
    )
    assert response.status_code == 200
    assert json.loads(response.content)["person"] == donor.email
    response = client.post(
        changelist,
        {"action": "erase_personal_data", "_selected_action": [donor.pk], "confirm": "yes"},
    )
    donor.refresh_from_db()
    assert donor.email.endswith("@verwijderd.invalid") and not donor.is_active


def test_the_helpdesk_can_neither_export_nor_erase(client, helpdesk, donor):
    client.force_login(helpdesk)
    changelist = reverse("admin:allemaal_user_changelist")
    email = donor.email
    client.post(changelist, {"action": "erase_personal_data", "_selected_action": [donor.pk]})
    donor.refresh_from_db()
    assert donor.email == email and donor.is_active


def test_the_privacy_page_lists_every_entry_of_the_register(client, db):
    page = client.get(reverse("privacy")).content.decode()
    for entry in privacy.REGISTER:
        assert (
            str(entry.purpose)[:30] in page.lower() or str(entry.purpose)[:30].capitalize() in page
        )
    for retention in privacy.RETENTION.values():
        assert str(retention.text)[1:30] in page


def test_the_erasure_ends_the_persons_signed_in_sessions_and_no_one_elses(donor):
    """By the sessions recorded per user at log-in, never a scan of every session."""
    from django.contrib.sessions.models import Session
    from django.test import Client

    from tests.factories import PASSWORD, UserFactory

    def log_in(user) -> Client:
        browser = Client()
        browser.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
        return browser

    laptop, phone = log_in(donor), log_in(donor)
    bystander = log_in(UserFactory())
    keys = [laptop.session.session_key, phone.session.session_key]

    personal_data.personal_data_erase(donor)

    assert not Session.objects.filter(session_key__in=keys).exists()
    assert bystander.get(reverse("personal_data")).status_code == 200
