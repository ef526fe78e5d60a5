"""The priority policy: one active version; every change is saved as a new version."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max

from allemaal.models import User

from ..models import PriorityPolicy
from ..solver_classes import Policy


def policy_current() -> PriorityPolicy:
    """The active policy version; the defaults of the issue become version 1 when none exists."""
    active = PriorityPolicy.objects.filter(is_active=True).first()
    if active is not None:
        return active
    try:
        with transaction.atomic():
            return PriorityPolicy.objects.create(
                version=1, weights=Policy().to_dict(), is_active=True, note="Standaardbeleid"
            )
    except IntegrityError:
        # Somebody else created or activated a version at the same moment: use theirs.
        return PriorityPolicy.objects.get(is_active=True)


@transaction.atomic
def policy_save_version(policy: Policy, *, by: User | None, note: str = "") -> PriorityPolicy:
    """A coordinator's change of weights becomes the next version and the active one; the
    earlier versions stay, so every run still shows the version it used."""
    # Lock the active row: two coordinators saving at once get consecutive versions.
    active = PriorityPolicy.objects.select_for_update().filter(is_active=True).first()
    weights = policy.to_dict()
    if active is not None and active.weights == weights:
        return active
    latest = PriorityPolicy.objects.aggregate(latest=Max("version"))["latest"] or 0
    if active is not None:
        active.is_active = False
        active.save(update_fields=["is_active"])
    return PriorityPolicy.objects.create(
        version=latest + 1,
        weights=weights,
        is_active=True,
        note=note.strip()[:250],
        created_by=by,
    )
