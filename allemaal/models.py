"""The platform core: users, organisations, memberships, invitations and the notification outbox."""

import hashlib
import re
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .fields import PhoneNumberField
from .postcodes import Province
from .transitions import TransitionTable


@cache
def _choice_labels(field, language: str | None) -> dict:
    return {value: str(label) for value, label in field.flatchoices}


def choice_labels(field) -> dict:
    """The labels of a field's fixed choices as text in the active language, by value: made
    once per field and language (a lazy label is translated again at every use)."""
    return _choice_labels(field, get_language())


class ChoiceLabels:
    """`get_FOO_display()` read from a table per field and language, made once. Django's builds
    a dict of the field's choices at every call and translates each label to hash it: a list of
    200 shipments with two such columns spent a quarter of its rendering there. For fields with
    fixed choices (not a callable); put first in a model's bases."""

    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        try:
            return _choice_labels(field, get_language()).get(value, value)
        except TypeError:  # an unhashable value: Django's own way
            return super()._get_FIELD_display(field)


kvk_validator = RegexValidator(
    r"^[0-9]{8}$", _("Een KvK-nummer bestaat uit precies 8 cijfers."), code="kvk"
)
brin_validator = RegexValidator(
    r"^[0-9]{2}[A-Z]{2}$",
    _("Een BRIN-code bestaat uit 2 cijfers en 2 hoofdletters, zoals 12AB."),
    code="brin",
)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who logs in with e-mail and password; no username."""

    username = None
    email = models.EmailField(_("e-mailadres"), unique=True)
    language = models.CharField(
        _("taal"),
        max_length=5,
        choices=settings.LANGUAGES,
        default="nl",
        help_text=_("De taal van e-mails aan deze gebruiker."),
    )
    # Retention (allemaal/retention.py): when the owner was told the account would be erased.
    inactivity_warned_at = models.DateTimeField(null=True, blank=True, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("gebruiker")
        verbose_name_plural = _("gebruikers")

    def __str__(self):
        if self.email.endswith("@verwijderd.invalid"):
            return self.last_name  # erased (allemaal/personal_data.py): "een oud-medewerker van …"
        return self.email

    def in_group(self, name: str) -> bool:
        return any(g.name == name for g in self.groups.all())

    @property
    def is_coordinator(self) -> bool:
        return self.is_staff and (self.is_superuser or self.in_group("coordinators"))

    @property
    def is_helpdesk(self) -> bool:
        return self.is_staff and (self.is_superuser or self.in_group("helpdesk"))


class OrganisationQuerySet(models.QuerySet):
    def verified(self):
        return self.filter(status=Organisation.Status.VERIFIED)


class Organisation(models.Model):
    class Kind(models.TextChoices):
        DONOR = "donor", _("Donateur (bedrijf)")
        REQUESTER = "requester", _("Aanvragende organisatie")
        REFURBISHER = "refurbisher", _("Opknappartner")
        TELECOM = "telecom", _("Telecomaanbieder")

    class Sector(models.TextChoices):
        SCHOOL_BOARD = "school_board", _("Schoolbestuur")
        SCHOOL = "school", _("School")
        ELDERLY_CARE = "elderly_care", _("Ouderenzorg (zoals SeniorWeb)")
        MUNICIPALITY = "municipality", _("Gemeente")
        WELFARE = "welfare", _("Welzijnsorganisatie")
        OTHER = "other", _("Anders")

    class Status(models.TextChoices):
        PENDING = "pending", _("Wacht op controle")
        VERIFIED = "verified", _("Gecontroleerd")
        REJECTED = "rejected", _("Afgewezen")

    # A coordinator may reverse a decision (a rejection on a mistaken KvK number, a verified
    # organisation that turns out not to be one); nothing goes back to awaiting verification.
    transitions = TransitionTable(
        {
            Status.PENDING: {Status.VERIFIED, Status.REJECTED},
            Status.VERIFIED: {Status.REJECTED},
            Status.REJECTED: {Status.VERIFIED},
        },
        refused=_("Organisatie %(ref)s kan niet van '%(from)s' naar '%(to)s'."),
        history="OrganisationEvent",
        stamp="status_changed_at",
    )

    kind = models.CharField(_("soort organisatie"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("naam"), max_length=200)
    kvk_number = models.CharField(
        _("KvK-nummer"), max_length=8, validators=[kvk_validator], db_index=True
    )
    brin_code = models.CharField(
        _("BRIN-code"),
        max_length=4,
        blank=True,
        validators=[brin_validator],
        db_index=True,
        help_text=_("Alleen voor scholen en schoolbesturen."),
    )
    sector = models.CharField(
        _("sector"),
        max_length=20,
        choices=Sector.choices,
        blank=True,
        help_text=_("Alleen voor aanvragende organisaties."),
    )
    street = models.CharField(_("straat en huisnummer"), max_length=200)
    postcode = models.CharField(_("postcode"), max_length=7)
    city = models.CharField(_("plaats"), max_length=100)
    province = models.CharField(_("provincie"), max_length=20, choices=Province.CHOICES)
    phone = PhoneNumberField(_("telefoonnummer"))
    website = models.URLField(_("website"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    status_reason = models.TextField(_("reden"), blank=True)
    status_changed_at = models.DateTimeField(_("status gewijzigd op"), null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("status gewijzigd door"),
    )
    created_at = models.DateTimeField(_("aangemaakt op"), default=timezone.now)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisatie")
        verbose_name_plural = _("organisaties")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["status", "kind"])]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "kvk_number", "brin_code"], name="organisation_unique_kvk_brin"
            ),
            models.CheckConstraint(
                condition=Q(kind="requester") | Q(sector=""), name="organisation_sector_requester"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.status == self.Status.VERIFIED


class Membership(models.Model):
    """A user's place in one organisation. A user belongs to at most one organisation."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Beheerder")
        MEMBER = "member", _("Medewerker")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("rol"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("lidmaatschap")
        verbose_name_plural = _("lidmaatschappen")

    def __str__(self):
        return f"{self.user} @ {self.organisation} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


# The paths of one-time links; a mail's copy for staff shows a placeholder instead.
ONE_TIME_LINK = re.compile(
    r"(?:https?://[^\s\"'<>/]+)?/(?:accounts/password/reset/key|accounts/confirm-email|uitnodiging)"
    r"/[^\s\"'<>]*"
)
ONE_TIME_LINK_PLACEHOLDER = "[eenmalige link verborgen]"


def redact_one_time_links(text: str) -> str:
    return ONE_TIME_LINK.sub(ONE_TIME_LINK_PLACEHOLDER, text)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def open(self):
        """Pending and not yet expired (INVITATION_MAX_AGE_DAYS)."""
        return self.filter(
            status=Invitation.Status.PENDING, created_at__gte=Invitation.oldest_valid()
        )


class Invitation(models.Model):
    """An invitation by e-mail to join an organisation; only the token's hash is stored.

    Single use: accepting or withdrawing it ends it. Expiry is not a stored status: it follows
    from `created_at` and INVITATION_MAX_AGE_DAYS, so a changed setting applies at once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Verstuurd")
        ACCEPTED = "accepted", _("Aangenomen")
        WITHDRAWN = "withdrawn", _("Ingetrokken")

    transitions = TransitionTable(
        {
            Status.PENDING: {Status.ACCEPTED, Status.WITHDRAWN},
            Status.ACCEPTED: set(),
            Status.WITHDRAWN: set(),
        },
        refused=_("Deze uitnodiging is al aangenomen of ingetrokken."),
        history="InvitationEvent",
    )

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("e-mailadres"))
    role = models.CharField(
        _("rol"), max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("uitnodiging")
        verbose_name_plural = _("uitnodigingen")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} → {self.organisation}"

    @staticmethod
    def oldest_valid():
        return timezone.now() - timedelta(days=settings.INVITATION_MAX_AGE_DAYS)

    @property
    def is_expired(self) -> bool:
        return self.created_at < self.oldest_valid()


class Notification(models.Model):
    """One e-mail, written in the same transaction as the change that causes it (outbox)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Wacht op verzending")
        SENT = "sent", _("Verzonden")
        # The dead letter: the retry window passed; `last_error` says why.
        FAILED = "failed", _("Mislukt")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )
    to_email = models.EmailField(_("aan"))
    language = models.CharField(_("taal"), max_length=5, default="nl")
    kind = models.CharField(_("soort"), max_length=100)
    subject = models.CharField(_("onderwerp"), max_length=250)
    # What staff see: a one-time link (password reset, e-mail confirmation, invitation) is
    # replaced by a placeholder. The mail as sent waits in the sealed fields, which no page or
    # export shows, and which are emptied once it is sent or given up.
    body_text = models.TextField(_("tekst"))
    body_html = models.TextField(_("HTML"), blank=True)
    one_time_link = models.BooleanField(_("bevat eenmalige link"), default=False)
    sealed_text = models.TextField(blank=True, editable=False)
    sealed_html = models.TextField(blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("pogingen"), default=0)
    last_error = models.TextField(_("laatste fout"), blank=True)
    created_at = models.DateTimeField(_("aangemaakt op"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("verzonden op"), null=True, blank=True)
    # When the relay may (re)send a pending row: a lease after queueing, a backoff after a failure.
    next_attempt_at = models.DateTimeField(_("volgende poging"), default=timezone.now)
    # Set at the first failure: retries stop (dead letter) once this passes.
    give_up_at = models.DateTimeField(_("opgeven na"), null=True, blank=True)
    # What this mail is about, for mails a decision sends (kind, decision, recipient): unique,
    # so a decision carried out again (a retried task) cannot queue the same mail twice.
    idempotency_key = models.CharField(max_length=100, blank=True, default="", editable=False)

    class Meta:
        verbose_name = _("melding (e-mail)")
        verbose_name_plural = _("meldingen (e-mail)")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(status="pending"), name="notification_pending"
            ),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="notification_due",
            ),
            models.Index(fields=["to_email"], name="notification_to_email"),
            # The coordinators' start page counts failed mails; the list shows them newest first.
            models.Index(
                fields=["-created_at"], condition=Q(status="failed"), name="notification_failed"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="notification_idempotency_key",
            ),
        ]

    def __str__(self):
        return f"{self.kind} → {self.to_email}"


class StatusEvent(models.Model):
    """History of one record's status: who moved it, when, from what to what, and why.

    A subclass adds the foreign key to its record, names that field in `subject` and the
    record's status choices in `statuses`."""

    subject = ""
    statuses: type[models.TextChoices]

    from_status = models.CharField(_("van"), max_length=10, blank=True)
    to_status = models.CharField(_("naar"), max_length=10)
    at = models.DateTimeField(_("tijdstip"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("door"),
    )
    note = models.TextField(_("toelichting"), blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    def __str__(self):
        return f"{getattr(self, self.subject)}: {self.from_status_label} → {self.to_status_label}"

    @classmethod
    def status_label(cls, code: str) -> str:
        """The Dutch (or active language's) name of a status code; an unknown code as it is."""
        if not code:
            return "—"
        try:
            return str(cls.statuses(code).label)
        except ValueError:
            return code

    @property
    def from_status_label(self) -> str:
        return self.status_label(self.from_status)

    @property
    def to_status_label(self) -> str:
        return self.status_label(self.to_status)


class OrganisationEvent(StatusEvent):
    """History of an organisation's status: who verified or rejected it, when, and why."""

    subject = "organisation"
    statuses = Organisation.Status

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="events")

    class Meta(StatusEvent.Meta):
        verbose_name = _("statuswijziging organisatie")
        verbose_name_plural = _("statuswijzigingen organisaties")


class InvitationEvent(StatusEvent):
    """History of an invitation: when it was accepted or withdrawn, and by whom."""

    subject = "invitation"
    statuses = Invitation.Status

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="events")

    class Meta(StatusEvent.Meta):
        verbose_name = _("statuswijziging uitnodiging")
        verbose_name_plural = _("statuswijzigingen uitnodigingen")
