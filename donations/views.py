"""Donor pages (register, follow, upload a manifest, cancel) and the refurbisher's pickups.

The donor's overview and impact report show downstream numbers and live in `coordination`.

Every donation is loaded through `get_for_organisation`, so another organisation's donation is a
404, never a hint that it exists.
"""

import csv

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from allemaal.access import get_for_organisation, organisation_required
from allemaal.exports import safe_cell
from allemaal.models import Organisation
from allemaal.services import DomainError
from allemaal.uploads import upload_limit

from . import manifest, selectors, services
from .forms import CancelForm, ColumnMappingForm, DonationForm, ManifestForm, ReceivedForm
from .models import Device, Donation, DonationPolicy
from .outcomes import OUTCOME_FIELDS, device_outcome

DONOR = Organisation.Kind.DONOR
REFURBISHER = Organisation.Kind.REFURBISHER


@organisation_required(DONOR)
@require_http_methods(["GET", "POST"])
def donation_create(request):
    policy = DonationPolicy.current()
    minimum = policy.effective_min_batch_size
    form = DonationForm(
        request.POST or None,
        minimum=minimum,
        initial=DonationForm.initial_for(request.organisation, request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            donation = services.donation_register(
                donor=request.organisation, by=request.user, data=form.service_data()
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Dank u wel! Uw donatie %(ref)s is aangemeld.") % {"ref": donation.reference},
            )
            return redirect("donations:detail", pk=donation.pk)
    return render(
        request,
        "donations/donation_form.html",
        {
            "form": form,
            "minimum": minimum,
            "below_minimum": services.below_minimum_message(minimum),
        },
    )


def _own_donation(request, pk) -> Donation:
    return get_for_organisation(
        Donation.objects.select_related("refurbisher", "erasure_certificate"),
        request.organisation,
        field="donor",
        pk=pk,
    )


@organisation_required(DONOR)
def donation_detail(request, pk):
    donation = _own_donation(request, pk)
    devices = Paginator(
        donation.devices.order_by("serial_number").only(
            "donation",
            "serial_number",
            "asset_tag",
            "kind",
            "make",
            "model",
            "donor_asset_tag",
            *OUTCOME_FIELDS,
        ),
        50,
    ).get_page(request.GET.get("pagina"))
    for device in devices:
        device.outcome = device_outcome(device)
    (donation,) = selectors.with_device_counts([donation])
    return render(
        request,
        "donations/donation_detail.html",
        {
            "donation": donation,
            "timeline": selectors.donation_timeline(donation),
            "events": donation.events.order_by("at", "id"),
            "manifests": donation.manifests.all(),
            "devices": devices,
            "manifest_form": ManifestForm(),
            "not_received": donation.devices.filter(state=Device.State.NOT_RECEIVED)
            .order_by("serial_number")
            .only("serial_number", "kind", "make", "model"),
        },
    )


@organisation_required(DONOR)
@require_POST
def found_later(request, pk):
    """The donor found units that did not arrive after all: intake reopens for them."""
    donation = _own_donation(request, pk)
    ids = [int(v) for v in request.POST.getlist("device") if v.isdigit()]
    try:
        found = services.devices_found_later(
            donation.pk, ids, by=request.user, donor=request.organisation
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            ngettext(
                "Dank u. De opknappartner weet nu dat %(n)d apparaat alsnog komt.",
                "Dank u. De opknappartner weet nu dat %(n)d apparaten alsnog komen.",
                len(found),
            )
            % {"n": len(found)},
        )
    return redirect("donations:detail", pk=donation.pk)


@upload_limit(manifest.MAX_BYTES)
@organisation_required(DONOR)
@require_http_methods(["GET", "POST"])
def manifest_upload(request, pk):
    """The donor's list is read and kept without personal data; its preview comes next."""
    donation = _own_donation(request, pk)
    form = ManifestForm(request.POST or None, request.FILES or None)
    failure = None
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        start = (
            services.manifest_import_enqueue
            if uploaded.size > settings.MANIFEST_BACKGROUND_BYTES
            else services.manifest_preview_start
        )
        try:
            job = start(
                donation.pk, by=request.user, donor=request.organisation, uploaded_file=uploaded
            )
        except manifest.ManifestInvalid as exc:
            failure = exc
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("donations:manifest_job", pk=donation.pk, job_id=job.pk)
    return render(
        request,
        "donations/manifest_upload.html",
        {"donation": donation, "form": form, "failure": failure},
    )


@organisation_required(DONOR)
@require_http_methods(["GET", "POST"])
def manifest_job(request, pk, job_id):
    donation = _own_donation(request, pk)
    job = get_object_or_404(donation.manifest_imports.select_related("manifest"), pk=job_id)
    if job.status == job.Status.PREVIEW:
        return _manifest_preview(request, donation, job)
    failure = None
    if job.status == job.Status.FAILED:
        failure = {"errors": job.errors, "total": job.total_errors}
    return render(
        request,
        "donations/manifest_job.html",
        {"donation": donation, "job": job, "failure": failure},
    )


def _manifest_preview(request, donation, job):
    """The column mapping, the first rows as they will be stored and the errors; the donor
    may change a column's field, then import."""
    preview = selectors.manifest_preview(job, request.organisation)
    form = ColumnMappingForm(
        request.POST or None, plan=preview.plan, initial={"skip_unaccepted": job.skip_unaccepted}
    )
    if request.method == "POST" and form.is_valid():
        choice = {
            "by": request.user,
            "donor": request.organisation,
            "mapping": form.mapping(),
            "skip_unaccepted": form.cleaned_data["skip_unaccepted"],
        }
        try:
            if "importeren" in request.POST:
                job.mapping, job.skip_unaccepted = choice["mapping"], choice["skip_unaccepted"]
                checked = selectors.manifest_preview(job, request.organisation)
                if checked.total_errors:
                    messages.error(
                        request,
                        _("Er zijn nog fouten. Verbeter die eerst. Wij hebben niets overgenomen."),
                    )
                    services.manifest_mapping_choose(job.pk, **choice)
                    return redirect("donations:manifest_job", pk=donation.pk, job_id=job.pk)
                job = services.manifest_import_confirm(
                    job.pk,
                    **choice,
                    background=job.file.size > settings.MANIFEST_BACKGROUND_BYTES,
                )
                if job.status == job.Status.DONE:
                    _report_import(request, job)
                    return redirect("donations:detail", pk=donation.pk)
            else:
                services.manifest_mapping_choose(job.pk, **choice)
        except DomainError as exc:
            messages.error(request, str(exc))
        return redirect("donations:manifest_job", pk=donation.pk, job_id=job.pk)
    return render(
        request,
        "donations/manifest_preview.html",
        {"donation": donation, "job": job, "preview": preview, "form": form},
    )


def _report_import(request, job) -> None:
    imported = job.manifest
    messages.success(
        request,
        ngettext(
            "%(n)d apparaat uit %(file)s is aangekondigd.",
            "%(n)d apparaten uit %(file)s zijn aangekondigd.",
            imported.rows,
        )
        % {"n": imported.rows, "file": imported.file_name},
    )
    if job.skipped:
        messages.warning(
            request,
            ngettext(
                "%(n)d rij is overgeslagen: %(rows)s.",
                "%(n)d rijen zijn overgeslagen: %(rows)s.",
                len(job.skipped),
            )
            % {
                "n": len(job.skipped),
                "rows": "; ".join(
                    _("rij %(row)d (%(reason)s)") % {"row": row, "reason": reason}
                    for row, reason in job.skipped[:20]
                ),
            },
        )


@organisation_required(DONOR)
def devices_csv(request, pk):
    """The donor's own list of its devices, each with its current state, for its records."""
    donation = _own_donation(request, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{donation.reference}-apparaten.csv"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        [
            _("serienummer"),
            _("type"),
            _("merk"),
            _("model"),
            _("eigen code"),
            _("apparaatcode"),
            _("status"),
            _("status sinds"),
            _("uitkomst"),
            _("toelichting uitkomst"),
        ]
    )
    devices = donation.devices.order_by("serial_number").iterator(chunk_size=2000)
    for d in devices:
        outcome = device_outcome(d)
        writer.writerow(
            safe_cell(v)
            for v in [
                d.serial_number,
                d.get_kind_display(),
                d.make,
                d.model,
                d.donor_asset_tag,
                d.asset_tag,
                d.get_state_display(),
                timezone.localtime(d.state_changed_at).date().isoformat(),
                outcome.label,
                outcome.detail,
            ]
        )
    return response


@organisation_required(DONOR)
def manifest_template(request, fmt):
    if fmt == "xlsx":
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        response = HttpResponse(manifest.template_xlsx(), content_type=content_type)
    else:
        response = HttpResponse(manifest.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="apparatenlijst-voorbeeld.{fmt}"'
    return response


@organisation_required(DONOR)
@require_http_methods(["GET", "POST"])
def donation_cancel(request, pk):
    donation = _own_donation(request, pk)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.donation_cancel(
                donation.pk,
                by=request.user,
                donor=request.organisation,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, _("Donatie %(ref)s is geannuleerd.") % {"ref": donation.reference}
            )
        return redirect("donations:detail", pk=donation.pk)
    return render(request, "donations/donation_cancel.html", {"donation": donation, "form": form})


# --- The refurbisher's pickups -------------------------------------------------------------


@organisation_required(REFURBISHER)
def pickups(request):
    donations = list(selectors.refurbisher_pickups(request.organisation))
    open_ = [d for d in donations if d.status in selectors.OPEN_PICKUP_STATUSES]
    done = [d for d in donations if d.status not in selectors.OPEN_PICKUP_STATUSES]
    return render(request, "donations/pickups.html", {"open": open_, "done": done[:50]})


def _assigned_donation(request, pk) -> Donation:
    return get_for_organisation(
        Donation.objects.select_related("donor"), request.organisation, field="refurbisher", pk=pk
    )


@organisation_required(REFURBISHER)
@require_POST
def pickup_collected(request, pk):
    donation = _assigned_donation(request, pk)
    try:
        services.donation_confirm_collected(
            donation.pk, by=request.user, refurbisher=request.organisation
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Donatie %(ref)s is opgehaald.") % {"ref": donation.reference})
    return redirect("donations:pickups")


@organisation_required(REFURBISHER)
@require_http_methods(["GET", "POST"])
def pickup_received(request, pk):
    donation = _assigned_donation(request, pk)
    form = ReceivedForm(request.POST or None, initial=ReceivedForm.initial_for(donation))
    if request.method == "POST" and form.is_valid():
        try:
            services.donation_confirm_received(
                donation.pk,
                by=request.user,
                refurbisher=request.organisation,
                counts=form.cleaned_data,
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("De ontvangst van donatie %(ref)s is vastgelegd.") % {"ref": donation.reference},
            )
            return redirect("donations:pickups")
    return render(request, "donations/pickup_received.html", {"donation": donation, "form": form})
