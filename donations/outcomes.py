"""Where each unit of a donation ended, in one vocabulary: the donor's page and its CSV, the
coordinators' device export and the impact report all say it with `device_outcome`.

Delivered: to which kind of organisation, province and target group (never a person); recycled:
with the reason; not received; lost; still in progress: with its state. The delivery facts are
written on the device by distribution when it delivers, so this module reads nothing upward.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .models import Device

# The fields `device_outcome` reads: select them with `.only(*OUTCOME_FIELDS)`.
OUTCOME_FIELDS = (
    "state",
    "recycle_reason",
    "delivered_sector",
    "delivered_province",
    "delivered_target_group",
)


class Outcome(models.TextChoices):
    DELIVERED = "delivered", _("Afgeleverd")
    RECYCLED = "recycled", _("Gerecycled")
    NOT_RECEIVED = "not_received", _("Niet ontvangen")
    LOST = "lost", _("Zoekgeraakt")
    IN_PROGRESS = "in_progress", _("Nog bezig")


# A device state that is an end of its own; every other state is still in progress.
_FINAL = {
    Device.State.DELIVERED: Outcome.DELIVERED,
    Device.State.RECYCLED: Outcome.RECYCLED,
    Device.State.NOT_RECEIVED: Outcome.NOT_RECEIVED,
    Device.State.LOST: Outcome.LOST,
}


@dataclass(frozen=True)
class DeviceOutcome:
    outcome: Outcome
    detail: str

    @property
    def label(self) -> str:
        return str(self.outcome.label)

    def __str__(self) -> str:
        return f"{self.label}: {self.detail}" if self.detail else self.label


def outcome_of_state(state: str) -> Outcome:
    return _FINAL.get(state, Outcome.IN_PROGRESS)


def device_outcome(device: Device) -> DeviceOutcome:
    """Where this unit ended, or the state it is in while it is still on its way."""
    outcome = outcome_of_state(device.state)
    if outcome == Outcome.DELIVERED:
        parts = [
            device.get_delivered_sector_display(),
            device.get_delivered_province_display(),
            device.get_delivered_target_group_display(),
        ]
        detail = ", ".join(str(part) for part in parts if part)
    elif outcome == Outcome.RECYCLED:
        detail = device.recycle_reason
    elif outcome == Outcome.NOT_RECEIVED:
        detail = str(_("stond op de lijst, maar is niet bij ons aangekomen"))
    elif outcome == Outcome.LOST:
        detail = str(_("zoekgeraakt bij de verzending naar de organisatie"))
    else:
        detail = str(device.get_state_display())
    return DeviceOutcome(outcome, detail)


def outcome_q(outcome: str, prefix: str = "") -> Q:
    """A filter for the devices with this outcome (through a relation with `prefix`)."""
    finals = [state for state, final in _FINAL.items() if final == outcome]
    if outcome == Outcome.IN_PROGRESS:
        return ~Q(**{f"{prefix}state__in": list(_FINAL)})
    return Q(**{f"{prefix}state__in": finals})


def outcome_aggregates() -> dict:
    """`aggregate()` keywords counting each outcome, to join a caller's own aggregate."""
    return {f"outcome_{outcome}": Count("id", filter=outcome_q(outcome)) for outcome in Outcome}


def outcome_rows(totals: dict) -> list[tuple[str, int]]:
    """(label, devices) per outcome that occurs, in the vocabulary's order, from the result of
    an aggregate with `outcome_aggregates()`."""
    return [
        (str(outcome.label), totals[f"outcome_{outcome}"])
        for outcome in Outcome
        if totals.get(f"outcome_{outcome}")
    ]


def outcome_counts(devices: QuerySet) -> list[tuple[str, int]]:
    """(label, devices) per outcome that occurs, in one aggregate query."""
    return outcome_rows(devices.aggregate(**outcome_aggregates()))
