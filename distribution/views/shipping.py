"""The refurbisher's shipping pages: what waits to be sent where, a shipment being packed (scan
page), its documents, and marking it shipped."""

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from allemaal.services import DomainError
from refurbish.asset_tags import format_asset_tag

from .. import pdf, selectors, services
from ..forms import ScanForm, ShipForm
from ..models import Shipment
from .common import (
    document_language,
    outgoing_shipment,
    party_required,
    party_shipment,
    refurbisher_required,
    shipments_page,
    wants_json,
)


@refurbisher_required
@require_GET
def shipping(request):
    """Destinations with allocated devices waiting, and the refurbisher's shipments."""
    return render(
        request,
        "distribution/shipping.html",
        {
            "destinations": selectors.waiting_destinations(request.organisation),
            "page": shipments_page(request, selectors.refurbisher_shipments(request.organisation)),
        },
    )


@refurbisher_required
@require_POST
def shipment_start(request):
    request_id = request.POST.get("request", "")
    try:
        shipment = services.shipment_create(
            refurbisher=request.organisation,
            request_id=int(request_id) if request_id.isdigit() else 0,
            by=request.user,
        )
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("distribution:shipping")
    return redirect("distribution:outgoing", shipment.pk)


def count_text(n: int) -> str:
    return ngettext("%(n)d apparaat in deze zending", "%(n)d apparaten in deze zending", n) % {
        "n": n
    }


def _outgoing_page(request, shipment, ship_form=None, status=200):
    items = list(selectors.shipment_items(shipment))
    context = {
        "shipment": shipment,
        "items": items,
        "count_text": count_text(len(items)),
        "scan_form": ScanForm(),
        "ship_form": ship_form or ShipForm(),
        "events": shipment.events.select_related("by").order_by("at", "id"),
    }
    return render(request, "distribution/outgoing.html", context, status=status)


@refurbisher_required
@require_GET
def outgoing(request, pk):
    """One shipment of this refurbisher: the scan page while it is packed, then its record."""
    return _outgoing_page(request, outgoing_shipment(request, pk))


@refurbisher_required
@require_POST
def outgoing_scan(request, pk):
    """One scan (a handheld scanner types the tag and Enter): JSON for the page's script, a
    redirect with a message without it."""
    shipment = outgoing_shipment(request, pk)
    form = ScanForm(request.POST)
    item, status = None, 200
    if not form.is_valid():
        message, status = " ".join(form.errors["tag"]), 400
    else:
        try:
            item = services.shipment_add_device(
                shipment.pk, form.cleaned_data["tag"], by=request.user
            )
        except DomainError as exc:
            message, status = str(exc), 409
        else:
            message = _("Toegevoegd: %(tag)s (%(device)s)") % {
                "tag": format_asset_tag(item.device.asset_tag),
                "device": f"{item.device.make} {item.device.model}".strip(),
            }
    if not wants_json(request):
        (messages.success if item else messages.error)(request, message)
        return redirect("distribution:outgoing", shipment.pk)
    return JsonResponse(_scan_payload(shipment, item, message), status=status)


def _scan_payload(shipment: Shipment, item, message: str) -> dict:
    payload = {
        "ok": item is not None,
        "message": message,
        "count_text": count_text(shipment.items.count()),
    }
    if item is not None:
        device = item.device
        payload["item"] = {
            "tag": format_asset_tag(device.asset_tag),
            "serial_number": device.serial_number,
            "make_model": f"{device.make} {device.model}".strip() or device.get_kind_display(),
            "request": item.request.reference,
            "remove_url": reverse("distribution:outgoing_remove", args=[shipment.pk, item.pk]),
        }
    return payload


@refurbisher_required
@require_POST
def outgoing_remove(request, pk, item_id):
    shipment = outgoing_shipment(request, pk)
    try:
        device = services.shipment_remove_item(shipment.pk, item_id, by=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Apparaat %(tag)s is uit de zending gehaald.")
            % {"tag": format_asset_tag(device.asset_tag)},
        )
    return redirect("distribution:outgoing", shipment.pk)


@refurbisher_required
@require_POST
def outgoing_ship(request, pk):
    shipment = outgoing_shipment(request, pk)
    form = ShipForm(request.POST)
    if form.is_valid():
        try:
            services.shipment_ship(shipment.pk, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Zending %(ref)s is verzonden. De organisatie heeft bericht gekregen.")
                % {"ref": shipment.reference},
            )
            return redirect("distribution:outgoing", shipment.pk)
    return _outgoing_page(request, shipment, form, status=400)


@refurbisher_required
@require_POST
def outgoing_cancel(request, pk):
    shipment = outgoing_shipment(request, pk)
    try:
        services.shipment_cancel(
            shipment.pk,
            by=request.user,
            reason=request.POST.get("reason") or _("Geannuleerd door de opknappartner."),
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Zending %(ref)s is geannuleerd.") % {"ref": shipment.reference}
        )
    return redirect("distribution:shipping")


# --- Documents (for the refurbisher and the receiving organisation) ------------------------------


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@party_required
@require_GET
def packing_list(request, pk):
    shipment = party_shipment(request, pk)
    with translation.override(document_language(request)):
        content = pdf.packing_list_pdf(shipment, list(selectors.shipment_items(shipment)))
    return _pdf(content, f"paklijst-{shipment.reference}.pdf")


@party_required
@require_GET
def instruction_sheets(request, pk):
    shipment = party_shipment(request, pk)
    language = document_language(request)
    devices = [item.device for item in selectors.shipment_items(shipment)]
    with translation.override(language):
        content = pdf.instruction_sheets_pdf(devices)
    return _pdf(content, f"uitleg-{shipment.reference}-{language}.pdf")
