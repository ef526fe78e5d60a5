"""Admin actions on a person's data (issue 18): the coordinator downloads everything the
platform holds about one person, or erases it after a confirmation page."""

from django.contrib import admin, messages
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import personal_data


@admin.action(
    description=gettext_lazy("Gegevens van deze persoon downloaden (JSON)"), permissions=["change"]
)
def export_personal_data(modeladmin, request, queryset):
    if queryset.count() != 1:
        modeladmin.message_user(request, _("Kies precies één persoon."), messages.WARNING)
        return None
    return _json_download(queryset.get())


@admin.action(description=gettext_lazy("Gegevens van deze persoon wissen"), permissions=["change"])
def erase_personal_data(modeladmin, request, queryset):
    people = list(queryset.filter(is_superuser=False))
    if request.POST.get("confirm") != "yes":
        return TemplateResponse(
            request,
            "admin/allemaal/erase_personal_data.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": _("Gegevens wissen"),
                "people": people,
                "opts": modeladmin.model._meta,
            },
        )
    for person in people:
        personal_data.personal_data_erase(person, by=request.user)
    modeladmin.message_user(
        request,
        _("De gegevens van %(n)d persoon/personen zijn gewist.") % {"n": len(people)},
        messages.SUCCESS,
    )
    return None


def _json_download(user) -> HttpResponse:
    response = HttpResponse(
        personal_data.export_json(user), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="gegevens-{user.pk}.json"'
    return response
