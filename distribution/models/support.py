"""The free support line: contacts about a device, and returns started from them.

A support contact is logged by a helpdesk agent against one device (found by its asset tag or
serial number): the channel, a category, what was done and whether it is resolved. A return
sends the device back to its refurbisher (state `received` again, in the chain of custody) and
closes its allocation: `replaced` when the organisation needs another device (the request's
open quantity reopens), `returned` when it does not.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from allemaal.models import Organisation

from .allocation import Allocation


class SupportContact(models.Model):
    class Channel(models.TextChoices):
        PHONE = "phone", _("Telefoon")
        EMAIL = "email", _("E-mail")

    class Category(models.TextChoices):
        DOES_NOT_START = "does_not_start", _("Start niet op")
        ACCOUNT = "account", _("Account of wachtwoord")
        WIFI = "wifi", _("Wifi of internet")
        HARDWARE = "hardware", _("Kapotte onderdelen")
        OTHER = "other", _("Iets anders")

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", _("Opgelost")
        FOLLOW_UP = "follow_up", _("Vervolg nodig")

    device = models.ForeignKey(
        "donations.Device",
        on_delete=models.PROTECT,
        related_name="support_contacts",
        verbose_name=_("apparaat"),
    )
    # The organisation that had the device at the time of the contact (none if it had none).
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="support_contacts",
        verbose_name=_("organisatie"),
    )
    channel = models.CharField(_("kanaal"), max_length=5, choices=Channel.choices)
    category = models.CharField(_("onderwerp"), max_length=20, choices=Category.choices)
    summary = models.TextField(_("vraag en wat er is gedaan"), max_length=4000)
    outcome = models.CharField(_("uitkomst"), max_length=10, choices=Outcome.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("medewerker"),
    )
    at = models.DateTimeField(_("tijdstip"), default=timezone.now)
    resolved_at = models.DateTimeField(_("opgelost op"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opgelost door"),
    )
    resolution_note = models.TextField(_("hoe het is opgelost"), blank=True)

    class Meta:
        verbose_name = _("contact met de hulplijn")
        verbose_name_plural = _("contacten met de hulplijn")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["-at", "-id"], name="support_contact_newest_first"),
            models.Index(fields=["device", "at"], name="support_contact_device"),
            models.Index(
                fields=["at"], condition=Q(outcome="follow_up"), name="support_contact_open"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=["phone", "email"]), name="support_contact_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    category__in=["does_not_start", "account", "wifi", "hardware", "other"]
                ),
                name="support_contact_category_valid",
            ),
            models.CheckConstraint(
                condition=Q(outcome="resolved", resolved_at__isnull=False)
                | Q(outcome="follow_up", resolved_at__isnull=True),
                name="support_contact_resolved_has_time",
            ),
        ]

    def __str__(self):
        return _("Contact %(n)d over %(device)s") % {"n": self.pk or 0, "device": self.device}


class DeviceReturn(models.Model):
    """A device sent back to its refurbisher through the support line."""

    device = models.ForeignKey(
        "donations.Device",
        on_delete=models.PROTECT,
        related_name="returns",
        verbose_name=_("apparaat"),
    )
    # No foreign-key trigger to the allocation table (see allocation.py).
    allocation = models.OneToOneField(
        Allocation,
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="device_return",
        verbose_name=_("toewijzing"),
    )
    request = models.ForeignKey(
        "helprequests.HelpRequest",
        on_delete=models.PROTECT,
        related_name="device_returns",
        verbose_name=_("hulpaanvraag"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="device_returns",
        verbose_name=_("van organisatie"),
    )
    refurbisher = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="incoming_returns",
        verbose_name=_("naar opknappartner"),
    )
    contact = models.OneToOneField(
        SupportContact,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="device_return",
        verbose_name=_("contact met de hulplijn"),
    )
    reason = models.TextField(_("reden"))
    replacement = models.BooleanField(_("vervanging nodig"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("gestart door"),
    )
    at = models.DateTimeField(_("gestart op"), default=timezone.now)

    class Meta:
        verbose_name = _("retour")
        verbose_name_plural = _("retouren")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["-at", "-id"], name="device_return_newest_first")]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="device_return_has_reason"),
        ]

    def __str__(self):
        return _("Retour van %(device)s") % {"device": self.device}
