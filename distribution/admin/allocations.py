"""The allocations: explanations, approve, reject, cancel, allocate by hand."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import IGNORED_PARAMS
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Subquery
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from allemaal.admin import StatusEventInline
from allemaal.admin_speed import (
    TOTAL,
    FastChangeList,
    FastChangeListMixin,
    any_of,
    on_page,
    without_unshown_phones,
)
from allemaal.exports import ExportMixin
from allemaal.fast_urls import fast_reverse
from allemaal.forms import ReasonForm
from allemaal.services import DomainError
from donations.admin_search import devices_with_code

from .. import selectors, services
from ..forms import REQUEST_REFERENCE_RE, AllocateByHandForm
from ..models import Allocation, AllocationEvent, AllocationRun, RejectionScope
from .common import TitledChangeList, page, report

# --- Allocations ----------------------------------------------------------------------------------


class RunFilter(admin.SimpleListFilter):
    """Open proposals of the latest run, by hand, or one run by id (`?run=`)."""

    title = _("herkomst")
    parameter_name = "run"

    def lookups(self, request, model_admin):
        return [("latest", _("laatste ronde")), ("manual", _("met de hand"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "manual":
            return queryset.filter(run__isnull=True)
        if value == "latest":
            latest = AllocationRun.objects.filter(status=AllocationRun.Status.COMPLETED)
            return queryset.filter(run__in=latest.values("pk")[:1])
        if value and value.isdigit():
            return queryset.filter(run_id=int(value))
        return queryset


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Allocation.Status.choices

    def queryset(self, request, queryset):
        if self.value() in Allocation.Status.values:
            return queryset.filter(status=self.value())
        return queryset


class AllocationEventInline(StatusEventInline):
    model = AllocationEvent


class AllocationChangeList(FastChangeList):
    """The page also reads what each row's request holds (allocated / still open). The page's
    ids are chosen first, so those counts run for its rows only, not for the rows a later
    page skips."""

    def known_total(self):
        """The latest run's list alone (`?run=latest`, no other filter, no search): its rows are
        the run's proposals, which the run counted (`AllocationRun.proposals`): only a later
        run deletes any of them (its open ones), and then it is no longer the latest. Counting
        them instead reads the allocations table until 10,001 of the run's rows turn up, all of
        it for a run smaller than that: `run_id` has no index, to keep the run's COPY cheap."""
        filters = {k: v for k, v in self.filter_params.items() if k not in IGNORED_PARAMS}
        if self.query or filters != {"run": ["latest"]}:
            return None
        latest = AllocationRun.objects.filter(status=AllocationRun.Status.COMPLETED)
        return Subquery(latest.order_by("-id").values("proposals")[:1])

    def page_rows(self, total, offset, limit):
        rows = self.queryset.filter(on_page(self.queryset, offset, limit))
        rows = rows.annotate(**{TOTAL: total}, **selectors.held_annotations())
        return list(without_unshown_phones(rows, self.list_display))


@admin.register(Allocation)
class AllocationAdmin(FastChangeListMixin, ExportMixin, TitledChangeList):
    list_display = [
        "__str__",
        "status",
        "device_column",
        "request_column",
        "destination",
        "score",
        "explanation",
    ]
    list_select_related = ["device__donation__refurbisher", "request__organisation", "run__policy"]
    list_filter = [
        StatusFilter,
        RunFilter,
        "request__target_group",
        "device__kind",
        "device__grade",
        "request__delivery_province",
    ]
    search_fields = ["device__serial_number"]  # shows the search box; see get_search_results
    search_help_text = _("Apparaatcode, serienummer of AAN-nummer van de hulpaanvraag.")
    ordering = ["-id"]
    list_per_page = 50  # each row explains its score: 50 rows keep the page under 100 ms
    actions = [
        "approve",
        "approve_requests",
        "reject",
        "reject_for_organisation",
        "reject_request",
        "lift_rejection",
        "cancel",
    ]
    inlines = [AllocationEventInline]
    fields = [
        "status",
        "device_link",
        "device_summary",
        "request_link",
        "organisation",
        "target_group",
        "destination",
        "run",
        "score",
        "explanation",
        "explanation_en",
        "note",
        "decision_note",
        "rejection_scope",
        "rejection_lifted_at",
        "rejection_lifted_by",
        "decided_by",
        "decided_at",
        "created_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # by hand: the "Met de hand toewijzen" page

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        self._policies = {}  # parsed policy per id, shared by the rows of one page
        return super().get_queryset(request).select_related(*self.list_select_related)

    def get_changelist(self, request, **kwargs):
        return AllocationChangeList

    def get_search_results(self, request, queryset, search_term):
        """Exact codes only: an AAN-number, an asset tag or a serial number."""
        term = search_term.strip()
        if not term:
            return queryset, False
        reference = request_reference(term)
        if reference is not None:
            return queryset.filter(request_id=reference), False
        devices = devices_with_code(term)
        # Every status is either live or closed, and each group has its own index on device.
        return queryset.filter(
            (any_of("device_id", devices) & Q(status__in=Allocation.LIVE_STATUSES))
            | (any_of("device_id", devices) & Q(status__in=Allocation.CLOSED_STATUSES))
        ), False

    # --- columns

    @admin.display(description=_("apparaat"), ordering="device_id")
    def device_link(self, obj):
        url = fast_reverse("admin:donations_device_change", args=[obj.device_id])
        return format_html('<a href="{}">{}</a>', url, obj.device)

    @admin.display(description=_("soort"))
    def device_summary(self, obj):
        device = obj.device
        return f"{device.get_kind_display()} {device.grade}, {device.ram_gb or '?'} GB RAM"

    @admin.display(description=_("hulpaanvraag"), ordering="request_id")
    def request_link(self, obj):
        url = fast_reverse("admin:helprequests_helprequest_change", args=[obj.request_id])
        return format_html('<a href="{}">{}</a>', url, obj.request.reference)

    @admin.display(description=_("organisatie"))
    def organisation(self, obj):
        return obj.request.organisation.name

    @admin.display(description=_("doelgroep"))
    def target_group(self, obj):
        return obj.request.get_target_group_display()

    @admin.display(description=_("apparaat"), ordering="device_id")
    def device_column(self, obj):
        return format_html("{}<br>{}", self.device_link(obj), self.device_summary(obj))

    @admin.display(description=_("hulpaanvraag"), ordering="request_id")
    def request_column(self, obj):
        counts = None
        if hasattr(obj, "held_laptops"):
            approved = obj.request
            counts = selectors.held_counts(
                (approved.approved_laptops, approved.approved_tablets, approved.approved_either),
                obj.held_laptops,
                obj.held_tablets,
            )
        progress = (
            # Translated now, once a row: a lazy text is translated again each time it is used.
            gettext("%(allocated)d van %(approved)d toegewezen, nog %(remaining)d open")
            % {
                "allocated": counts.allocated,
                "approved": counts.approved,
                "remaining": counts.remaining,
            }
            if counts
            else ""
        )
        return format_html(
            "{}<br>{}<br>{}<br><small>{}</small>",
            self.request_link(obj),
            obj.request.organisation.name,
            obj.request.get_target_group_display(),
            progress,
        )

    @admin.display(description=_("van → naar"))
    def destination(self, obj):
        refurbisher = obj.device.donation.refurbisher
        origin = refurbisher.province if refurbisher else "?"
        return f"{origin} → {obj.request.delivery_province or obj.request.organisation.province}"

    @admin.display(description=_("waarom"))
    def explanation(self, obj):
        return selectors.allocation_explanation(obj, policies=getattr(self, "_policies", {}))

    @admin.display(description=_("waarom (Engels)"))
    def explanation_en(self, obj):
        return selectors.allocation_explanation(obj, lang="en")

    # --- actions

    @admin.action(description=_("Geselecteerde voorstellen goedkeuren"), permissions=["change"])
    def approve(self, request, queryset):
        decision = services.allocations_approve_set(
            queryset.values_list("id", flat=True), by=request.user
        )
        report(self, request, decision, _("%(n)d toewijzingen goedgekeurd."))

    @admin.action(
        description=_("Alle voorstellen van dezelfde hulpaanvragen goedkeuren"),
        permissions=["change"],
    )
    def approve_requests(self, request, queryset):
        request_ids = set(queryset.values_list("request_id", flat=True))
        decision = services.allocations_approve_requests_set(request_ids, by=request.user)
        report(self, request, decision, _("%(n)d toewijzingen goedgekeurd."))

    @admin.action(description=_("Voorstellen afwijzen (met reden)"), permissions=["change"])
    def reject(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            _("Voorstellen afwijzen: het apparaat blijft beschikbaar, de aanvraag blijft wachten"),
            lambda ids, reason: services.allocations_reject(ids, by=request.user, reason=reason),
            _("%(n)d voorstellen afgewezen."),
        )

    @admin.action(
        description=_("Voorstellen afwijzen voor de hele organisatie (met reden)"),
        permissions=["change"],
    )
    def reject_for_organisation(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            _(
                "Voorstellen afwijzen: deze apparaten worden niet meer voorgesteld aan deze "
                "organisatie"
            ),
            lambda ids, reason: services.allocations_reject(
                ids, by=request.user, reason=reason, scope=RejectionScope.ORGANISATION
            ),
            _("%(n)d voorstellen afgewezen."),
        )

    @admin.action(
        description=_("Hulpaanvragen van deze voorstellen voorlopig niets voorstellen (met reden)"),
        permissions=["change"],
    )
    def reject_request(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            _("Voorstellen afwijzen: deze hulpaanvragen krijgen geen voorstellen tot u dit opheft"),
            lambda ids, reason: services.allocations_reject(
                ids, by=request.user, reason=reason, scope=RejectionScope.REQUEST
            ),
            _("%(n)d voorstellen afgewezen."),
        )

    @admin.action(
        description=_("Afwijzing opheffen (weer laten voorstellen)"), permissions=["change"]
    )
    def lift_rejection(self, request, queryset):
        lifted = services.allocation_rejections_lift(
            queryset.values_list("id", flat=True), by=request.user
        )
        self.message_user(
            request, _("%(n)d afwijzingen opgeheven.") % {"n": lifted}, messages.SUCCESS
        )

    @admin.action(
        description=_("Goedgekeurde toewijzingen annuleren (met reden)"), permissions=["change"]
    )
    def cancel(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            _("Toewijzingen annuleren: de apparaten gaan terug naar de voorraad"),
            lambda ids, reason: services.allocations_cancel(ids, by=request.user, reason=reason),
            _("%(n)d toewijzingen geannuleerd."),
        )

    def _with_reason(self, request, queryset, title, call, done_message):
        """Ask for one reason, then decide all selected rows at once (one e-mail per party)."""
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            decision = call(
                list(queryset.values_list("id", flat=True)), form.cleaned_data["reason"]
            )
            report(self, request, decision, done_message)
            return None
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

    # --- by hand

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("met-de-hand/", view(self.by_hand_view), name="distribution_allocate_by_hand"),
            *super().get_urls(),
        ]

    def by_hand_view(self, request):
        if not request.user.has_perm("distribution.add_allocation"):
            raise PermissionDenied
        form = AllocateByHandForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                made = services.allocations_allocate_by_hand(
                    device_ids=[device.pk for device in data["device"]],
                    request_id=data["help_request"].pk,
                    by=request.user,
                    reason=data["reason"],
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request,
                    ngettext(
                        "%(n)d apparaat is toegewezen aan hulpaanvraag %(ref)s.",
                        "%(n)d apparaten zijn toegewezen aan hulpaanvraag %(ref)s.",
                        len(made),
                    )
                    % {"n": len(made), "ref": data["help_request"].reference},
                    messages.SUCCESS,
                )
                if len(made) == 1:
                    return redirect("admin:distribution_allocation_change", made[0].pk)
                return redirect(
                    reverse("admin:distribution_allocation_changelist")
                    + f"?q={data['help_request'].reference}"
                )
        return page(
            self,
            request,
            "admin/distribution/allocate_by_hand.html",
            _("Met de hand toewijzen"),
            form=form,
        )


def request_reference(term: str) -> int | None:
    """The request id in an AAN-number search ("AAN-2026-00042"), else None."""
    term = (term or "").strip()
    if not term.upper().startswith("AAN-"):
        return None
    match = REQUEST_REFERENCE_RE.match(term)
    return int(match.group(1)) if match else None
