"""What the allocation admin pages share: a titled change list, a page, a decision report."""

from __future__ import annotations

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from .. import services

# Approving a larger run in one web request would take too long: it goes to the background.
APPROVE_IN_REQUEST_MAX = 1000


def page(admin_, request, template: str, title: str, **context):
    return TemplateResponse(
        request,
        template,
        {
            **admin_.admin_site.each_context(request),
            "title": title,
            "opts": admin_.model._meta,
            **context,
        },
    )


def report(admin_, request, decision: services.Decision, done_message: str) -> None:
    """One success line with the count, then one line per refused allocation."""
    level = messages.SUCCESS if decision.done else messages.WARNING
    admin_.message_user(request, done_message % {"n": len(decision.done)}, level)
    for _allocation_id, problem in decision.refused[:20]:
        admin_.message_user(request, problem, messages.ERROR)
    if len(decision.refused) > 20:
        admin_.message_user(
            request,
            _("En nog %(n)d andere toewijzingen geweigerd.") % {"n": len(decision.refused) - 20},
            messages.ERROR,
        )


class TitledChangeList(admin.ModelAdmin):
    """A list titled with its plural name ("Toewijzingen"), not "Selecteer … om te wijzigen"."""

    def changelist_view(self, request, extra_context=None):
        title = self.model._meta.verbose_name_plural.capitalize()
        return super().changelist_view(request, {"title": title, **(extra_context or {})})
