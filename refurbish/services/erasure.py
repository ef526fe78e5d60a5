"""Erasure records, typed by hand (one device or many) or written by the nwipe log import."""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from allemaal.models import Organisation, User
from allemaal.services import DomainError
from donations.models import Device
from donations.services import device_transition

from ..models import (
    ErasureRecord,
    ErasureResult,
    ErasureSource,
    ErasureStandard,
    ErasureTechnique,
)
from ..selectors import erasure_evidence_holds
from .steps import run_step, written_files


@dataclass
class ErasureInput:
    """How a device (or a batch of devices) was erased, as typed on the form."""

    standard: str
    technique: str
    result: str
    tool: str = ""
    tool_version: str = ""
    method: str = ""
    verification: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    failure_reason: str = ""
    evidence_name: str = ""
    evidence_content: bytes | None = field(default=None, repr=False)

    def problem(self) -> str | None:
        destroy = self.standard == ErasureStandard.DESTROY
        if destroy != (self.technique == ErasureTechnique.PHYSICAL_DESTRUCTION):
            return _("Destroy hoort bij fysiek vernietigen, en alleen daarbij.")
        if self.result == ErasureResult.FAILED and not self.failure_reason.strip():
            return _("Geef aan waarom het wissen mislukt is.")
        if self.started_at and self.ended_at and self.ended_at < self.started_at:
            return _("Het einde ligt voor het begin.")
        return None


def erasure_check(device: Device) -> str | None:
    """Why an erasure cannot be recorded for this device now, or None."""
    if device.state == Device.State.ANNOUNCED:
        return _("nog niet ingenomen; scan het eerst bij de inname.")
    if device.state not in (Device.State.RECEIVED, Device.State.ERASED):
        return _("heeft al een uitkomst (%(state)s); wissen wordt niet meer vastgelegd.") % {
            "state": device.get_state_display()
        }
    return None


def erasure_record_new(
    device: Device,
    *,
    organisation: Organisation,
    operator: User | None,
    operator_name: str,
    source: str,
    data: ErasureInput,
    sha256: str = "",
    log_outcome: str = "",
    log_system_serial: str = "",
    details: dict | None = None,
) -> ErasureRecord:
    """An unsaved erasure record for a locked device, its evidence file already written (and
    removed again when the step it belongs to fails)."""
    record = ErasureRecord(
        device=device,
        organisation=organisation,
        standard=data.standard,
        technique=data.technique,
        tool=data.tool,
        tool_version=data.tool_version,
        method=data.method,
        verification=data.verification,
        started_at=data.started_at,
        ended_at=data.ended_at,
        result=data.result,
        failure_reason=data.failure_reason if data.result == ErasureResult.FAILED else "",
        operator=operator,
        operator_name=operator_name,
        source=source,
        evidence_name=data.evidence_name[:255],
        log_outcome=log_outcome,
        log_system_serial=log_system_serial[:100],
        **(details or {}),
    )
    if data.evidence_content is not None:
        record.evidence_sha256 = sha256 or hashlib.sha256(data.evidence_content).hexdigest()
        record.evidence.save(
            data.evidence_name or "bewijs", ContentFile(data.evidence_content), save=False
        )
        written = written_files.get(None)
        if written is not None:
            written.append(record.evidence.name)
    return record


def save_erasure_record(device: Device, **kwargs) -> ErasureRecord:
    """Write one erasure record (and its evidence file) for a locked device; no transition."""
    record = erasure_record_new(device, **kwargs)
    record.save()
    return record


def erasure_next_state(device: Device, record: ErasureRecord, history) -> tuple[str, str] | None:
    """Where the device's latest erasure evidence sends it, as (state, note), or None to stay:
    a received device whose evidence holds becomes erased; an erased device whose latest run
    failed goes back to received (it must be erased again).

    `history`: the device's runs, `record` among them, each with its drives prefetched."""
    holds = erasure_evidence_holds(history)
    if holds is not None and device.state == Device.State.RECEIVED:
        note = _("Gewist: %(standard)s, %(tool)s") % {
            "standard": record.get_standard_display(),
            "tool": record.tool or "-",
        }
        return Device.State.ERASED, note
    if holds is None and device.state == Device.State.ERASED:
        note = _("Opnieuw wissen: de laatste wisrun is mislukt (%(reason)s)") % {
            "reason": record.failure_reason or record.get_result_display()
        }
        return Device.State.RECEIVED, note
    return None


def erasure_mark_device(
    device: Device, record: ErasureRecord, *, by, organisation, history=None
) -> bool:
    """The device's latest erasure evidence decides its state (`erasure_next_state`).
    Returns whether it became erased.

    `history`: the device's runs (drives prefetched) when the caller already knows them."""
    if history is None:
        records = device.erasure_records.exclude(standard=ErasureStandard.DESTROY)
        history = records.prefetch_related("drives")
    move = erasure_next_state(device, record, history)
    if move is None:
        return False
    state, note = move
    device_transition(device, state, by=by, organisation=organisation, note=note)
    return state == Device.State.ERASED


def device_record_erasure(
    device_id: int, data: ErasureInput, *, by: User, organisation: Organisation
) -> ErasureRecord:
    """Record how one device was erased by hand; a passed erasure makes it erased."""
    return devices_record_erasure([device_id], data, by=by, organisation=organisation)[0]


def devices_record_erasure(
    device_ids: Iterable[int], data: ErasureInput, *, by: User, organisation: Organisation
) -> list[ErasureRecord]:
    """Record the same erasure for several devices; every device must be able to take it."""
    problem = data.problem()
    if problem:
        raise DomainError(problem)

    def apply(device: Device) -> ErasureRecord:
        record = save_erasure_record(
            device,
            organisation=organisation,
            operator=by,
            operator_name=by.get_full_name() or by.email,
            source=ErasureSource.MANUAL,
            data=data,
        )
        erasure_mark_device(device, record, by=by, organisation=organisation)
        return record

    return run_step(device_ids, organisation=organisation, by=by, check=erasure_check, apply=apply)
