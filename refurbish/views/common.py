"""Load-and-authorise helpers of the workshop pages: another refurbisher's donation or device
is a 404."""

from allemaal.access import get_for_organisation, organisation_required
from allemaal.models import Organisation
from donations.models import Device, Donation

refurbisher_required = organisation_required(Organisation.Kind.REFURBISHER)


def own_donation(request, donation_id: int) -> Donation:
    return get_for_organisation(
        Donation.objects.select_related("donor"),
        request.organisation,
        field="refurbisher",
        pk=donation_id,
    )


def own_device(request, device_id: int) -> Device:
    return get_for_organisation(
        Device.objects.select_related("donation", "donation__donor"),
        request.organisation,
        field="donation__refurbisher",
        pk=device_id,
    )


def selected_ids(request) -> list[int]:
    return [int(value) for value in request.POST.getlist("device") if value.isdigit()]
