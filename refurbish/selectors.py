"""Reads across devices, their events and the refurbisher's records, with their joins built in.

Counts and rates come from the devices and their custody events (`DeviceEvent`), never from
counters kept by hand.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import TruncWeek
from django.utils import timezone

from allemaal.models import Organisation
from allemaal.subqueries import related_count
from donations.models import Device, DeviceEvent, Donation

from .models import DeviceInspection, ErasureRecord, ErasureResult, ErasureStandard, IntakeScan

BACKLOG_STATES = [Device.State.ANNOUNCED, Device.State.RECEIVED, Device.State.ERASED]


def refurbisher_devices(organisation: Organisation):
    """Every device of the donations assigned to this refurbisher."""
    return Device.objects.filter(donation__refurbisher=organisation)


# --- Workspace -------------------------------------------------------------------------------


@dataclass
class Backlog:
    state: str
    label: str
    count: int
    oldest: list[Device]


def backlog(organisation: Organisation, *, per_state: int = 5) -> list[Backlog]:
    """Devices waiting at this refurbisher, per state, the longest waiting first.

    Announced devices count only in donations that were received (the rest is not here yet).
    """
    # The rule once, per state; the counts read them together, the oldest each on its own: one
    # plain condition per state lets the planner read this refurbisher's donations and their
    # devices by (donation, state), where the OR narrowed to a state made it misjudge and read
    # the state's devices of the whole country (11 ms -> 2.5 ms at a million).
    waits = {state: Q(state=state) for state in BACKLOG_STATES}
    waits[Device.State.ANNOUNCED] &= Q(donation__status=Donation.Status.RECEIVED)
    devices = refurbisher_devices(organisation)
    either = Q()
    for condition in waits.values():
        either |= condition
    counts = dict(devices.filter(either).values_list("state").annotate(n=Count("id")).order_by())
    result = []
    for state in BACKLOG_STATES:
        in_state = devices.filter(waits[state])
        oldest = list(
            in_state.select_related("donation").order_by("state_changed_at", "id")[:per_state]
        )
        result.append(Backlog(state, Device.State(state).label, counts.get(state, 0), oldest))
    return result


@dataclass
class WeekThroughput:
    week: object
    received: int
    ready: int
    recycled: int


def throughput(organisation: Organisation, *, weeks: int = 8) -> list[WeekThroughput]:
    """Per week (newest first): devices taken in, made ready and recycled, from their events."""
    today = timezone.localdate()
    first_monday = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    rows = (
        DeviceEvent.objects.filter(
            device__donation__refurbisher=organisation,
            to_state__in=[Device.State.RECEIVED, Device.State.READY, Device.State.RECYCLED],
            at__date__gte=first_monday,
        )
        .annotate(week=TruncWeek("at"))
        .values("week", "to_state")
        .annotate(n=Count("device", distinct=True))
        .order_by()
    )
    per_week: dict = {}
    for row in rows:
        week = row["week"]
        monday = timezone.localtime(week).date() if timezone.is_aware(week) else week.date()
        per_week.setdefault(monday, {})[row["to_state"]] = row["n"]
    result = []
    for offset in range(weeks):
        monday = first_monday + timedelta(weeks=weeks - 1 - offset)
        counts = per_week.get(monday, {})
        result.append(
            WeekThroughput(
                monday,
                counts.get(Device.State.RECEIVED, 0),
                counts.get(Device.State.READY, 0),
                counts.get(Device.State.RECYCLED, 0),
            )
        )
    return result


@dataclass
class Yield:
    received: int
    ready: int
    recycled: int

    @property
    def percentage(self) -> int | None:
        return round(100 * self.ready / self.received) if self.received else None


def refurbisher_yield(organisation: Organisation) -> Yield:
    """The share of devices taken in by this refurbisher that became ready, from the events."""
    totals = DeviceEvent.objects.filter(device__donation__refurbisher=organisation).aggregate(
        received=Count("device", distinct=True, filter=Q(to_state=Device.State.RECEIVED)),
        ready=Count("device", distinct=True, filter=Q(to_state=Device.State.READY)),
        recycled=Count("device", distinct=True, filter=Q(to_state=Device.State.RECYCLED)),
    )
    return Yield(**totals)


def _count_per_donation(model):
    """The rows of `model` that point at the outer donation, counted on its donation index."""
    return related_count(model, "donation")


def received_donations(organisation: Organisation):
    """Received donations assigned to this refurbisher, oldest first, with intake counts.
    Each count is a subquery of its own: two counts over two joins would pair every device of
    a donation with every scan of it (300 scanned units: 90,000 rows)."""
    return (
        Donation.objects.filter(refurbisher=organisation, status=Donation.Status.RECEIVED)
        .select_related("donor")
        .annotate(
            device_count=_count_per_donation(Device),
            scanned_count=_count_per_donation(IntakeScan),
        )
        .order_by("created_at", "id")
    )


def recent_certificates(organisation: Organisation, limit: int = 10):
    from .models import ErasureCertificate

    return (
        ErasureCertificate.objects.filter(donation__refurbisher=organisation)
        .select_related("donation", "donation__donor")
        .order_by("-issued_at")[:limit]
    )


# --- Intake ----------------------------------------------------------------------------------


@dataclass
class IntakeCounts:
    on_manifest: int  # devices the donor announced
    scanned_on_manifest: int
    added: int  # scanned but not on the donor's list
    pledged: int  # devices the donor pledged (laptops + Chromebooks + tablets)

    @property
    def scanned(self) -> int:
        return self.scanned_on_manifest + self.added

    @property
    def to_go(self) -> int:
        return max(self.on_manifest - self.scanned_on_manifest, 0)

    def as_json(self) -> dict:
        return {
            "on_manifest": self.on_manifest,
            "scanned_on_manifest": self.scanned_on_manifest,
            "added": self.added,
            "scanned": self.scanned,
            "to_go": self.to_go,
            "pledged": self.pledged,
        }


def intake_counts(donation: Donation) -> IntakeCounts:
    """The running count of the intake against the donor's list, in one query."""
    totals = Device.objects.filter(donation=donation).aggregate(
        total=Count("id"),
        scanned=Count("intake_scan"),
        added=Count("intake_scan", filter=Q(intake_scan__on_manifest=False)),
    )
    return IntakeCounts(
        on_manifest=totals["total"] - totals["added"],
        scanned_on_manifest=totals["scanned"] - totals["added"],
        added=totals["added"],
        pledged=donation.pledged_devices,
    )


def intake_counts_of(donation: Donation, *, scanned: int = 0, added: int = 0) -> IntakeCounts:
    """The counts the scan service read with the donation it locked (`intake_total`,
    `intake_scanned`, `intake_added`), plus a scan made after reading them
    (`scanned`, `added`: 1 for the unit just scanned in; added units also join the total)."""
    total = donation.intake_total + added
    added_total = donation.intake_added + added
    return IntakeCounts(
        on_manifest=total - added_total,
        scanned_on_manifest=donation.intake_scanned + scanned - added_total,
        added=added_total,
        pledged=donation.pledged_devices,
    )


def intake_scans(donation: Donation):
    return (
        IntakeScan.objects.filter(donation=donation).select_related("device").order_by("-at", "-id")
    )


# --- Devices ---------------------------------------------------------------------------------


def workbench_devices(organisation: Organisation, *, donation=None, state: str = ""):
    """This refurbisher's devices with their latest erasure and test outcome, for the lists."""
    latest_erasure = ErasureRecord.objects.filter(device=OuterRef("pk")).order_by(
        "-created_at", "-id"
    )
    latest_inspection = DeviceInspection.objects.filter(device=OuterRef("pk")).order_by(
        "-at", "-id"
    )
    devices = refurbisher_devices(organisation)
    if donation is not None:
        devices = devices.filter(donation=donation)
    if state:
        devices = devices.filter(state=state)
    return (
        devices.select_related("donation", "donation__donor")
        .annotate(
            erasure_result=Subquery(latest_erasure.values("result")[:1]),
            erasure_standard=Subquery(latest_erasure.values("standard")[:1]),
            inspection_passed=Subquery(latest_inspection.values("passed")[:1]),
            has_passed_erasure=Exists(
                ErasureRecord.objects.filter(device=OuterRef("pk"), result=ErasureResult.PASSED)
            ),
        )
        .order_by("state_changed_at", "id")
    )


def device_detail(device: Device) -> dict:
    """Everything the device page shows: its trail, erasure runs with drives, and tests."""
    return {
        "events": list(device.events.select_related("by", "organisation").order_by("at", "id")),
        "erasures": list(
            device.erasure_records.select_related("operator")
            .prefetch_related("drives")
            .order_by("-created_at", "-id")
        ),
        "inspections": list(device.inspections.select_related("by").order_by("-at", "-id")),
    }


# --- Erasure evidence ----------------------------------------------------------------------


def erasure_moment(record: ErasureRecord):
    """When the run happened: its end, else its start, else when it was recorded."""
    return record.ended_at or record.started_at or record.created_at


def latest_erasure(records) -> ErasureRecord | None:
    """The run that decides: the latest by when it happened (an old pass uploaded after a new
    failure does not win), then by when it was recorded."""
    return max(records, key=lambda r: (erasure_moment(r), r.created_at, r.pk or 0), default=None)


def erasure_evidence_holds(records) -> ErasureRecord | None:
    """The latest run when the device's evidence says it is erased, else None.

    The latest run decides, and per drive too: a drive whose latest run failed keeps the
    device from being erased even when a later run of the machine left that drive out.
    Each record needs its drives prefetched (or they are queried)."""
    records = list(records)
    latest = latest_erasure(records)
    if latest is None or not latest.passed:
        return None
    per_drive: dict[str, tuple] = {}
    for record in records:
        for drive in record.drives.all():
            if not drive.serial:
                continue
            key = (erasure_moment(record), record.created_at, record.pk or 0)
            if drive.serial not in per_drive or per_drive[drive.serial][0] < key:
                per_drive[drive.serial] = (key, drive.result)
    if any(result != ErasureResult.PASSED for _key, result in per_drive.values()):
        return None
    return latest


# --- Certificate -----------------------------------------------------------------------------


def _certifying_records(donation: Donation) -> dict[int, ErasureRecord]:
    """Per device the erasure that the certificate states: a destruction of the storage if
    there is one (recycled devices list as destroyed), otherwise the latest run, and only
    when the device's latest evidence (per run and per drive) passed."""
    records = (
        ErasureRecord.objects.filter(device__donation=donation)
        .prefetch_related(Prefetch("drives"))
        .order_by("device_id", "-created_at", "-id")
    )
    per_device: dict[int, list[ErasureRecord]] = {}
    for record in records:
        per_device.setdefault(record.device_id, []).append(record)
    chosen: dict[int, ErasureRecord] = {}
    for device_id, runs in per_device.items():
        destroyed = [r for r in runs if r.standard == ErasureStandard.DESTROY and r.passed]
        holds = destroyed[0] if destroyed else erasure_evidence_holds(runs)
        if holds is not None:
            chosen[device_id] = holds
    return chosen


def certificate_summary(donation: Donation) -> dict:
    """The certificate's content as plain JSON: no personal data (no contact persons, no names
    of staff), only organisations, devices and how their data was erased."""
    records = _certifying_records(donation)
    devices = []
    for device in donation.devices.order_by("serial_number", "id"):
        record = records.get(device.pk)
        entry = {
            "serial_number": device.serial_number,
            "asset_tag": device.asset_tag or "",
            "kind": device.kind,
            "make": device.make,
            "model": device.model,
            "state": device.state,
            # A unit that never arrived had no data of the donor in our hands to erase.
            "outcome": "not_received" if device.state == Device.State.NOT_RECEIVED else "missing",
        }
        if record is not None:
            moment = record.ended_at or record.created_at
            entry.update(
                outcome="destroyed" if record.standard == ErasureStandard.DESTROY else "erased",
                standard=record.standard,
                category=record.nist_category,
                rounds=record.rounds,
                prng=record.prng,
                blanking=record.blanking,
                started_at=(
                    timezone.localtime(record.started_at).isoformat(timespec="minutes")
                    if record.started_at
                    else ""
                ),
                sha256=record.evidence_sha256,
                technique=record.technique,
                tool=record.tool,
                tool_version=record.tool_version,
                method=record.method,
                verification=record.verification,
                result=record.result,
                date=timezone.localtime(moment).date().isoformat(),
                drives=[
                    {"serial": d.serial, "model": d.model, "result": d.result}
                    for d in record.drives.all()
                ],
            )
        devices.append(entry)
    donor, refurbisher = donation.donor, donation.refurbisher
    counts = {
        "devices": len(devices),
        "erased": sum(1 for d in devices if d["outcome"] == "erased"),
        "destroyed": sum(1 for d in devices if d["outcome"] == "destroyed"),
    }
    not_received = sum(1 for d in devices if d["outcome"] == "not_received")
    if not_received:
        counts["not_received"] = not_received
    return {
        "donation": donation.reference,
        "donor": {"name": donor.name, "kvk_number": donor.kvk_number, "city": donor.city},
        "refurbisher": {
            "name": refurbisher.name if refurbisher else "",
            "kvk_number": refurbisher.kvk_number if refurbisher else "",
            "city": refurbisher.city if refurbisher else "",
        },
        "devices": devices,
        "counts": counts,
    }
