"""Shipping: a refurbisher sends the devices of approved allocations to one organisation in a
Shipment; the organisation confirms what arrived and later reports how many devices it handed
out (aggregated, never personal data).

A shipment moves `prepared → shipped → delivered` (or `prepared → cancelled`). Its items are
the allocations scanned onto it; an allocation is in at most one shipment (unique constraint;
the items of a cancelled shipment are removed, so its devices can go in another one). Delivery
is confirmed per item: received, damaged or missing; damaged or missing units flag the
shipment for the coordinators until one of them settles it.

Every change goes through `distribution.services.shipping` / `.delivery` / `.handout`.
"""

from itertools import islice

from django.conf import settings
from django.db import models
from django.db.models import Count, Q
from django.db.models.query import ModelIterable
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from allemaal.fields import PhoneNumberField
from allemaal.models import ChoiceLabels, Organisation, StatusEvent
from allemaal.subqueries import related_count
from allemaal.transitions import TransitionTable

from .allocation import Allocation


class Carrier(models.TextChoices):
    POSTNL = "postnl", "PostNL"
    DHL = "dhl", "DHL"
    DPD = "dpd", "DPD"
    GLS = "gls", "GLS"
    UPS = "ups", "UPS"
    OWN = "own", _("Eigen vervoer van de opknappartner")
    OTHER = "other", _("Andere vervoerder")


# Carriers that give a tracking code; with the refurbisher's own van there is none.
CARRIERS_WITHOUT_TRACKING = (Carrier.OWN,)


def normalise_tracking_code(value: str) -> str:
    """A track-and-trace code as stored and searched: without whitespace, in capitals."""
    return "".join((value or "").split()).upper()


class ShipmentQuerySet(models.QuerySet):
    # Set by with_counts(): the shipments read get their item counts from one more query.
    _item_counts = False

    def with_counts(self):
        """Adds `n_items`, `n_received`, `n_damaged` and `n_missing` to each shipment read: one
        grouped query over the items of the shipments read (on the items' shipment index), so a
        page of shipments never aggregates the whole item table. They are attributes, not
        annotations (nothing filters or sorts on them in SQL; `item_count()` sorts): four
        correlated subqueries per row cost more to build than the 50 rows take to render."""
        clone = self._chain()
        clone._item_counts = True
        return clone

    @staticmethod
    def item_count():
        """A shipment's number of items as an expression, to sort by (the admin's column)."""
        return related_count(ShipmentItem, "shipment")

    def _clone(self):
        clone = super()._clone()
        clone._item_counts = self._item_counts
        return clone

    def _fetch_all(self):
        fetched = self._result_cache is not None
        super()._fetch_all()
        if self._item_counts and not fetched and self._iterable_class is ModelIterable:
            attach_item_counts(self._result_cache)

    def _iterator(self, use_chunked_fetch, chunk_size):
        shipments = super()._iterator(use_chunked_fetch, chunk_size)
        if not (self._item_counts and self._iterable_class is ModelIterable):
            yield from shipments
            return
        while batch := list(islice(shipments, chunk_size or 2000)):  # `.iterator()`: per batch
            attach_item_counts(batch)
            yield from batch

    def open_discrepancies(self):
        return self.filter(has_discrepancy=True, discrepancy_resolved_at__isnull=True)


class Shipment(ChoiceLabels, models.Model):
    """Devices of approved allocations, from one refurbisher to one organisation's address."""

    class Status(models.TextChoices):
        PREPARED = "prepared", _("Wordt klaargemaakt")
        SHIPPED = "shipped", _("Verzonden")
        DELIVERED = "delivered", _("Afgeleverd")
        CANCELLED = "cancelled", _("Geannuleerd")

    # Every allowed move; delivered and cancelled are terminal.
    transitions = TransitionTable(
        {
            Status.PREPARED: {Status.SHIPPED, Status.CANCELLED},
            Status.SHIPPED: {Status.DELIVERED},
            Status.DELIVERED: set(),
            Status.CANCELLED: set(),
        },
        refused=_("Zending %(ref)s kan niet van '%(from)s' naar '%(to)s'."),
        history="ShipmentEvent",
    )

    refurbisher = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="outgoing_shipments",
        verbose_name=_("opknappartner"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="shipments",
        verbose_name=_("organisatie"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PREPARED
    )
    # The delivery address and contact, copied from the help request when the shipment is
    # made: the packing list must show where this box went, even if the request changes.
    delivery_street = models.CharField(_("straat en huisnummer"), max_length=200)
    delivery_postcode = models.CharField(_("postcode"), max_length=7)
    delivery_city = models.CharField(_("plaats"), max_length=100)
    contact_name = models.CharField(_("contactpersoon"), max_length=200, blank=True)
    contact_phone = PhoneNumberField(_("telefoon contactpersoon"), blank=True)

    carrier = models.CharField(_("vervoerder"), max_length=10, choices=Carrier.choices, blank=True)
    tracking_code = models.CharField(_("track-and-tracecode"), max_length=100, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("aangemaakt door"),
    )
    created_at = models.DateTimeField(_("aangemaakt op"), default=timezone.now)
    shipped_at = models.DateTimeField(_("verzonden op"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("ontvangst bevestigd op"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ontvangst bevestigd door"),
    )
    delivery_note = models.TextField(_("opmerking bij de ontvangst"), blank=True)

    has_discrepancy = models.BooleanField(
        _("afwijking"),
        default=False,
        help_text=_("Bij de ontvangst ontbrak een apparaat of was er een beschadigd."),
    )
    discrepancy_resolved_at = models.DateTimeField(
        _("afwijking afgehandeld op"), null=True, blank=True
    )
    discrepancy_resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("afwijking afgehandeld door"),
    )
    resolution_note = models.TextField(_("hoe de afwijking is afgehandeld"), blank=True)

    objects = ShipmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("zending")
        verbose_name_plural = _("zendingen")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="shipment_newest_first"),
            models.Index(
                fields=["tracking_code"], condition=~Q(tracking_code=""), name="shipment_tracking"
            ),
            models.Index(fields=["refurbisher", "status"], name="shipment_refurbisher_status"),
            models.Index(fields=["organisation", "status"], name="shipment_organisation_status"),
            models.Index(
                fields=["delivered_at"],
                condition=Q(has_discrepancy=True, discrepancy_resolved_at__isnull=True),
                name="shipment_open_discrepancy",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["prepared", "shipped", "delivered", "cancelled"]),
                name="shipment_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["prepared", "cancelled"])
                | (~Q(carrier="") & Q(shipped_at__isnull=False)),
                name="shipment_shipped_has_carrier",
            ),
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False),
                name="shipment_delivered_has_time",
            ),
            models.CheckConstraint(
                condition=Q(has_discrepancy=False) | Q(status="delivered"),
                name="shipment_discrepancy_only_delivered",
            ),
            models.CheckConstraint(
                condition=Q(discrepancy_resolved_at__isnull=True) | Q(has_discrepancy=True),
                name="shipment_resolved_only_discrepancy",
            ),
            # A double click on "make a shipment" must not make two open boxes for one address.
            models.UniqueConstraint(
                fields=["refurbisher", "organisation", "delivery_postcode", "delivery_street"],
                condition=Q(status="prepared"),
                name="shipment_one_prepared_per_address",
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def reference(self) -> str:
        """A short human reference such as ZND-2026-00042 (year of creation, then the id)."""
        return f"ZND-{timezone.localtime(self.created_at).year}-{self.pk or 0:05d}"

    @property
    def delivery_address(self) -> str:
        return f"{self.delivery_street}, {self.delivery_postcode} {self.delivery_city}"

    @property
    def discrepancy_open(self) -> bool:
        return self.has_discrepancy and self.discrepancy_resolved_at is None


class ShipmentItem(ChoiceLabels, models.Model):
    """One device of a shipment, through its allocation; the organisation says what arrived."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Nog niet bevestigd")
        RECEIVED = "received", _("Ontvangen")
        DAMAGED = "damaged", _("Beschadigd ontvangen")
        MISSING = "missing", _("Ontbreekt")

    shipment = models.ForeignKey(
        Shipment, on_delete=models.PROTECT, related_name="items", verbose_name=_("zending")
    )
    # No foreign-key trigger to the allocation table (see allocation.py): PostgreSQL would
    # check every proposal a run deletes against this table. Only approved allocations are
    # scanned onto a shipment, and decided allocations are never deleted.
    allocation = models.ForeignKey(
        Allocation,
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="shipment_items",
        verbose_name=_("toewijzing"),
    )
    device = models.ForeignKey(
        "donations.Device",
        on_delete=models.PROTECT,
        related_name="shipment_items",
        verbose_name=_("apparaat"),
    )
    request = models.ForeignKey(
        "helprequests.HelpRequest",
        on_delete=models.PROTECT,
        related_name="shipment_items",
        verbose_name=_("hulpaanvraag"),
    )
    outcome = models.CharField(
        _("ontvangst"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING
    )
    note = models.CharField(_("opmerking"), max_length=500, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("gescand door"),
    )
    added_at = models.DateTimeField(_("gescand op"), default=timezone.now)

    class Meta:
        verbose_name = _("apparaat in zending")
        verbose_name_plural = _("apparaten in zending")
        ordering = ["added_at", "id"]
        indexes = [models.Index(fields=["request", "outcome"], name="shipment_item_request")]
        constraints = [
            models.UniqueConstraint(fields=["allocation"], name="shipment_item_one_per_allocation"),
            models.UniqueConstraint(
                fields=["shipment", "device"], name="shipment_item_device_once"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["pending", "received", "damaged", "missing"]),
                name="shipment_item_outcome_valid",
            ),
        ]

    def __str__(self):
        return f"{self.shipment}: {self.device}"


class ShipmentEvent(StatusEvent):
    """History of a shipment: who moved it, when, from what to what, and why."""

    subject = "shipment"
    statuses = Shipment.Status

    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="events")

    class Meta(StatusEvent.Meta):
        verbose_name = _("statuswijziging zending")
        verbose_name_plural = _("statuswijzigingen zendingen")


class HandoutReport(models.Model):
    """How many of a request's delivered devices the organisation handed out, and how many
    people they reached (its target group). Counts only: never names or other personal data."""

    request = models.OneToOneField(
        "helprequests.HelpRequest",
        on_delete=models.PROTECT,
        related_name="handout_report",
        verbose_name=_("hulpaanvraag"),
    )
    devices_handed_out = models.PositiveIntegerField(_("uitgegeven apparaten"))
    people_reached = models.PositiveIntegerField(_("bereikte mensen"))
    note = models.TextField(_("toelichting"), max_length=1000, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("gemeld door"),
    )
    reported_at = models.DateTimeField(_("gemeld op"), default=timezone.now)
    updated_at = models.DateTimeField(_("laatst bijgewerkt"), default=timezone.now)

    class Meta:
        verbose_name = _("uitgifte")
        verbose_name_plural = _("uitgiftes")
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["-updated_at", "-id"], name="handout_newest_first")]
        constraints = [
            models.CheckConstraint(
                condition=Q(people_reached__gte=models.F("devices_handed_out")),
                name="handout_people_at_least_devices",
                violation_error_message=_("Elk uitgegeven apparaat helpt ten minste één persoon."),
            ),
        ]

    def __str__(self):
        return _("Uitgifte %(ref)s") % {"ref": self.request}


class HandoutReminder(models.Model):
    """The reminders sent for a request's missing hand-out report (makes the job idempotent)."""

    request = models.OneToOneField(
        "helprequests.HelpRequest",
        on_delete=models.CASCADE,
        related_name="handout_reminder",
        verbose_name=_("hulpaanvraag"),
    )
    sent = models.PositiveSmallIntegerField(_("herinneringen verstuurd"), default=0)
    last_sent_at = models.DateTimeField(_("laatste herinnering"))

    class Meta:
        verbose_name = _("herinnering uitgifte")
        verbose_name_plural = _("herinneringen uitgifte")

    def __str__(self):
        return f"{self.request}: {self.sent}"


def attach_item_counts(shipments) -> None:
    """`n_items`, `n_received`, `n_damaged` and `n_missing` on each of these shipments."""
    if not shipments:
        return
    outcome = ShipmentItem.Outcome
    rows = (
        ShipmentItem.objects.filter(shipment_id__in=[s.pk for s in shipments])
        .order_by()
        .values_list("shipment_id")
        .annotate(
            items=Count("pk"),
            received=Count("pk", filter=Q(outcome=outcome.RECEIVED)),
            damaged=Count("pk", filter=Q(outcome=outcome.DAMAGED)),
            missing=Count("pk", filter=Q(outcome=outcome.MISSING)),
        )
    )
    counts = {shipment_id: numbers for shipment_id, *numbers in rows}
    for shipment in shipments:
        shipment.n_items, shipment.n_received, shipment.n_damaged, shipment.n_missing = counts.get(
            shipment.pk, (0, 0, 0, 0)
        )
