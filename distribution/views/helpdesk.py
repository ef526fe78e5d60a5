"""The helpdesk (staff group `helpdesk`; coordinators too), under /helpdesk/ where two-step
verification is enforced: find a device, log a contact, settle a follow-up, start a return."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from allemaal.services import DomainError
from donations.models import Device
from refurbish.asset_tags import format_asset_tag
from refurbish.forms import DeviceFindForm

from .. import selectors, services
from ..forms import ResolveForm, ReturnForm, SupportContactForm
from ..models import SupportContact
from .common import helpdesk_required


@helpdesk_required
@require_GET
def helpdesk(request):
    """Find a device by asset tag (typed with or without dash, any case) or serial number."""
    form = DeviceFindForm(request.GET if "q" in request.GET else None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        device = selectors.find_device(asset_tag=data["asset_tag"], serial=data["serial"])
        if device is not None:
            return redirect("distribution:helpdesk_device", device.pk)
        form.add_error(
            "q", data["tag_error"] or _("Geen apparaat met deze code of dit serienummer.")
        )
    return render(
        request,
        "distribution/helpdesk.html",
        {
            "form": form,
            "follow_ups": selectors.open_follow_ups(),
            "recent": selectors.recent_contacts(),
        },
    )


def _device_page(request, device, *, contact_form=None, return_form=None, status=200):
    return render(
        request,
        "distribution/helpdesk_device.html",
        {
            **selectors.helpdesk_device(device),
            "contact_form": contact_form or SupportContactForm(),
            "return_form": return_form or ReturnForm(),
            "resolve_form": ResolveForm(),
            "find_form": DeviceFindForm(),
        },
        status=status,
    )


@helpdesk_required
@require_GET
def helpdesk_device(request, device_id):
    return _device_page(request, get_object_or_404(Device, pk=device_id))


@helpdesk_required
@require_POST
def helpdesk_contact(request, device_id):
    device = get_object_or_404(Device, pk=device_id)
    form = SupportContactForm(request.POST)
    if form.is_valid():
        try:
            services.support_contact_log(device.pk, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Het contact is vastgelegd."))
            return redirect("distribution:helpdesk_device", device.pk)
    return _device_page(request, device, contact_form=form, status=400)


@helpdesk_required
@require_POST
def helpdesk_return(request, device_id):
    device = get_object_or_404(Device, pk=device_id)
    form = ReturnForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            device_return = services.device_return_start(
                device.pk,
                by=request.user,
                reason=data["reason"],
                replacement=data["replacement"],
                contact_id=data["contact"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _(
                    "Retour gestart: apparaat %(tag)s gaat terug naar %(refurbisher)s. Beide "
                    "organisaties hebben bericht gekregen."
                )
                % {
                    "tag": format_asset_tag(device.asset_tag),
                    "refurbisher": device_return.refurbisher.name,
                },
            )
            return redirect("distribution:helpdesk_device", device.pk)
    return _device_page(request, device, return_form=form, status=400)


@helpdesk_required
@require_POST
def helpdesk_resolve(request, contact_id):
    contact = get_object_or_404(SupportContact, pk=contact_id)
    form = ResolveForm(request.POST)
    if form.is_valid():
        services.support_contact_resolve(
            contact.pk, by=request.user, note=form.cleaned_data["note"]
        )
        messages.success(request, _("Het contact staat nu als opgelost."))
    else:
        messages.error(request, _("Schrijf op hoe het is opgelost."))
    return redirect("distribution:helpdesk_device", contact.device_id)
