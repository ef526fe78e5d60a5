"""API tokens of the wiping stations: created and revoked by the refurbisher's admin."""

import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from allemaal.models import Organisation, User, hash_token
from allemaal.security_log import security_event
from allemaal.services import DomainError

from ..models import StationToken

TOKEN_PREFIX = "adw_"  # noqa: S105 - a marker, not a secret


def _require_admin(user: User, organisation: Organisation) -> None:
    membership = getattr(user, "membership", None)
    if membership is None or membership.organisation_id != organisation.pk:
        raise DomainError(_("Alleen een beheerder van de opknappartner kan dit."))
    if not membership.is_admin:
        raise DomainError(_("Alleen een beheerder van de opknappartner kan dit."))


def station_token_create(
    *, organisation: Organisation, name: str, by: User
) -> tuple[StationToken, str]:
    """A refurbisher's admin creates an API token for a wiping station; the token itself is
    returned once and only its hash is stored."""
    _require_admin(by, organisation)
    if organisation.kind != Organisation.Kind.REFURBISHER or not organisation.is_verified:
        raise DomainError(_("Alleen een gecontroleerde opknappartner kan API-sleutels maken."))
    name = name.strip()
    if not name:
        raise DomainError(_("Geef de sleutel een naam, zoals 'Wisstation 1'."))
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = StationToken.objects.create(
        organisation=organisation,
        name=name[:100],
        token_hash=hash_token(raw),
        prefix=raw[: len(TOKEN_PREFIX) + 4],
        created_by=by,
    )
    security_event("station_token_created", actor=by, organisation=organisation, obj=token)
    return token, raw


def station_token_revoke(token: StationToken, *, by: User) -> StationToken:
    """Revoke an API token for good; a revoked token is refused from then on."""
    if not by.is_staff:
        _require_admin(by, token.organisation)
    with transaction.atomic():
        locked = StationToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.revoked_by = by
        locked.save(update_fields=["revoked_at", "revoked_by"])
    security_event(
        "station_token_revoked", actor=by, organisation=locked.organisation_id, obj=locked
    )
    return locked


def station_token_authenticate(raw: str) -> StationToken | None:
    """The active token of a verified refurbisher matching `raw`, or None."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (
        StationToken.objects.active()
        .select_related("organisation")
        .filter(
            token_hash=hash_token(raw),
            organisation__kind=Organisation.Kind.REFURBISHER,
            organisation__status=Organisation.Status.VERIFIED,
        )
        .first()
    )
    if token is not None:
        StationToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token
