"""The dashboard's read model: one `DeviceFact` per device, derived from the records.

A device's fact says where it is or goes, when it first reached each state (from its custody
events) and how many days each step took. The job rebuilds the facts of every donation that
changed since its last run (a custody event or a donation status change), and all of them at
night; each part is deleted and written again in one transaction, so a reader never sees a
device twice or half-written.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import Min, Q
from django.db.models.functions import TruncDate

from allemaal.models import Organisation
from donations.models import Device, DeviceEvent, Donation, DonationEvent
from donations.vocabulary import category_of
from helprequests.models import HelpRequest

from .models import DeviceFact

# The states a device can reach, in lifecycle order; each has a `<state>_on` date on the fact.
STAGES = [
    Device.State.ANNOUNCED,
    Device.State.RECEIVED,
    Device.State.ERASED,
    Device.State.READY,
    Device.State.ALLOCATED,
    Device.State.SHIPPED,
    Device.State.DELIVERED,
]
STAGES += [Device.State.RECYCLED]
# Allocations that say where a device goes: decided and not returned.
ATTRIBUTING_ALLOCATIONS = ("approved", "shipped", "delivered")
CHUNK = 20_000


def _days(start: date | None, end: date | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, (end - start).days)


class _Lookups:
    """Provinces of refurbishers and destinations of requests, read once per run."""

    def __init__(self):
        self.refurbisher_province = dict(
            Organisation.objects.filter(kind=Organisation.Kind.REFURBISHER).values_list(
                "id", "province"
            )
        )
        self._requests: dict[int, tuple[str, str]] = {}

    def load_requests(self, ids: Iterable[int]) -> None:
        missing = sorted({pk for pk in ids if pk not in self._requests})
        for start in range(0, len(missing), 5000):
            rows = HelpRequest.objects.filter(pk__in=missing[start : start + 5000]).values_list(
                "id", "delivery_province", "organisation__province", "target_group"
            )
            for pk, delivery, home, group in rows:
                self._requests[pk] = (delivery or home or "", group)

    def request(self, pk: int) -> tuple[str, str]:
        return self._requests.get(pk, ("", ""))


def _first_events(where: dict) -> dict[int, tuple]:
    """Per device the local date it first reached each state (in STAGES order), in one
    grouped query; the database turns moments into local dates."""
    rows = (
        DeviceEvent.objects.filter(**{f"device__{k}": v for k, v in where.items()})
        .values("device_id")
        .annotate(**{s.value: Min(TruncDate("at"), filter=Q(to_state=s)) for s in STAGES})
        .order_by()
        .values_list("device_id", *[s.value for s in STAGES])
    )
    return {row[0]: row[1:] for row in rows}


def _destinations(where: dict) -> dict[int, int]:
    """Per device the request of its latest deciding allocation (approved, shipped, delivered)."""
    from distribution.models import Allocation

    # Two branches, each implied by one of the allocation table's partial indexes.
    rows = (
        Allocation.objects.filter(**{f"device__{k}": v for k, v in where.items()})
        .filter(Q(status__in=["approved", "shipped"]) | Q(status="delivered"))
        .values_list("device_id", "request_id", "id")
        .order_by("device_id", "id")
    )
    return {device_id: request_id for device_id, request_id, _id in rows}


# The columns of a fact row, in the order `_fact` builds them.
COLUMNS = [
    "device_id",
    "donation_id",
    "donor_id",
    "refurbisher_id",
    "category",
    "state",
    "state_since",
    "province",
    "target_group",
    "waiting",
    *[f"{s.value}_on" for s in STAGES],
    "lead_pledge_received",
    "lead_received_ready",
    "lead_ready_delivered",
]
NO_EVENTS = (None,) * len(STAGES)
RECEIVED, READY, DELIVERED = (
    STAGES.index(s) for s in (Device.State.RECEIVED, Device.State.READY, Device.State.DELIVERED)
)


def build(where: dict, lookups: _Lookups | None = None) -> list[tuple]:
    """The fact rows (COLUMNS) of the devices matching `where` (lookups on Device)."""
    lookups = lookups or _Lookups()
    devices = (
        Device.objects.filter(**where)
        .annotate(since=TruncDate("state_changed_at"), pledged=TruncDate("donation__created_at"))
        .values_list(
            "id",
            "kind",
            "state",
            "since",
            "donation_id",
            "donation__donor_id",
            "donation__refurbisher_id",
            "pledged",
            "donation__status",
            "donation__pickup_province",
        )
    )
    events = _first_events(where)
    destinations = _destinations(where)
    lookups.load_requests(destinations.values())
    return [
        _fact(row, events.get(row[0], NO_EVENTS), destinations.get(row[0]), lookups)
        for row in devices.iterator(chunk_size=5000)
    ]


def _fact(row, on: tuple, request_id: int | None, lookups: _Lookups) -> tuple:
    pk, kind, state, since, donation_id, donor_id, refurbisher_id, pledged_on = row[:8]
    donation_status, pickup_province = row[8:]
    if request_id is not None:
        province, target_group = lookups.request(request_id)
    else:
        target_group = ""
        province = (
            lookups.refurbisher_province.get(refurbisher_id, "")
            if refurbisher_id
            else pickup_province
        )
    waiting = state in (Device.State.RECEIVED, Device.State.ERASED) or (
        state == Device.State.ANNOUNCED and donation_status == Donation.Status.RECEIVED
    )
    return (
        pk,
        donation_id,
        donor_id,
        refurbisher_id,
        category_of(kind),
        state,
        since,
        province or "",
        target_group,
        waiting,
        *on,
        _days(pledged_on, on[RECEIVED]),
        _days(on[RECEIVED], on[READY]),
        _days(on[READY], on[DELIVERED]),
    )


def _write(rows: list[tuple]) -> int:
    """Insert fact rows: COPY on PostgreSQL (a million rows in seconds), bulk_create elsewhere.
    The rows are built before: a COPY keeps the connection busy until it ends."""
    if connection.vendor != "postgresql":
        DeviceFact.objects.bulk_create(
            (DeviceFact(**dict(zip(COLUMNS, row, strict=True))) for row in rows),
            batch_size=2000,
        )
        return len(rows)
    columns = ", ".join(
        connection.ops.quote_name(DeviceFact._meta.get_field(name).column) for name in COLUMNS
    )
    table = connection.ops.quote_name(DeviceFact._meta.db_table)
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
    return len(rows)


def rebuild_all(chunk: int = CHUNK) -> int:
    """Every device's fact again, in parts of `chunk` device ids, each part atomic."""
    lookups = _Lookups()
    last = Device.objects.order_by("-id").values_list("id", flat=True).first() or 0
    written = 0
    for start in range(0, last + 1, chunk):
        where = {"id__gte": start, "id__lt": start + chunk}
        with transaction.atomic():
            DeviceFact.objects.filter(device_id__gte=start, device_id__lt=start + chunk).delete()
            written += _write(build(where, lookups))
    DeviceFact.objects.filter(device_id__gt=last).delete()
    cluster()
    return written


def cluster() -> None:
    """Put the rows of one province (and target group) together, and drop the space the
    rebuild left: a filtered dashboard then reads a twelfth of the table, not all of it.
    PostgreSQL only; the table is locked for the seconds this takes (at night)."""
    if connection.vendor != "postgresql":
        return
    table = connection.ops.quote_name(DeviceFact._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"CLUSTER {table} USING devicefact_province_group")
        cursor.execute(f"ANALYZE {table}")


def changed_donations(since: datetime) -> set[int]:
    """Donations with a custody event of one of their devices or a status change since then."""
    by_device = DeviceEvent.objects.filter(at__gte=since).values_list(
        "device__donation_id", flat=True
    )
    by_status = DonationEvent.objects.filter(at__gte=since).values_list("donation_id", flat=True)
    return set(by_device.distinct()) | set(by_status.distinct())


def refresh_donations(donation_ids: Iterable[int]) -> int:
    """The facts of these donations' devices again (devices may also have gone: cancelled)."""
    ids = sorted(set(donation_ids))
    lookups = _Lookups()
    written = 0
    for start in range(0, len(ids), 50):
        part = ids[start : start + 50]
        with transaction.atomic():
            DeviceFact.objects.filter(donation_id__in=part).delete()
            written += _write(build({"donation_id__in": part}, lookups))
    return written
