"""Evidence files, the wiping stations' API tokens, the erasure certificate and its public
verify page."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from allemaal.access import get_for_organisation, organisation_required
from allemaal.models import Membership, Organisation
from allemaal.services import DomainError

from .. import services
from ..forms import StationTokenForm, VerifyForm
from ..models import ErasureCertificate, ErasureRecord, StationToken
from ..pdf import certificate_pdf


def member_organisation(user):
    membership = Membership.objects.select_related("organisation").filter(user=user).first()
    return membership.organisation if membership else None


def coordinator_or_member(view):
    """Logged in; sets `request.member_org` (None for coordinators, who may see everything)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if request.user.is_coordinator:
            request.member_org = None
        else:
            request.member_org = member_organisation(request.user)
            if request.member_org is None or not request.member_org.is_verified:
                raise Http404
        return view(request, *args, **kwargs)

    return wrapper


# Evidence is always downloaded, never shown inline; unknown types as plain bytes.
EVIDENCE_TYPES = {
    "log": "text/plain; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
}


@coordinator_or_member
@require_GET
def erasure_evidence(request, record_id):
    """The evidence file of an erasure record, for its refurbisher and coordinators only."""
    records = ErasureRecord.objects.exclude(evidence="")
    if request.member_org is not None:
        records = records.filter(device__donation__refurbisher=request.member_org)
    record = get_object_or_404(records, pk=record_id)
    name = record.evidence_name or "bewijs.log"
    return FileResponse(
        record.evidence.open("rb"),
        as_attachment=True,
        filename=name,
        content_type=EVIDENCE_TYPES.get(
            name.rsplit(".", 1)[-1].lower(), "application/octet-stream"
        ),
    )


# --- API tokens ------------------------------------------------------------------------------


@organisation_required(Organisation.Kind.REFURBISHER, admin=True)
@require_http_methods(["GET", "POST"])
def station_tokens(request):
    """The refurbisher's admin creates and revokes the wiping stations' API tokens."""
    form = StationTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            token, new_token = services.station_token_create(
                organisation=request.organisation, name=form.cleaned_data["name"], by=request.user
            )
        except DomainError as exc:
            form.add_error("name", str(exc))
        else:
            form = StationTokenForm()
    tokens = StationToken.objects.filter(organisation=request.organisation).order_by(
        "revoked_at", "-created_at"
    )
    return render(
        request,
        "refurbish/station_tokens.html",
        {
            "form": form,
            "tokens": tokens,
            "new_token": new_token,
            "api_url": request.build_absolute_uri(reverse("refurbish:api_erasure_logs")),
        },
    )


@organisation_required(Organisation.Kind.REFURBISHER, admin=True)
@require_POST
def station_token_revoke(request, token_id):
    token = get_for_organisation(StationToken.objects.all(), request.organisation, pk=token_id)
    services.station_token_revoke(token, by=request.user)
    messages.success(request, _("De API-sleutel '%(name)s' is ingetrokken.") % {"name": token.name})
    return redirect("refurbish:station_tokens")


# --- Certificate -----------------------------------------------------------------------------


@coordinator_or_member
@require_GET
def certificate(request, donation_id):
    """The donation's erasure certificate (PDF), for its donor, its refurbisher and coordinators."""
    certificates = ErasureCertificate.objects.select_related("donation")
    org = request.member_org
    if org is not None:
        certificates = certificates.filter(Q(donation__donor=org) | Q(donation__refurbisher=org))
    certificate = get_object_or_404(certificates, donation_id=donation_id)
    pdf = certificate_pdf(certificate, verify_url=services.certificate_verify_url(certificate.code))
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"wiscertificaat-{certificate.summary['donation']}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def certificate_lookup(request):
    """A form where someone types a certificate code; sends them to its verify page."""
    form = VerifyForm(request.GET or None)
    if form.is_valid():
        return redirect(services.certificate_verify_path(form.cleaned_data["code"]))
    return render(request, "refurbish/verify.html", {"form": form, "certificate": None})


@require_GET
def certificate_verify(request, code):
    """Public: anyone holding a certificate checks that its code is genuine."""
    form = VerifyForm({"code": code})
    certificate = None
    if form.is_valid():
        certificate = ErasureCertificate.objects.filter(code=form.cleaned_data["code"]).first()
    return render(
        request,
        "refurbish/verify.html",
        {"form": VerifyForm(), "certificate": certificate, "code": code},
        status=200 if certificate else 404,
    )
