"""What every device step shares: locking in id order, all-or-nothing bulk steps, and what
happens once a donation's last device has an outcome."""

from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from allemaal.models import Organisation, User
from allemaal.services import DomainError
from donations.models import Device
from donations.services import donation_mark_processed
from donations.vocabulary import normalise_serial

from ..models import ErasureRecord, ErasureResult
from ..storage import private_storage
from .certificates import certificate_issue_if_complete

MAX_SERIAL_LENGTH = 100


class BulkStepError(DomainError):
    """A bulk step refused: `errors` holds one Dutch line per device that broke a rule."""

    def __init__(self, errors: list[str]):
        super().__init__(" ".join(errors))
        self.errors = errors


def clean_serial(value: str) -> str:
    """A scanned or typed serial number as stored (`normalise_serial`), or a DomainError."""
    serial = normalise_serial(value)
    if not serial:
        raise DomainError(_("Scan of typ een serienummer."))
    if len(serial) > MAX_SERIAL_LENGTH or not serial.isprintable():
        raise DomainError(_("Dit is geen geldig serienummer."))
    return serial


def lock_devices(device_ids: Iterable[int], organisation: Organisation) -> list[Device]:
    """Lock this refurbisher's devices in id order, with what the rules need to know.

    Another refurbisher's device is simply not found (the caller reports it like a typo).
    """
    return list(
        Device.objects.filter(pk__in=list(device_ids), donation__refurbisher=organisation)
        .annotate(
            has_passed_erasure=Exists(
                ErasureRecord.objects.filter(device=OuterRef("pk"), result=ErasureResult.PASSED)
            )
        )
        .select_for_update(of=("self",))
        .order_by("pk")
    )


def run_step(
    device_ids: Iterable[int],
    *,
    organisation: Organisation,
    by: User | None,
    check: Callable[[Device], str | None],
    apply: Callable[[Device], object],
) -> list:
    """Check every device, then apply the step to each, in one transaction (all or nothing)."""
    ids = sorted(set(device_ids))
    if not ids:
        raise DomainError(_("Kies eerst een of meer apparaten."))
    with evidence_files_removed_on_failure(), transaction.atomic():
        devices = lock_devices(ids, organisation)
        if len(devices) != len(ids):
            raise DomainError(_("Een of meer gekozen apparaten zijn niet gevonden."))
        errors = [f"{device}: {error}" for device in devices if (error := check(device))]
        if errors:
            raise BulkStepError(errors)
        results = [apply(device) for device in devices]
        after_outcomes({device.donation_id for device in devices}, by=by)
    return results


def after_outcomes(donation_ids: Iterable[int], *, by: User | None) -> None:
    """Once every device of a donation has an outcome: donation processed, certificate issued."""
    for donation_id in sorted(donation_ids):
        donation_mark_processed(donation_id, by=by)
        certificate_issue_if_complete(donation_id)


# Evidence files written inside the current step; removed again when the step fails, because
# a rolled-back row must not leave its file behind (Django has no on-rollback hook).
written_files: ContextVar[list[str] | None] = ContextVar("refurbish_written_files")


@contextmanager
def evidence_files_removed_on_failure():
    """Nested (a log inside a batch's transaction), a step that succeeds hands its files to the
    enclosing step, which removes them too if it fails as a whole."""
    outer = written_files.get(None)
    written: list[str] = []
    token = written_files.set(written)
    try:
        yield
    except BaseException:
        for name in written:
            private_storage.delete(name)
        raise
    else:
        if outer is not None:
            outer.extend(written)
    finally:
        written_files.reset(token)
