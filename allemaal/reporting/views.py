"""The coordinators' pages: the dashboard, the exports and any donor's impact report."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from allemaal.access import staff_group_required
from allemaal.exports import export_view
from allemaal.models import Organisation

from . import pages
from .forms import DashboardFilterForm
from .models import DashboardSnapshot
from .snapshot import refurbisher_names

coordinators_only = staff_group_required("coordinators")


@coordinators_only
def dashboard(request):
    names = refurbisher_names()
    form = DashboardFilterForm(request.GET or None, refurbishers=names)
    filters = form.filters()
    snapshot = DashboardSnapshot.latest()
    context = {"form": form, "filters": filters, "snapshot": snapshot}
    if snapshot is not None:
        context.update(pages.build(snapshot, filters, names))
    return render(request, "coordination/dashboard.html", context)


@coordinators_only
@require_POST
def refresh(request):
    """Compute the numbers now instead of at the next run of the job (every ten minutes)."""
    from allemaal.tasks import refresh_reporting

    transaction.on_commit(refresh_reporting.delay)
    messages.success(
        request, _("De cijfers worden opnieuw berekend. Ververs de pagina over een minuut.")
    )
    return redirect("coordination:dashboard")


@coordinators_only
def export(request, app_label, model_name, fmt):
    return export_view(request, app_label, model_name, fmt)


@coordinators_only
def donor_impact(request, pk):
    """A donor's impact report as its donor sees it, for coordinators (to send or check)."""
    from donations.views import render_impact

    donor = get_object_or_404(Organisation, pk=pk, kind=Organisation.Kind.DONOR)
    return render_impact(request, donor, pdf=request.GET.get("formaat") == "pdf")
