from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

MFA_SESSION_KEY = "allemaal_staff_mfa_ok"
# Pages that staff must reach while they have no TOTP yet.
_MFA_FREE_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/media/")
_STAFF_PREFIXES = ("/admin/", "/helpdesk/", "/coordinatie/")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class StaffMfaRequiredMiddleware:
    """Staff (coordinators, helpdesk) must set up TOTP before the admin or staff pages open.

    The check is remembered in the session so that admin pages do not pay a query for it; the
    session flag is dropped when the user's authenticators change (see signals).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and user.is_staff
            and request.path.startswith(_STAFF_PREFIXES)
            and not request.session.get(MFA_SESSION_KEY)
        ):
            if not has_totp(user):
                messages.warning(
                    request,
                    _(
                        "Stel eerst tweestapsverificatie (een authenticator-app) in. "
                        "Daarna opent het beheer."
                    ),
                )
                return redirect("mfa_activate_totp")
            request.session[MFA_SESSION_KEY] = True
        return self.get_response(request)


def has_totp(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
