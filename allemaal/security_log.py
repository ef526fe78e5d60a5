"""The security log: one JSON line per security event on the `allemaal.security` logger
(stdout, config/settings.py LOGGING), for the operators' log collector.

Each line has `event`, `outcome`, `time` (UTC, ISO 8601), `actor` (user id and e-mail),
`organisation` (id), `ip` (allemaal/clientip.py), `route` (the URL pattern, never the path: a
path can hold a token) and `object`. It never holds a password, token or session key: callers
pass none, and `details` keys that name one are dropped here as well.
"""

import json
import logging
from datetime import UTC

from django.utils import timezone

logger = logging.getLogger("allemaal.security")

# Details under these names are never written, whatever a caller passes.
_SECRET_WORDS = ("password", "token", "secret", "session", "key", "code", "otp", "credential")


def _current_request():
    from allauth.core import context

    return getattr(context, "request", None)


def _route(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.route or match.view_name or ""
    return ""


def _actor(user) -> dict | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return {"id": user.pk, "email": user.email}


def _object(obj) -> dict | None:
    if obj is None or isinstance(obj, dict):
        return obj
    return {"type": obj._meta.label_lower, "id": obj.pk}


def security_event(
    event: str,
    *,
    outcome: str = "success",
    actor=None,
    organisation=None,
    obj=None,
    request=None,
    **details,
) -> None:
    """Write one security log line. `request` defaults to the current one (none in a job);
    `actor` to its user; `organisation` may be an Organisation or its id."""
    from .clientip import client_ip

    request = request if request is not None else _current_request()
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    if organisation is None and actor is not None:
        membership = _membership(actor)
        organisation = membership.organisation_id if membership else None
    line = {
        "event": event,
        "outcome": outcome,
        "time": timezone.now().astimezone(UTC).isoformat(),
        "actor": _actor(actor),
        "organisation": getattr(organisation, "pk", organisation),
        "ip": client_ip(request) if request is not None else None,
        "route": _route(request) if request is not None else "",
        "object": _object(obj),
    }
    line.update(
        {k: v for k, v in details.items() if not any(word in k.lower() for word in _SECRET_WORDS)}
    )
    logger.info(json.dumps(line, default=str, ensure_ascii=False))


def _membership(user):
    """The user's membership if already loaded or loadable; never raises."""
    from .models import Membership

    if not getattr(user, "pk", None):
        return None
    try:
        return user.membership
    except Membership.DoesNotExist:
        return None


class SecurityLogMiddleware:
    """Logs every refused (403) and rate-limited (429) request with who asked for what."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code in (403, 429):
            security_event(
                "access_refused" if response.status_code == 403 else "rate_limited",
                outcome="refused",
                request=request,
                status=response.status_code,
            )
        return response


def connect_signals() -> None:
    """Log-in, log-out, lock-out, MFA and role changes; called from AllemaalConfig.ready()."""
    from allauth.mfa import signals as mfa_signals
    from django.contrib.auth import signals as auth_signals
    from django.db.models.signals import m2m_changed, pre_save

    from .models import Membership, User

    def on_login(sender, request=None, user=None, **kwargs):
        security_event("login", request=request, actor=user)

    def on_login_failed(sender, credentials=None, request=None, **kwargs):
        credentials = credentials or {}
        login = credentials.get("email") or credentials.get("username") or ""
        security_event("login", outcome="failure", request=request, login=login)

    def on_logout(sender, request=None, user=None, **kwargs):
        security_event("logout", request=request, actor=user)

    def on_mfa(event):
        def receiver(sender, request=None, user=None, authenticator=None, **kwargs):
            security_event(
                event,
                request=request,
                actor=user,
                authenticator_type=getattr(authenticator, "type", ""),
            )

        return receiver

    def on_groups_changed(sender, instance=None, action="", pk_set=None, model=None, **kw):
        if action in ("post_add", "post_remove", "post_clear") and isinstance(instance, User):
            names = sorted(model.objects.filter(pk__in=pk_set or ()).values_list("name", flat=True))
            security_event(
                "role_change", obj=instance, change=action.removeprefix("post_"), groups=names
            )

    def on_user_saved(sender, instance=None, update_fields=None, **kwargs):
        watched = {"is_staff", "is_superuser", "is_active"}
        if not instance.pk or (update_fields is not None and not watched & set(update_fields)):
            return
        before = User.objects.filter(pk=instance.pk).values(*watched).first()
        changed = {
            f: getattr(instance, f) for f in watched if before and before[f] != getattr(instance, f)
        }
        if changed:
            security_event("role_change", obj=instance, **changed)

    def on_membership_saved(sender, instance=None, **kwargs):
        before = (
            Membership.objects.filter(pk=instance.pk).values_list("role", flat=True).first()
            if instance.pk
            else None
        )
        if before != instance.role:
            security_event(
                "role_change",
                obj=instance.user,
                organisation=instance.organisation_id,
                role_from=before or "",
                role_to=instance.role,
            )

    auth_signals.user_logged_in.connect(on_login, weak=False, dispatch_uid="seclog_login")
    auth_signals.user_login_failed.connect(on_login_failed, weak=False, dispatch_uid="seclog_fail")
    auth_signals.user_logged_out.connect(on_logout, weak=False, dispatch_uid="seclog_logout")
    for signal, event in (
        (mfa_signals.authenticator_added, "mfa_added"),
        (mfa_signals.authenticator_removed, "mfa_removed"),
        (mfa_signals.authenticator_reset, "mfa_reset"),
    ):
        signal.connect(on_mfa(event), weak=False, dispatch_uid=f"seclog_{event}")
    m2m_changed.connect(
        on_groups_changed, sender=User.groups.through, weak=False, dispatch_uid="seclog_groups"
    )
    pre_save.connect(on_user_saved, sender=User, weak=False, dispatch_uid="seclog_user")
    pre_save.connect(
        on_membership_saved, sender=Membership, weak=False, dispatch_uid="seclog_membership"
    )
