"""The matching runs: start one now, preview changed weights (what-if), approve a run."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from allemaal.admin_speed import FastChangeListMixin
from allemaal.services import DomainError, enqueue

from .. import selectors, services
from ..forms import PolicyForm
from ..models import AllocationRun
from ..tasks import approve_run
from .common import APPROVE_IN_REQUEST_MAX, TitledChangeList, page, report

# --- Runs -----------------------------------------------------------------------------------------


@admin.register(AllocationRun)
class AllocationRunAdmin(FastChangeListMixin, TitledChangeList):
    list_display = [
        "__str__",
        "status",
        "policy_version",
        "started_at",
        "devices_available",
        "requests_open",
        "units_open",
        "proposals_link",
        "requests_served",
    ]
    list_filter = ["status", "trigger"]
    ordering = ["-id"]
    actions = ["approve_all"]
    readonly_fields = [
        "status",
        "trigger",
        "policy",
        "policy_version",
        "started_by",
        "started_at",
        "finished_at",
        "devices_available",
        "requests_open",
        "units_open",
        "proposals_link",
        "approval_progress",
        "requests_served",
        "unserved_link",
        "total_score",
        "stats_table",
        "error",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("voorstellen"), ordering="proposals")
    def proposals_link(self, obj):
        url = reverse("admin:distribution_allocation_changelist") + f"?run={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, number_format(obj.proposals))

    @admin.display(description=_("goedkeuren"))
    def approval_progress(self, obj):
        """How far approving the whole run (in parts, on the background) has come."""
        approval = obj.approval or {}
        if not approval:
            return "-"
        refused = sum(approval.get("refused", {}).values())
        numbers = {
            "approved": number_format(approval.get("approved", 0)),
            "total": number_format(approval.get("total", 0)),
            "done": approval.get("parts_done", 0),
            "parts": approval.get("parts", 0),
            "refused": number_format(refused),
        }
        if approval.get("finished_at"):
            text = _(
                "Klaar: %(approved)s van %(total)s voorstellen goedgekeurd, %(refused)s geweigerd "
                "(%(parts)d delen)."
            )
        else:
            text = _(
                "Bezig: %(approved)s van %(total)s voorstellen goedgekeurd, %(refused)s geweigerd; "
                "deel %(done)d van %(parts)d klaar. Vernieuw de pagina voor de stand."
            )
        return format_html('<span class="approval-progress">{}</span>', text % numbers)

    @admin.display(description=_("aanvragen zonder apparaat (waarom niet)"))
    def unserved_link(self, obj):
        count = obj.unserved.count()
        if not count:
            return "-"
        url = reverse("admin:distribution_unservedrequest_changelist") + f"?run__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, number_format(count))

    @admin.display(description=_("details"))
    def stats_table(self, obj):
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", sorted(obj.stats.items())),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("nu/", view(self.run_now_view), name="distribution_run_now"),
            path("wat-als/", view(self.what_if_view), name="distribution_what_if"),
            *super().get_urls(),
        ]

    def run_now_view(self, request):
        """Start a run now (POST only); the coordinator lands on its proposals."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm("distribution.add_allocation"):
            raise PermissionDenied
        try:
            run = services.allocation_run(trigger=AllocationRun.Trigger.MANUAL, by=request.user)
        except DomainError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return redirect("admin:distribution_allocationrun_changelist")
        self.message_user(
            request,
            _(
                "%(run)s is klaar (beleid versie %(v)d): %(n)d voorstellen voor %(served)d van de "
                "%(open)d wachtende hulpaanvragen; %(devices)d apparaten beschikbaar. Bekijk de "
                "voorstellen en keur ze goed."
            )
            % {
                "run": run,
                "v": run.policy_version,
                "n": run.proposals,
                "served": run.requests_served,
                "open": run.requests_open,
                "devices": run.devices_available,
            },
            messages.SUCCESS,
        )
        return redirect(reverse("admin:distribution_allocation_changelist") + "?status=proposed")

    def what_if_view(self, request):
        """Preview a run with changed weights against the open proposals; saves nothing."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else None
        form = PolicyForm(data, policy=selectors.active_policy())
        comparison = preview = None
        if data is not None and form.is_valid():
            preview = services.allocation_dry_run(form.policy)
            comparison = selectors.preview_comparison(preview.solution.allocated_per_request())
        return page(
            self,
            request,
            "admin/distribution/what_if.html",
            _("Wat als? Een ronde met andere gewichten bekijken"),
            form=form,
            preview=preview,
            comparison=comparison,
        )

    def has_approve_permission(self, request):
        return request.user.has_perm("distribution.change_allocation")

    @admin.action(
        description=_("Alle voorstellen van deze ronde goedkeuren"), permissions=["approve"]
    )
    def approve_all(self, request, queryset):
        for run in queryset:
            if run.proposals > APPROVE_IN_REQUEST_MAX:
                if not enqueue(approve_run, (run.pk, request.user.pk)):
                    self.message_user(
                        request,
                        _("De achtergrondtaak kon niet worden gestart; probeer het zo opnieuw."),
                        messages.ERROR,
                    )
                    continue
                self.message_user(
                    request,
                    _("%(run)s wordt op de achtergrond goedgekeurd (%(n)d voorstellen).")
                    % {"run": run, "n": run.proposals},
                    messages.INFO,
                )
                continue
            try:
                decision = services.allocations_approve_run_set(run.pk, by=request.user)
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            report(self, request, decision, _("%(n)d toewijzingen goedgekeurd."))
