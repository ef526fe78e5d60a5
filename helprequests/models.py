"""Help requests: an organisation asks for devices on behalf of one target group.

The people in need never apply themselves and no personal data of them is ever stored: only
counts, a short motivation and the organisation's own delivery address and contact person.
Allocation (the distribution app) reads the approved quantities and the priority fields here.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from allemaal.fields import PhoneNumberField
from allemaal.jobs import UploadJob
from allemaal.models import ChoiceLabels, Organisation, StatusEvent
from allemaal.postcodes import Province
from allemaal.transitions import TransitionTable
from allemaal.vocabulary import TargetGroup

NO_NAMES_HELP = _(
    "Noem geen namen of andere persoonsgegevens van de mensen die u helpt, zeker niet van kinderen."
)


# Pupils and students: for them the request says whether they lack access to home schooling.
PUPIL_GROUPS = (
    TargetGroup.PRIMARY_PUPILS,
    TargetGroup.SECONDARY_PUPILS,
    TargetGroup.MBO_STUDENTS,
)


class Urgency(models.TextChoices):
    HIGH = "high", _("Hoog")
    NORMAL = "normal", _("Normaal")
    LOW = "low", _("Laag")


class DeviceType(models.TextChoices):
    """What an organisation can ask for; a laptop need is also met by a Chromebook."""

    LAPTOP = "laptop", _("Laptops")
    TABLET = "tablet", _("Tablets")


class HelpRequestQuerySet(models.QuerySet):
    def open(self):
        """Submitted or approved: waiting for a decision or for devices."""
        return self.filter(status__in=HelpRequest.OPEN_STATUSES)

    def in_queue(self):
        """Approved and not yet fulfilled: the queue that allocation fills."""
        return self.filter(status=HelpRequest.Status.APPROVED)


class HelpRequest(ChoiceLabels, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Concept")
        SUBMITTED = "submitted", _("Ingediend")
        APPROVED = "approved", _("Goedgekeurd")
        REJECTED = "rejected", _("Afgewezen")
        FULFILLED = "fulfilled", _("Vervuld")
        CANCELLED = "cancelled", _("Geannuleerd")
        CLOSED = "closed", _("Gesloten")

    class DuplicateReason(models.TextChoices):
        ORGANISATION = (
            "organisation",
            _("Dezelfde organisatie heeft al een open aanvraag voor deze doelgroep"),
        )
        BRIN = (
            "brin",
            _(
                "Een organisatie met dezelfde BRIN-code heeft al een open aanvraag "
                "voor deze doelgroep"
            ),
        )
        POSTCODE = (
            "postcode",
            _("Een andere organisatie heeft al een open aanvraag voor deze doelgroep en postcode"),
        )

    # Every allowed move; rejected, cancelled and closed are terminal. A fulfilled request goes
    # back to approved when a delivered device comes back and needs a replacement.
    transitions = TransitionTable(
        {
            Status.DRAFT: {Status.SUBMITTED, Status.CANCELLED},
            Status.SUBMITTED: {Status.APPROVED, Status.REJECTED, Status.CANCELLED},
            Status.APPROVED: {Status.FULFILLED, Status.CANCELLED, Status.CLOSED},
            Status.FULFILLED: {Status.CLOSED, Status.APPROVED},
            Status.REJECTED: set(),
            Status.CANCELLED: set(),
            Status.CLOSED: set(),
        },
        refused=_("Hulpaanvraag %(ref)s kan niet van '%(from)s' naar '%(to)s'."),
        history="HelpRequestEvent",
    )
    OPEN_STATUSES = (Status.SUBMITTED, Status.APPROVED)
    EDITABLE_STATUSES = (Status.DRAFT, Status.SUBMITTED)
    # Shipments do not exist yet; once they do, an approved request with a shipment on its way
    # can no longer be cancelled (the distribution app adds that check to the service).
    CANCELLABLE_STATUSES = (Status.DRAFT, Status.SUBMITTED, Status.APPROVED)

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="help_requests",
        verbose_name=_("organisatie"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )

    target_group = models.CharField(_("doelgroep"), max_length=20, choices=TargetGroup.choices)
    target_group_other = models.CharField(
        _("omschrijving van de doelgroep"),
        max_length=200,
        blank=True,
        help_text=format_lazy("{} {}", _("Alleen bij 'Andere doelgroep'."), NO_NAMES_HELP),
    )
    no_home_schooling = models.BooleanField(
        _("de leerlingen kunnen nu niet thuis online les volgen"),
        default=False,
        help_text=_(
            "Alleen voor leerlingen en studenten: vink aan als zij nu geen apparaat hebben om "
            "thuis les te volgen. Zij gaan voor in de wachtrij."
        ),
    )
    laptops = models.PositiveIntegerField(_("aantal laptops"), default=0)
    tablets = models.PositiveIntegerField(_("aantal tablets"), default=0)
    either = models.PositiveIntegerField(
        _("aantal laptops of tablets (maakt niet uit)"),
        default=0,
        help_text=_("Apparaten waarvoor een laptop en een tablet allebei goed zijn."),
    )
    connectivity_households = models.PositiveIntegerField(
        _("huishoudens die ook een internetverbinding nodig hebben"), default=0
    )
    people_reached = models.PositiveIntegerField(
        _("aantal mensen dat u met deze apparaten helpt"), default=0
    )
    urgency = models.CharField(
        _("urgentie"), max_length=6, choices=Urgency.choices, default=Urgency.NORMAL
    )
    need_by = models.DateField(_("nodig uiterlijk op"), null=True, blank=True)
    motivation = models.TextField(
        _("korte toelichting"),
        max_length=2000,
        blank=True,
        help_text=format_lazy(
            "{} {}", _("Waarom heeft uw doelgroep deze apparaten nodig?"), NO_NAMES_HELP
        ),
    )
    delivery_street = models.CharField(_("straat en huisnummer"), max_length=200, blank=True)
    delivery_postcode = models.CharField(_("postcode"), max_length=7, blank=True)
    delivery_city = models.CharField(_("plaats"), max_length=100, blank=True)
    delivery_province = models.CharField(
        _("provincie"), max_length=20, choices=Province.CHOICES, blank=True
    )
    contact_name = models.CharField(_("naam contactpersoon"), max_length=200, blank=True)
    contact_phone = PhoneNumberField(_("telefoon contactpersoon"), blank=True)
    declaration = models.BooleanField(
        _(
            "Wij hebben gecontroleerd dat deze apparaten echt nodig zijn en geven ze gratis uit "
            "aan de mensen voor wie ze bedoeld zijn."
        ),
        default=False,
    )

    approved_laptops = models.PositiveIntegerField(_("goedgekeurd: laptops"), default=0)
    approved_tablets = models.PositiveIntegerField(_("goedgekeurd: tablets"), default=0)
    approved_either = models.PositiveIntegerField(_("goedgekeurd: laptops of tablets"), default=0)
    decision_reason = models.TextField(_("toelichting bij het besluit"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("besloten door"),
    )

    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("mogelijk dubbel met"),
    )
    duplicate_reason = models.CharField(
        _("waarom mogelijk dubbel"), max_length=12, choices=DuplicateReason.choices, blank=True
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("aangemaakt door"),
    )
    created_at = models.DateTimeField(_("aangemaakt op"), default=timezone.now)
    submitted_at = models.DateTimeField(_("ingediend op"), null=True, blank=True)
    approved_at = models.DateTimeField(_("goedgekeurd op"), null=True, blank=True)
    decided_at = models.DateTimeField(_("besloten op"), null=True, blank=True)

    objects = HelpRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("hulpaanvraag")
        verbose_name_plural = _("hulpaanvragen")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organisation", "status"]),
            models.Index(fields=["status", "target_group"]),
            models.Index(fields=["status", "submitted_at"]),
            models.Index(fields=["delivery_postcode", "target_group"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "draft",
                        "submitted",
                        "approved",
                        "rejected",
                        "fulfilled",
                        "cancelled",
                        "closed",
                    ]
                ),
                name="helprequest_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(approved_laptops__lte=F("laptops"))
                & Q(approved_tablets__lte=F("tablets"))
                & Q(approved_either__lte=F("either")),
                name="helprequest_approved_within_requested",
                violation_error_message=_(
                    "Er kan niet meer worden goedgekeurd dan er is aangevraagd."
                ),
            ),
            models.CheckConstraint(
                condition=Q(submitted_at__isnull=True) | Q(declaration=True),
                name="helprequest_submitted_with_declaration",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "fulfilled"])
                | (
                    Q(approved_at__isnull=False)
                    & (
                        Q(approved_laptops__gt=0)
                        | Q(approved_tablets__gt=0)
                        | Q(approved_either__gt=0)
                    )
                ),
                name="helprequest_approved_has_quantities",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(decision_reason=""),
                name="helprequest_rejected_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False) | Q(status="cancelled"),
                name="helprequest_submitted_at_set",
            ),
            models.CheckConstraint(
                condition=Q(no_home_schooling=False)
                | Q(target_group__in=[g.value for g in PUPIL_GROUPS]),
                name="helprequest_home_schooling_only_pupils",
            ),
            models.CheckConstraint(
                condition=Q(target_group="other") | Q(target_group_other=""),
                name="helprequest_other_description_only_other",
            ),
            models.CheckConstraint(
                condition=Q(duplicate_of__isnull=True) | ~Q(duplicate_of=F("id")),
                name="helprequest_not_own_duplicate",
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def reference(self) -> str:
        """A short human reference such as AAN-2026-00042 (year of creation, then the id)."""
        return f"AAN-{timezone.localtime(self.created_at).year}-{self.pk or 0:05d}"

    @property
    def is_pupils(self) -> bool:
        return self.target_group in PUPIL_GROUPS

    @property
    def target_group_label(self) -> str:
        if self.target_group == TargetGroup.OTHER and self.target_group_other:
            return f"{self.get_target_group_display()}: {self.target_group_other}"
        return self.get_target_group_display()

    @property
    def requested_devices(self) -> int:
        return self.laptops + self.tablets + self.either

    @property
    def approved_devices(self) -> int:
        return self.approved_laptops + self.approved_tablets + self.approved_either

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE_STATUSES

    @property
    def is_cancellable(self) -> bool:
        return self.status in self.CANCELLABLE_STATUSES

    @property
    def is_open(self) -> bool:
        """Submitted or approved: counts against the organisation's limit of open requests
        (the same rule as `HelpRequest.objects.open()`)."""
        return self.status in self.OPEN_STATUSES


class HelpRequestEvent(StatusEvent):
    """History of a help request's status: who moved it, when, from where to where, and why."""

    subject = "help_request"
    statuses = HelpRequest.Status

    help_request = models.ForeignKey(HelpRequest, on_delete=models.CASCADE, related_name="events")

    class Meta(StatusEvent.Meta):
        verbose_name = _("statuswijziging hulpaanvraag")
        verbose_name_plural = _("statuswijzigingen hulpaanvragen")


class IntakeSwitch(models.Model):
    """Coordinators open or close intake per device type and target group (no row = open)."""

    device_type = models.CharField(_("apparaatsoort"), max_length=10, choices=DeviceType.choices)
    target_group = models.CharField(_("doelgroep"), max_length=20, choices=TargetGroup.choices)
    is_open = models.BooleanField(_("open voor aanvragen"), default=True)
    reason = models.CharField(
        _("reden (zien aanvragers)"),
        max_length=250,
        blank=True,
        help_text=_("Bijvoorbeeld: 'de voorraad tablets is op'. Verplicht als u sluit."),
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gewijzigd door"),
    )
    changed_at = models.DateTimeField(_("gewijzigd op"), default=timezone.now)

    class Meta:
        verbose_name = _("instroom per apparaatsoort en doelgroep")
        verbose_name_plural = _("instroom per apparaatsoort en doelgroep")
        ordering = ["target_group", "device_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["device_type", "target_group"], name="intakeswitch_unique_pair"
            ),
            models.CheckConstraint(
                condition=Q(is_open=True) | ~Q(reason=""),
                name="intakeswitch_closed_has_reason",
                violation_error_message=_("Geef een reden op als u de instroom sluit."),
            ),
        ]

    def __str__(self):
        state = _("open") if self.is_open else _("gesloten")
        return f"{self.get_device_type_display()} / {self.get_target_group_display()}: {state}"


class CoordinatorDigest(models.Model):
    """One row per day the coordinators' digest was built: makes the daily job idempotent."""

    day = models.DateField(_("dag"), unique=True)
    new_requests = models.PositiveIntegerField(_("nieuwe aanvragen"), default=0)
    flagged_duplicates = models.PositiveIntegerField(_("mogelijk dubbel"), default=0)
    recipients = models.PositiveIntegerField(_("ontvangers"), default=0)
    created_at = models.DateTimeField(_("gemaakt op"), default=timezone.now)

    class Meta:
        verbose_name = _("dagoverzicht coördinatoren")
        verbose_name_plural = _("dagoverzichten coördinatoren")
        ordering = ["-day"]

    def __str__(self):
        return str(self.day)


# --- Internet connections ------------------------------------------------------------------


class ConnectivityAssignmentQuerySet(models.QuerySet):
    def open(self):
        """Assigned and not yet provided: the telecom provider's to-do list."""
        return self.filter(status=ConnectivityAssignment.Status.ASSIGNED)

    def counting(self):
        """Assignments that take households off the request's need (not the withdrawn ones)."""
        return self.filter(status__in=ConnectivityAssignment.COUNTING_STATUSES)

    def bundles_ending(self, today, *, days: int):
        """Provided connections whose data bundle ends between today and `days` days later."""
        return self.filter(
            status=ConnectivityAssignment.Status.FULFILLED,
            bundle_ends_on__gte=today,
            bundle_ends_on__lte=today + timedelta(days=days),
        )


class ConnectivityAssignment(models.Model):
    """Households of one help request that one telecom provider gives an internet connection.

    A coordinator assigns them; the provider reports what it provided (SIM cards and/or mobile
    hotspots with a data bundle until a date). Households only: never names or addresses of the
    people helped; the provider delivers to the requesting organisation's delivery address.
    """

    class Status(models.TextChoices):
        ASSIGNED = "assigned", _("Te leveren")
        FULFILLED = "fulfilled", _("Geleverd")
        WITHDRAWN = "withdrawn", _("Ingetrokken")

    # Every allowed move: the provider provides what was assigned, or a coordinator withdraws
    # it before that; both are terminal (more households later are a new assignment).
    transitions = TransitionTable(
        {
            Status.ASSIGNED: {Status.FULFILLED, Status.WITHDRAWN},
            Status.FULFILLED: set(),
            Status.WITHDRAWN: set(),
        },
        refused=_("Opdracht %(ref)s kan niet van '%(from)s' naar '%(to)s'."),
        history="ConnectivityEvent",
    )

    COUNTING_STATUSES = (Status.ASSIGNED, Status.FULFILLED)
    # Bundles that end within this many days are on the provider's reminder list.
    REMINDER_DAYS = 30

    help_request = models.ForeignKey(
        HelpRequest,
        on_delete=models.PROTECT,
        related_name="connectivity_assignments",
        verbose_name=_("hulpaanvraag"),
    )
    provider = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="connectivity_assignments",
        limit_choices_to={"kind": Organisation.Kind.TELECOM},
        verbose_name=_("telecomaanbieder"),
    )
    households = models.PositiveIntegerField(_("huishoudens"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ASSIGNED
    )
    note = models.TextField(_("toelichting voor de telecomaanbieder"), blank=True)

    sim_cards = models.PositiveIntegerField(_("simkaarten"), default=0)
    hotspots = models.PositiveIntegerField(_("mobiele hotspots"), default=0)
    bundle_ends_on = models.DateField(_("databundel loopt af op"), null=True, blank=True)
    provider_note = models.TextField(_("opmerking van de telecomaanbieder"), blank=True)

    assigned_at = models.DateTimeField(_("toegewezen op"), default=timezone.now)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("toegewezen door"),
    )
    fulfilled_at = models.DateTimeField(_("geleverd op"), null=True, blank=True)
    fulfilled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("geleverd gemeld door"),
    )
    withdrawn_at = models.DateTimeField(_("ingetrokken op"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ingetrokken door"),
    )
    withdrawal_reason = models.TextField(_("reden van intrekken"), blank=True)

    objects = ConnectivityAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("internetopdracht")
        verbose_name_plural = _("internetopdrachten")
        ordering = ["-assigned_at", "-id"]
        indexes = [
            models.Index(fields=["provider", "status"]),
            models.Index(fields=["help_request", "status"]),
            models.Index(
                fields=["bundle_ends_on"],
                condition=Q(status="fulfilled"),
                name="connectivity_bundle_ends",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["assigned", "fulfilled", "withdrawn"]),
                name="connectivity_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(households__gte=1),
                name="connectivity_at_least_one_household",
                violation_error_message=_("Wijs ten minste één huishouden toe."),
            ),
            # One open assignment per request and provider: more households for the same
            # provider are a withdrawal and a new assignment, so the provider's list stays
            # one line per request.
            models.UniqueConstraint(
                fields=["help_request", "provider"],
                condition=Q(status="assigned"),
                name="connectivity_one_open_per_provider",
                violation_error_message=_(
                    "Deze telecomaanbieder heeft voor deze hulpaanvraag al een open opdracht."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(status="fulfilled")
                | (
                    Q(fulfilled_at__isnull=False)
                    & Q(bundle_ends_on__isnull=False)
                    & (Q(sim_cards__gt=0) | Q(hotspots__gt=0))
                ),
                name="connectivity_fulfilled_has_provision",
            ),
            models.CheckConstraint(
                condition=Q(status="fulfilled")
                | (
                    Q(sim_cards=0)
                    & Q(hotspots=0)
                    & Q(bundle_ends_on__isnull=True)
                    & Q(fulfilled_at__isnull=True)
                ),
                name="connectivity_provision_only_when_fulfilled",
            ),
            models.CheckConstraint(
                condition=~Q(status="withdrawn")
                | (Q(withdrawn_at__isnull=False) & ~Q(withdrawal_reason="")),
                name="connectivity_withdrawn_has_reason",
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def reference(self) -> str:
        """A short human reference such as INT-00042 (the id), used in the CSV and e-mails."""
        return f"INT-{self.pk or 0:05d}"

    @property
    def provided_label(self) -> str:
        """What was provided, in words ("3 simkaarten en 1 mobiele hotspot"); "" before."""
        sims = ngettext("%(n)d simkaart", "%(n)d simkaarten", self.sim_cards) % {
            "n": self.sim_cards
        }
        hotspots = ngettext("%(n)d mobiele hotspot", "%(n)d mobiele hotspots", self.hotspots) % {
            "n": self.hotspots
        }
        if self.sim_cards and self.hotspots:
            return gettext("%(sims)s en %(hotspots)s") % {"sims": sims, "hotspots": hotspots}
        if self.sim_cards:
            return sims
        return hotspots if self.hotspots else ""


class ConnectivityEvent(StatusEvent):
    """History of an internet assignment: who assigned, provided or withdrew it, and when."""

    subject = "assignment"
    statuses = ConnectivityAssignment.Status

    assignment = models.ForeignKey(
        ConnectivityAssignment, on_delete=models.CASCADE, related_name="events"
    )

    class Meta(StatusEvent.Meta):
        verbose_name = _("statuswijziging internetopdracht")
        verbose_name_plural = _("statuswijzigingen internetopdrachten")


class ConnectivityReminder(models.Model):
    """One row per provider and week the bundle reminder was built: makes the job idempotent."""

    provider = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("telecomaanbieder"),
    )
    week = models.DateField(_("week (maandag)"))
    bundles = models.PositiveIntegerField(_("aflopende bundels"), default=0)
    recipients = models.PositiveIntegerField(_("ontvangers"), default=0)
    created_at = models.DateTimeField(_("gemaakt op"), default=timezone.now)

    class Meta:
        verbose_name = _("herinnering aflopende bundels")
        verbose_name_plural = _("herinneringen aflopende bundels")
        ordering = ["-week", "provider_id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "week"], name="connectivity_reminder_once")
        ]

    def __str__(self):
        return f"{self.provider} {self.week}"


class ProvisionUpload(UploadJob):
    """A telecom provider's filled-in CSV too large to record within the upload request: a
    background job reads it and records it all or nothing (see allemaal/jobs.py)."""

    provider = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="provision_uploads"
    )
    file = models.FileField(upload_to="internetopdrachten/", blank=True)
    fulfilled = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("ingevuld CSV-bestand in behandeling")
        verbose_name_plural = _("ingevulde CSV-bestanden in behandeling")
        indexes = [models.Index(fields=["status", "created_at"], name="provision_upload_status")]

    def __str__(self):
        return f"{self.provider}: {self.file_name} ({self.status})"
