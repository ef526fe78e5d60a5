"""The coordinators' view of refurbishment: the chain of custody of any device, erasure records
and their evidence, tests, certificates and the wiping stations' API tokens.

Everything here is read-only: custody events, erasure records and certificates are evidence.
"""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from allemaal.admin import StatusEventInline
from allemaal.admin_speed import FastChangeListMixin, choices_filter
from donations.admin_search import device_codes
from donations.models import Device, DeviceEvent
from donations.vocabulary import normalise_serial

from . import services
from .asset_tags import format_asset_tag
from .models import (
    DeviceInspection,
    DeviceTrail,
    DriveErasure,
    ErasureCertificate,
    ErasureRecord,
    IntakeScan,
    StationToken,
)


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DeviceEventInline(ReadOnlyMixin, StatusEventInline):
    """The device's chain of custody, oldest first; the donations admin may reuse it."""

    model = DeviceEvent
    status_fields = ("from_state", "to_state")
    fields = ["at", "from_label", "to_label", "organisation", "by", "note"]
    readonly_fields = fields
    ordering = ["at", "id"]
    verbose_name_plural = _("herkomst (alle statuswijzigingen)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organisation")


class ErasureRecordInline(ReadOnlyMixin, admin.TabularInline):
    model = ErasureRecord
    fields = ["created_at", "result", "standard", "technique", "tool", "tool_version"]
    fields += ["evidence_link"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    @admin.display(description=_("bewijsbestand"))
    def evidence_link(self, record):
        return _evidence_link(record)


class DeviceInspectionInline(ReadOnlyMixin, admin.TabularInline):
    model = DeviceInspection
    fields = ["at", "passed", "grade", "os_installed", "battery_health_pct", "by", "notes"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


# Serial numbers and asset tags found by an exact match on their unique indexes.
DEVICE_CODES = device_codes()
RELATED_DEVICE_CODES = device_codes("device__")


def _evidence_link(record):
    if not record.evidence:
        return "-"
    url = reverse("refurbish:erasure_evidence", args=[record.pk])
    return format_html('<a href="{}">{}</a>', url, record.evidence_name or _("bestand"))


@admin.register(DeviceTrail)
class DeviceTrailAdmin(FastChangeListMixin, ReadOnlyMixin, admin.ModelAdmin):
    """Find any device by serial number or asset tag and read its full trail."""

    list_display = ["tag", "serial_number", "state", "kind", "donation", "donor", "refurbisher"]
    list_select_related = ["donation", "donation__donor", "donation__refurbisher"]
    list_filter = ["state", "kind"]
    search_fields = ["=serial_number", "=asset_tag"]
    exact_search = DEVICE_CODES
    ordering = ["-id"]
    fields = [
        "serial_number",
        "asset_tag",
        "state",
        "state_changed_at",
        "kind",
        "make",
        "model",
        "year",
        "grade",
        "os_installed",
        "recycle_reason",
        "donation",
    ]
    readonly_fields = fields
    inlines = [DeviceEventInline, ErasureRecordInline, DeviceInspectionInline]
    show_full_result_count = False

    @admin.display(description=_("apparaatcode"), ordering="asset_tag")
    def tag(self, device):
        return format_asset_tag(device.asset_tag) or "-"

    @admin.display(description=_("donateur"))
    def donor(self, device):
        return device.donation.donor

    @admin.display(description=_("opknappartner"))
    def refurbisher(self, device):
        return device.donation.refurbisher or "-"


if not admin.site.is_registered(DeviceEvent):

    @admin.register(DeviceEvent)
    class DeviceEventAdmin(FastChangeListMixin, ReadOnlyMixin, admin.ModelAdmin):
        """Custody events, read-only (PostgreSQL also refuses any UPDATE or DELETE)."""

        list_display = ["at", "device", "from_label", "to_label", "organisation", "by", "note"]
        list_select_related = ["device", "organisation", "by"]
        # A date filter with fixed choices: a date hierarchy would SELECT DISTINCT the dates
        # of millions of events on every page.
        list_filter = [
            choices_filter("to_state", _("naar status"), Device.State.choices),
            ("at", admin.DateFieldListFilter),
        ]
        search_fields = ["=device__serial_number", "=device__asset_tag"]
        exact_search = RELATED_DEVICE_CODES
        ordering = ["-id"]

        @admin.display(description=_("van"))
        def from_label(self, event):
            return event.status_label(event.from_state)

        @admin.display(description=_("naar"))
        def to_label(self, event):
            return event.status_label(event.to_state)


class DriveErasureInline(ReadOnlyMixin, admin.TabularInline):
    model = DriveErasure
    fields = ["device_path", "model", "serial", "status", "pass_errors", "verify_errors"]
    fields += ["fdatasync_errors", "duration", "result"]
    readonly_fields = fields
    extra = 0


@admin.register(ErasureRecord)
class ErasureRecordAdmin(FastChangeListMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "device",
        "organisation",
        "result",
        "standard",
        "technique",
        "tool",
        "source",
    ]
    list_select_related = ["device", "organisation"]
    list_filter = ["result", "standard", "technique", "source"]
    search_fields = ["=device__serial_number", "=device__asset_tag"]
    exact_search = RELATED_DEVICE_CODES
    ordering = ["-id"]
    readonly_fields = [f.name for f in ErasureRecord._meta.fields if f.name != "evidence"]
    readonly_fields += ["evidence_link"]
    exclude = ["evidence"]
    inlines = [DriveErasureInline]
    show_full_result_count = False

    @admin.display(description=_("bewijsbestand"))
    def evidence_link(self, record):
        return _evidence_link(record)


@admin.register(DeviceInspection)
class DeviceInspectionAdmin(FastChangeListMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["at", "device", "organisation", "passed", "grade", "os_installed"]
    list_select_related = ["device", "organisation"]
    list_filter = ["passed", "grade", "os_installed"]
    search_fields = ["=device__serial_number", "=device__asset_tag"]
    exact_search = RELATED_DEVICE_CODES
    ordering = ["-id"]
    readonly_fields = [f.name for f in DeviceInspection._meta.fields]


@admin.register(IntakeScan)
class IntakeScanAdmin(FastChangeListMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["at", "scanned_value", "device", "donation", "on_manifest", "organisation"]
    list_select_related = ["device", "donation", "organisation"]
    list_filter = ["on_manifest"]
    search_fields = ["=scanned_value", "=device__asset_tag"]
    exact_search = {"scanned_value": normalise_serial, **RELATED_DEVICE_CODES}
    ordering = ["-id"]
    readonly_fields = [f.name for f in IntakeScan._meta.fields]


@admin.register(ErasureCertificate)
class ErasureCertificateAdmin(FastChangeListMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["issued_at", "donation", "donor", "display_code", "pdf"]
    list_select_related = ["donation", "donation__donor"]
    search_fields = ["=code", "donation__donor__name"]
    readonly_fields = ["donation", "code", "issued_at", "summary", "pdf"]

    @admin.display(description=_("donateur"))
    def donor(self, certificate):
        return certificate.donation.donor

    @admin.display(description=_("PDF"))
    def pdf(self, certificate):
        url = reverse("refurbish:certificate", args=[certificate.donation_id])
        return format_html('<a href="{}">{}</a>', url, _("downloaden"))


@admin.register(StationToken)
class StationTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["organisation"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "organisation__name", "=prefix"]
    fields = ["organisation", "name", "prefix", "created_by", "created_at", "last_used_at"]
    fields += ["revoked_at", "revoked_by"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # the refurbisher's admin creates tokens; only they see the token once

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Intrekken"), permissions=["change"])
    def revoke(self, request, queryset):
        for token in queryset:
            services.station_token_revoke(token, by=request.user)
        self.message_user(request, _("Ingetrokken."), messages.SUCCESS)
