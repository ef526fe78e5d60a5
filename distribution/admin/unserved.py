"""Why not: the requests the latest run left without a device, each with its reason."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from allemaal.admin_speed import FastChangeListMixin

from .. import selectors
from ..models import UnservedRequest
from .common import TitledChangeList


@admin.register(UnservedRequest)
class UnservedRequestAdmin(FastChangeListMixin, TitledChangeList):
    list_display = ["request_link", "organisation", "target_group", "open_units", "reason", "run"]
    list_select_related = ["request__organisation", "run"]
    list_filter = ["code", "request__target_group", "run"]
    search_fields = ["=request__id", "request__organisation__name"]
    search_help_text = _("Nummer van de hulpaanvraag of naam van de organisatie.")
    ordering = ["request_id"]
    fields = ["run", "request_link", "organisation", "open_units", "code", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("hulpaanvraag"), ordering="request_id")
    def request_link(self, obj):
        url = reverse("admin:helprequests_helprequest_change", args=[obj.request_id])
        return format_html('<a href="{}">{}</a>', url, obj.request)

    @admin.display(description=_("organisatie"))
    def organisation(self, obj):
        return obj.request.organisation

    @admin.display(description=_("doelgroep"))
    def target_group(self, obj):
        return obj.request.get_target_group_display()

    @admin.display(description=_("waarom geen apparaat"))
    def reason(self, obj):
        return selectors.unserved_text(obj.code, obj.params)
