from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .uploads import REQUEST_OVERHEAD_BYTES, number_text, too_large_message

MFA_SESSION_KEY = "allemaal_staff_mfa_ok"
# The only pages a staff user reaches before a second factor is verified in the session: the
# set-up of that factor (allauth's mfa pages), log-out, re-authentication, the language switch.
# Static files and the health checks are answered before this middleware.
MFA_FREE_URL_NAMES = frozenset(
    {
        "account_logout",
        "account_reauthenticate",
        "set_language",
        "mfa_index",
        "mfa_authenticate",
        "mfa_reauthenticate",
        "mfa_activate_totp",
        "mfa_view_recovery_codes",
        "mfa_generate_recovery_codes",
        "mfa_download_recovery_codes",
        "mfa_list_webauthn",
        "mfa_add_webauthn",
        "mfa_reauthenticate_webauthn",
    }
)
# A second factor: an authenticator app or a passkey (recovery codes only back them up).
SECOND_FACTOR_TYPES = ("totp", "webauthn")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class StaffMfaRequiredMiddleware:
    """Every staff session needs a verified second factor, on every URL (allow-list, not a list
    of staff prefixes): staff without one get only the pages to set it up or to confirm it.

    Verified means allauth recorded an MFA step in this session (at log-in or re-authentication),
    or the factor was set up in this session. The outcome is remembered in the session, so that
    pages do not pay a query for it; the flag is dropped when an authenticator is removed (see
    AllemaalConfig.ready). Staff groups open nothing without `is_staff`, so the flag decides.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_staff) or request.session.get(MFA_SESSION_KEY):
            return None
        if mfa_verified_in_session(request):
            request.session[MFA_SESSION_KEY] = True
            return None
        if request.resolver_match.url_name in MFA_FREE_URL_NAMES:
            return None
        if has_second_factor(user):
            return redirect("mfa_reauthenticate")
        messages.warning(
            request,
            _(
                "Stel eerst tweestapsverificatie in: een authenticator-app of een passkey. "
                "Daarna opent de rest van de site."
            ),
        )
        return redirect("mfa_index")


def mfa_verified_in_session(request) -> bool:
    from allauth.account.authentication import get_authentication_records

    return any(r.get("method") == "mfa" for r in get_authentication_records(request, request.user))


def has_second_factor(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type__in=SECOND_FACTOR_TYPES).exists()


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
