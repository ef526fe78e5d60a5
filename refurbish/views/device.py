"""One device: its page and its steps (erasure, log, test and grade, recycling), the log upload
page and finding a device by its tag."""

from django.contrib import messages
from django.core.exceptions import TooManyFilesSent
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from allemaal.services import DomainError
from allemaal.uploads import upload_limit
from donations.vocabulary import normalise_serial

from .. import selectors, services
from ..erasure_logs import (
    MAX_LOG_BYTES,
    MAX_UPLOAD_REQUEST_BYTES,
    erasure_logs_import,
)
from ..forms import DeviceFindForm, ErasureForm, InspectionForm, LogUploadForm, RecycleForm
from ..models import ErasureLogImport, ErasureSource
from ..services import log_jobs
from .common import own_device, refurbisher_required

# --- One device ------------------------------------------------------------------------------


@refurbisher_required
@require_GET
def device_find(request):
    """Open a device by its asset tag (typed or scanned from its label) or serial number."""
    form = DeviceFindForm(request.GET)
    if form.is_valid():
        data = form.cleaned_data
        devices = selectors.refurbisher_devices(request.organisation)
        if data["asset_tag"]:
            device = devices.filter(asset_tag=data["asset_tag"]).first()
        else:
            device = devices.filter(serial_number=normalise_serial(data["serial"])).first()
        if device is not None:
            return redirect("refurbish:device", device.pk)
        form.add_error(
            "q", data["tag_error"] or _("Geen apparaat van uw organisatie met deze code.")
        )
    return render(request, "refurbish/device_find.html", {"form": form}, status=404)


def _device_page(request, device, **bound):
    forms = {
        "erasure_form": ErasureForm(prefix="erasure"),
        "log_form": LogUploadForm(prefix="log"),
        "inspection_form": InspectionForm(
            prefix="inspection",
            kind=device.kind,
            initial={
                "cpu": device.cpu,
                "ram_gb": device.ram_gb,
                "storage_gb": device.storage_gb,
                "grade": device.grade,
                "os_installed": device.os_installed,
            },
        ),
        "recycle_form": RecycleForm(prefix="recycle"),
        **bound,
    }
    return render(
        request,
        "refurbish/device.html",
        {"device": device, **selectors.device_detail(device), **forms},
        status=400 if bound else 200,
    )


def _device_step(request, device_id, form_name, form_class, prefix, apply):
    device = own_device(request, device_id)
    form = form_class(request.POST, request.FILES, prefix=prefix)
    if form.is_valid():
        try:
            message = apply(device, form)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, message)
            return redirect("refurbish:device", device.pk)
    return _device_page(request, device, **{form_name: form})


@refurbisher_required
@require_GET
def device(request, device_id):
    return _device_page(request, own_device(request, device_id))


@upload_limit(MAX_LOG_BYTES)
@refurbisher_required
@require_POST
def device_erasure(request, device_id):
    def apply(device, form):
        record = services.device_record_erasure(
            device.pk, form.to_input(), by=request.user, organisation=request.organisation
        )
        return _("Wisregistratie vastgelegd (%(result)s).") % {
            "result": record.get_result_display()
        }

    return _device_step(request, device_id, "erasure_form", ErasureForm, "erasure", apply)


@upload_limit(MAX_LOG_BYTES)
@refurbisher_required
@require_POST
def device_log(request, device_id):
    """Match one nwipe log to this device by hand (for logs without a usable serial)."""

    def apply(device, form):
        results = erasure_logs_import(
            ((f.name, f.read()) for f in form.cleaned_data["logs"]),
            organisation=request.organisation,
            by=request.user,
            source=ErasureSource.UPLOAD,
            device=device,
        )
        refused = [r for r in results if r.refused]
        if refused:
            raise DomainError(" ".join(f"{r.name}: {r.reason}" for r in refused))
        return " ".join(f"{r.name}: {r.reason or _('gewist')}" for r in results)

    return _device_step(request, device_id, "log_form", LogUploadForm, "log", apply)


@refurbisher_required
@require_POST
def device_inspection(request, device_id):
    def apply(device, form):
        inspection = services.device_record_inspection(
            device.pk, form.to_input(), by=request.user, organisation=request.organisation
        )
        if inspection.passed:
            return _("Getest en beoordeeld: het apparaat is klaar voor gebruik.")
        return _("Test vastgelegd, niet geslaagd: %(defects)s.") % {
            "defects": ", ".join(inspection.defects)
        }

    return _device_step(request, device_id, "inspection_form", InspectionForm, "inspection", apply)


@refurbisher_required
@require_POST
def device_recycle(request, device_id):
    def apply(device, form):
        services.device_recycle(
            device.pk, form.to_input(), by=request.user, organisation=request.organisation
        )
        return _("Het apparaat is gerecycled.")

    return _device_step(request, device_id, "recycle_form", RecycleForm, "recycle", apply)


# --- Erasure logs ----------------------------------------------------------------------------


@upload_limit(MAX_UPLOAD_REQUEST_BYTES)
@refurbisher_required
@require_http_methods(["GET", "POST"])
def log_upload(request):
    """Upload one or many nwipe logs (or a zip of them); each is matched to its device."""
    results = None
    try:
        bound = request.method == "POST"
        form = LogUploadForm(request.POST if bound else None, request.FILES if bound else None)
    except TooManyFilesSent:
        # Normally answered by UploadLimitMiddleware; a bound, empty form can carry the error.
        form = LogUploadForm({}, {})
        form.is_valid()
        form.errors["logs"] = form.error_class(
            [_("Te veel bestanden tegelijk. Stop de logs in één zip-bestand en upload dat.")]
        )
    if form.is_bound and form.is_valid():
        files = form.cleaned_data["logs"]
        if log_jobs.erasure_log_upload_is_large(files):
            job = log_jobs.erasure_log_job_enqueue(
                files, organisation=request.organisation, by=request.user
            )
            return redirect("refurbish:log_job", job.pk)
        results = erasure_logs_import(
            ((f.name, f.read()) for f in files),
            organisation=request.organisation,
            by=request.user,
            source=ErasureSource.UPLOAD,
        )
    return render(request, "refurbish/log_upload.html", {"form": form, "results": results})


@refurbisher_required
@require_GET
def log_job(request, job_id):
    """A large log upload being recorded in the background; the page refreshes itself."""
    job = get_object_or_404(ErasureLogImport, pk=job_id, organisation=request.organisation)
    return render(request, "refurbish/log_job.html", {"job": job})
