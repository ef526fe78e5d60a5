"""Load-and-authorise helpers for views: every organisation's data is reachable only by its own
members; another organisation's object is a 404, never a 403 that confirms it exists."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect

from .models import Membership, Organisation
from .security_log import security_event


def organisation_required(*kinds: str, verified: bool = True, admin: bool = False):
    """Require a logged-in member of an organisation of one of `kinds` (any kind when empty).

    Sets `request.membership` and `request.organisation`. Users without an organisation are
    sent to create one; unverified organisations see the awaiting-verification page.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            membership = user_membership(request.user)
            if membership is None:
                if request.user.is_staff:
                    raise PermissionDenied
                return redirect("organisation_create")
            organisation = membership.organisation
            if kinds and organisation.kind not in kinds:
                raise PermissionDenied
            if verified and organisation.status != Organisation.Status.VERIFIED:
                return redirect("awaiting_verification")
            if admin and not membership.is_admin:
                raise PermissionDenied
            request.membership = membership
            request.organisation = organisation
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def user_membership(user) -> Membership | None:
    """The user's membership, its organisation with it; read with the user itself by
    `allemaal.backends` (no query here), or else in one query."""
    try:
        membership = user.membership
    except Membership.DoesNotExist:
        return None
    membership.organisation  # noqa: B018 - with the membership when it was not loaded yet
    return membership


def get_for_organisation(
    queryset: QuerySet, organisation: Organisation, *, field: str = "organisation", **lookup
):
    """The object matching `lookup` owned by `organisation` (through `field`), or 404.

    A 404 for an object that exists but belongs to another organisation goes to the security
    log: it is someone trying another organisation's address (one query, only on refusal)."""
    try:
        found = get_object_or_404(queryset.filter(**{field: organisation}), **lookup)
    except Http404:
        other = queryset.filter(**lookup).first()
        if other is not None:
            security_event(
                "access_refused",
                outcome="refused",
                organisation=organisation,
                obj=other,
                status=404,
            )
        raise
    # Its own organisation is the one asked for: known without reading it (or joining it).
    if "__" not in field:
        relation = queryset.model._meta.get_field(field)
        if relation.many_to_one and not relation.is_cached(found):
            relation.set_cached_value(found, organisation)
    return found


def staff_group_required(*groups: str):
    """Require an active staff user in one of the groups (superusers pass)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_staff or not (
                user.is_superuser or user.groups.filter(name__in=groups).exists()
            ):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
