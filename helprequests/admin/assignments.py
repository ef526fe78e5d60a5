"""The coordinators' view of internet assignments: who provides what for which request, which
bundles end soon, and withdrawing an assignment that was not provided yet (with a reason the
provider reads). New assignments start from the help requests (action or button)."""

import re

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from allemaal.admin import StatusEventInline, ask_reason
from allemaal.admin_speed import FastChangeListMixin, organisation_filter
from allemaal.exports import Column, ExportMixin, ExportSpec, register

from ..models import (
    ConnectivityAssignment,
    ConnectivityEvent,
    ConnectivityReminder,
    ProvisionUpload,
)
from ..services import connectivity

ASSIGNMENT_RE = re.compile(r"^\s*INT-?0*(\d+)\s*$", re.IGNORECASE)
REQUEST_RE = re.compile(r"^\s*AAN-(\d{4})-0*(\d+)\s*$", re.IGNORECASE)


class BundleEndsFilter(admin.SimpleListFilter):
    title = _("databundel loopt af")
    parameter_name = "bundle"

    def lookups(self, request, model_admin):
        return [
            ("soon", _("binnen %(n)d dagen") % {"n": ConnectivityAssignment.REMINDER_DAYS}),
            ("ended", _("al afgelopen")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "soon":
            return queryset.bundles_ending(today, days=ConnectivityAssignment.REMINDER_DAYS)
        if self.value() == "ended":
            return queryset.filter(
                status=ConnectivityAssignment.Status.FULFILLED, bundle_ends_on__lt=today
            )
        return queryset


class ConnectivityEventInline(StatusEventInline):
    model = ConnectivityEvent


register(
    ExportSpec(
        "helprequests.connectivityassignment",
        [
            Column(_("opdracht"), "reference"),
            Column(_("hulpaanvraag"), "help_request.reference"),
            Column(_("organisatie"), "help_request.organisation.name"),
            Column(_("provincie"), "help_request.delivery_province"),
            Column(_("telecomaanbieder"), "provider.name"),
            Column(_("huishoudens"), "households"),
            Column(_("status"), "get_status_display"),
            Column(_("simkaarten"), "sim_cards"),
            Column(_("mobiele hotspots"), "hotspots"),
            Column(_("databundel loopt af op"), "bundle_ends_on"),
            Column(_("toegewezen op"), "assigned_at"),
            Column(_("geleverd op"), "fulfilled_at"),
            Column(_("ingetrokken op"), "withdrawn_at"),
        ],
        filename="internetopdrachten",
        select_related=("help_request__organisation", "provider"),
    )
)


@admin.register(ConnectivityAssignment)
class ConnectivityAssignmentAdmin(FastChangeListMixin, ExportMixin, admin.ModelAdmin):
    list_display = [
        "reference_display",
        "request_link",
        "organisation_display",
        "provider",
        "households",
        "status",
        "sim_cards",
        "hotspots",
        "bundle_ends_on",
        "assigned_at",
    ]
    list_display_links = ["reference_display"]
    list_select_related = ["help_request__organisation", "provider"]
    list_filter = [
        "status",
        organisation_filter("provider", "telecom", _("telecomaanbieder")),
        BundleEndsFilter,
        "help_request__delivery_province",
    ]
    search_fields = ["provider__name", "help_request__organisation__name"]
    search_help_text = _(
        "Zoek op opdracht (INT-00042), hulpaanvraag (AAN-2026-00042), organisatie of "
        "telecomaanbieder."
    )
    ordering = ["-id"]
    actions = ["withdraw"]
    inlines = [ConnectivityEventInline]
    fields = [
        "reference_display",
        "request_link",
        "organisation_display",
        "provider",
        "households",
        "status",
        "note",
        ("sim_cards", "hotspots", "bundle_ends_on"),
        "provider_note",
        ("assigned_at", "assigned_by"),
        ("fulfilled_at", "fulfilled_by"),
        ("withdrawn_at", "withdrawn_by"),
        "withdrawal_reason",
    ]
    # Everything changes through the services (the withdraw action, the provider's report).
    readonly_fields = [
        name for entry in fields for name in (entry if isinstance(entry, tuple) else [entry])
    ]

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "help_request__organisation",
                "provider",
                "assigned_by",
                "fulfilled_by",
                "withdrawn_by",
            )
        )

    def get_search_results(self, request, queryset, search_term):
        """A reference finds its assignment or request exactly; else the names are searched."""
        if match := ASSIGNMENT_RE.match(search_term):
            return queryset.filter(pk=int(match.group(1))), False
        if match := REQUEST_RE.match(search_term):
            return queryset.filter(
                help_request_id=int(match.group(2)),
                help_request__created_at__year=int(match.group(1)),
            ), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("opdracht"), ordering="id")
    def reference_display(self, obj):
        return obj.reference

    @admin.display(description=_("hulpaanvraag"), ordering="help_request_id")
    def request_link(self, obj):
        url = reverse("admin:helprequests_helprequest_change", args=[obj.help_request_id])
        return format_html('<a href="{}">{}</a>', url, obj.help_request.reference)

    @admin.display(description=_("organisatie"))
    def organisation_display(self, obj):
        return obj.help_request.organisation.name

    @admin.action(description=_("Intrekken (met reden)"), permissions=["change"])
    def withdraw(self, request, queryset):
        return ask_reason(
            self,
            request,
            queryset,
            title=_("Internetopdrachten intrekken"),
            apply=lambda obj, reason: connectivity.connectivity_withdraw(
                obj, by=request.user, reason=reason
            ),
        )


@admin.register(ConnectivityReminder)
class ConnectivityReminderAdmin(admin.ModelAdmin):
    list_display = ["week", "provider", "bundles", "recipients", "created_at"]
    list_select_related = ["provider"]
    readonly_fields = [f.name for f in ConnectivityReminder._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ProvisionUpload)
class ProvisionUploadAdmin(admin.ModelAdmin):
    """Large CSV uploads of telecom providers and how their background job went (read only; a
    job that waited or lost its worker is queued again by beat every 5 minutes)."""

    list_display = [
        "file_name",
        "provider",
        "status",
        "rows_read",
        "fulfilled",
        "total_errors",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status"]
    list_select_related = ["provider"]
    date_hierarchy = "created_at"
    exclude = ["file"]
    readonly_fields = [f.name for f in ProvisionUpload._meta.fields if f.name != "file"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
