"""The decisions coordinators take on help requests: the buttons on a request's change form
(approve, reject, fulfil, close, assign internet) and the actions on the change list. Every
decision calls a service; errors are reported with `message_user`."""

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from allemaal.admin import ask_reason
from allemaal.services import DomainError

from .. import services
from ..forms import ApproveForm, CloseForm, ConnectivityAssignForm, ConnectivityBulkAssignForm
from ..models import HelpRequest
from ..services import connectivity


def _posted(request):
    """The submitted data, also when a form without required fields is posted empty."""
    return request.POST if request.method == "POST" else None


class HelpRequestDecisionsMixin:
    """The decision views and actions of `HelpRequestAdmin`."""

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
