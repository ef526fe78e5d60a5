"""The client's address, the one rule every per-IP limit and the security log use.

Behind TRUSTED_PROXY_COUNT proxies, each of which appends the address it received the request
from to X-Forwarded-For, the client is the Nth entry from the right: everything left of it was
sent by the client and may be forged. With 0 (no proxy) the header is ignored.
"""

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's IP address, or None when the request has none (a test's bare request)."""
    from allauth.core.internal.httpkit import clean_client_ip

    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.headers.get("x-forwarded-for", "")
    ip = None
    if count > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        # Fewer hops than proxies: the request did not come through them all, so nothing in
        # the header can be trusted; the peer's address is the honest answer.
        if len(hops) >= count:
            ip = hops[-count]
    ip = ip or request.META.get("REMOTE_ADDR")
    return clean_client_ip(ip) if ip else None
