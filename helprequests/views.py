"""Requesting organisations' pages (ask, edit, review, cancel) and the telecom providers' pages.

The requester's overview and request page (progress, queue place) live in `coordination`.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from allemaal.access import get_for_organisation, organisation_required
from allemaal.models import Organisation
from allemaal.uploads import upload_limit

from . import selectors, services, telecom_csv
from .forms import HelpRequestForm, ProvisionForm, ProvisionUploadForm
from .models import PUPIL_GROUPS, ConnectivityAssignment, HelpRequest, ProvisionUpload
from .services import connectivity, provision_uploads

requester_required = organisation_required(Organisation.Kind.REQUESTER)
telecom_required = organisation_required(Organisation.Kind.TELECOM)


def _own_request(request, pk: int) -> HelpRequest:
    """The organisation's own request, or 404 (also for another organisation's request)."""
    return get_for_organisation(
        HelpRequest.objects.select_related("organisation"), request.organisation, pk=pk
    )


def request_limits(organisation, *, requests=None) -> dict:
    """The limits the form and the overview state: open requests, devices, closed intake.
    `requests`: every request of the organisation, when the caller has read them (the
    overview): its open ones are counted from them, not by another query."""
    if requests is None:
        open_count = selectors.open_request_count(organisation.pk)
    else:
        open_count = sum(r.is_open for r in requests)
    return {
        "open_count": open_count,
        "max_open": services.max_open_requests(),
        "max_devices": services.max_devices(),
        "at_open_limit": open_count >= services.max_open_requests(),
        "closed_intake": selectors.closed_intake().values(),
    }


@requester_required
@require_http_methods(["GET", "POST"])
def request_create(request):
    org, user = request.organisation, request.user
    initial = {
        "delivery_street": org.street,
        "delivery_postcode": org.postcode,
        "delivery_city": org.city,
        "contact_name": user.get_full_name(),
        "contact_phone": org.phone,
    }
    form = HelpRequestForm(request.POST or None, organisation=org, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            help_request = services.helprequest_create(
                organisation=org, by=user, data=form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _saved(request, help_request, form)
    return _form_page(request, form, None)


@requester_required
@require_http_methods(["GET", "POST"])
def request_edit(request, pk: int):
    help_request = _own_request(request, pk)
    if not help_request.is_editable:
        messages.error(request, _("Over deze hulpaanvraag is al besloten; wijzigen kan niet meer."))
        return redirect("coordination:request_detail", pk=pk)
    form = HelpRequestForm(
        request.POST or None, instance=help_request, organisation=request.organisation
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.helprequest_update(help_request, by=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        except services.DomainError as exc:
            messages.error(request, str(exc))
            return redirect("coordination:request_detail", pk=pk)
        else:
            return _saved(request, help_request, form)
    return _form_page(request, form, help_request)


def _form_page(request, form, help_request):
    return render(
        request,
        "helprequests/form.html",
        {
            "form": form,
            "help_request": help_request,
            "pupil_groups": ",".join(PUPIL_GROUPS),
            **request_limits(request.organisation),
        },
    )


def _saved(request, help_request, form):
    if form.saving_draft:
        messages.success(request, _("Uw hulpaanvraag is opgeslagen als concept."))
        return redirect("coordination:requester_overview")
    if form.is_draft:
        return redirect("helprequests:review", pk=help_request.pk)
    messages.success(request, _("Uw wijzigingen zijn opgeslagen."))
    return redirect("coordination:request_detail", pk=help_request.pk)


@requester_required
@require_http_methods(["GET", "POST"])
def request_review(request, pk: int):
    """The confirmation page: the whole request, then the organisation submits it."""
    help_request = _own_request(request, pk)
    if help_request.status != HelpRequest.Status.DRAFT:
        return redirect("coordination:request_detail", pk=pk)
    if request.method == "POST":
        try:
            services.helprequest_submit(help_request, by=request.user)
        except (ValidationError, services.DomainError):
            pass  # the page below says what is missing
        else:
            messages.success(
                request,
                _("Uw hulpaanvraag %(ref)s is ingediend. U krijgt een bevestiging per e-mail.")
                % {"ref": help_request.reference},
            )
            return redirect("coordination:requester_overview")
    return render(
        request,
        "helprequests/review.html",
        {"help_request": help_request, "problems": _problems(help_request)},
    )


def _problems(help_request: HelpRequest) -> list[str]:
    """What stops the request from being submitted, in the organisation's words."""
    problems = []
    try:
        services.check_complete(help_request)
    except ValidationError as exc:
        for field, messages_ in exc.message_dict.items():
            label = HelpRequest._meta.get_field(field).verbose_name
            problems += [f"{label[:1].upper()}{label[1:]}: {m}" for m in messages_]
    try:
        services.check_open_limit(help_request.organisation, exclude_pk=help_request.pk)
    except services.DomainError as exc:
        problems.append(str(exc))
    return problems


@requester_required
@require_http_methods(["GET", "POST"])
def request_cancel(request, pk: int):
    help_request = _own_request(request, pk)
    if request.method == "POST":
        try:
            services.helprequest_cancel(help_request, by=request.user)
        except services.DomainError as exc:
            messages.error(request, str(exc))
            return redirect("coordination:request_detail", pk=pk)
        messages.success(
            request,
            _("Hulpaanvraag %(ref)s is geannuleerd.") % {"ref": help_request.reference},
        )
        return redirect("coordination:requester_overview")
    return render(request, "helprequests/cancel.html", {"help_request": help_request})


# --- Telecom providers: internet connections -----------------------------------------------


def _own_assignment(request, pk: int) -> ConnectivityAssignment:
    """The provider's own assignment, or 404 (also for another provider's assignment)."""
    return get_for_organisation(
        ConnectivityAssignment.objects.select_related("help_request__organisation"),
        request.organisation,
        field="provider",
        pk=pk,
    )


@telecom_required
def telecom_dashboard(request):
    lists = selectors.provider_assignments(request.organisation.pk, today=timezone.localdate())
    return render(
        request,
        "helprequests/telecom/dashboard.html",
        {"lists": lists, "reminder_days": ConnectivityAssignment.REMINDER_DAYS},
    )


@telecom_required
@require_http_methods(["GET", "POST"])
def telecom_detail(request, pk: int):
    assignment = _own_assignment(request, pk)
    form = ProvisionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            connectivity.connectivity_fulfil(
                assignment,
                provider=request.organisation,
                by=request.user,
                provision=form.provision(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        except services.DomainError as exc:
            messages.error(request, str(exc))
            return redirect("helprequests:telecom_detail", pk=pk)
        else:
            messages.success(
                request,
                _("Opdracht %(ref)s is gemarkeerd als geleverd. De organisatie krijgt bericht.")
                % {"ref": assignment.reference},
            )
            return redirect("helprequests:telecom_dashboard")
    events = assignment.events.select_related("by").order_by("at", "id")
    return render(
        request,
        "helprequests/telecom/detail.html",
        {"assignment": assignment, "form": form, "events": events},
    )


@telecom_required
def telecom_csv_download(request):
    include_fulfilled = request.GET.get("alles") == "1"
    assignments = selectors.provider_csv_assignments(
        request.organisation.pk, include_fulfilled=include_fulfilled
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = "internetopdrachten-alle" if include_fulfilled else "internetopdrachten-te-leveren"
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{timezone.localdate().isoformat()}.csv"'
    )
    telecom_csv.write_assignments(response, assignments.iterator(chunk_size=500))
    return response


@upload_limit(telecom_csv.MAX_BYTES)
@telecom_required
@require_http_methods(["GET", "POST"])
def telecom_upload(request):
    posted = request.method == "POST"
    form = ProvisionUploadForm(request.POST if posted else None, request.FILES if posted else None)
    failure = None
    if posted and form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            # Reading is bounded by the file's limits; recording costs a change, its history
            # and a mail per line, so a clean file of many lines goes to a background job.
            parsed = telecom_csv.read_provisions(uploaded, today=timezone.localdate())
            if not parsed.errors and len(parsed.rows) > settings.TELECOM_BACKGROUND_ROWS:
                uploaded.seek(0)
                job = provision_uploads.provision_upload_enqueue(
                    provider=request.organisation, by=request.user, uploaded_file=uploaded
                )
                return redirect("helprequests:telecom_upload_job", job_id=job.pk)
            result = telecom_csv.import_provisions(
                uploaded, provider=request.organisation, by=request.user, parsed=parsed
            )
        except telecom_csv.UploadInvalid as exc:
            failure = exc
        else:
            messages.success(request, _uploaded_message(len(result.fulfilled), result.unchanged))
            return redirect("helprequests:telecom_dashboard")
    return render(request, "helprequests/telecom/upload.html", {"form": form, "failure": failure})


@telecom_required
def telecom_upload_job(request, job_id: int):
    job = get_for_organisation(
        ProvisionUpload.objects, request.organisation, field="provider", pk=job_id
    )
    failure = None
    if job.status == job.Status.FAILED:
        failure = {"errors": job.errors, "total": job.total_errors}
    done = _uploaded_message(job.fulfilled, job.unchanged) if job.status == job.Status.DONE else ""
    return render(
        request,
        "helprequests/telecom/upload_job.html",
        {"job": job, "failure": failure, "done": done},
    )


def _uploaded_message(n: int, unchanged: int) -> str:
    message = ngettext(
        "%(n)d opdracht is gemarkeerd als geleverd.",
        "%(n)d opdrachten zijn gemarkeerd als geleverd.",
        n,
    ) % {"n": n}
    if unchanged:
        message += " " + ngettext(
            "%(n)d regel was al eerder gemeld en is niet veranderd.",
            "%(n)d regels waren al eerder gemeld en zijn niet veranderd.",
            unchanged,
        ) % {"n": unchanged}
    return message
