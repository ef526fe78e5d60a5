"""The coordinators' side of help requests: review, decide, spot duplicates, open and close
intake, and give connectivity needs to telecom providers (the assignments themselves are in
`admin.assignments`). Every decision calls a service; errors are reported with `message_user`."""

import re
from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from allemaal.admin import ask_reason
from allemaal.admin_speed import FastChangeListMixin
from allemaal.exports import Column, ExportMixin, ExportSpec, register
from allemaal.services import DomainError

from .. import selectors, services
from ..forms import ApproveForm, CloseForm, ConnectivityAssignForm, ConnectivityBulkAssignForm
from ..models import (
    ConnectivityAssignment,
    CoordinatorDigest,
    HelpRequest,
    HelpRequestEvent,
    IntakeSwitch,
)
from ..services import connectivity
from .assignments import ConnectivityAssignmentAdmin  # noqa: F401 - registers it

REFERENCE_RE = re.compile(r"^\s*AAN-(\d{4})-0*(\d+)\s*$", re.IGNORECASE)


def _posted(request):
    """The submitted data, also when a form without required fields is posted empty."""
    return request.POST if request.method == "POST" else None


class AgeFilter(admin.SimpleListFilter):
    """How long a request has waited since it was submitted."""

    title = _("wacht sinds indienen")
    parameter_name = "age"
    BUCKETS = {
        "lt7": (None, 7),
        "7to30": (7, 30),
        "gt30": (30, None),
    }

    def lookups(self, request, model_admin):
        return [
            ("lt7", _("korter dan 7 dagen")),
            ("7to30", _("7 tot 30 dagen")),
            ("gt30", _("langer dan 30 dagen")),
        ]

    def queryset(self, request, queryset):
        if self.value() not in self.BUCKETS:
            return queryset
        younger, older = self.BUCKETS[self.value()]
        now = timezone.now()
        queryset = queryset.filter(submitted_at__isnull=False)
        if younger is not None:
            queryset = queryset.filter(submitted_at__lte=now - timedelta(days=younger))
        if older is not None:
            queryset = queryset.filter(submitted_at__gt=now - timedelta(days=older))
        return queryset


class DuplicateFilter(admin.SimpleListFilter):
    title = _("mogelijk dubbel")
    parameter_name = "duplicate"

    def lookups(self, request, model_admin):
        return [("yes", _("ja")), ("no", _("nee"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(duplicate_of__isnull=False)
        if self.value() == "no":
            return queryset.filter(duplicate_of__isnull=True)
        return queryset


class HelpRequestEventInline(admin.TabularInline):
    model = HelpRequestEvent
    extra = 0
    can_delete = False
    fields = ["at", "from_status", "to_status", "by", "note"]
    readonly_fields = fields
    verbose_name_plural = _("geschiedenis")

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


class ConnectivityFilter(admin.SimpleListFilter):
    """Requests whose households still need a telecom provider: the coordinators' to-do list."""

    title = _("internetverbinding")
    parameter_name = "internet"

    def lookups(self, request, model_admin):
        return [
            ("open", _("nog toe te wijzen")),
            ("assigned", _("helemaal toegewezen")),
            ("none", _("niet nodig")),
        ]

    def queryset(self, request, queryset):
        needed = queryset.filter(connectivity_households__gt=0)
        if self.value() == "open":
            return needed.filter(
                status__in=connectivity.ASSIGNABLE_REQUEST_STATUSES,
                connectivity_assigned__lt=F("connectivity_households"),
            )
        if self.value() == "assigned":
            return needed.filter(connectivity_assigned__gte=F("connectivity_households"))
        if self.value() == "none":
            return queryset.filter(connectivity_households=0)
        return queryset


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
    return _("%(l)d laptop, %(t)d tablet, %(e)d beide") % {"l": laptops, "t": tablets, "e": either}


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
        lambda r: r.submitted_at and date_format(timezone.localtime(r.submitted_at), "j F Y H:i"),
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
class HelpRequestAdmin(FastChangeListMixin, ExportMixin, admin.ModelAdmin):
    list_display = [
        "reference_display",
        "organisation",
        "target_group",
        "requested_display",
        "approved_display",
        "urgency",
        "need_by",
        "delivery_province",
        "status",
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

    # --- Decisions on one request (buttons on the change form) ----------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        decide = [
            path("<int:pk>/goedkeuren/", view(self.approve_view), name="helprequests_approve"),
            path("<int:pk>/afwijzen/", view(self.reject_view), name="helprequests_reject"),
            path("<int:pk>/vervuld/", view(self.fulfil_view), name="helprequests_fulfil"),
            path("<int:pk>/sluiten/", view(self.close_view), name="helprequests_close"),
            path(
                "<int:pk>/internet/",
                view(self.assign_connectivity_view),
                name="helprequests_assign_connectivity",
            ),
        ]
        return [*decide, *super().get_urls()]

    def _decision_target(self, request, pk):
        if not self.has_change_permission(request):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def _decision_page(self, request, obj, form, title):
        return TemplateResponse(
            request,
            "helprequests/admin/decide.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "form": form,
                "original": obj,
                "opts": self.model._meta,
            },
        )

    def _decided(self, request, obj, call, done_message):
        try:
            call()
        except DomainError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return False
        self.message_user(request, done_message % {"ref": obj.reference}, messages.SUCCESS)
        return True

    def _back(self, obj):
        return redirect("admin:helprequests_helprequest_change", obj.pk)

    def approve_view(self, request, pk):
        obj = self._decision_target(request, pk)
        form = ApproveForm(_posted(request), help_request=obj)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if self._decided(
                request,
                obj,
                lambda: services.helprequest_approve(
                    obj,
                    by=request.user,
                    laptops=data["laptops"],
                    tablets=data["tablets"],
                    either=data["either"],
                    note=data["note"],
                ),
                _("Hulpaanvraag %(ref)s is goedgekeurd."),
            ):
                return self._back(obj)
        return self._decision_page(request, obj, form, _("Goedkeuren: %s") % obj.reference)

    def reject_view(self, request, pk):
        from allemaal.forms import ReasonForm

        obj = self._decision_target(request, pk)
        form = ReasonForm(_posted(request))
        if request.method == "POST" and form.is_valid():
            reject = lambda: services.helprequest_reject(  # noqa: E731
                obj, by=request.user, reason=form.cleaned_data["reason"]
            )
            if self._decided(request, obj, reject, _("Hulpaanvraag %(ref)s is afgewezen.")):
                return self._back(obj)
        return self._decision_page(request, obj, form, _("Afwijzen: %s") % obj.reference)

    def fulfil_view(self, request, pk):
        obj = self._decision_target(request, pk)
        form = CloseForm(_posted(request))
        form.fields["note"].label = _("Opmerking (niet verplicht)")
        if request.method == "POST" and form.is_valid():
            self._decided(
                request,
                obj,
                lambda: services.helprequest_fulfil(
                    obj, by=request.user, note=form.cleaned_data["note"]
                ),
                _("Hulpaanvraag %(ref)s is gemarkeerd als vervuld."),
            )
            return self._back(obj)
        return self._decision_page(
            request, obj, form, _("Markeren als vervuld: %s") % obj.reference
        )

    def close_view(self, request, pk):
        obj = self._decision_target(request, pk)
        form = CloseForm(_posted(request))
        if request.method == "POST" and form.is_valid():
            close = lambda: services.helprequest_close(  # noqa: E731
                obj, by=request.user, note=form.cleaned_data["note"]
            )
            if self._decided(request, obj, close, _("Hulpaanvraag %(ref)s is gesloten.")):
                return self._back(obj)
        return self._decision_page(request, obj, form, _("Sluiten: %s") % obj.reference)

    def assign_connectivity_view(self, request, pk):
        obj = self._decision_target(request, pk)
        open_households = obj.connectivity_households - obj.connectivity_assigned
        form = ConnectivityAssignForm(_posted(request), open_households=open_households)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                connectivity.connectivity_assign(
                    obj,
                    provider=data["provider"],
                    households=data["households"],
                    by=request.user,
                    note=data["note"],
                )
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(n)d huishoudens van %(ref)s zijn toegewezen aan %(provider)s.")
                    % {
                        "n": data["households"],
                        "ref": obj.reference,
                        "provider": data["provider"].name,
                    },
                    messages.SUCCESS,
                )
                return self._back(obj)
        return self._decision_page(
            request, obj, form, _("Internetverbinding toewijzen: %s") % obj.reference
        )

    # --- Bulk actions on the changelist ----------------------------------------------------

    def _apply_each(self, request, queryset, call, done):
        count = 0
        for obj in queryset:
            try:
                call(obj)
                count += 1
            except DomainError as exc:
                self.message_user(request, f"{obj.reference}: {exc}", messages.ERROR)
        if count:
            self.message_user(request, done(count) % {"n": count}, messages.SUCCESS)

    @admin.action(description=_("Goedkeuren met de aangevraagde aantallen"), permissions=["change"])
    def approve_as_requested(self, request, queryset):
        self._apply_each(
            request,
            queryset,
            lambda obj: services.helprequest_approve(obj, by=request.user),
            lambda n: ngettext(
                "%(n)d hulpaanvraag goedgekeurd.", "%(n)d hulpaanvragen goedgekeurd.", n
            ),
        )

    @admin.action(description=_("Afwijzen (met reden)"), permissions=["change"])
    def reject(self, request, queryset):
        return ask_reason(
            self,
            request,
            queryset,
            title=_("Hulpaanvragen afwijzen"),
            apply=lambda obj, reason: services.helprequest_reject(
                obj, by=request.user, reason=reason
            ),
        )

    @admin.action(description=_("Markeren als vervuld"), permissions=["change"])
    def mark_fulfilled(self, request, queryset):
        self._apply_each(
            request,
            queryset,
            lambda obj: services.helprequest_fulfil(obj, by=request.user),
            lambda n: ngettext(
                "%(n)d hulpaanvraag gemarkeerd als vervuld.",
                "%(n)d hulpaanvragen gemarkeerd als vervuld.",
                n,
            ),
        )

    @admin.action(description=_("Vervulde aanvragen sluiten"), permissions=["change"])
    def close_fulfilled(self, request, queryset):
        def close(obj):
            if obj.status != HelpRequest.Status.FULFILLED:
                raise DomainError(_("alleen vervulde aanvragen sluit u zo; gebruik de knop."))
            services.helprequest_close(obj, by=request.user)

        self._apply_each(
            request,
            queryset,
            close,
            lambda n: ngettext("%(n)d hulpaanvraag gesloten.", "%(n)d hulpaanvragen gesloten.", n),
        )

    @admin.action(
        description=_("Internetverbinding toewijzen aan een telecomaanbieder"),
        permissions=["change"],
    )
    def assign_connectivity(self, request, queryset):
        """Each selected request's households without a provider go to one provider."""
        form = ConnectivityBulkAssignForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "helprequests/admin/assign_connectivity.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Internetverbinding toewijzen"),
                    "form": form,
                    "rows": [
                        (obj, obj.connectivity_households - obj.connectivity_assigned)
                        for obj in queryset
                    ],
                    "action": request.POST.get("action"),
                    "checkbox_name": ACTION_CHECKBOX_NAME,
                    "opts": self.model._meta,
                },
            )
        data = form.cleaned_data

        def assign(obj):
            left = obj.connectivity_households - obj.connectivity_assigned
            if left < 1:
                raise DomainError(_("geen huishoudens meer zonder telecomaanbieder."))
            connectivity.connectivity_assign(
                obj, provider=data["provider"], households=left, by=request.user, note=data["note"]
            )

        self._apply_each(
            request,
            queryset,
            assign,
            lambda n: ngettext(
                "Internet van %(n)d hulpaanvraag toegewezen.",
                "Internet van %(n)d hulpaanvragen toegewezen.",
                n,
            ),
        )
        return None


@admin.register(IntakeSwitch)
class IntakeSwitchAdmin(admin.ModelAdmin):
    list_display = ["target_group", "device_type", "is_open", "reason", "changed_by", "changed_at"]
    list_editable = ["is_open", "reason"]
    list_filter = ["is_open", "device_type", "target_group"]
    list_select_related = ["changed_by"]
    readonly_fields = ["changed_by", "changed_at"]

    def save_model(self, request, obj, form, change):
        obj.changed_by = request.user
        obj.changed_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(CoordinatorDigest)
class CoordinatorDigestAdmin(admin.ModelAdmin):
    list_display = ["day", "new_requests", "flagged_duplicates", "recipients", "created_at"]
    readonly_fields = [f.name for f in CoordinatorDigest._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
