"""Public help pages per device type, without log-in (the QR code on the instruction sheet)."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .. import instructions


@require_GET
def help_index(request):
    return render(request, "distribution/help_index.html", {"kinds": instructions.HELP_KINDS})


@require_GET
def help_kind(request, kind):
    if kind not in instructions.HELP_KINDS:
        raise Http404
    variants = [
        {
            "name": instructions.FAMILY_NAMES[family],
            "sections": instructions.sections(kind, family),
            "installed": instructions.INSTALLED[family],
        }
        for family in instructions.FAMILIES_OF_KIND[kind]
    ]
    return render(
        request,
        "distribution/help_kind.html",
        {"kind": kind, "title": instructions.HELP_TITLES[kind], "variants": variants},
    )
