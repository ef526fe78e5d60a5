"""Distribution's answers to events of the layers below (`allemaal.events`), subscribed in
`DistributionConfig.ready()`. Each handler runs inside the publisher's transaction and calls
distribution's own services."""

from django.db import transaction
from django.utils.translation import gettext as _

from allemaal import events
from allemaal.models import User
from allemaal.services import DomainError
from helprequests.models import HelpRequest

from . import services
from .models import Allocation

# Devices that left the refurbisher for a request: shipped, delivered, or came back.
LEFT_THE_REFURBISHER = [
    Allocation.Status.SHIPPED,
    Allocation.Status.DELIVERED,
    Allocation.Status.RETURNED,
    Allocation.Status.REPLACED,
]


def withdraw_allocations(*, request_id: int, by: User | None, reason: str, status: str) -> None:
    """A cancelled or closed request gives up its allocations: proposals are rejected and
    unshipped devices go back to the pool. An organisation cannot cancel once devices left."""
    if status == HelpRequest.Status.CANCELLED and _has_shipped_devices(request_id):
        reference = HelpRequest.objects.get(pk=request_id).reference
        raise DomainError(
            _(
                "Voor aanvraag %(ref)s zijn al apparaten verzonden; annuleren kan niet meer. "
                "Neem contact op met de coördinatie."
            )
            % {"ref": reference}
        )
    services.allocations_withdraw_for_request(request_id, by=by, reason=reason)


def _has_shipped_devices(request_id: int) -> bool:
    return Allocation.objects.filter(
        request_id=request_id, status__in=LEFT_THE_REFURBISHER
    ).exists()


def schedule_run_on_commit(**payload) -> None:
    """New demand or new supply: ask for an allocation run (debounced) once this commits."""
    transaction.on_commit(services.allocation_request_run_soon)


def subscribe() -> None:
    events.subscribe(events.HELPREQUEST_WITHDRAWN, withdraw_allocations)
    events.subscribe(events.DEMAND_CHANGED, schedule_run_on_commit)
    events.subscribe(events.SUPPLY_READY, schedule_run_on_commit)
