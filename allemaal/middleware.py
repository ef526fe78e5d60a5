from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .uploads import REQUEST_OVERHEAD_BYTES, number_text, too_large_message

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


class UploadLimitMiddleware:
    """Answers 413 with a Dutch message when a request to an upload view (marked with
    `allemaal.uploads.upload_limit`) declares a body over the view's maximum, before anything
    reads the body; then parses the form (streaming files to disk) so that too many files or
    fields are a 413 with a message too, not an error page.

    Sits before CsrfViewMiddleware, whose process_view would otherwise read the body first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        max_bytes = getattr(view_func, "upload_max_bytes", None)
        if max_bytes is None or request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > max_bytes + REQUEST_OVERHEAD_BYTES:
            return self._refuse(request, view_func, too_large_message(max_bytes))
        if request.content_type == "multipart/form-data":
            try:
                request.POST  # noqa: B018 - parse now, where its limits can be answered
            except TooManyFilesSent:
                return self._refuse(
                    request,
                    view_func,
                    _(
                        "Te veel bestanden tegelijk (hooguit %(max)s). Stop de logs in één "
                        "zip-bestand en upload dat."
                    )
                    % {"max": number_text(settings.DATA_UPLOAD_MAX_NUMBER_FILES)},
                )
            except (RequestDataTooBig, TooManyFieldsSent):
                return self._refuse(request, view_func, too_large_message(max_bytes))
        return None

    @staticmethod
    def _refuse(request, view_func, message):
        if getattr(view_func, "upload_json", False):
            return JsonResponse({"error": message}, status=413)
        response = render(request, "upload_refused.html", {"message": message}, status=413)
        # The body was not read: the connection cannot carry another request.
        response["Connection"] = "close"
        return response
