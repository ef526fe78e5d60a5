"""Stored aggregates of the reporting job (tables named as when they lived in `allemaal`).

`DeviceFact` is a read model: one narrow row per device, derived from the devices, their
custody events, their donation and their allocation. It is rebuilt by the job, never edited;
the dashboard aggregates it with its filters instead of joining a million devices to seven
million events on every page view. `DashboardSnapshot` holds what the job computed for the
unfiltered dashboard, the open demand and the public counters, with the moment it did so.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DashboardSnapshot(models.Model):
    computed_at = models.DateTimeField(_("berekend op"), default=timezone.now, db_index=True)
    # Facts include every change before this moment (the next run picks up from here).
    started_at = models.DateTimeField(_("gestart op"))
    seconds = models.FloatField(_("rekentijd (seconden)"), default=0)
    full_rebuild = models.BooleanField(_("alles opnieuw berekend"), default=False)
    facts_refreshed = models.PositiveIntegerField(_("bijgewerkte apparaten"), default=0)
    data = models.JSONField(_("cijfers"), default=dict)

    class Meta:
        db_table = "allemaal_dashboardsnapshot"
        verbose_name = _("berekening dashboard")
        verbose_name_plural = _("berekeningen dashboard")
        ordering = ["-computed_at", "-id"]

    def __str__(self):
        return str(timezone.localtime(self.computed_at).strftime("%Y-%m-%d %H:%M"))

    @classmethod
    def latest(cls) -> "DashboardSnapshot | None":
        return cls.objects.order_by("-computed_at", "-id").first()


class DeviceFact(models.Model):
    """One device as the dashboard counts it. Dates are local dates of the first event that
    reached each state; lead times are whole calendar days between two of them."""

    device_id = models.BigIntegerField(primary_key=True)
    donation_id = models.BigIntegerField()
    donor_id = models.BigIntegerField()
    refurbisher_id = models.BigIntegerField(null=True)
    category = models.CharField(max_length=6)  # laptop (also Chromebooks) or tablet
    state = models.CharField(max_length=12)  # a device state (donations.Device.State)
    state_since = models.DateField()
    # Where the device goes (delivery province of its allocation's request) or, until it is
    # allocated, where it is (its refurbisher's province, or the donor's pickup province).
    province = models.CharField(max_length=20, blank=True)
    target_group = models.CharField(max_length=20, blank=True)
    # In its refurbisher's backlog: received or erased, or announced in a received donation.
    waiting = models.BooleanField(default=False)
    announced_on = models.DateField(null=True)
    received_on = models.DateField(null=True)
    erased_on = models.DateField(null=True)
    ready_on = models.DateField(null=True)
    allocated_on = models.DateField(null=True)
    shipped_on = models.DateField(null=True)
    delivered_on = models.DateField(null=True)
    recycled_on = models.DateField(null=True)
    lead_pledge_received = models.IntegerField(null=True)
    lead_received_ready = models.IntegerField(null=True)
    lead_ready_delivered = models.IntegerField(null=True)

    class Meta:
        db_table = "allemaal_devicefact"
        verbose_name = _("apparaat (dashboard)")
        verbose_name_plural = _("apparaten (dashboard)")
        indexes = [
            models.Index(fields=["donation_id"], name="devicefact_donation"),
            # The job clusters the table on this index at night: the rows of one province
            # (and within it, one target group) then lie together.
            models.Index(fields=["province", "target_group"], name="devicefact_province_group"),
            models.Index(fields=["target_group"], name="devicefact_target_group"),
            models.Index(fields=["refurbisher_id"], name="devicefact_refurbisher"),
        ]

    def __str__(self):
        return str(self.device_id)
