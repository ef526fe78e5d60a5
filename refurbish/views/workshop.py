"""The workspace, the intake scan page, the device lists with their bulk steps, and labels."""

from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from allemaal.access import get_for_organisation
from allemaal.services import DomainError
from allemaal.uploads import upload_limit
from donations.models import Device, Donation

from .. import selectors, services
from ..asset_tags import format_asset_tag
from ..erasure_logs import MAX_LOG_BYTES
from ..forms import BulkGradeForm, ErasureForm, RecycleForm, ScanForm
from ..pdf import labels_pdf
from .common import own_donation, refurbisher_required, selected_ids

# --- Workspace -------------------------------------------------------------------------------


# The weekly throughput and the yield read the refurbisher's history of custody events: at a
# national refurbisher's scale 200 ms each (bench_load --national), so counted once per this
# many seconds per refurbisher, not at every view of the workspace.
HISTORY_SECONDS = 300


def history_figures(org) -> tuple[list, selectors.Yield]:
    key = f"refurbish:workspace-history:{org.pk}"
    figures = cache.get(key)
    if figures is None:
        figures = (selectors.throughput(org), selectors.refurbisher_yield(org))
        cache.set(key, figures, HISTORY_SECONDS)
    return figures


# Received donations on the workspace, a page at a time: a large refurbisher holds hundreds,
# and rendering them all made the page grow with its backlog (500 rows: 160 ms).
DONATIONS_PER_PAGE = 25
# The scan page's list of scanned units, newest first, a page at a time: a bulk donation holds
# thousands, and the page rendered every one of them (400 scans: 9 -> 56 ms) while the scanner
# waits. The undo of a mis-scan stays reachable on the later pages.
SCANS_PER_PAGE = 50


@refurbisher_required
def dashboard(request):
    org = request.organisation
    throughput, device_yield = history_figures(org)
    donations = Paginator(selectors.received_donations(org), DONATIONS_PER_PAGE).get_page(
        request.GET.get("pagina")
    )
    return render(
        request,
        "refurbish/dashboard.html",
        {
            "backlog": selectors.backlog(org),
            "throughput": throughput,
            "device_yield": device_yield,
            "donations": donations,
            "certificates": selectors.recent_certificates(org),
        },
    )


# --- Intake ----------------------------------------------------------------------------------


def counts_text(counts: selectors.IntakeCounts) -> str:
    if counts.on_manifest:
        text = _("%(done)d van %(total)d aangekondigde apparaten gescand") % {
            "done": counts.scanned_on_manifest,
            "total": counts.on_manifest,
        }
    else:
        text = _("%(done)d gescand (aangemeld: %(pledged)d apparaten)") % {
            "done": counts.scanned,
            "pledged": counts.pledged,
        }
    if counts.added:
        text += ngettext(
            ", %(n)d extra (niet op de lijst)", ", %(n)d extra (niet op de lijst)", counts.added
        ) % {"n": counts.added}
    return text


def _scan_answer(
    request, donation_id, *, ok, message, counts=None, device=None, added=False, status=200
):
    if "application/json" not in request.headers.get("Accept", ""):
        (messages.success if ok else messages.error)(request, message)
        return redirect(
            reverse("refurbish:intake", args=[donation_id])
            + f"?soort={request.POST.get('kind', '')}"
        )
    if counts is None:
        counts = selectors.intake_counts(own_donation(request, donation_id))
    payload = {"ok": ok, "message": message, "counts": counts.as_json()}
    payload["counts_text"] = counts_text(counts)
    if device is not None:
        payload["device"] = {
            "serial_number": device.serial_number,
            "asset_tag": format_asset_tag(device.asset_tag),
            "make_model": f"{device.make} {device.model}".strip() or device.get_kind_display(),
            "state": device.get_state_display(),
            "url": reverse("refurbish:device", args=[device.pk]),
            "added": added,
        }
    return JsonResponse(payload, status=status)


def _intake_scan(request, donation_id):
    """One scan (the handheld scanner's POST): the service locks and checks the donation itself,
    so a scan costs its own few queries and no page load before it."""
    form = ScanForm(request.POST)
    if not form.is_valid():
        own_donation(request, donation_id)  # another refurbisher's donation: 404
        message = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return _scan_answer(request, donation_id, ok=False, message=message, status=400)
    try:
        result = services.device_intake_scan(
            donation_id,
            form.cleaned_data["serial"],
            kind=form.cleaned_data["kind"],
            by=request.user,
            organisation=request.organisation,
        )
    except Donation.DoesNotExist:
        own_donation(request, donation_id)  # 404, logged when it is another refurbisher's
        raise Http404 from None
    except DomainError as exc:
        counts = getattr(exc, "counts", None)
        if counts is None:
            own_donation(request, donation_id)
        return _scan_answer(
            request, donation_id, ok=False, message=str(exc), counts=counts, status=409
        )
    device = result.device
    template = (
        _("Toegevoegd (stond niet op de lijst): %(serial)s, apparaatcode %(tag)s")
        if result.added
        else _("Ontvangen: %(serial)s, apparaatcode %(tag)s")
    )
    message = template % {
        "serial": device.serial_number,
        "tag": format_asset_tag(device.asset_tag),
    }
    return _scan_answer(
        request,
        donation_id,
        ok=True,
        message=message,
        counts=result.counts,
        device=device,
        added=result.added,
    )


@refurbisher_required
@require_http_methods(["GET", "POST"])
def intake(request, donation_id):
    """The scan page: a handheld scanner types the serial and Enter; one unit per scan."""
    if request.method == "POST":
        return _intake_scan(request, donation_id)
    donation = own_donation(request, donation_id)
    form = ScanForm(initial={"kind": request.GET.get("soort") or "laptop"})
    counts = selectors.intake_counts(donation)
    return render(
        request,
        "refurbish/intake.html",
        {
            "donation": donation,
            "form": form,
            "counts": counts,
            "counts_text": counts_text(counts),
            "scans": Paginator(selectors.intake_scans(donation), SCANS_PER_PAGE).get_page(
                request.GET.get("pagina")
            ),
            "can_scan": donation.status == Donation.Status.RECEIVED,
        },
    )


@refurbisher_required
@require_http_methods(["GET", "POST"])
def intake_complete(request, donation_id):
    """Close intake: the listed units that were not scanned in are shown, then (on confirm)
    become not received, and the donor is told."""
    donation = own_donation(request, donation_id)
    if request.method == "POST":
        try:
            moved = services.donation_intake_complete(
                donation.pk, by=request.user, organisation=request.organisation
            )
        except DomainError as exc:
            messages.error(request, str(exc))
            return redirect("refurbish:intake", donation_id=donation.pk)
        messages.success(
            request,
            ngettext(
                "Inname afgerond. %(n)d apparaat staat als niet ontvangen; de donateur is "
                "ingelicht.",
                "Inname afgerond. %(n)d apparaten staan als niet ontvangen; de donateur is "
                "ingelicht.",
                len(moved),
            )
            % {"n": len(moved)}
            if moved
            else _("Inname afgerond. Alle apparaten van de lijst zijn ontvangen."),
        )
        return redirect("refurbish:donation", donation_id=donation.pk)
    missing = donation.devices.filter(state=Device.State.ANNOUNCED).order_by("serial_number")
    return render(
        request,
        "refurbish/intake_complete.html",
        {
            "donation": donation,
            "missing": missing.only("serial_number", "kind", "make", "model", "donor_asset_tag"),
            "can_complete": donation.status == Donation.Status.RECEIVED,
        },
    )


@refurbisher_required
@require_POST
def intake_undo(request, donation_id, device_id):
    """A unit added at intake by mistake (a mis-scan) is removed again."""
    donation = own_donation(request, donation_id)
    try:
        serial = services.device_intake_undo(
            device_id, by=request.user, organisation=request.organisation
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("%(serial)s is verwijderd (verkeerd gescand).") % {"serial": serial}
        )
    return redirect("refurbish:intake", donation_id=donation.pk)


# --- Device lists and bulk steps -------------------------------------------------------------

BULK_FORMS = {"erasure": ErasureForm, "grade": BulkGradeForm, "recycle": RecycleForm}
WORKBENCH_PAGE_SIZE = 200


def _bulk_forms(request, action: str):
    return {
        name: form_class(
            request.POST if name == action else None,
            request.FILES if name == action else None,
            prefix=name,
        )
        for name, form_class in BULK_FORMS.items()
    }


def _apply_bulk(request, action: str, form, ids: list[int]) -> int:
    org, user = request.organisation, request.user
    if action == "erasure":
        done = services.devices_record_erasure(ids, form.to_input(), by=user, organisation=org)
    elif action == "grade":
        done = services.devices_record_inspection(ids, form.to_input(), by=user, organisation=org)
    else:
        done = services.devices_recycle(ids, form.to_input(), by=user, organisation=org)
    return len(done)


def _workbench(request, *, donation=None, state: str = ""):
    """The device list with its bulk steps (GET shows, POST applies one step to the selection)."""
    action = request.POST.get("action", "") if request.method == "POST" else ""
    forms = _bulk_forms(request, action)
    selected = selected_ids(request)
    if action in BULK_FORMS and forms[action].is_valid():
        try:
            done = _apply_bulk(request, action, forms[action], selected)
        except services.BulkStepError as exc:
            messages.error(request, _("Er is niets gewijzigd. Deze apparaten kunnen dat niet:"))
            for error in exc.errors:
                messages.error(request, error)
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                ngettext("%(n)d apparaat bijgewerkt.", "%(n)d apparaten bijgewerkt.", done)
                % {"n": done},
            )
            return redirect(request.get_full_path())
    devices = Paginator(
        selectors.workbench_devices(request.organisation, donation=donation, state=state),
        WORKBENCH_PAGE_SIZE,
    ).get_page(request.GET.get("pagina"))
    return render(
        request,
        "refurbish/devices.html",
        {
            "donation": donation,
            "state": state,
            "states": [(value, label) for value, label in Device.State.choices],
            "devices": devices,
            "selected": set(selected),
            "forms": forms,
            "open_action": action,
            "certificate": getattr(donation, "erasure_certificate", None) if donation else None,
        },
    )


@upload_limit(MAX_LOG_BYTES)  # the erasure step's evidence file
@refurbisher_required
@require_http_methods(["GET", "POST"])
def donation_devices(request, donation_id):
    donation = get_for_organisation(
        Donation.objects.select_related("donor", "erasure_certificate"),
        request.organisation,
        field="refurbisher",
        pk=donation_id,
    )
    return _workbench(request, donation=donation)


@upload_limit(MAX_LOG_BYTES)  # the erasure step's evidence file
@refurbisher_required
@require_http_methods(["GET", "POST"])
def device_list(request):
    state = request.GET.get("status", "")
    if state not in Device.State.values:
        state = Device.State.RECEIVED
    return _workbench(request, state=state)


@refurbisher_required
@require_http_methods(["GET", "POST"])
def labels(request):
    """A PDF sheet of asset-tag labels for the chosen devices, or all of one donation."""
    source = request.POST if request.method == "POST" else request.GET
    ids = [int(value) for value in source.getlist("device") if value.isdigit()]
    devices = selectors.refurbisher_devices(request.organisation).exclude(asset_tag=None)
    if source.get("donation", "").isdigit():
        donation = own_donation(request, int(source["donation"]))
        devices = devices.filter(donation=donation)
    elif ids:
        devices = devices.filter(pk__in=ids)
        if devices.count() != len(set(ids)):
            raise Http404
    else:
        messages.error(request, _("Kies eerst de apparaten waarvoor u labels wilt printen."))
        return redirect("refurbish:dashboard")
    devices = list(devices.order_by("donation_id", "id"))
    if not devices:
        raise Http404
    response = HttpResponse(labels_pdf(devices), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="apparaatcodes.pdf"'
    return response
