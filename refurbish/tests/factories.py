"""Factories and helpers of the refurbishment tests (donations' own factories are reused)."""

import io
import zipfile
from pathlib import Path

import factory
from django.utils import timezone

from allemaal.models import Organisation
from donations.models import Device
from donations.tests.factories import DeviceFactory, DonationFactory
from refurbish.asset_tags import generate_asset_tag
from refurbish.models import (
    DeviceInspection,
    ErasureRecord,
    ErasureResult,
    ErasureSource,
    ErasureStandard,
    ErasureTechnique,
    PartCondition,
)
from refurbish.nwipe import parse_nwipe_log
from tests.factories import OrganisationFactory

LOGS = Path(__file__).parent / "nwipe_logs"


def refurbisher_factory(**kwargs) -> Organisation:
    return OrganisationFactory(kind=Organisation.Kind.REFURBISHER, **kwargs)


def received_donation(refurbisher: Organisation, **kwargs):
    return DonationFactory(status="received", refurbisher=refurbisher, **kwargs)


def device_in(donation, state: str = Device.State.RECEIVED, **kwargs) -> Device:
    """A device already in `state` (set directly: for tests of later steps only)."""
    if state != Device.State.ANNOUNCED:
        kwargs.setdefault("asset_tag", generate_asset_tag())
    return DeviceFactory(donation=donation, state=state, **kwargs)


def nwipe_log_for(
    system_serial: str, *, template: str = "erased_one_drive.log", drive_prefix: str = ""
) -> bytes:
    """A sample log rewritten for another computer: its system serial and drive serials."""
    text = (LOGS / template).read_text(encoding="utf-8")
    log = parse_nwipe_log(text)
    if log.system_serial:
        text = text.replace(log.system_serial, system_serial)
    for index, drive in enumerate(log.drives):
        if drive.serial:
            text = text.replace(drive.serial, f"{drive_prefix or system_serial}D{index}")
    return text.encode()


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


class ErasureRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ErasureRecord

    device = factory.SubFactory(DeviceFactory)
    organisation = factory.LazyAttribute(lambda o: o.device.donation.refurbisher)
    standard = ErasureStandard.CLEAR
    technique = ErasureTechnique.OVERWRITE
    tool = "nwipe"
    tool_version = "0.38"
    method = "PRNG Stream"
    verification = "laatste ronde / last pass"
    started_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(hours=1))
    ended_at = factory.LazyFunction(timezone.now)
    result = ErasureResult.PASSED
    source = ErasureSource.MANUAL


class DeviceInspectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeviceInspection

    device = factory.SubFactory(DeviceFactory)
    organisation = factory.LazyAttribute(lambda o: o.device.donation.refurbisher)
    boots = True
    battery_health_pct = 85
    screen = PartCondition.WORKS
    keyboard = PartCondition.WORKS
    touchpad = PartCondition.WORKS
    wifi = PartCondition.WORKS
    webcam = PartCondition.WORKS
    ports = PartCondition.WORKS
    grade = "A"
    os_installed = "windows11"
    charger_included = True
    passed = True
