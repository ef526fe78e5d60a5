"""The priority policy: versions, a new version as a form with one field per weight."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from allemaal.admin_speed import FastChangeListMixin

from .. import services
from ..forms import PolicyForm, PolicyVersionForm
from ..models import PriorityPolicy
from ..solver_classes import Policy
from .common import TitledChangeList, page

# --- Policy ---------------------------------------------------------------------------------------


@admin.register(PriorityPolicy)
class PriorityPolicyAdmin(FastChangeListMixin, TitledChangeList):
    list_display = ["version", "is_active", "note", "created_by", "created_at", "run_count"]
    list_select_related = ["created_by"]
    ordering = ["-version"]
    readonly_fields = ["version", "is_active", "note", "created_by", "created_at", "weights_table"]
    fields = readonly_fields
    actions = ["activate"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(run_total=Count("runs"))

    @admin.display(description=_("rondes"), ordering="run_total")
    def run_count(self, obj):
        return obj.run_total

    @admin.display(description=_("gewichten en regels"))
    def weights_table(self, obj):
        form = PolicyForm(policy=obj.policy)
        rows = [
            (field.label, _value(form.initial.get(field.name)))
            for _title, fields in form.sections()
            for field in fields
        ]
        rows += [
            (cell.label, _value(form.initial.get(cell.name)))
            for _group, cells in form.spec_rows()
            for cell in cells
            if form.initial.get(cell.name) not in (None, [])
        ]
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )

    def has_change_permission(self, request, obj=None):
        return False  # a version never changes; a change is a new version

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        """A new version: the form is filled with the active one; saving makes it active."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        current = services.policy_current()
        data = request.POST if request.method == "POST" else None
        form = PolicyVersionForm(data, policy=current.policy)
        if data is not None and form.is_valid():
            saved = services.policy_save_version(
                form.policy, by=request.user, note=form.cleaned_data["note"]
            )
            self.message_user(
                request,
                _("Versie %(v)d van het beleid is nu in gebruik. De volgende ronde gebruikt haar.")
                % {"v": saved.version},
                messages.SUCCESS,
            )
            return redirect("admin:distribution_prioritypolicy_changelist")
        return page(
            self,
            request,
            "admin/distribution/policy_form.html",
            _("Nieuwe versie van het prioriteitenbeleid"),
            form=form,
            current=current,
        )

    @admin.action(description=_("Deze versie weer in gebruik nemen"), permissions=["add"])
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Kies precies één versie."), messages.ERROR)
            return
        old = queryset.get()
        saved = services.policy_save_version(
            Policy.from_dict(old.weights),
            by=request.user,
            note=_("Terug naar versie %(v)d") % {"v": old.version},
        )
        self.message_user(
            request,
            _("Versie %(v)d (gelijk aan versie %(old)d) is nu in gebruik.")
            % {"v": saved.version, "old": old.version},
            messages.SUCCESS,
        )


def _value(value) -> str:
    if isinstance(value, list):
        return ", ".join(value)
    return "" if value is None else str(value)
