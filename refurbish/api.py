"""The wiping stations' endpoint: POST an nwipe log with a refurbisher's API token.

Authenticated by the token alone (no session, so no CSRF token: this is the one CSRF-exempt
view). A log is handled exactly like an upload on the log page; the answer says what was
recorded, as JSON.

    curl -H "Authorization: Bearer adw_..." -H "X-Filename: nwipe.log" \\
         --data-binary @nwipe.log https://<site>/opknappen/api/wislogs/
"""

from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from allemaal.uploads import too_large_message, upload_limit

from .erasure_logs import MAX_LOG_BYTES, erasure_logs_import
from .models import ErasureSource
from .services import station_token_authenticate


def _error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="allemaal-digitaal"'
    return response


def _bearer(request) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() in ("bearer", "token") else ""


def _files(request) -> list[tuple[str, bytes]]:
    if request.content_type == "multipart/form-data":
        return [(f.name, f.read()) for f in request.FILES.getlist("log")]
    name = request.headers.get("X-Filename") or request.GET.get("filename") or "nwipe.log"
    return [(name.replace("/", "_")[:255], _body(request))]


class _BodyTooLarge(Exception):
    pass


def _body(request) -> bytes:
    """The raw body, read in chunks and refused past MAX_LOG_BYTES (Content-Length may be
    missing or lie; Django's LimitedStream never reads past it either)."""
    chunks, size = [], 0
    while chunk := request.read(64 * 1024):
        size += len(chunk)
        if size > MAX_LOG_BYTES:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


@upload_limit(MAX_LOG_BYTES, json=True)
@csrf_exempt
@require_POST
def erasure_logs(request):
    token = station_token_authenticate(_bearer(request))
    if token is None:
        return _error(401, "Missing, unknown or revoked API token.")
    try:
        files = _files(request)
    except (RequestDataTooBig, TooManyFilesSent):
        return _error(413, "Request too large; send one log per request.")
    except _BodyTooLarge:
        return _error(413, too_large_message(MAX_LOG_BYTES))
    if not files or not any(content for _, content in files):
        return _error(400, "Send the nwipe log as the request body.")
    results = erasure_logs_import(
        files,
        organisation=token.organisation,
        by=None,
        source=ErasureSource.API,
        operator_name=token.name,
    )
    refused = sum(1 for r in results if r.refused)
    recorded = sum(1 for r in results if r.recorded)
    if refused:
        status = 422
    elif recorded:
        status = 201
    else:
        status = 200  # only logs recorded before: nothing new, nothing wrong
    return JsonResponse(
        {
            "recorded": recorded,
            "refused": refused,
            "results": [result.as_json() for result in results],
        },
        status=status,
    )
