from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import admin_privacy, personal_data, services
from . import privacy as register
from .access import get_for_organisation, organisation_required
from .forms import InvitationForm, OrganisationForm
from .models import Invitation, Membership, Organisation

# Where each kind of organisation lands after log-in (URL names only: no import goes up a layer).
DASHBOARDS = {
    Organisation.Kind.DONOR: "coordination:donor_overview",
    Organisation.Kind.REQUESTER: "coordination:requester_overview",
    Organisation.Kind.REFURBISHER: "refurbish:dashboard",
    Organisation.Kind.TELECOM: "helprequests:telecom_dashboard",
}


@login_required
def dashboard(request):
    """Send every actor to its own start page."""
    if request.user.is_staff:
        # Helpdesk agents work from the helpdesk pages; coordinators from the admin.
        helpdesk_only = request.user.in_group("helpdesk") and not request.user.is_coordinator
        return redirect("distribution:helpdesk" if helpdesk_only else "admin:index")
    membership = Membership.objects.select_related("organisation").filter(user=request.user).first()
    if membership is None:
        return redirect("organisation_create")
    if not membership.organisation.is_verified:
        return redirect("awaiting_verification")
    return redirect(DASHBOARDS[membership.organisation.kind])


@login_required
@require_http_methods(["GET", "POST"])
def organisation_create(request):
    if Membership.objects.filter(user=request.user).exists() or request.user.is_staff:
        return redirect("dashboard")
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in form.Meta.fields}
        try:
            services.organisation_create(user=request.user, data=data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Uw organisatie is aangemeld."))
            return redirect("awaiting_verification")
    return render(request, "allemaal/organisation_form.html", {"form": form})


@organisation_required(verified=False)
def awaiting_verification(request):
    if request.organisation.is_verified:
        return redirect("dashboard")
    return render(request, "allemaal/awaiting_verification.html")


@organisation_required()
@require_http_methods(["GET", "POST"])
def organisation_detail(request):
    """The organisation's own page: its details, members and (for admins) invitations."""
    form = InvitationForm(request.POST or None)
    if request.method == "POST":
        if not request.membership.is_admin:
            messages.error(request, _("Alleen een beheerder kan collega's uitnodigen."))
            return redirect("organisation_detail")
        if form.is_valid():
            try:
                services.invitation_create(
                    organisation=request.organisation,
                    by=request.user,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            except services.DomainError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("De uitnodiging is verstuurd."))
                return redirect("organisation_detail")
    members = request.organisation.memberships.select_related("user").order_by("user__email")
    invitations = request.organisation.invitations.filter(status=Invitation.Status.PENDING)
    return render(
        request,
        "allemaal/organisation_detail.html",
        {
            "form": form,
            "members": members,
            "invitations": invitations,
        },
    )


@organisation_required(admin=True)
@require_POST
def invitation_withdraw(request, pk):
    invitation = get_for_organisation(Invitation.objects.all(), request.organisation, pk=pk)
    try:
        services.invitation_withdraw(invitation, by=request.user)
    except services.DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("De uitnodiging is ingetrokken; de link werkt niet meer."))
    return redirect("organisation_detail")


@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    """Only the invited address learns what the invitation is for; anyone else sees a log-in
    page (anonymous) or a refusal (another account), never the address or organisation."""
    if not request.user.is_authenticated:
        return render(request, "allemaal/invitation_login.html", {"token": token})
    try:
        invitation = services.invitation_for_token(token=token, user=request.user)
        if request.method == "POST":
            services.invitation_accept(token=token, user=request.user)
            messages.success(request, _("Welkom! U bent nu lid van de organisatie."))
            return redirect("dashboard")
    except services.DomainError as exc:
        return render(
            request, "allemaal/invitation_refused.html", {"message": str(exc)}, status=403
        )
    return render(request, "allemaal/invitation_accept.html", {"invitation": invitation})


def privacy(request):
    """The privacy statement, generated from the register so that it never drifts from it."""
    entries = [
        {"entry": entry, "retention": register.RETENTION[entry.retention]}
        for entry in register.REGISTER
    ]
    return render(
        request,
        "allemaal/privacy.html",
        {
            "entries": entries,
            "controller": settings.PRIVACY_CONTROLLER,
            "privacy_email": settings.PRIVACY_EMAIL,
        },
    )


@login_required
def personal_data_export(request):
    """The person downloads everything the platform holds about them (AVG art. 15): the JSON
    file, or with ?pdf=1 a readable summary."""
    if request.GET.get("pdf"):
        response = HttpResponse(
            personal_data.export_pdf(request.user), content_type="application/pdf"
        )
        response["Content-Disposition"] = 'attachment; filename="mijn-gegevens.pdf"'
        return response
    return admin_privacy._json_download(request.user)


@login_required
@require_http_methods(["GET", "POST"])
def personal_data_erase(request):
    """The person asks for their data to be erased (AVG art. 17); staff accounts are erased by
    a superuser, so that nobody locks the coordination out by accident."""
    if request.user.is_staff:
        messages.info(
            request, _("Medewerkers van het coördinatieteam vragen dit aan de beheerder.")
        )
        return redirect("personal_data")
    if request.method == "POST" and request.POST.get("email", "").strip().lower() == (
        request.user.email.lower()
    ):
        personal_data.personal_data_erase(request.user, by=request.user)
        return redirect("privacy")
    return render(request, "allemaal/personal_data.html", {"erase": True})


@login_required
def personal_data_page(request):
    return render(request, "allemaal/personal_data.html", {"erase": False})
