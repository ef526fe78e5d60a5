"""Shipments, hand-out reports, support contacts and returns for coordinators (read mostly;
settling a discrepancy and cancelling a packed shipment are actions that call the services)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from allemaal.admin import StatusEventInline
from allemaal.admin_speed import (
    FastChangeListMixin,
    any_of,
    organisation_filter,
    organisations_named,
)
from allemaal.exports import ExportMixin
from allemaal.forms import ReasonForm
from allemaal.services import DomainError
from donations.admin_search import devices_with_code
from refurbish.asset_tags import format_asset_tag

from .. import services
from ..models import (
    DeviceReturn,
    HandoutReport,
    Shipment,
    ShipmentEvent,
    ShipmentItem,
    SupportContact,
    normalise_tracking_code,
)
from .common import TitledChangeList, page


def device_or_organisation(queryset, search_term: str):
    """Rows of a device by its asset tag (as printed, any case) or serial number, or of the
    organisations whose name contains the term; each on an index of the list."""
    term = search_term.strip()
    if not term:
        return queryset, False
    return queryset.filter(
        any_of("device_id", devices_with_code(term))
        | any_of("organisation_id", organisations_named(term))
    ), False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ShipmentItemInline(ReadOnlyInline):
    model = ShipmentItem
    fields = ["tag", "device", "request", "outcome", "note", "added_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("device", "request", "shipment")

    @admin.display(description=_("apparaatcode"))
    def tag(self, item):
        return format_asset_tag(item.device.asset_tag)


class ShipmentEventInline(StatusEventInline):
    model = ShipmentEvent


class DiscrepancyFilter(admin.SimpleListFilter):
    title = _("afwijking")
    parameter_name = "afwijking"

    def lookups(self, request, model_admin):
        return [("open", _("open")), ("resolved", _("afgehandeld")), ("none", _("geen"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "open":
            return queryset.open_discrepancies()
        if value == "resolved":
            return queryset.filter(has_discrepancy=True, discrepancy_resolved_at__isnull=False)
        if value == "none":
            return queryset.filter(has_discrepancy=False)
        return queryset


@admin.register(Shipment)
class ShipmentAdmin(FastChangeListMixin, ExportMixin, TitledChangeList):
    list_display = [
        "__str__",
        "status",
        "discrepancy",  # near the start: on screen at 1280 px
        "organisation",
        "refurbisher",
        "devices",
        "shipped_at",
        "delivered_at",
    ]
    list_select_related = ["organisation", "refurbisher"]
    list_filter = [
        "status",
        DiscrepancyFilter,
        organisation_filter("refurbisher", "refurbisher", _("opknappartner")),
        "carrier",
    ]
    search_fields = ["tracking_code"]  # shows the search box; see get_search_results
    search_help_text = _(
        "ZND-nummer van de zending, organisatie, opknappartner of track-and-tracecode."
    )
    ordering = ["-created_at", "-id"]
    actions = ["resolve", "cancel"]
    inlines = [ShipmentItemInline, ShipmentEventInline]
    fields = [
        "status",
        "refurbisher",
        "organisation",
        "delivery_street",
        "delivery_postcode",
        "delivery_city",
        "contact_name",
        "contact_phone",
        "carrier",
        "tracking_code",
        "created_by",
        "created_at",
        "shipped_at",
        "delivered_at",
        "confirmed_by",
        "delivery_note",
        "has_discrepancy",
        "discrepancy_resolved_at",
        "discrepancy_resolved_by",
        "resolution_note",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).with_counts()

    def get_search_results(self, request, queryset, search_term):
        """A ZND-number, a track-and-trace code (exact), or an organisation or refurbisher by
        name; each on an index of the shipments."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.upper().startswith("ZND-"):
            number = term.rsplit("-", 1)[-1].lstrip("0")
            return queryset.filter(pk=int(number) if number.isdigit() else 0), False
        named = organisations_named(term)
        return queryset.filter(
            Q(tracking_code=normalise_tracking_code(term))
            | any_of("organisation_id", named)
            | any_of("refurbisher_id", named)
        ), False

    @admin.display(description=_("apparaten"), ordering=Shipment.objects.item_count())
    def devices(self, shipment):
        return shipment.n_items

    @admin.display(description=_("afwijking"))
    def discrepancy(self, shipment):
        if not shipment.has_discrepancy:
            return "-"
        counts = _("%(missing)d ontbreken, %(damaged)d beschadigd") % {
            "missing": shipment.n_missing,
            "damaged": shipment.n_damaged,
        }
        if shipment.discrepancy_open:
            return format_html("<strong>{}</strong>: {}", _("open"), counts)
        return f"{_('afgehandeld')}: {counts}"

    @admin.action(description=_("Afwijking afhandelen (met toelichting)"), permissions=["change"])
    def resolve(self, request, queryset):
        return self._each_with_reason(
            request,
            queryset,
            _("Afwijking afhandelen: wat dan nog ontbreekt, staat daarna als zoekgeraakt"),
            lambda shipment, reason: services.shipment_resolve_discrepancy(
                shipment.pk, by=request.user, note=reason
            ),
            _("%(n)d afwijkingen afgehandeld."),
        )

    @admin.action(description=_("Zending in voorbereiding annuleren"), permissions=["change"])
    def cancel(self, request, queryset):
        return self._each_with_reason(
            request,
            queryset,
            _("Zendingen annuleren: de apparaten blijven toegewezen"),
            lambda shipment, reason: services.shipment_cancel(
                shipment.pk, by=request.user, reason=reason
            ),
            _("%(n)d zendingen geannuleerd."),
        )

    def _each_with_reason(self, request, queryset, title, call, done_message):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return page(
                self,
                request,
                "admin/ask_reason.html",
                title,
                form=form,
                objects=queryset,
                action=request.POST.get("action"),
                checkbox_name=ACTION_CHECKBOX_NAME,
            )
        done = 0
        for shipment in queryset.order_by("pk"):
            try:
                call(shipment, form.cleaned_data["reason"])
            except DomainError as exc:
                self.message_user(request, f"{shipment}: {exc}", messages.ERROR)
            else:
                done += 1
        level = messages.SUCCESS if done else messages.WARNING
        self.message_user(request, done_message % {"n": done}, level)
        return None


@admin.register(HandoutReport)
class HandoutReportAdmin(FastChangeListMixin, TitledChangeList):
    list_display = [
        "request",
        "organisation",
        "target_group",
        "province",
        "devices_handed_out",
        "people_reached",
        "updated_at",
    ]
    list_select_related = ["request__organisation"]
    list_filter = ["request__target_group", "request__delivery_province"]
    search_fields = ["request__organisation__name"]
    ordering = ["-updated_at", "-id"]
    fields = [
        "request",
        "devices_handed_out",
        "people_reached",
        "note",
        "reported_by",
        "reported_at",
        "updated_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("organisatie"), ordering="request__organisation__name")
    def organisation(self, report):
        return report.request.organisation.name

    @admin.display(description=_("doelgroep"))
    def target_group(self, report):
        return report.request.target_group_label

    @admin.display(description=_("provincie"))
    def province(self, report):
        return report.request.delivery_province or report.request.organisation.province


@admin.register(SupportContact)
class SupportContactAdmin(FastChangeListMixin, ExportMixin, TitledChangeList):
    list_display = ["at", "tag", "organisation", "channel", "category", "outcome", "by"]
    list_select_related = ["device", "organisation", "by"]
    list_filter = ["category", "outcome", "channel"]
    search_fields = ["device__serial_number"]  # shows the search box; see get_search_results
    search_help_text = _("Apparaatcode, serienummer of organisatie.")
    ordering = ["-at", "-id"]
    fields = [
        "device",
        "organisation",
        "channel",
        "category",
        "summary",
        "outcome",
        "by",
        "at",
        "resolved_at",
        "resolved_by",
        "resolution_note",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # the helpdesk logs contacts at /helpdesk/

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        return device_or_organisation(queryset, search_term)

    @admin.display(description=_("apparaatcode"), ordering="device__asset_tag")
    def tag(self, contact):
        return format_asset_tag(contact.device.asset_tag) or contact.device.serial_number


@admin.register(DeviceReturn)
class DeviceReturnAdmin(FastChangeListMixin, TitledChangeList):
    list_display = ["at", "tag", "organisation", "refurbisher", "replacement", "reason", "by"]
    list_select_related = ["device", "organisation", "refurbisher", "by"]
    list_filter = ["replacement"]
    search_fields = ["device__serial_number"]  # shows the search box; see get_search_results
    search_help_text = _("Apparaatcode, serienummer of organisatie.")
    ordering = ["-at", "-id"]
    fields = [
        "device",
        "allocation",
        "request",
        "organisation",
        "refurbisher",
        "contact",
        "reason",
        "replacement",
        "by",
        "at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        return device_or_organisation(queryset, search_term)

    @admin.display(description=_("apparaatcode"), ordering="device__asset_tag")
    def tag(self, device_return):
        return format_asset_tag(device_return.device.asset_tag)
