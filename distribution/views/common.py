"""Load-and-authorise helpers: another organisation's shipment is a 404, never a 403."""

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.utils import translation

from allemaal.access import get_for_organisation, organisation_required, staff_group_required
from allemaal.models import Organisation

from ..models import Shipment

refurbisher_required = organisation_required(Organisation.Kind.REFURBISHER)
requester_required = organisation_required(Organisation.Kind.REQUESTER)
party_required = organisation_required(Organisation.Kind.REFURBISHER, Organisation.Kind.REQUESTER)
helpdesk_required = staff_group_required("helpdesk", "coordinators")

SHIPMENTS_PER_PAGE = 50


def shipments_page(request, shipments) -> Page:
    """One page (`?pagina=`) of a shipment list, newest first: every shipment stays reachable,
    and a page renders 50 rows whatever the organisation's history."""
    return Paginator(shipments, SHIPMENTS_PER_PAGE).get_page(request.GET.get("pagina"))


def outgoing_shipment(request, pk: int) -> Shipment:
    """A shipment this refurbisher sends."""
    return get_for_organisation(
        Shipment.objects.select_related("organisation", "refurbisher"),
        request.organisation,
        field="refurbisher",
        pk=pk,
    )


def incoming_shipment(request, pk: int) -> Shipment:
    """A shipment to this organisation (never a cancelled one)."""
    return get_for_organisation(
        Shipment.objects.exclude(status=Shipment.Status.CANCELLED).select_related(
            "organisation", "refurbisher"
        ),
        request.organisation,
        pk=pk,
    )


def party_shipment(request, pk: int) -> Shipment:
    """A shipment the organisation sends or receives (the documents are for both)."""
    if request.organisation.kind == Organisation.Kind.REFURBISHER:
        return outgoing_shipment(request, pk)
    return incoming_shipment(request, pk)


def wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def document_language(request) -> str:
    """`?lang=en` asks for English; otherwise the page's own language."""
    wanted = request.GET.get("lang", "")
    if wanted in {code for code, _name in settings.LANGUAGES}:
        return wanted
    return translation.get_language()
