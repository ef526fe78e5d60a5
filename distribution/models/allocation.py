"""Allocation: the priority policy (versioned), the matching runs and the allocations they propose.

An `Allocation` ties one device to one approved help request. The matching job writes
`proposed` allocations (a national run writes up to a million of them with COPY); coordinators
approve them, which moves the device to `allocated`. See OBJECTIVE.md for how the job decides.

Database invariants (the services check the same things first, with a clear message):
- one active policy version (partial unique constraint);
- one live allocation per device: proposed, approved or shipped (partial unique constraint);
- a request never holds more approved/shipped/delivered/returned devices than approved, per
  type: a PostgreSQL constraint trigger (migrations 0002 and 0003), which also checks that the
  device and the request of such an allocation exist.

The device, request, run and decided_by keys carry no per-row foreign-key triggers in the
database (`db_constraint=False`), nor does the key from AllocationEvent to Allocation:
PostgreSQL checks a foreign key with one query and a key-share lock on the referenced row per
inserted row, which made writing a million proposals take 13 s instead of 2 s, and checks every
deleted proposal against the referencing table at commit (6 s per million). Proposals are
written only from rows the job read in the same transaction, devices and requests are never
deleted once they can be allocated (`on_delete=PROTECT`), and for every committed allocation
the trigger checks the device and the request exist.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from allemaal.models import ChoiceLabels, StatusEvent
from allemaal.transitions import TransitionTable

from ..solver_classes import Policy


class PriorityPolicy(models.Model):
    """One version of the coordinators' weights; a change is a new row, the old ones stay."""

    version = models.PositiveIntegerField(_("versie"), unique=True)
    weights = models.JSONField(_("gewichten"), help_text=_("Policy.to_dict() van de solver."))
    note = models.CharField(_("toelichting bij de wijziging"), max_length=250, blank=True)
    is_active = models.BooleanField(_("in gebruik"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gemaakt door"),
    )
    created_at = models.DateTimeField(_("gemaakt op"), default=timezone.now)

    class Meta:
        verbose_name = _("prioriteitenbeleid")
        verbose_name_plural = _("prioriteitenbeleid (versies)")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True),
                name="priority_policy_one_active",
            ),
        ]

    def __str__(self):
        return _("Beleid versie %(v)d") % {"v": self.version}

    @property
    def policy(self) -> Policy:
        return Policy.from_dict(self.weights)


class AllocationRun(models.Model):
    """One run of the matching job: which policy version it used, what it found and proposed."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Bezig")
        COMPLETED = "completed", _("Klaar, voorstellen open")
        FAILED = "failed", _("Mislukt")
        SUPERSEDED = "superseded", _("Vervangen door nieuwere ronde")

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("Gestart door een coördinator")
        AUTOMATIC = "automatic", _("Automatisch (nieuwe apparaten klaar)")
        COMMAND = "command", _("Opdrachtregel")

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    trigger = models.CharField(_("aanleiding"), max_length=10, choices=Trigger.choices)
    policy = models.ForeignKey(
        PriorityPolicy,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="runs",
        verbose_name=_("beleid"),
    )
    policy_version = models.PositiveIntegerField(_("beleidsversie"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gestart door"),
    )
    started_at = models.DateTimeField(_("gestart op"), default=timezone.now)
    finished_at = models.DateTimeField(_("klaar op"), null=True, blank=True)
    devices_available = models.PositiveIntegerField(_("beschikbare apparaten"), default=0)
    requests_open = models.PositiveIntegerField(_("wachtende hulpaanvragen"), default=0)
    units_open = models.PositiveIntegerField(_("nog nodig (apparaten)"), default=0)
    proposals = models.PositiveIntegerField(_("voorstellen"), default=0)
    requests_served = models.PositiveIntegerField(_("hulpaanvragen met voorstel"), default=0)
    total_score = models.BigIntegerField(_("totale score"), default=0)
    stats = models.JSONField(_("details"), default=dict, blank=True)
    error = models.TextField(_("foutmelding"), blank=True)
    # Progress of approving the whole run in parts (services/approve_sets.py): the planned
    # parts (last request id of each), how many proposals, approved and refused so far.
    approval = models.JSONField(_("goedkeuring"), default=dict, blank=True)

    class Meta:
        verbose_name = _("toewijzingsronde")
        verbose_name_plural = _("toewijzingsrondes")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "-id"], name="allocation_run_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["running", "failed"]) | Q(policy__isnull=False),
                name="allocation_run_records_policy",
            ),
        ]

    def __str__(self):
        return _("Ronde %(n)d") % {"n": self.pk or 0}


class AllocationQuerySet(models.QuerySet):
    def proposed(self):
        return self.filter(status=Allocation.Status.PROPOSED)

    def live(self):
        return self.filter(status__in=Allocation.LIVE_STATUSES)

    def rejections_in_force(self):
        """Rejected proposals whose rejection a run must respect (not lifted)."""
        return self.filter(
            status=Allocation.Status.REJECTED, rejection_lifted_at__isnull=True
        ).exclude(rejection_scope="")

    def committed(self):
        """Devices a request holds: approved, shipped, delivered, or returned without
        replacement (the organisation needs no other device for it)."""
        return self.filter(status__in=Allocation.COMMITTED_STATUSES)


# Every status but "proposed" (the partial indexes leave the millions of proposals out).
DECIDED_STATUSES = [
    "approved",
    "rejected",
    "cancelled",
    "shipped",
    "delivered",
    "returned",
    "replaced",
]


class RejectionScope(models.TextChoices):
    PAIR = "pair", _("dit apparaat voor deze hulpaanvraag")
    ORGANISATION = "organisation", _("dit apparaat voor alle aanvragen van deze organisatie")
    REQUEST = "request", _("deze hulpaanvraag: geen voorstellen tot de afwijzing is opgeheven")


class Allocation(ChoiceLabels, models.Model):
    """One device for one help request: proposed by a run (or by hand), then decided."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Voorgesteld")
        APPROVED = "approved", _("Goedgekeurd")
        REJECTED = "rejected", _("Afgewezen")
        CANCELLED = "cancelled", _("Geannuleerd")
        SHIPPED = "shipped", _("Verzonden")
        DELIVERED = "delivered", _("Afgeleverd")
        # Came back through the support line. Returned: the organisation needs no replacement,
        # so the place stays taken. Replaced: it does, so the place is free for the next run.
        RETURNED = "returned", _("Teruggestuurd, geen vervanging")
        REPLACED = "replaced", _("Teruggestuurd, vervanging nodig")

    # Every allowed move. Rejected, cancelled, returned and replaced are terminal (a device
    # that comes back gets a new allocation, never a revived one); a delivered device can still
    # come back through the support line.
    transitions = TransitionTable(
        {
            Status.PROPOSED: {Status.APPROVED, Status.REJECTED},
            Status.APPROVED: {Status.SHIPPED, Status.CANCELLED},
            Status.SHIPPED: {Status.DELIVERED, Status.RETURNED, Status.REPLACED},
            Status.DELIVERED: {Status.RETURNED, Status.REPLACED},
            Status.REJECTED: set(),
            Status.CANCELLED: set(),
            Status.RETURNED: set(),
            Status.REPLACED: set(),
        },
        refused=_("Toewijzing %(pk)s kan niet van '%(from)s' naar '%(to)s'."),
        history="AllocationEvent",
    )
    # A device is spoken for while one of these holds; at most one per device.
    LIVE_STATUSES = ("proposed", "approved", "shipped")
    # What a request has received or will receive for certain; never more than approved.
    COMMITTED_STATUSES = ("approved", "shipped", "delivered", "returned")
    # Decided and no longer holding the device (a new allocation of the device may follow).
    CLOSED_STATUSES = ("rejected", "cancelled", "delivered", "returned", "replaced")

    device = models.ForeignKey(
        "donations.Device",
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,
        related_name="allocations",
        verbose_name=_("apparaat"),
    )
    request = models.ForeignKey(
        "helprequests.HelpRequest",
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,
        related_name="allocations",
        verbose_name=_("hulpaanvraag"),
    )
    run = models.ForeignKey(
        AllocationRun,
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="allocations",
        verbose_name=_("ronde"),
        help_text=_("Leeg bij een toewijzing met de hand."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    score = models.IntegerField(_("score"))
    # Reason codes (solver_classes.reasons_for), "|"-separated. Empty on a run's proposals: those
    # are derived from the run's policy and date when shown, which keeps the table narrow; they
    # are written when the allocation is decided, so an approved one keeps its explanation.
    reasons = models.TextField(_("redenen"), blank=True, default="", db_default="")
    note = models.TextField(
        _("reden van toewijzing met de hand"), blank=True, default="", db_default=""
    )
    decision_note = models.TextField(
        _("reden van afwijzen of annuleren"), blank=True, default="", db_default=""
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("besloten door"),
    )
    decided_at = models.DateTimeField(_("besloten op"), null=True, blank=True)
    created_at = models.DateTimeField(_("gemaakt op"), default=timezone.now, db_default=Now())
    # A rejection sticks: runs never propose what it covers again until a coordinator lifts it.
    rejection_scope = models.CharField(
        _("afwijzing geldt voor"),
        max_length=12,
        choices=RejectionScope.choices,
        blank=True,
        default="",
        db_default="",
    )
    rejection_lifted_at = models.DateTimeField(_("afwijzing opgeheven op"), null=True, blank=True)
    rejection_lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("afwijzing opgeheven door"),
    )

    objects = AllocationQuerySet.as_manager()

    class Meta:
        verbose_name = _("toewijzing")
        verbose_name_plural = _("toewijzingen")
        ordering = ["-id"]
        indexes = [
            # Proposals are left out: they come and go by the million and are found by status.
            models.Index(
                fields=["request", "status"],
                condition=Q(status__in=DECIDED_STATUSES),
                name="allocation_request_decided",
            ),
            models.Index(
                fields=["device"],
                condition=Q(
                    status__in=["rejected", "cancelled", "delivered", "returned", "replaced"]
                ),
                name="allocation_device_history",
            ),
            # The coordinators' list filtered by a decided status, newest first (a rare status
            # such as "returned" would otherwise be looked for through the whole table).
            models.Index(
                fields=["status", "-id"],
                condition=Q(status__in=DECIDED_STATUSES),
                name="allocation_decided_status",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["device"],
                condition=Q(status__in=["proposed", "approved", "shipped"]),
                name="allocation_one_live_per_device",
                violation_error_message=_("Dit apparaat is al voorgesteld of toegewezen."),
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "proposed",
                        "approved",
                        "rejected",
                        "cancelled",
                        "shipped",
                        "delivered",
                        "returned",
                        "replaced",
                    ]
                ),
                name="allocation_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(run__isnull=False) | ~Q(note=""),
                name="allocation_manual_has_reason",
                violation_error_message=_("Geef een reden op voor een toewijzing met de hand."),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["rejected", "cancelled"]) | ~Q(decision_note=""),
                name="allocation_refusal_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status="proposed") | Q(decided_at__isnull=False),
                name="allocation_decided_has_time",
            ),
        ]

    def __str__(self):
        return _("Toewijzing %(n)d") % {"n": self.pk or 0}

    @property
    def is_manual(self) -> bool:
        return self.run_id is None

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(self.reasons.split("|")) if self.reasons else ()


class AllocationEvent(StatusEvent):
    """History of an allocation after it was proposed: who decided, when, from what to what."""

    subject = "allocation_id"
    statuses = Allocation.Status

    # No foreign-key trigger in the database: PostgreSQL would check every proposal a run
    # deletes against this table at commit (6 s per million). Decided allocations, the only
    # ones with events, are never deleted (PROTECT); proposals, which runs delete, have none.
    allocation = models.ForeignKey(
        Allocation, on_delete=models.PROTECT, db_constraint=False, related_name="events"
    )

    class Meta(StatusEvent.Meta):
        verbose_name = _("statuswijziging toewijzing")
        verbose_name_plural = _("statuswijzigingen toewijzingen")


class UnservedRequest(models.Model):
    """Why the latest run left an approved request with open quantity without a device.

    Only the latest completed run's reasons are kept (a run replaces them, as it replaces the
    proposals); the code and its numbers are worded when shown (selectors.whynot)."""

    class Code(models.TextChoices):
        NO_DEVICE_OF_TYPE = "no_device_of_type", _("geen apparaat van dit type klaar")
        BELOW_MINIMUM = "below_minimum", _("geen apparaat voldoet aan de minimumeisen")
        REJECTED = "rejected", _("alle geschikte apparaten afgewezen")
        OUTRANKED = "outranked", _("andere aanvragen gingen voor")
        PAUSED = "paused", _("aanvraag afgewezen tot nader order")

    # One index only, the request as the primary key (only one run's reasons are kept, so a
    # request has at most one), and no foreign-key trigger: a run writes tens of thousands of
    # rows with COPY, and each index or trigger more costs it per row. Deleting a run deletes
    # its reasons through Django (CASCADE), as before.
    request = models.OneToOneField(
        "helprequests.HelpRequest",
        on_delete=models.CASCADE,
        primary_key=True,
        db_constraint=False,
        related_name="unserved_reason",
        verbose_name=_("hulpaanvraag"),
    )
    run = models.ForeignKey(
        AllocationRun,
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name="unserved",
        verbose_name=_("ronde"),
    )
    code = models.CharField(_("reden"), max_length=20, choices=Code.choices)
    params = models.JSONField(_("details"), default=dict, blank=True)
    open_units = models.PositiveIntegerField(_("nog nodig (apparaten)"), default=0)

    class Meta:
        verbose_name = _("aanvraag zonder apparaat")
        verbose_name_plural = _("aanvragen zonder apparaat (waarom niet)")
        ordering = ["request"]

    def __str__(self):
        return _("Hulpaanvraag %(n)d zonder apparaat") % {"n": self.request_id}


class QueuePlaceRecord(models.Model):
    """A waiting request's place in the queue as the latest run computed it, so that an
    organisation's pages read their own requests' rows instead of the national queue.

    Only the latest completed run's rows are kept (a run replaces them). `to_come_*` are the
    devices still to come, per need, for the requests up to and including this one in the
    matching job's order (what is proposed already is not to come)."""

    # The request as the primary key: one index, which the pages look their rows up by, and
    # the only one a run's COPY of 100,000 rows has to fill.
    request = models.OneToOneField(
        "helprequests.HelpRequest",
        on_delete=models.CASCADE,
        primary_key=True,
        db_constraint=False,
        related_name="+",
        verbose_name=_("hulpaanvraag"),
    )
    run = models.ForeignKey(
        AllocationRun,
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name=_("ronde"),
    )
    position = models.PositiveIntegerField(_("plaats in de doelgroep"))
    queue_length = models.PositiveIntegerField(_("wachtenden in de doelgroep"))
    position_overall = models.PositiveIntegerField(_("plaats in de hele wachtrij"))
    to_come_laptops = models.PositiveIntegerField(_("nog te komen laptops tot en met deze"))
    to_come_tablets = models.PositiveIntegerField(_("nog te komen tablets tot en met deze"))
    to_come_either = models.PositiveIntegerField(_("nog te komen apparaten tot en met deze"))
    proposed = models.PositiveIntegerField(_("voorgesteld in de ronde"), default=0)

    class Meta:
        verbose_name = _("plaats in de wachtrij")
        verbose_name_plural = _("plaatsen in de wachtrij")

    def __str__(self):
        return _("Hulpaanvraag %(n)d op plaats %(p)d") % {"n": self.request_id, "p": self.position}
