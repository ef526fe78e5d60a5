"""Recycling a device that cannot be reused; its data must be gone (erased or destroyed) first."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from allemaal.models import Organisation, User
from allemaal.services import DomainError
from donations.models import Device
from donations.services import device_transition

from ..models import (
    ErasureResult,
    ErasureSource,
    ErasureStandard,
    ErasureTechnique,
    RecycleReason,
)
from .erasure import ErasureInput, save_erasure_record
from .steps import run_step


@dataclass
class RecycleInput:
    reason: str
    storage_destroyed: bool = False
    note: str = ""

    def problem(self) -> str | None:
        if self.reason not in RecycleReason.values:
            return _("Kies een reden.")
        if self.reason == RecycleReason.ERASURE_FAILED and not self.storage_destroyed:
            return _("Als wissen mislukt is, moet de opslag vernietigd worden.")
        return None


def recycle_check(device: Device, data: RecycleInput) -> str | None:
    if device.state not in (Device.State.RECEIVED, Device.State.ERASED, Device.State.READY):
        return _("kan niet gerecycled worden vanuit de status '%(state)s'.") % {
            "state": device.get_state_display()
        }
    if not device.has_passed_erasure and not data.storage_destroyed:
        return _(
            "is nog niet gewist. Vernietig de opslag (en vink dat aan) of wis het apparaat eerst."
        )
    return None


def _apply_recycle(device: Device, data: RecycleInput, *, by, organisation) -> Device:
    if data.storage_destroyed:
        save_erasure_record(
            device,
            organisation=organisation,
            operator=by,
            operator_name=(by.get_full_name() or by.email) if by else "",
            source=ErasureSource.RECYCLE,
            data=ErasureInput(
                standard=ErasureStandard.DESTROY,
                technique=ErasureTechnique.PHYSICAL_DESTRUCTION,
                result=ErasureResult.PASSED,
                ended_at=timezone.now(),
            ),
        )
    reason = str(RecycleReason(data.reason).label)
    device.recycle_reason = f"{reason}: {data.note.strip()}" if data.note.strip() else reason
    return device_transition(
        device,
        Device.State.RECYCLED,
        by=by,
        organisation=organisation,
        note=device.recycle_reason,
        update_fields=["recycle_reason"],
    )


def device_recycle(
    device_id: int, data: RecycleInput, *, by: User, organisation: Organisation
) -> Device:
    """Recycle a device that cannot be reused, with a reason; its data must be gone first."""
    return devices_recycle([device_id], data, by=by, organisation=organisation)[0]


def devices_recycle(
    device_ids: Iterable[int], data: RecycleInput, *, by: User, organisation: Organisation
) -> list[Device]:
    """Recycle several devices with the same reason; every device must allow it."""
    problem = data.problem()
    if problem:
        raise DomainError(problem)
    return run_step(
        device_ids,
        organisation=organisation,
        by=by,
        check=lambda device: recycle_check(device, data),
        apply=lambda device: _apply_recycle(device, data, by=by, organisation=organisation),
    )
