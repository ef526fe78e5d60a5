"""Pages that show downstream numbers: the coordinators' dashboard and exports, the public home
page, the donor's overview and impact report, the requester's overview and request page."""

from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from allemaal.access import get_for_organisation, organisation_required, staff_group_required
from allemaal.exports import export_view
from allemaal.models import Organisation
from allemaal.services import enqueue
from distribution.selectors import request_delivery_state, request_wait_explanation
from donations import selectors as donation_selectors
from helprequests import services as helprequest_services
from helprequests.models import HelpRequest
from helprequests.views import request_limits

from . import impact as impact_report
from . import pages, public, selectors
from .forms import DashboardFilterForm
from .models import DashboardSnapshot
from .snapshot import refurbisher_names

coordinators_only = staff_group_required("coordinators")
donor_required = organisation_required(Organisation.Kind.DONOR)
requester_required = organisation_required(Organisation.Kind.REQUESTER)


def home(request):
    """The public page: counters and what is needed now, from the reporting job's cache."""
    counters = public.current()
    updated = parse_datetime(counters["computed_at"]) if counters else None
    return render(request, "home.html", {"counters": counters, "updated": updated})


# --- Coordinators ----------------------------------------------------------------------------


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
    from .tasks import refresh_reporting

    # With the broker down this answers at once; the ten-minute job refreshes them later.
    transaction.on_commit(lambda: enqueue(refresh_reporting))
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
    donor = get_object_or_404(Organisation, pk=pk, kind=Organisation.Kind.DONOR)
    return render_impact(request, donor, pdf=request.GET.get("formaat") == "pdf")


# --- Donors ----------------------------------------------------------------------------------


@donor_required
def donor_overview(request):
    page = Paginator(donation_selectors.donor_donations(request.organisation), 25).get_page(
        request.GET.get("pagina")
    )
    donations = donation_selectors.with_device_counts(page.object_list)
    for donation in donations:
        donation.timeline = donation_selectors.donation_timeline(donation)
    return render(
        request,
        "donations/dashboard.html",
        {
            "page": page,
            "donations": donations,
            "impact": donor_impact_figures(request.organisation),
        },
    )


# A donor's impact reads its devices' history over five tables (eight aggregates: about half
# of the donor's /donaties/ and most of its impact page). Nothing a donor does changes it (it
# counts received, reused and delivered devices), and it moves with deliveries over weeks, so
# the pages count it once per this many seconds per donor; the PDF report counts it anew.
IMPACT_SECONDS = 60


def donor_impact_figures(donor: Organisation) -> selectors.DonationImpact:
    key = f"coordination:donor-impact:{donor.pk}:{get_language()}"
    figures = cache.get(key)
    if figures is None:
        figures = selectors.donation_impact(donor)
        cache.set(key, figures, IMPACT_SECONDS)
    return figures


def render_impact(request, donor: Organisation, *, pdf: bool = False) -> HttpResponse:
    """One donor's impact report as a page or a PDF (the donor's own, or for a coordinator)."""
    impact = selectors.donation_impact(donor) if pdf else donor_impact_figures(donor)
    if pdf:
        response = HttpResponse(
            impact_report.impact_pdf(donor, impact), content_type="application/pdf"
        )
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="impactrapport-{stamp}.pdf"'
        return response
    context = {
        "donor": donor,
        "impact": impact,
        "factor_kg": impact_report.LAPTOP_KG_CO2E,
        "explanation": impact_report.emission_explanation(),
        "source": impact_report.EMISSION_SOURCE,
        "for_coordinator": request.user.is_staff,
    }
    return render(request, "donations/impact.html", context)


@donor_required
def impact(request):
    """The donor's own impact: it never sees another donor's numbers (no id in the URL)."""
    return render_impact(request, request.organisation)


@donor_required
def impact_pdf(request):
    return render_impact(request, request.organisation, pdf=True)


# --- Requesting organisations ----------------------------------------------------------------


def _with_progress(requests: list[HelpRequest]) -> list[HelpRequest]:
    progress, queue = selectors.progress_and_queue(requests)
    for r in requests:
        r.progress, r.queue = progress[r.pk], queue.get(r.pk)
    return requests


@requester_required
def requester_overview(request):
    requests = _with_progress(list(request.organisation.help_requests.order_by("-created_at")))
    return render(
        request,
        "helprequests/dashboard.html",
        {"requests": requests, **request_limits(request.organisation, requests=requests)},
    )


@requester_required
def request_detail(request, pk: int):
    """The organisation's own request (404 for another's) with its progress and queue place."""
    own = get_for_organisation(HelpRequest.objects.all(), request.organisation, pk=pk)
    help_request = _with_progress([own])[0]
    # The history shows when and which step, not who: no join of the users.
    events = help_request.events.order_by("at", "id")
    internet = help_request.connectivity_assignments.counting().select_related("provider")
    delivery = request_delivery_state(help_request)
    context = {
        "help_request": help_request,
        "events": events,
        "internet": internet,
        "delivery": delivery,
        # Once devices left the refurbisher, cancelling no longer fits: the rest can be declined.
        "can_cancel": help_request.is_cancellable and not delivery.started,
        "can_close_rest": help_request.status == HelpRequest.Status.APPROVED and delivery.started,
    }
    if help_request.status == HelpRequest.Status.APPROVED and not delivery.started:
        context["waiting_why"] = request_wait_explanation(help_request)
    return render(request, "helprequests/detail.html", context)


@requester_required
def request_close_rest(request, pk: int):
    """The organisation has received part of its devices and needs no more: it closes the rest."""
    help_request = get_for_organisation(
        HelpRequest.objects.select_related("organisation"), request.organisation, pk=pk
    )
    delivery = request_delivery_state(help_request)
    if request.method == "POST" and delivery.started:
        try:
            helprequest_services.helprequest_close_rest(help_request, by=request.user)
        except helprequest_services.DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Hulpaanvraag %(ref)s is afgesloten; u krijgt geen apparaten meer.")
                % {"ref": help_request.reference},
            )
        return redirect("coordination:request_detail", pk=pk)
    context = {"help_request": help_request, "delivery": delivery}
    return render(request, "helprequests/close_rest.html", context)
