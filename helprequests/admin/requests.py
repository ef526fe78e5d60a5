"""The coordinators' change list and change form of help requests: review, compare a possible
twin side by side, export. The decisions on a request are in `admin.decisions`."""

import re

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from allemaal.admin import StatusEventInline
from allemaal.admin_speed import FastChangeListMixin
from allemaal.exports import Column, ExportMixin, ExportSpec, register

from .. import selectors
from ..models import ConnectivityAssignment, HelpRequest, HelpRequestEvent
from .decisions import HelpRequestDecisionsMixin
from .filters import AgeFilter, ConnectivityFilter, DuplicateFilter

REFERENCE_RE = re.compile(r"^\s*AAN-(\d{4})-0*(\d+)\s*$", re.IGNORECASE)


class HelpRequestEventInline(StatusEventInline):
    model = HelpRequestEvent


class ConnectivityAssignmentInline(admin.TabularInline):
    model = ConnectivityAssignment
    extra = 0
    can_delete = False
    fields = [
        "reference_link",
        "provider",
        "households",
        "status",
        "sim_cards",
        "hotspots",
        "bundle_ends_on",
        "assigned_at",
    ]
    readonly_fields = fields
    verbose_name_plural = _("internetverbinding (telecomaanbieders)")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("provider")

    @admin.display(description=_("opdracht"))
    def reference_link(self, obj):
        url = reverse("admin:helprequests_connectivityassignment_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.reference)


def _counts(laptops: int, tablets: int, either: int) -> str:
    # Translated as it is called (for each row of a list): a lazy text costs a translation
    # lookup each time it is formatted and again each time it is written out.
    text = gettext("%(l)d laptop, %(t)d tablet, %(e)d beide")
    return text % {"l": laptops, "t": tablets, "e": either}


# Rows of the side-by-side comparison of a request and its suspected twin.
TWIN_ROWS = [
    (_("Referentie"), lambda r: r.reference),
    (_("Status"), lambda r: r.get_status_display()),
    (_("Organisatie"), lambda r: r.organisation.name),
    (_("KvK-nummer"), lambda r: r.organisation.kvk_number),
    (_("BRIN-code"), lambda r: r.organisation.brin_code or "—"),
    (_("Doelgroep"), lambda r: r.target_group_label),
    (_("Aangevraagd"), lambda r: _counts(r.laptops, r.tablets, r.either)),
    (_("Mensen geholpen"), lambda r: r.people_reached),
    (_("Urgentie"), lambda r: r.get_urgency_display()),
    (
        _("Bezorgadres"),
        lambda r: f"{r.delivery_street}, {r.delivery_postcode} {r.delivery_city}",
    ),
    (_("Contactpersoon"), lambda r: f"{r.contact_name} ({r.contact_phone})"),
    (
        _("Ingediend op"),
        lambda r: (
            r.submitted_at and date_format(timezone.localtime(r.submitted_at), "DATETIME_FORMAT")
        ),
    ),
    (_("Toelichting"), lambda r: r.motivation),
]


register(
    ExportSpec(
        "helprequests.helprequest",
        [
            Column(_("referentie"), "reference"),
            Column(_("organisatie"), "organisation.name"),
            Column(_("KvK-nummer"), "organisation.kvk_number"),
            Column(_("BRIN-code"), "organisation.brin_code"),
            Column(_("status"), "get_status_display"),
            Column(_("doelgroep"), "target_group_label"),
            Column(_("kan niet thuis les volgen"), "no_home_schooling"),
            Column(_("laptops"), "laptops"),
            Column(_("tablets"), "tablets"),
            Column(_("laptop of tablet"), "either"),
            Column(_("goedgekeurd: laptops"), "approved_laptops"),
            Column(_("goedgekeurd: tablets"), "approved_tablets"),
            Column(_("goedgekeurd: laptop of tablet"), "approved_either"),
            Column(_("mensen geholpen"), "people_reached"),
            Column(_("huishoudens zonder internet"), "connectivity_households"),
            Column(_("urgentie"), "get_urgency_display"),
            Column(_("nodig uiterlijk op"), "need_by"),
            Column(_("plaats"), "delivery_city"),
            Column(_("postcode"), "delivery_postcode"),
            Column(_("provincie"), "delivery_province"),
            Column(_("contactpersoon"), "contact_name"),
            Column(_("telefoon"), lambda r: r.contact_phone.as_national if r.contact_phone else ""),
            Column(_("ingediend op"), "submitted_at"),
            Column(_("goedgekeurd op"), "approved_at"),
            Column(_("mogelijk dubbel met"), "duplicate_of.reference"),
        ],
        filename="hulpaanvragen",
        select_related=("organisation", "duplicate_of"),
    )
)


@admin.register(HelpRequest)
class HelpRequestAdmin(
    HelpRequestDecisionsMixin, FastChangeListMixin, ExportMixin, admin.ModelAdmin
):
    list_display = [
        "reference_display",
        "status",  # near the start: on screen at 1280 px
        "organisation",
        "target_group",
        "requested_display",
        "approved_display",
        "urgency",
        "need_by",
        "delivery_province",
        "submitted_at",
        "duplicate_display",
        "connectivity_display",
    ]
    list_display_links = ["reference_display"]
    list_select_related = ["organisation", "duplicate_of"]
    list_filter = [
        "status",
        "target_group",
        "delivery_province",
        "urgency",
        AgeFilter,
        DuplicateFilter,
        ConnectivityFilter,
        "no_home_schooling",
    ]
    search_fields = ["organisation__name", "=organisation__brin_code", "=organisation__kvk_number"]
    search_help_text = _(
        "Zoek op referentie (AAN-2026-00042), organisatie, BRIN-code of KvK-nummer."
    )
    # Newest first by the primary key: an index scan whatever the filters.
    ordering = ["-id"]
    actions = [
        "approve_as_requested",
        "reject",
        "mark_fulfilled",
        "close_fulfilled",
        "assign_connectivity",
    ]
    inlines = [HelpRequestEventInline, ConnectivityAssignmentInline]
    change_form_template = "helprequests/admin/change_form.html"
    fieldsets = [
        (
            _("Aanvraag"),
            {
                "fields": [
                    "reference_display",
                    "organisation_display",
                    "status",
                    "target_group",
                    "target_group_other",
                    "no_home_schooling",
                    "urgency",
                    "need_by",
                    "motivation",
                    "submitted_at",
                ]
            },
        ),
        (
            _("Apparaten"),
            {
                "fields": [
                    ("laptops", "tablets", "either"),
                    "people_reached",
                    "connectivity_households",
                ]
            },
        ),
        (
            _("Bezorging"),
            {
                "fields": [
                    "delivery_street",
                    ("delivery_postcode", "delivery_city"),
                    "delivery_province",
                    ("contact_name", "contact_phone"),
                    "declaration",
                ]
            },
        ),
        (
            _("Besluit"),
            {
                "fields": [
                    ("approved_laptops", "approved_tablets", "approved_either"),
                    "approved_at",
                    "decision_reason",
                    ("decided_by", "decided_at"),
                ]
            },
        ),
        (_("Mogelijk dubbel"), {"fields": ["duplicate_reason", "twin_comparison"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # Coordinators correct only the derived province; everything else changes through the
        # organisation or through the decision buttons.
        editable = {"delivery_province"}
        fields = [f.name for f in HelpRequest._meta.fields if f.name not in editable]
        return [*fields, "reference_display", "organisation_display", "twin_comparison"]

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        return selectors.with_connectivity_assigned(
            super()
            .get_queryset(request)
            .select_related("organisation", "duplicate_of__organisation", "decided_by")
        )

    def get_search_results(self, request, queryset, search_term):
        """A reference finds its request exactly; anything else searches the usual fields."""
        match = REFERENCE_RE.match(search_term)
        if match:
            year, pk = int(match.group(1)), int(match.group(2))
            return queryset.filter(pk=pk, created_at__year=year), False
        return super().get_search_results(request, queryset, search_term)

    # --- Columns ---------------------------------------------------------------------------

    @admin.display(description=_("referentie"), ordering="id")
    def reference_display(self, obj):
        return obj.reference

    @admin.display(description=_("organisatie"))
    def organisation_display(self, obj):
        org = obj.organisation
        url = reverse("admin:allemaal_organisation_change", args=[org.pk])
        return format_html(
            '<a href="{}">{}</a> (KvK {}{})',
            url,
            org.name,
            org.kvk_number,
            f", BRIN {org.brin_code}" if org.brin_code else "",
        )

    @admin.display(description=_("aangevraagd"))
    def requested_display(self, obj):
        return _counts(obj.laptops, obj.tablets, obj.either)

    @admin.display(description=_("goedgekeurd"))
    def approved_display(self, obj):
        if not obj.approved_at:
            return "—"
        return _counts(obj.approved_laptops, obj.approved_tablets, obj.approved_either)

    @admin.display(description=_("mogelijk dubbel met"))
    def duplicate_display(self, obj):
        if not obj.duplicate_of_id:
            return ""
        url = reverse("admin:helprequests_helprequest_change", args=[obj.pk])
        return format_html('<a href="{}#twin">⚠ {}</a>', url, obj.duplicate_of.reference)

    @admin.display(description=_("internet (toegewezen / nodig)"))
    def connectivity_display(self, obj):
        if not obj.connectivity_households:
            return "—"
        return f"{obj.connectivity_assigned} / {obj.connectivity_households}"

    @admin.display(description=_("naast elkaar"))
    def twin_comparison(self, obj):
        twin = obj.duplicate_of
        if twin is None:
            return _("Geen mogelijk dubbele aanvraag gevonden bij het indienen.")
        rows = format_html_join(
            "",
            "<tr><th scope='row'>{}</th><td>{}</td><td>{}</td></tr>",
            ((label, value(obj) or "—", value(twin) or "—") for label, value in TWIN_ROWS),
        )
        twin_url = reverse("admin:helprequests_helprequest_change", args=[twin.pk])
        return format_html(
            '<table id="twin"><thead><tr><th></th><th>{}</th><th><a href="{}">{}</a></th>'
            "</tr></thead><tbody>{}</tbody></table>",
            _("Deze aanvraag"),
            twin_url,
            _("Mogelijk dubbel"),
            rows,
        )
