"""Test and grade: the checklist, the confirmed specs and the grade; a pass makes a device ready."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from allemaal import events
from allemaal.models import Organisation, User
from allemaal.services import DomainError
from donations.models import Device
from donations.services import device_transition
from donations.vocabulary import DeviceKind, os_fits_kind

from ..models import (
    DeviceInspection,
    ErasureResult,
    PartCondition,
)
from .steps import run_step


@dataclass
class InspectionInput:
    """The checklist, the confirmed specs and the grade, as typed on the form."""

    boots: bool
    screen: str
    keyboard: str
    touchpad: str
    wifi: str
    webcam: str
    ports: str
    battery_health_pct: int | None = None
    cpu: str | None = None  # None: keep what the device has
    ram_gb: int | None = None
    storage_gb: int | None = None
    grade: str = ""
    os_installed: str = ""
    charger_included: bool | None = None
    notes: str = ""
    # The bulk step's operating system per device kind; a kind not in it gets `os_installed`.
    os_by_kind: dict[str, str] = field(default_factory=dict)

    def os_for(self, kind: str) -> str:
        return self.os_by_kind.get(kind) or self.os_installed

    @classmethod
    def all_working(cls, **kwargs) -> "InspectionInput":
        """A checklist on which everything works (the bulk grade step)."""
        works = PartCondition.WORKS
        parts = dict.fromkeys(("screen", "keyboard", "touchpad", "wifi", "webcam", "ports"), works)
        return cls(boots=True, **parts, **kwargs)

    def defects(self) -> list[str]:
        return DeviceInspection(**self._checklist()).defects

    def passes(self) -> bool:
        return not self.defects()

    def missing_for_ready(self) -> list[str]:
        missing = []
        if not self.grade:
            missing.append(_("kwaliteit"))
        if not self.os_installed and not any(self.os_by_kind.values()):
            missing.append(_("besturingssysteem"))
        return missing

    def _checklist(self) -> dict:
        names = ("boots", "battery_health_pct", "screen", "keyboard", "touchpad", "wifi")
        return {name: getattr(self, name) for name in (*names, "webcam", "ports")}


def os_problem(kind: str, os_installed: str) -> str | None:
    """Why this operating system cannot be on a device of this kind, or None."""
    kind_label = DeviceKind(kind).label.lower()
    if not os_installed:
        return _("kies ook een besturingssysteem voor een %(kind)s.") % {"kind": kind_label}
    if not os_fits_kind(os_installed, kind):
        os_label = Device._meta.get_field("os_installed").flatchoices
        name = dict(os_label).get(os_installed, os_installed)
        return _("%(os)s kan niet op een %(kind)s; kies een besturingssysteem dat past.") % {
            "os": name,
            "kind": kind_label,
        }
    return None


def inspection_check(device: Device) -> str | None:
    """Why this device cannot be tested and graded now, or None."""
    if device.state in (Device.State.ANNOUNCED, Device.State.RECEIVED):
        return _("nog niet gewist; wis het apparaat eerst en test het daarna.")
    if device.state != Device.State.ERASED:
        return _("heeft al de status '%(state)s'.") % {"state": device.get_state_display()}
    return None


def _apply_inspection(device: Device, data: InspectionInput, *, by, organisation):
    passed = data.passes()
    inspection = DeviceInspection.objects.create(
        device=device,
        passed=passed,
        by=by,
        organisation=organisation,
        cpu=device.cpu if data.cpu is None else data.cpu,
        ram_gb=device.ram_gb if data.ram_gb is None else data.ram_gb,
        storage_gb=device.storage_gb if data.storage_gb is None else data.storage_gb,
        grade=data.grade if passed else "",
        os_installed=data.os_for(device.kind) if passed else "",
        charger_included=data.charger_included,
        notes=data.notes,
        **data._checklist(),
    )
    device.cpu, device.ram_gb = inspection.cpu, inspection.ram_gb
    device.storage_gb = inspection.storage_gb
    fields = ["cpu", "ram_gb", "storage_gb"]
    if not passed:
        device.save(update_fields=fields)
        return inspection
    device.grade, device.os_installed = inspection.grade, inspection.os_installed
    device.charger_included = inspection.charger_included
    fields += ["grade", "os_installed", "charger_included"]
    device_mark_ready(device, by=by, organisation=organisation, update_fields=fields)
    return inspection


def device_mark_ready(device: Device, *, by, organisation, update_fields=()) -> Device:
    """A device becomes ready only with a passed erasure and a passed test and grade."""
    if (
        not getattr(device, "has_passed_erasure", None)
        and not device.erasure_records.filter(result=ErasureResult.PASSED).exists()
    ):
        raise DomainError(_("Zonder geslaagde wisregistratie kan een apparaat niet klaar zijn."))
    if not device.inspections.filter(passed=True).exists():
        raise DomainError(_("Zonder geslaagde test kan een apparaat niet klaar zijn."))
    device = device_transition(
        device,
        Device.State.READY,
        by=by,
        organisation=organisation,
        note=_("Getest en beoordeeld: kwaliteit %(grade)s") % {"grade": device.grade},
        update_fields=update_fields,
    )
    # New supply: distribution asks for an allocation run (debounced, so a bulk step asks only
    # once in effect).
    events.publish(events.SUPPLY_READY, device_id=device.pk)
    return device


def device_record_inspection(
    device_id: int, data: InspectionInput, *, by: User, organisation: Organisation
) -> DeviceInspection:
    """Record the test and grade of one erased device; a pass makes it ready."""
    return devices_record_inspection([device_id], data, by=by, organisation=organisation)[0]


def devices_record_inspection(
    device_ids: Iterable[int], data: InspectionInput, *, by: User, organisation: Organisation
) -> list[DeviceInspection]:
    """Record the same test and grade for several erased devices (the bulk grade step)."""
    missing = data.missing_for_ready() if data.passes() else []
    if missing:
        raise DomainError(_("Vul nog in: %(fields)s.") % {"fields": ", ".join(missing)})

    def check(device: Device) -> str | None:
        problem = inspection_check(device)
        if problem is None and data.passes() and not device.has_passed_erasure:
            problem = _("heeft geen geslaagde wisregistratie.")
        if problem is None and data.passes():
            problem = os_problem(device.kind, data.os_for(device.kind))
        return problem

    return run_step(
        device_ids,
        organisation=organisation,
        by=by,
        check=check,
        apply=lambda device: _apply_inspection(device, data, by=by, organisation=organisation),
    )
