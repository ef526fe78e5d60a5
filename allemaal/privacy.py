"""The register of personal data (AVG/GDPR art. 30): every model field that holds personal data,
why we keep it, on what legal basis and for how long. One place: the privacy page is generated
from it (`/privacy/`), the retention jobs read their periods from it, and a test fails when a
model field that looks personal is missing here (or when a field that would identify a person
helped appears at all: the platform asks for counts, never for the people helped).

Fields are named `app_label.Model.field`. Look-alike fields that are not personal data (an
organisation's name and business address, a file name) are listed in `NOT_PERSONAL` with why.
"""

import re
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Basis(models.TextChoices):
    """Legal bases of AVG art. 6(1)."""

    CONTRACT = "contract", _("nodig om de samenwerking uit te voeren (art. 6 lid 1b AVG)")
    PUBLIC_TASK = "public_task", _("taak van algemeen belang (art. 6 lid 1e AVG)")
    LEGITIMATE_INTEREST = (
        "legitimate_interest",
        _("gerechtvaardigd belang: verantwoording en veiligheid (art. 6 lid 1f AVG)"),
    )
    LEGAL_OBLIGATION = "legal_obligation", _("wettelijke plicht (art. 6 lid 1c AVG)")


@dataclass(frozen=True)
class Retention:
    key: str
    text: str  # lazily translated, for the privacy page
    setting: str = ""  # the setting that holds its number of days, when a job enforces it

    @property
    def days(self) -> int | None:
        return getattr(settings, self.setting) if self.setting else None


RETENTION = {
    r.key: r
    for r in [
        Retention(
            "account",
            _(
                "zolang uw account bestaat; na 2 jaar zonder inloggen krijgt u bericht en 30 "
                "dagen later verwijderen wij uw gegevens"
            ),
            "PRIVACY_INACTIVE_ACCOUNT_DAYS",
        ),
        Retention(
            "contact",
            _("tot 2 jaar nadat de donatie, aanvraag of zending is afgesloten"),
            "PRIVACY_CLOSED_CONTACT_DAYS",
        ),
        Retention(
            "outbox_body",
            _("de inhoud 90 dagen na verzending; dat een e-mail is verstuurd, 1 jaar"),
            "PRIVACY_OUTBOX_BODY_DAYS",
        ),
        Retention(
            "history",
            _(
                "zolang het dossier bestaat (verantwoording); vraagt u om verwijdering, dan "
                "staat er 'een oud-medewerker van <organisatie>' in plaats van uw naam"
            ),
        ),
        Retention(
            "evidence",
            _(
                "zolang het bewijs van gegevenswissing nodig is voor de donateur (7 jaar); uw "
                "naam wordt bij verwijdering vervangen"
            ),
        ),
        Retention(
            "security",
            _("1 jaar (beveiligingslog en sessies)"),
            "PRIVACY_SECURITY_LOG_DAYS",
        ),
    ]
}


@dataclass(frozen=True)
class Entry:
    what: str  # lazily translated
    subjects: str  # whose data, lazily translated
    purpose: str
    basis: Basis
    retention: str  # a key of RETENTION
    fields: tuple[str, ...]


def _f(model: str, *names: str) -> tuple[str, ...]:
    return tuple(f"{model}.{name}" for name in names)


STAFF_AND_MEMBERS = _("medewerkers van organisaties en van het coördinatieteam")
CONTACTS = _("contactpersonen van donateurs, aanvragers en ontvangers")

REGISTER: list[Entry] = [
    Entry(
        _("uw account: naam, e-mailadres, taal, wachtwoord (alleen versleuteld) en tweede stap"),
        STAFF_AND_MEMBERS,
        _("inloggen, u berichten sturen, bijhouden bij welke organisatie u hoort"),
        Basis.CONTRACT,
        "account",
        _f("allemaal.User", "first_name", "last_name", "email", "password", "last_login")
        + _f("allemaal.Membership", "user")
        + _f("account.EmailAddress", "user", "email")
        + _f("account.EmailConfirmation", "email_address")
        + _f("mfa.Authenticator", "user", "data"),
    ),
    Entry(
        _("uitnodigingen: het uitgenodigde e-mailadres en wie uitnodigde"),
        STAFF_AND_MEMBERS,
        _("een nieuwe collega toegang geven tot de organisatie"),
        Basis.CONTRACT,
        "account",
        _f("allemaal.Invitation", "email", "invited_by"),
    ),
    Entry(
        _("contactpersonen en hun telefoonnummer bij donaties, aanvragen en zendingen"),
        CONTACTS,
        _("afspraken maken over ophalen en bezorgen"),
        Basis.CONTRACT,
        "contact",
        _f("donations.Donation", "contact_name", "contact_phone")
        + _f("helprequests.HelpRequest", "contact_name", "contact_phone")
        + _f("distribution.Shipment", "contact_name", "contact_phone"),
    ),
    Entry(
        _("e-mails die wij sturen: aan wie, het onderwerp en de inhoud"),
        STAFF_AND_MEMBERS,
        _("laten zien dat een bericht is verstuurd, en het opnieuw kunnen sturen"),
        Basis.CONTRACT,
        "outbox_body",
        _f("allemaal.Notification", "recipient", "to_email", "body_text", "body_html")
        + _f("allemaal.Notification", "last_error", "sealed_text", "sealed_html"),
    ),
    Entry(
        _(
            "wie wat deed: de geschiedenis van organisaties, donaties, apparaten, aanvragen, "
            "toewijzingen en zendingen"
        ),
        STAFF_AND_MEMBERS,
        _(
            "verantwoorden wie een beslissing nam of een apparaat in handen had (keten van "
            "bewaring)"
        ),
        Basis.LEGITIMATE_INTEREST,
        "history",
        _f("allemaal.Organisation", "status_changed_by")
        + _f("allemaal.OrganisationEvent", "by", "note")
        + _f("allemaal.InvitationEvent", "by", "note")
        + _f("donations.Donation", "created_by")
        + _f("donations.Manifest", "uploaded_by")
        + _f("donations.ManifestImport", "uploaded_by")
        + _f("donations.DonationEvent", "by", "note")
        + _f("donations.DeviceEvent", "by", "note")
        + _f("helprequests.HelpRequest", "decided_by", "created_by")
        + _f("helprequests.HelpRequestEvent", "by", "note")
        + _f("helprequests.IntakeSwitch", "changed_by")
        + _f("helprequests.ConnectivityAssignment", "assigned_by", "fulfilled_by", "withdrawn_by")
        + _f("helprequests.ConnectivityEvent", "by", "note")
        + _f("helprequests.ProvisionUpload", "uploaded_by")
        + _f("refurbish.ErasureLogImport", "uploaded_by")
        + _f("refurbish.IntakeScan", "by")
        + _f("refurbish.DeviceInspection", "by")
        + _f("refurbish.StationToken", "created_by", "revoked_by")
        + _f("distribution.PriorityPolicy", "created_by")
        + _f("distribution.AllocationRun", "started_by")
        + _f("distribution.Allocation", "decided_by", "rejection_lifted_by")
        + _f("distribution.AllocationEvent", "by", "note")
        + _f("distribution.Shipment", "created_by", "confirmed_by", "discrepancy_resolved_by")
        + _f("distribution.ShipmentItem", "added_by")
        + _f("distribution.ShipmentEvent", "by", "note")
        + _f("distribution.HandoutReport", "reported_by")
        + _f("distribution.SupportContact", "by", "resolved_by")
        + _f("distribution.DeviceReturn", "by")
        + _f("admin.LogEntry", "user", "object_repr", "change_message"),
    ),
    Entry(
        _("wie gegevens wiste: de naam van de medewerker op het wisbewijs"),
        STAFF_AND_MEMBERS,
        _("aan de donateur laten zien dat de gegevens op zijn apparaten gewist zijn"),
        Basis.LEGITIMATE_INTEREST,
        "evidence",
        _f("refurbish.ErasureRecord", "operator", "operator_name"),
    ),
    Entry(
        _(
            "vrije tekst die iemand schrijft: toelichtingen, redenen, notities en "
            "samenvattingen van hulpvragen (wij vragen u er geen namen van kinderen of "
            "cliënten in te zetten)"
        ),
        STAFF_AND_MEMBERS,
        _("een besluit of melding uitleggen"),
        Basis.PUBLIC_TASK,
        "history",
        _f("allemaal.Organisation", "status_reason")
        + _f("donations.Donation", "status_reason")
        + _f("donations.Device", "recycle_reason")
        + _f(
            "helprequests.HelpRequest",
            "motivation",
            "decision_reason",
            "duplicate_reason",
        )
        + _f("helprequests.IntakeSwitch", "reason")
        + _f("helprequests.ConnectivityAssignment", "note", "provider_note", "withdrawal_reason")
        + _f("refurbish.ErasureRecord", "failure_reason")
        + _f("refurbish.DeviceInspection", "notes")
        + _f("distribution.PriorityPolicy", "note")
        + _f("distribution.Allocation", "note", "decision_note")
        + _f("distribution.Shipment", "delivery_note", "resolution_note")
        + _f("distribution.ShipmentItem", "note")
        + _f("distribution.HandoutReport", "note")
        + _f("distribution.SupportContact", "summary", "resolution_note")
        + _f("distribution.DeviceReturn", "reason"),
    ),
    Entry(
        _("sessies: wanneer en waarvandaan u inlogde (IP-adres en browser)"),
        STAFF_AND_MEMBERS,
        _("u ingelogd houden en uw account beveiligen"),
        Basis.LEGITIMATE_INTEREST,
        "security",
        _f("sessions.Session", "session_data")
        + _f("usersessions.UserSession", "user", "ip", "user_agent"),
    ),
]

NOT_PERSONAL: dict[str, str] = {
    **{
        field: "an organisation's own name and business address, published by the organisation"
        for field in _f("allemaal.Organisation", "name", "street", "postcode", "city", "phone")
        + _f("donations.Donation", "pickup_street", "pickup_postcode", "pickup_city")
        + _f("helprequests.HelpRequest", "delivery_street", "delivery_postcode", "delivery_city")
        + _f("distribution.Shipment", "delivery_street", "delivery_postcode", "delivery_city")
    },
    **{
        field: "the name a person gave an uploaded file; shown to that organisation only"
        for field in _f("donations.Manifest", "file_name")
        + _f("donations.ManifestImport", "file_name")
        + _f("helprequests.ProvisionUpload", "file_name")
        + _f("refurbish.ErasureRecord", "evidence_name")
    },
    "auth.Permission.name": "a permission's name",
    "auth.Permission.codename": "a permission's code",
    "auth.Group.name": "a staff group's name",
    "admin.LogEntry.object_id": "the id of the changed object",
    "refurbish.StationToken.name": "a wiping station's name (a machine)",
    "refurbish.ErasureCertificate.summary": "counts per device type and method, no names",
    "refurbish.ErasureRecord.flags": "what the platform noticed in a log (a drive in two machines)",
    "distribution.AllocationRun.error": "a program error of a run",
    "distribution.Allocation.reasons": "codes the solver writes (group, region, grade)",
    "distribution.DeviceReturn.contact": "the support contact the return came from (its row)",
}

# What would identify a person helped (a pupil, an elderly person, a household): never a field.
BENEFICIARY_FIELD = re.compile(
    r"(birth|geboorte|bsn|burgerservice|citizen|pupil|leerling|child|kind_name|student|"
    r"beneficiary|household_name|home_address|client_name)",
    re.IGNORECASE,
)

# Field names that look personal; with the field types below, what the register must cover.
LOOKS_PERSONAL = re.compile(
    r"(name|e?mail|phone|street|address|postcode|city|^ip$|_ip$|^ip_|user_agent|contact|"
    r"operator|note|reason|summary|motivation|body|message|text|repr|session_data)"
)


def looks_personal(field) -> bool:
    """Whether a concrete model field looks like it could hold personal data."""
    if field.is_relation:
        related = field.related_model
        return related is not None and related._meta.label == settings.AUTH_USER_MODEL
    kind = type(field).__name__
    return bool(
        LOOKS_PERSONAL.search(field.name)
        or isinstance(field, models.TextField | models.EmailField | models.GenericIPAddressField)
        or "PhoneNumber" in kind
    )


def registered_fields() -> dict[str, Entry]:
    return {field: entry for entry in REGISTER for field in entry.fields}


# --- Free text: a check before saving -------------------------------------------------------

FREE_TEXT_NOTICE = _("Noem geen namen of andere gegevens van kinderen of cliënten.")
FREE_TEXT_MAX_LENGTH = 2000

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\d+])(?:\+31|0031|0)[\s-]?(?:[1-9](?:[\s-]?\d){8})(?!\d)")
_NINE_DIGITS = re.compile(r"(?<!\d)(\d{4})[.\s]?(\d{2})[.\s]?(\d{3})(?!\d)")
_PARTICLES = (
    r"(?:van der|van den|van de|van|de|den|der|ter|ten|te|in 't|op de|el|al|ben|bin|da|di|du|la|le)"
)
_NAME = re.compile(rf"(?<![.!?:]\s)(?<!^)\b([A-Z][a-zé]+)\s(?:{_PARTICLES}\s)?([A-Z][a-zé]+)\b")
_PARTICLE_NAME = re.compile(rf"\b([A-Z][a-zé]+)\s{_PARTICLES}\s([A-Z][a-zé]+)\b")


# Capitalised words that start a phrase rather than a name ("De Regenboog", "Groep Acht").
_NOT_FIRST_NAMES = frozenset(
    [
        "De",
        "Het",
        "Een",
        "Van",
        "In",
        "Op",
        "Voor",
        "Met",
        "Bij",
        "Onze",
        "Deze",
        "Die",
        "Dit",
        "Wij",
        "Zij",
        "Ze",
        "Er",
        "Maar",
        "En",
        "Ook",
        "Geen",
        "Alle",
        "Basisschool",
        "School",
        "Stichting",
        "Gemeente",
        "Groep",
        "Klas",
        "Sint",
        "Sint-Jan",
        "Noord",
        "Zuid",
        "Oost",
        "West",
        "Maandag",
        "Dinsdag",
        "Woensdag",
        "Donderdag",
        "Vrijdag",
        "Zaterdag",
        "Zondag",
        "The",
        "Of",
    ]
)


def _looks_like_a_name(match: re.Match) -> bool:
    before = match.string[: match.start()].rstrip()
    starts_sentence = not before or before[-1] in ".!?:;"
    first, last = match.group(1), match.group(2)
    if first in _NOT_FIRST_NAMES or last in _NOT_FIRST_NAMES:
        return False
    # At the start of a sentence the first word is capitalised anyway: a name needs a particle.
    return not starts_sentence or match.re is _PARTICLE_NAME


def _elfproef(digits: str) -> bool:
    """The BSN check: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 is a multiple of 11."""
    total = sum(int(d) * w for d, w in zip(digits, [9, 8, 7, 6, 5, 4, 3, 2, -1], strict=True))
    return total % 11 == 0 and total > 0


def personal_data_hints(text: str) -> list[str]:
    """What in `text` looks like personal data of someone (a warning, not a verdict): e-mail
    addresses, phone numbers, BSN-shaped numbers, and a first name followed by a surname."""
    hints = []
    if _EMAIL.search(text):
        hints.append(_("een e-mailadres"))
    if _PHONE.search(text):
        hints.append(_("een telefoonnummer"))
    if any(_elfproef("".join(m.groups())) for m in _NINE_DIGITS.finditer(text)):
        hints.append(_("een nummer dat op een BSN lijkt"))
    if any(_looks_like_a_name(m) for m in (*_NAME.finditer(text), *_PARTICLE_NAME.finditer(text))):
        hints.append(_("iets dat op een naam lijkt"))
    return hints
