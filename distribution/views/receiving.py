"""The requesting organisation's pages: its shipments, confirming what arrived, and the
hand-out report per request."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from allemaal.access import get_for_organisation
from allemaal.services import DomainError
from helprequests.models import HelpRequest

from .. import selectors, services
from ..forms import DeliveryForm, HandoutForm
from ..models import Shipment
from .common import incoming_shipment, requester_required, shipments_page


@requester_required
@require_GET
def shipments(request):
    organisation = request.organisation
    return render(
        request,
        "distribution/shipments.html",
        {
            "page": shipments_page(request, selectors.organisation_shipments(organisation)),
            "handout_requests": selectors.handout_requests(organisation),
        },
    )


def _shipment_page(request, shipment, form=None, status=200):
    items = list(selectors.shipment_items(shipment))
    if form is None and shipment.status == Shipment.Status.SHIPPED:
        form = DeliveryForm(items=items)
    return render(
        request,
        "distribution/shipment.html",
        {"shipment": shipment, "items": items, "form": form},
        status=status,
    )


@requester_required
@require_GET
def shipment(request, pk):
    return _shipment_page(request, incoming_shipment(request, pk))


@requester_required
@require_POST
def shipment_confirm(request, pk):
    """All received (the big button), or per device received / damaged / missing."""
    shipment = incoming_shipment(request, pk)
    answers = {"outcomes": None, "notes": None, "note": ""}
    if request.POST.get("all") != "1":
        form = DeliveryForm(request.POST, items=selectors.shipment_items(shipment))
        if not form.is_valid():
            return _shipment_page(request, shipment, form, status=400)
        answers = {
            "outcomes": form.outcomes(),
            "notes": form.notes(),
            "note": form.cleaned_data["note"],
        }
    try:
        services.shipment_confirm_delivery(
            shipment.pk, by=request.user, organisation=request.organisation, **answers
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Bedankt! De ontvangst is bevestigd."))
    return redirect("distribution:shipment", shipment.pk)


@requester_required
@require_POST
def shipment_item_found(request, pk, item_id):
    shipment = incoming_shipment(request, pk)
    try:
        services.shipment_item_found(
            shipment.pk, item_id, by=request.user, organisation=request.organisation
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Bedankt! Het apparaat staat nu als ontvangen."))
    return redirect("distribution:shipment", shipment.pk)


@requester_required
@require_http_methods(["GET", "POST"])
def handout(request, request_id):
    """The hand-out report of one request: devices handed out and people reached."""
    help_request = get_for_organisation(
        HelpRequest.objects.all(), request.organisation, pk=request_id
    )
    report = getattr(help_request, "handout_report", None)
    initial = (
        {
            "devices_handed_out": report.devices_handed_out,
            "people_reached": report.people_reached,
            "note": report.note,
        }
        if report
        else {}
    )
    form = HandoutForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.handout_report_save(
                help_request.pk,
                by=request.user,
                organisation=request.organisation,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Bedankt! Uw uitgifte is opgeslagen."))
            return redirect("distribution:shipments")
    return render(
        request,
        "distribution/handout.html",
        {
            "help_request": help_request,
            "delivered": selectors.delivered_count(help_request.pk),
            "report": report,
            "form": form,
        },
        status=400 if form.errors else 200,
    )
