"""Donations (a batch from one donor) and the devices they bring, with their chain of custody.

`Device` lives here because every unit enters the platform through a donation; the refurbishment,
allocation and distribution apps move it along its lifecycle through `donations.services`'s
`device_transition`, the one place that writes a device's state and its custody event.
"""

import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from allemaal.fields import PhoneNumberField
from allemaal.models import ChoiceLabels, Organisation, StatusEvent
from allemaal.postcodes import Province
from allemaal.transitions import TransitionTable
from allemaal.vocabulary import TargetGroup

from .vocabulary import DeviceKind


class Grade(models.TextChoices):
    A = "A", _("A (als nieuw)")
    B = "B", _("B (gebruikssporen)")
    C = "C", _("C (duidelijke gebruikssporen, werkt goed)")


class OperatingSystem(models.TextChoices):
    WINDOWS_11 = "windows11", "Windows 11"
    WINDOWS_10 = "windows10", "Windows 10"
    CHROMEOS_FLEX = "chromeos_flex", "ChromeOS Flex"
    CHROMEOS = "chromeos", "ChromeOS"
    UBUNTU = "ubuntu", "Ubuntu"
    OTHER_LINUX = "linux", _("Andere Linux")
    IPADOS = "ipados", "iPadOS"
    ANDROID = "android", "Android"


class Donation(ChoiceLabels, models.Model):
    class Status(models.TextChoices):
        PLEDGED = "pledged", _("Aangemeld")
        SCHEDULED = "scheduled", _("Ophalen gepland")
        COLLECTED = "collected", _("Opgehaald")
        RECEIVED = "received", _("Ontvangen en geteld")
        PROCESSED = "processed", _("Verwerkt")
        CANCELLED = "cancelled", _("Geannuleerd")
        DECLINED = "declined", _("Afgewezen")

    # Every allowed move; cancelled, declined and processed are terminal.
    transitions = TransitionTable(
        {
            Status.PLEDGED: {Status.SCHEDULED, Status.CANCELLED, Status.DECLINED},
            Status.SCHEDULED: {Status.COLLECTED, Status.CANCELLED, Status.DECLINED},
            Status.COLLECTED: {Status.RECEIVED},
            Status.RECEIVED: {Status.PROCESSED},
            Status.PROCESSED: set(),
            Status.CANCELLED: set(),
            Status.DECLINED: set(),
        },
        refused=_("Donatie %(ref)s kan niet van '%(from)s' naar '%(to)s'."),
        history="DonationEvent",
    )

    donor = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="donations",
        verbose_name=_("donateur"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLEDGED
    )
    laptops = models.PositiveIntegerField(_("laptops"), default=0)
    chromebooks = models.PositiveIntegerField(_("Chromebooks"), default=0)
    tablets = models.PositiveIntegerField(_("tablets"), default=0)
    chargers = models.PositiveIntegerField(_("opladers"), default=0)
    year_from = models.PositiveSmallIntegerField(_("bouwjaar vanaf"), null=True, blank=True)
    year_to = models.PositiveSmallIntegerField(_("bouwjaar tot en met"), null=True, blank=True)
    brands = models.CharField(_("merken"), max_length=200, blank=True)
    already_wiped = models.BooleanField(_("gegevens al gewist door het bedrijf"), default=False)
    pickup_street = models.CharField(_("straat en huisnummer"), max_length=200)
    pickup_postcode = models.CharField(_("postcode"), max_length=7)
    pickup_city = models.CharField(_("plaats"), max_length=100)
    pickup_province = models.CharField(_("provincie"), max_length=20, choices=Province.CHOICES)
    pickup_window_start = models.DateField(_("ophalen vanaf"), null=True, blank=True)
    pickup_window_end = models.DateField(_("ophalen uiterlijk"), null=True, blank=True)
    contact_name = models.CharField(_("contactpersoon"), max_length=200)
    contact_phone = PhoneNumberField(_("telefoon contactpersoon"))
    consent_transfer = models.BooleanField(_("toestemming eigendomsoverdracht"), default=False)
    refurbisher = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_donations",
        verbose_name=_("opknappartner"),
    )
    pickup_date = models.DateField(_("ophaaldatum"), null=True, blank=True)
    status_reason = models.TextField(_("reden"), blank=True)
    received_laptops = models.PositiveIntegerField(_("ontvangen laptops"), null=True, blank=True)
    received_chromebooks = models.PositiveIntegerField(
        _("ontvangen Chromebooks"), null=True, blank=True
    )
    received_tablets = models.PositiveIntegerField(_("ontvangen tablets"), null=True, blank=True)
    received_chargers = models.PositiveIntegerField(_("ontvangen opladers"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("aangemeld op"), default=timezone.now)

    class Meta:
        verbose_name = _("donatie")
        verbose_name_plural = _("donaties")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["donor", "-created_at"]),
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["refurbisher", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(consent_transfer=True), name="donation_requires_consent"
            ),
            models.CheckConstraint(
                condition=Q(year_from__isnull=True)
                | Q(year_to__isnull=True)
                | Q(year_from__lte=models.F("year_to")),
                name="donation_year_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(pickup_window_start__isnull=True)
                | Q(pickup_window_end__isnull=True)
                | Q(pickup_window_start__lte=models.F("pickup_window_end")),
                name="donation_pickup_window_ordered",
            ),
            # From scheduled on, somebody is known to come on a known day.
            models.CheckConstraint(
                condition=Q(status__in=["pledged", "cancelled", "declined"])
                | Q(refurbisher__isnull=False, pickup_date__isnull=False),
                name="donation_scheduled_has_pickup",
            ),
            # Received means counted: the pledged-versus-received difference is always known.
            models.CheckConstraint(
                condition=~Q(status__in=["received", "processed"])
                | Q(
                    received_laptops__isnull=False,
                    received_chromebooks__isnull=False,
                    received_tablets__isnull=False,
                    received_chargers__isnull=False,
                ),
                name="donation_received_has_counts",
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(status_reason=""),
                name="donation_declined_has_reason",
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def reference(self) -> str:
        """A short human reference such as DON-2026-00042 (year of registration, then the id)."""
        return f"DON-{timezone.localtime(self.created_at).year}-{self.pk or 0:05d}"

    @property
    def pledged_devices(self) -> int:
        return self.laptops + self.chromebooks + self.tablets

    @property
    def received_devices(self) -> int | None:
        if self.received_laptops is None:
            return None
        return (
            (self.received_laptops or 0)
            + (self.received_chromebooks or 0)
            + (self.received_tablets or 0)
        )

    @property
    def is_open_for_donor(self) -> bool:
        """The donor may still cancel it (nothing has left the donor's building yet)."""
        return self.status in (self.Status.PLEDGED, self.Status.SCHEDULED)

    @property
    def accepts_manifest(self) -> bool:
        """A manifest may be added until the refurbisher starts counting the batch."""
        return self.status in (
            self.Status.PLEDGED,
            self.Status.SCHEDULED,
            self.Status.COLLECTED,
        )

    def count_differences(self) -> list[dict]:
        """Pledged versus received per kind, once counted (empty before)."""
        if self.received_laptops is None:
            return []
        rows = [
            (_("Laptops"), self.laptops, self.received_laptops),
            (_("Chromebooks"), self.chromebooks, self.received_chromebooks),
            (_("Tablets"), self.tablets, self.received_tablets),
            (_("Opladers"), self.chargers, self.received_chargers),
        ]
        return [
            {"label": label, "pledged": pledged, "received": received, "diff": received - pledged}
            for label, pledged, received in rows
        ]


REFERENCE_RE = re.compile(r"^\s*(?:DON-\d{4}-)?0*(\d{1,9})\s*$", re.IGNORECASE)


def parse_reference(text: str) -> int | None:
    """The donation id in a reference such as `DON-2026-00042`, `don-2026-42` or `42`."""
    match = REFERENCE_RE.match(text or "")
    return int(match.group(1)) if match else None


class DonationPolicy(models.Model):
    """The coordinators' switches for donations; one row, edited in the admin."""

    individual_donations_open = models.BooleanField(
        _("ook losse apparaten aannemen"),
        default=False,
        help_text=_(
            "Aan: ook particulieren en kleine bedrijven kunnen één of enkele apparaten doneren. "
            "Uit: alleen partijen vanaf het minimum hieronder."
        ),
    )
    min_batch_size = models.PositiveSmallIntegerField(
        _("minimaal aantal apparaten per donatie"),
        null=True,
        blank=True,
        help_text=_(
            "Leeg: de standaardwaarde van het platform (instelling DONATION_MIN_BATCH_SIZE)."
        ),
    )
    updated_at = models.DateTimeField(_("gewijzigd op"), auto_now=True)

    class Meta:
        verbose_name = _("donatiebeleid")
        verbose_name_plural = _("donatiebeleid")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="donation_policy_singleton")]

    def __str__(self):
        return str(_("Donatiebeleid"))

    @classmethod
    def current(cls) -> "DonationPolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy

    @property
    def effective_min_batch_size(self) -> int:
        """The smallest batch accepted now: 1 once individual donations are open."""
        if self.individual_donations_open:
            return 1
        if self.min_batch_size:
            return self.min_batch_size
        return int(getattr(settings, "DONATION_MIN_BATCH_SIZE", 10))


class Manifest(models.Model):
    """One imported asset list: which file, how many devices, who uploaded it and when."""

    donation = models.ForeignKey(Donation, on_delete=models.CASCADE, related_name="manifests")
    file_name = models.CharField(_("bestandsnaam"), max_length=255)
    rows = models.PositiveIntegerField(_("aantal apparaten"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("geüpload op"), default=timezone.now)

    class Meta:
        verbose_name = _("apparatenlijst")
        verbose_name_plural = _("apparatenlijsten")
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return f"{self.donation}: {self.file_name} ({self.rows})"


class ManifestImport(models.Model):
    """An asset list too large to read within the upload request: a background job reads it,
    checks every row (its progress shown on the page), then imports it all or nothing."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("wordt gelezen")
        PREVIEW = "preview", _("wacht op uw controle")
        QUEUED = "queued", _("in de wachtrij")
        CHECKING = "checking", _("wordt gecontroleerd")
        IMPORTING = "importing", _("wordt geïmporteerd")
        DONE = "done", _("geïmporteerd")
        FAILED = "failed", _("niet geïmporteerd")

    donation = models.ForeignKey(
        Donation, on_delete=models.CASCADE, related_name="manifest_imports"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file = models.FileField(upload_to="apparatenlijsten/", blank=True)
    file_name = models.CharField(_("bestandsnaam"), max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_read = models.PositiveIntegerField(default=0)
    # The first errors, as {"row", "column", "message"}; total_errors counts them all.
    errors = models.JSONField(default=list, blank=True)
    total_errors = models.PositiveIntegerField(default=0)
    manifest = models.ForeignKey(Manifest, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The donor's choice of field per column, {"2": "model"}; null until the donor chose.
    mapping = models.JSONField(null=True, blank=True)
    skip_unaccepted = models.BooleanField(default=False)
    # The headers of the columns naming people, emptied before the file was kept.
    personal_columns = models.JSONField(default=list, blank=True)
    # Rows of kinds we do not take, skipped at the donor's choice: [[row, reason], ...].
    skipped = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("apparatenlijst in behandeling")
        verbose_name_plural = _("apparatenlijsten in behandeling")

    def __str__(self):
        return f"{self.donation}: {self.file_name} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class ColumnMapping(models.Model):
    """The fields an organisation chose for the columns of its asset lists, remembered for its
    next file with the same header (the same tool's export)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    # `manifest.header_signature` of the normalised header names, in order.
    signature = models.CharField(max_length=64)
    mapping = models.JSONField(default=dict)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("kolomindeling apparatenlijst")
        verbose_name_plural = _("kolomindelingen apparatenlijsten")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "signature"], name="column_mapping_one_per_header"
            )
        ]

    def __str__(self):
        return f"{self.organisation}: {self.signature[:12]}"


class DonationEvent(StatusEvent):
    """History of a donation's status: who moved it, when, from where to where, and why."""

    subject = "donation"
    statuses = Donation.Status

    donation = models.ForeignKey(Donation, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("van"), max_length=12, blank=True)
    to_status = models.CharField(_("naar"), max_length=12)

    class Meta(StatusEvent.Meta):
        verbose_name = _("statuswijziging donatie")
        verbose_name_plural = _("statuswijzigingen donaties")


class DeviceQuerySet(models.QuerySet):
    def in_state(self, *states):
        return self.filter(state__in=states)

    def ready(self):
        return self.filter(state=Device.State.READY)


class Device(ChoiceLabels, models.Model):
    """One physical unit, followed from the donor's manifest to the organisation that gets it."""

    class State(models.TextChoices):
        ANNOUNCED = "announced", _("Aangekondigd")
        RECEIVED = "received", _("Ontvangen")
        ERASED = "erased", _("Gewist")
        READY = "ready", _("Klaar voor gebruik")
        ALLOCATED = "allocated", _("Toegewezen")
        SHIPPED = "shipped", _("Verzonden")
        DELIVERED = "delivered", _("Afgeleverd")
        RECYCLED = "recycled", _("Gerecycled")
        NOT_RECEIVED = "not_received", _("Niet ontvangen")
        LOST = "lost", _("Zoekgeraakt")

    # Every allowed move (../shared/DESIGN.md). Recycled and lost are terminal; a delivered unit
    # that comes back through the support line re-enters at received, and so does an erased unit
    # whose latest erasure run failed (it must be erased again). A listed unit that was not in
    # the truck is not received once intake closes, and announced again when the donor finds it
    # after all. Each move is a custody event.
    transitions = TransitionTable(
        {
            State.ANNOUNCED: {State.RECEIVED, State.NOT_RECEIVED},
            State.RECEIVED: {State.ERASED, State.RECYCLED},
            State.ERASED: {State.READY, State.RECYCLED, State.RECEIVED},
            State.READY: {State.ALLOCATED, State.RECYCLED},
            State.ALLOCATED: {State.SHIPPED, State.READY},
            State.SHIPPED: {State.DELIVERED, State.RECEIVED, State.LOST},
            State.DELIVERED: {State.RECEIVED},
            State.RECYCLED: set(),
            State.NOT_RECEIVED: {State.ANNOUNCED},
            State.LOST: set(),
        },
        refused=_("Apparaat %(ref)s kan niet van '%(from)s' naar '%(to)s'."),
        history="DeviceEvent",
        field="state",
        stamp="state_changed_at",
    )

    donation = models.ForeignKey(Donation, on_delete=models.PROTECT, related_name="devices")
    state = models.CharField(
        _("status"), max_length=12, choices=State.choices, default=State.ANNOUNCED
    )
    state_changed_at = models.DateTimeField(_("status gewijzigd op"), default=timezone.now)
    serial_number = models.CharField(_("serienummer"), max_length=100, unique=True)
    asset_tag = models.CharField(
        _("apparaatcode"), max_length=16, unique=True, null=True, blank=True
    )
    kind = models.CharField(_("soort"), max_length=12, choices=DeviceKind.choices)
    make = models.CharField(_("merk"), max_length=100, blank=True)
    model = models.CharField(_("model"), max_length=150, blank=True)
    year = models.PositiveSmallIntegerField(_("bouwjaar"), null=True, blank=True)
    cpu = models.CharField(_("processor"), max_length=150, blank=True)
    ram_gb = models.PositiveSmallIntegerField(_("werkgeheugen (GB)"), null=True, blank=True)
    storage_gb = models.PositiveIntegerField(_("opslag (GB)"), null=True, blank=True)
    donor_asset_tag = models.CharField(_("eigen code van de donateur"), max_length=100, blank=True)
    grade = models.CharField(_("kwaliteit"), max_length=1, choices=Grade.choices, blank=True)
    os_installed = models.CharField(
        _("besturingssysteem"), max_length=20, choices=OperatingSystem.choices, blank=True
    )
    charger_included = models.BooleanField(_("oplader meegeleverd"), null=True, blank=True)
    recycle_reason = models.TextField(_("reden recycling"), blank=True)
    # Where a delivered unit went, in words that never name a person: written by distribution
    # with the delivery (the same transaction), so the donor's outcome needs no upward read.
    delivered_sector = models.CharField(
        _("soort organisatie"), max_length=20, choices=Organisation.Sector.choices, blank=True
    )
    delivered_province = models.CharField(
        _("provincie van aflevering"), max_length=20, choices=Province.CHOICES, blank=True
    )
    delivered_target_group = models.CharField(
        _("doelgroep"), max_length=20, choices=TargetGroup.choices, blank=True
    )
    created_at = models.DateTimeField(_("geregistreerd op"), default=timezone.now)

    objects = DeviceQuerySet.as_manager()

    class Meta:
        verbose_name = _("apparaat")
        verbose_name_plural = _("apparaten")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["donation", "state"]),
            models.Index(fields=["state", "kind"]),
        ]

    def __str__(self):
        return self.asset_tag or self.serial_number


class DeviceEvent(models.Model):
    """Append-only chain of custody: every state change of a device, never edited or deleted."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="events")
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("gebeurtenis apparaat")
        verbose_name_plural = _("gebeurtenissen apparaten")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["to_state", "at"])]

    def __str__(self):
        label = self.status_label
        return f"{self.device_id}: {label(self.from_state)} → {label(self.to_state)}"

    @staticmethod
    def status_label(code: str) -> str:
        """The name of a device state; an unknown code as it is."""
        if not code:
            return "—"
        try:
            return str(Device.State(code).label)
        except ValueError:
            return code
