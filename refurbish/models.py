"""What the refurbisher records about each device: intake scans, certified data erasure (per
device and per drive), tests and grades, the wiping stations' API tokens and the erasure
certificate per donation. The device's state itself lives on `donations.Device` and moves only
through `donations.services.device_transition`.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from allemaal.models import Organisation
from donations.models import Device, Donation, Grade, OperatingSystem

from .storage import private_storage


class ErasureStandard(models.TextChoices):
    """NIST SP 800-88 Rev. 1 sanitization level."""

    CLEAR = "clear", _("NIST SP 800-88 Clear")
    PURGE = "purge", _("NIST SP 800-88 Purge")
    DESTROY = "destroy", _("NIST SP 800-88 Destroy")


class ErasureTechnique(models.TextChoices):
    OVERWRITE = "overwrite", _("Overschrijven")
    CRYPTO_ERASE = "crypto_erase", _("Cryptografisch wissen")
    FIRMWARE_SANITIZE = "firmware_sanitize", _("Wissen via de firmware van de schijf")
    PHYSICAL_DESTRUCTION = "physical_destruction", _("Fysiek vernietigen")


class ErasureResult(models.TextChoices):
    PASSED = "passed", _("Geslaagd")
    FAILED = "failed", _("Mislukt")


class ErasureSource(models.TextChoices):
    MANUAL = "manual", _("Handmatig vastgelegd")
    UPLOAD = "upload", _("Wislog geüpload")
    API = "api", _("Wislog van een wisstation")
    COMMAND = "command", _("Wislog ingelezen op de server")
    RECYCLE = "recycle", _("Opslag vernietigd bij recycling")


def evidence_path(record, filename: str) -> str:
    # A random name: the original name is kept in `evidence_name`, never used as a path.
    now = timezone.now()
    return f"erasure-evidence/{record.organisation_id}/{now:%Y/%m}/{uuid.uuid4().hex}.log"


class ErasureRecord(models.Model):
    """One erasure run of one device: how, with what, when, by whom, and whether it passed.

    A run from an nwipe log has one `DriveErasure` per drive in the log's Drive Status table.
    """

    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="erasure_records", verbose_name=_("apparaat")
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("opknappartner"),
    )
    standard = models.CharField(_("standaard"), max_length=10, choices=ErasureStandard.choices)
    technique = models.CharField(_("techniek"), max_length=20, choices=ErasureTechnique.choices)
    tool = models.CharField(_("hulpmiddel"), max_length=100, blank=True)
    tool_version = models.CharField(_("versie"), max_length=50, blank=True)
    method = models.CharField(
        _("methode"), max_length=100, blank=True, help_text=_("Bijvoorbeeld PRNG Stream.")
    )
    verification = models.CharField(_("controle"), max_length=100, blank=True)
    rounds = models.PositiveSmallIntegerField(_("wisrondes"), null=True, blank=True)
    prng = models.CharField(_("toevalsgenerator (PRNG)"), max_length=50, blank=True)
    blanking = models.BooleanField(_("slotronde met nullen"), null=True, blank=True)
    started_at = models.DateTimeField(_("begonnen op"), null=True, blank=True)
    ended_at = models.DateTimeField(_("klaar op"), null=True, blank=True)
    result = models.CharField(_("resultaat"), max_length=10, choices=ErasureResult.choices)
    failure_reason = models.TextField(_("reden"), blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uitgevoerd door"),
    )
    operator_name = models.CharField(_("uitvoerder"), max_length=200, blank=True)
    source = models.CharField(_("bron"), max_length=10, choices=ErasureSource.choices)
    evidence = models.FileField(
        _("bewijsbestand"),
        storage=private_storage,
        upload_to=evidence_path,
        max_length=255,
        blank=True,
    )
    evidence_name = models.CharField(_("bestandsnaam"), max_length=255, blank=True)
    evidence_sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    log_outcome = models.CharField(_("uitkomst van de log"), max_length=20, blank=True)
    log_system_serial = models.CharField(_("serienummer in de log"), max_length=100, blank=True)
    # What the refurbisher should look at although the run counts (a drive seen in another
    # machine before); shown on the device page.
    flags = models.TextField(_("let op"), blank=True)
    created_at = models.DateTimeField(_("vastgelegd op"), default=timezone.now)

    class Meta:
        verbose_name = _("wisregistratie")
        verbose_name_plural = _("wisregistraties")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["device", "result"])]
        constraints = [
            # The same log file is recorded once, for one device of one refurbisher (a station
            # that resends it, or an upload repeated by hand, is told it is already there).
            models.UniqueConstraint(
                fields=["evidence_sha256"],
                condition=~Q(evidence_sha256="") & Q(source__in=["upload", "api", "command"]),
                name="erasure_log_counts_once",
            ),
            models.CheckConstraint(
                condition=Q(standard="destroy", technique="physical_destruction")
                | (~Q(standard="destroy") & ~Q(technique="physical_destruction")),
                name="erasure_destroy_is_physical",
            ),
            models.CheckConstraint(
                condition=Q(started_at__isnull=True)
                | Q(ended_at__isnull=True)
                | Q(started_at__lte=models.F("ended_at")),
                name="erasure_times_ordered",
            ),
            models.CheckConstraint(
                condition=Q(result="failed") | Q(failure_reason=""),
                name="erasure_passed_has_no_failure_reason",
            ),
        ]

    def __str__(self):
        return f"{self.device}: {self.get_standard_display()} ({self.get_result_display()})"

    @property
    def passed(self) -> bool:
        return self.result == ErasureResult.PASSED

    @property
    def nist_category(self) -> str:
        """The NIST SP 800-88 category this run's evidence supports, whatever was claimed.

        Destroy for destroyed storage. Purge only for a drive's own sanitize, secure-erase or
        crypto-erase command shown in an evidence file. Any overwrite is Clear at most: on an
        SSD or NVMe drive an overwrite does not reach spare and remapped cells, so it is never
        Purge, and on a hard disk it is Clear."""
        if self.technique == ErasureTechnique.PHYSICAL_DESTRUCTION:
            return ErasureStandard.DESTROY
        purge_techniques = (ErasureTechnique.CRYPTO_ERASE, ErasureTechnique.FIRMWARE_SANITIZE)
        if self.technique in purge_techniques and self.evidence_sha256:
            return ErasureStandard.PURGE
        return ErasureStandard.CLEAR


class DriveErasure(models.Model):
    """One drive of an erasure run, as the Drive Status and Error Summary tables report it."""

    record = models.ForeignKey(ErasureRecord, on_delete=models.CASCADE, related_name="drives")
    device_path = models.CharField(_("schijf"), max_length=100)
    model = models.CharField(_("model"), max_length=150, blank=True)
    serial = models.CharField(_("serienummer"), max_length=100, blank=True)
    size_bytes = models.BigIntegerField(_("grootte (bytes)"), null=True, blank=True)
    status = models.CharField(_("status in de log"), max_length=20, blank=True)
    pass_errors = models.BigIntegerField(_("schrijffouten"), default=0)
    verify_errors = models.BigIntegerField(_("controlefouten"), default=0)
    fdatasync_errors = models.BigIntegerField(_("fdatasync-fouten"), default=0)
    duration = models.DurationField(_("duur"), null=True, blank=True)
    throughput = models.CharField(_("snelheid"), max_length=20, blank=True)
    result = models.CharField(_("resultaat"), max_length=10, choices=ErasureResult.choices)

    class Meta:
        verbose_name = _("gewiste schijf")
        verbose_name_plural = _("gewiste schijven")
        ordering = ["record", "device_path", "id"]
        # A log's drives are looked up by serial (seen in another machine before?), per batch.
        indexes = [models.Index(fields=["serial"], name="refurbish_drive_serial")]

    def __str__(self):
        return f"{self.device_path} {self.serial}".strip()


class IntakeScan(models.Model):
    """The moment a unit was scanned in at the refurbisher's table; once per device."""

    device = models.OneToOneField(Device, on_delete=models.PROTECT, related_name="intake_scan")
    donation = models.ForeignKey(Donation, on_delete=models.PROTECT, related_name="intake_scans")
    on_manifest = models.BooleanField(_("stond op de lijst van de donateur"))
    scanned_value = models.CharField(_("gescand"), max_length=100)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("opknappartner")
    )
    at = models.DateTimeField(_("gescand op"), default=timezone.now)

    class Meta:
        verbose_name = _("inname-scan")
        verbose_name_plural = _("inname-scans")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["donation", "-at"])]

    def __str__(self):
        return f"{self.scanned_value} ({self.donation})"


class RecycleReason(models.TextChoices):
    TOO_OLD = "too_old", _("Te oud")
    BROKEN = "broken", _("Defect")
    ERASURE_FAILED = "erasure_failed", _("Wissen mislukt, opslag vernietigd")


class PartCondition(models.TextChoices):
    WORKS = "works", _("Werkt")
    DEFECT = "defect", _("Defect")
    ABSENT = "absent", _("Niet aanwezig")


class DeviceInspection(models.Model):
    """A test and grade of one device: the checklist, the confirmed specs and the grade."""

    BATTERY_MIN_HEALTH = 50  # below this a laptop is not worth giving out (percent)

    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="inspections", verbose_name=_("apparaat")
    )
    boots = models.BooleanField(_("start op"))
    battery_health_pct = models.PositiveSmallIntegerField(
        _("conditie accu (%)"), null=True, blank=True
    )
    screen = models.CharField(_("scherm"), max_length=10, choices=PartCondition.choices)
    keyboard = models.CharField(_("toetsenbord"), max_length=10, choices=PartCondition.choices)
    touchpad = models.CharField(_("touchpad"), max_length=10, choices=PartCondition.choices)
    wifi = models.CharField(_("wifi"), max_length=10, choices=PartCondition.choices)
    webcam = models.CharField(_("webcam"), max_length=10, choices=PartCondition.choices)
    ports = models.CharField(_("aansluitingen"), max_length=10, choices=PartCondition.choices)
    cpu = models.CharField(_("processor"), max_length=150, blank=True)
    ram_gb = models.PositiveSmallIntegerField(_("werkgeheugen (GB)"), null=True, blank=True)
    storage_gb = models.PositiveIntegerField(_("opslag (GB)"), null=True, blank=True)
    grade = models.CharField(_("kwaliteit"), max_length=1, choices=Grade.choices, blank=True)
    os_installed = models.CharField(
        _("besturingssysteem"), max_length=20, choices=OperatingSystem.choices, blank=True
    )
    charger_included = models.BooleanField(_("oplader meegeleverd"), null=True, blank=True)
    passed = models.BooleanField(_("geslaagd"))
    notes = models.TextField(_("opmerkingen"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("getest door"),
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("opknappartner")
    )
    at = models.DateTimeField(_("getest op"), default=timezone.now)

    class Meta:
        verbose_name = _("test en beoordeling")
        verbose_name_plural = _("tests en beoordelingen")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["device", "passed"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(battery_health_pct__isnull=True) | Q(battery_health_pct__lte=100),
                name="inspection_battery_percentage",
            ),
            models.CheckConstraint(
                condition=Q(passed=False) | (Q(boots=True) & ~Q(grade="") & ~Q(os_installed="")),
                name="inspection_passed_is_graded",
            ),
        ]

    def __str__(self):
        return f"{self.device}: {self.grade or '-'}"

    @property
    def defects(self) -> list[str]:
        """The checklist items that failed, by their Dutch label."""
        found = [] if self.boots else [str(_("start niet op"))]
        for name in ("screen", "keyboard", "touchpad", "wifi", "webcam", "ports"):
            if getattr(self, name) == PartCondition.DEFECT:
                found.append(str(self._meta.get_field(name).verbose_name))
        health = self.battery_health_pct
        if health is not None and health < self.BATTERY_MIN_HEALTH:
            found.append(str(_("accu (%(pct)d%%)") % {"pct": health}))
        return found


class StationTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class StationToken(models.Model):
    """An API token with which a wiping station sends its nwipe logs; only its hash is kept."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="station_tokens",
        verbose_name=_("opknappartner"),
    )
    name = models.CharField(_("naam"), max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(_("begint met"), max_length=12)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("aangemaakt op"), default=timezone.now)
    last_used_at = models.DateTimeField(_("laatst gebruikt"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("ingetrokken op"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = StationTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API-sleutel wisstation")
        verbose_name_plural = _("API-sleutels wisstations")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ErasureCertificate(models.Model):
    """The certificate of data erasure of one donation, with a random code anyone can verify.

    `summary` is the snapshot taken when the certificate was issued; the PDF and the public
    verify page show exactly that, so the certificate never changes afterwards.
    """

    donation = models.OneToOneField(
        Donation,
        on_delete=models.PROTECT,
        related_name="erasure_certificate",
        verbose_name=_("donatie"),
    )
    code = models.CharField(_("certificaatcode"), max_length=32, unique=True)
    issued_at = models.DateTimeField(_("uitgegeven op"), default=timezone.now)
    summary = models.JSONField(_("inhoud"))

    class Meta:
        verbose_name = _("wiscertificaat")
        verbose_name_plural = _("wiscertificaten")
        ordering = ["-issued_at", "-id"]

    def __str__(self):
        return self.display_code

    @property
    def display_code(self) -> str:
        groups = [self.code[i : i + 5] for i in range(0, len(self.code), 5)]
        if len(groups) > 1 and len(groups[-1]) < 3:
            groups[-2:] = [groups[-2] + groups[-1]]  # no lonely symbol at the end
        return "-".join(groups)


class ErasureLogImport(models.Model):
    """A large upload of nwipe logs (many files, or a big zip): kept and processed by a
    background job, so that no web request spends more than a moment on it. Each log is still
    recorded all or nothing; the per-log results are kept for the job's page."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("in de wachtrij")
        RUNNING = "running", _("wordt verwerkt")
        DONE = "done", _("verwerkt")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", verbose_name=_("opknappartner")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The uploaded files as [{"name": original name, "path": name in private storage}].
    files = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    logs_total = models.PositiveIntegerField(default=0)
    logs_done = models.PositiveIntegerField(default=0)
    results = models.JSONField(default=list, blank=True)
    queue_failed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("wislogs in behandeling")
        verbose_name_plural = _("wislogs in behandeling")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"{self.organisation}: {self.logs_done}/{self.logs_total} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status == self.Status.DONE


class DeviceTrail(Device):
    """A device seen through its chain of custody (the coordinators' read-only admin view)."""

    class Meta:
        proxy = True
        verbose_name = _("herkomst apparaat")
        verbose_name_plural = _("herkomst apparaten")


__all__ = [
    "DeviceInspection",
    "DeviceTrail",
    "DriveErasure",
    "ErasureCertificate",
    "ErasureLogImport",
    "ErasureRecord",
    "ErasureResult",
    "ErasureSource",
    "ErasureStandard",
    "ErasureTechnique",
    "IntakeScan",
    "PartCondition",
    "RecycleReason",
    "StationToken",
]
