"""What a matching run works on: ready devices and approved requests with open quantities,
read as plain rows (a national run reads a million devices: no model instances)."""

from __future__ import annotations

import gc
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from time import perf_counter
from typing import NamedTuple, TypeVar

import numpy as np
from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, Count, F, IntegerField, Value, When
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from allemaal.models import Organisation
from donations.models import Device
from donations.vocabulary import KINDS, DeviceCategory, in_category
from helprequests.models import HelpRequest

from ..models import Allocation, PriorityPolicy
from ..solver_arrays import GRADE_ORDER, KIND_ORDER, PROVINCE_ORDER, DeviceArrays
from ..solver_classes import (
    GRADES,
    PROVINCES,
    TARGET_GROUPS,
    URGENCIES,
    Policy,
    RequestIn,
)

T = TypeVar("T")

# --- Open quantities: one rule for the job, the services and the dashboards -----------------

# An allocation counts against the request's laptops or tablets by its device's category.
LAPTOP = in_category(DeviceCategory.LAPTOP, prefix="device__")
TABLET = in_category(DeviceCategory.TABLET, prefix="device__")


def held_counts_by_category() -> dict[str, Count]:
    """`laptops` and `tablets`: the two counts of allocations per category, to annotate with."""
    return {"laptops": Count("id", filter=LAPTOP), "tablets": Count("id", filter=TABLET)}


def open_quantities(
    approved: tuple[int, int, int], held_laptops: int, held_tablets: int
) -> tuple[int, int, int]:
    """(laptops, tablets, either) a request still waits for, given what it holds per category.

    Devices beyond the approved laptops (or tablets) take places of "either" first: what is left
    is exactly what the solver's per-type rule still allows.
    """
    laptops, tablets, either = approved
    overflow = max(0, held_laptops - laptops) + max(0, held_tablets - tablets)
    return max(0, laptops - held_laptops), max(0, tablets - held_tablets), max(0, either - overflow)


def held_per_category(request_ids: Iterable[int] | None = None) -> dict[int, tuple[int, int]]:
    """(laptops, tablets) each request holds: approved, shipped or delivered allocations."""
    rows = Allocation.objects.committed()
    if request_ids is not None:
        rows = rows.filter(request_id__in=list(request_ids))
    rows = rows.values("request_id").annotate(**held_counts_by_category()).order_by()
    return {row["request_id"]: (row["laptops"], row["tablets"]) for row in rows}


# --- Reading the inputs ------------------------------------------------------------------------


@dataclass
class RunInputs:
    devices: DeviceArrays
    requests: list[RequestIn]
    today: date
    seconds: float = 0.0
    # Ready devices or approved requests the job cannot use (no grade, no province ...).
    skipped_devices: int = 0
    skipped_requests: int = 0
    # request id -> (held laptops, held tablets), for the requests read
    held: dict[int, tuple[int, int]] = field(default_factory=dict)
    # what allocation_inputs' `meanwhile` returned
    prepared: object = None


def _rows(queryset) -> list[tuple]:
    """The rows of a values_list queryset, fetched in one go (a million rows: no per-row ORM).
    Only for columns that need no converter (PostgreSQL returns dates and booleans as such)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Building a million small objects with the cyclic garbage collector on costs 4x: each
    collection walks all of them (they hold no cycles, so nothing is lost by pausing it)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class DeviceRow(NamedTuple):
    """A ready device with the fields of solver_classes.DeviceIn, in its order (for callers
    that want one device as a tuple; a run reads them as DeviceArrays)."""

    id: int
    kind: str
    grade: str
    ram_gb: int
    storage_gb: int
    province: str  # of the refurbisher holding the device
    refurbisher_id: int


def ready_devices_queryset():
    """Ready devices with a kind and grade the job knows, held by a refurbisher in a province."""
    return Device.objects.filter(
        state=Device.State.READY,
        kind__in=KINDS,
        grade__in=GRADES,
        donation__refurbisher__province__in=PROVINCES,
    ).order_by()


def _code(field: str, order: tuple[str, ...]) -> Case:
    """The position of a text column's value in `order`, as an integer column."""
    return Case(
        *(When(**{field: value}, then=Value(code)) for code, value in enumerate(order)),
        output_field=IntegerField(),
    )


# (column, numpy type): the columns of a device row as the run reads them, all integers.
DEVICE_COLUMNS = (
    ("id", "i8"),
    ("kind", "i4"),
    ("grade", "i4"),
    ("ram_gb", "i4"),
    ("storage_gb", "i4"),
    ("province", "i4"),
    ("refurbisher_id", "i8"),
)


def device_columns_queryset():
    """The ready devices as DEVICE_COLUMNS: kinds, grades and provinces as their codes in the
    solver's sorted vocabularies, missing specs as 0."""
    types = {"i4": IntegerField(), "i8": BigIntegerField()}
    expressions = {
        "id": F("id"),
        "kind": _code("kind", KIND_ORDER),
        "grade": _code("grade", GRADE_ORDER),
        "ram_gb": Coalesce("ram_gb", 0),
        "storage_gb": Coalesce("storage_gb", 0),
        "province": _code("donation__refurbisher__province", PROVINCE_ORDER),
        "refurbisher_id": F("donation__refurbisher_id"),
    }
    names = {name: f"c_{name}" for name, _type in DEVICE_COLUMNS}
    return (
        ready_devices_queryset()
        .annotate(
            **{names[name]: Cast(expressions[name], types[kind]) for name, kind in DEVICE_COLUMNS}
        )
        .values_list(*names.values())
    )


def read_columns(
    queryset, columns: Sequence[tuple[str, str]], meanwhile: Callable[[], T] | None = None
) -> dict[str, np.ndarray]:
    """The integer columns of a values_list queryset as numpy arrays. On PostgreSQL with
    `COPY (...) TO STDOUT (FORMAT BINARY)`: every row has the same width (no NULLs, int4 and
    int8 only), so the whole answer is one numpy record array, without a Python object per
    row. With `meanwhile` (pure computing, no queries), a thread receives the rows while this
    one runs it; its result is under the key "meanwhile"."""
    if connection.vendor != "postgresql":
        return _read_columns_orm(queryset, columns, meanwhile)
    sql, params = queryset.query.sql_with_params()
    buffer, extra = _copy_out(f"COPY ({sql}) TO STDOUT (FORMAT BINARY)", params, meanwhile)
    fields = [("fields", ">i2")]
    for name, kind in columns:
        fields += [(f"{name}_length", ">i4"), (name, f">{kind}")]
    row = np.dtype(fields)
    start = _copy_start(buffer)
    count = (len(buffer) - start - 2) // row.itemsize
    records = np.frombuffer(buffer, dtype=row, count=count, offset=start)
    for name, _kind in columns:
        if count and (records[f"{name}_length"] < 0).any():
            raise ValueError(f"NULL in column {name}")
    return {**{name: records[name].astype(kind) for name, kind in columns}, **extra}


# How a packed row writes each numpy type: PostgreSQL's binary send function and SQL type.
_SEND = {"i4": ("int4send", "integer"), "i8": ("int8send", "bigint")}


def read_columns_packed(
    queryset, columns: Sequence[tuple[str, str]], meanwhile: Callable[[], T] | None = None
) -> dict[str, np.ndarray]:
    """`read_columns`, with the rows packed by the database: one COPY row holding the row
    count and every row's values back to back in binary (`string_agg` of `int8send` ...),
    in no particular order. The database does the same work as for a row each, but the
    client receives one message instead of a million: no Python step per row, so a thread's
    `meanwhile` really runs while the database works (with a row each, the two threads took
    turns on the GIL). A NULL value would drop its row from the aggregate, so the count is
    compared: ValueError, as `read_columns` raises. Up to 1 GB of packed rows (a bytea)."""
    if connection.vendor != "postgresql":
        return _read_columns_orm(queryset, columns, meanwhile)
    sql, params = queryset.query.sql_with_params()
    names = [f"c{i}" for i in range(len(columns))]
    packed = " || ".join(
        f"{_SEND[kind][0]}(d.{name}::{_SEND[kind][1]})"
        for name, (_column, kind) in zip(names, columns, strict=True)
    )
    query = (
        f"COPY (SELECT count(*), string_agg({packed}, ''::bytea) "  # noqa: S608 - fixed names
        f"FROM ({sql}) AS d({', '.join(names)})) TO STDOUT (FORMAT BINARY)"
    )
    buffer, extra = _copy_out(query, params, meanwhile)
    # One row: a 2-byte field count, then the count (4-byte length, int8) and the bytea
    # (4-byte length, -1 for NULL when there are no rows, then the bytes).
    start = _copy_start(buffer) + 2
    count = int.from_bytes(buffer[start + 4 : start + 12], "big", signed=True)
    size = int.from_bytes(buffer[start + 12 : start + 16], "big", signed=True)
    row = np.dtype([(name, f">{kind}") for name, kind in columns])
    records = np.frombuffer(
        buffer, dtype=row, count=max(size, 0) // row.itemsize, offset=start + 16
    )
    if len(records) != count:
        raise ValueError(f"NULL in one of the columns {[name for name, _kind in columns]}")
    return {**{name: records[name].astype(kind) for name, kind in columns}, **extra}


def _read_columns_orm(
    queryset, columns: Sequence[tuple[str, str]], meanwhile: Callable[[], T] | None
) -> dict[str, np.ndarray]:
    """`read_columns` elsewhere than on PostgreSQL (SQLite, the tests): through the ORM."""
    rows = list(queryset)
    result = {
        name: np.array([row[i] for row in rows], dtype=kind).reshape(-1)
        for i, (name, kind) in enumerate(columns)
    }
    if meanwhile:
        result["meanwhile"] = meanwhile()
    return result


def _copy_out(
    sql: str, params, meanwhile: Callable[[], T] | None
) -> tuple[bytearray, dict[str, T]]:
    """The data a `COPY ... TO STDOUT` sends, received in a thread while this one runs
    `meanwhile` (its result under "meanwhile") when given."""
    buffer = bytearray()
    extra = {}
    with connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor

        def receive() -> None:
            with raw.copy(sql, params) as copy:
                for chunk in copy:
                    buffer.extend(chunk)

        if meanwhile is None:
            receive()
        else:
            extra["meanwhile"] = alongside(receive, meanwhile)
    return buffer, extra


def _copy_start(buffer: bytearray) -> int:
    """Where the rows of binary COPY data start. Header: 11-byte signature, 4-byte flags,
    4-byte extension length (+ extension); the rows end with a 2-byte -1."""
    return 19 + int.from_bytes(buffer[15:19], "big")


def alongside(io: Callable[[], None], work: Callable[[], T]) -> T:
    """Run `io` (waiting on the database) in a thread while this one runs `work`; either's
    error is raised after both ended, so the connection is free again."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            io()
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
            failure.append(exc)

    thread = threading.Thread(target=target, name="allocation-read")
    thread.start()
    try:
        result = work()
    finally:
        thread.join()
    if failure:
        raise failure[0]
    return result


def read_devices(meanwhile: Callable[[], T] | None = None) -> tuple[DeviceArrays, int, T | None]:
    """Ready devices as solver input (arrays), how many ready devices the job cannot use, and
    what `meanwhile` returned (run while the devices arrive, see `read_columns`)."""
    columns = read_columns_packed(device_columns_queryset(), DEVICE_COLUMNS, meanwhile)
    devices = DeviceArrays(**{name: columns[name] for name, _kind in DEVICE_COLUMNS})
    # A ready device in an approved or shipped allocation would be an inconsistency; it must
    # not be proposed again. Checked apart: an anti-join per device row costs a second.
    held = list(
        Allocation.objects.filter(
            status__in=[Allocation.Status.APPROVED, Allocation.Status.SHIPPED],
            device__state=Device.State.READY,
        ).values_list("device_id", flat=True)
    )
    if held:
        devices = devices.take(np.flatnonzero(~np.isin(devices.id, held)))
    skipped = Device.objects.ready().count() - len(devices)
    return devices, skipped, columns.get("meanwhile")


REQUEST_FIELDS = (
    "id",
    "organisation_id",
    "target_group",
    "no_home_schooling",
    "delivery_province",
    "organisation__province",
    "urgency",
    "need_by",
    "approved_on",
    "approved_laptops",
    "approved_tablets",
    "approved_either",
)


def queue_queryset():
    """Approved requests of verified organisations: the queue the job fills."""
    return (
        HelpRequest.objects.in_queue()
        .filter(approved_at__isnull=False, organisation__status=Organisation.Status.VERIFIED)
        .order_by()
    )


def queue_rows_queryset():
    """The queue as REQUEST_FIELDS rows; the approval date in the local time zone."""
    return (
        queue_queryset().annotate(approved_on=TruncDate("approved_at")).values_list(*REQUEST_FIELDS)
    )


def queue_rows() -> list[tuple]:
    """The queue as REQUEST_FIELDS rows; the approval date in the local time zone."""
    queryset = queue_rows_queryset()
    if connection.vendor == "postgresql":
        return _rows(queryset)
    return list(queryset)  # through the ORM's converters (SQLite returns text)


# How each REQUEST_FIELDS column reads from COPY's text format.
_BOOL = {"t": True, "f": False}
_REQUEST_TEXT = (
    int,
    int,
    str,
    _BOOL.__getitem__,
    str,
    str,
    str,
    date.fromisoformat,
    date.fromisoformat,
    int,
    int,
    int,
)
_UNESCAPE = re.compile(r"\\(.)")
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _copy_field(text: str) -> str:
    """A text-format COPY field without its backslash escapes (the queue's columns have none
    but names could; octal and hex escapes PostgreSQL never writes on output)."""
    if "\\" not in text:
        return text
    return _UNESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


def queue_rows_copy() -> bytes:
    """The queue's rows (queue_rows_queryset) in COPY's text format, as the database sends
    them: a run parses them (`queue_rows_parse`) while it receives the devices. PostgreSQL;
    dates as YYYY-MM-DD whatever the server's or the session's DateStyle (set for this
    transaction only)."""
    sql, params = queue_rows_queryset().query.sql_with_params()
    buffer = bytearray()
    with (
        transaction.atomic(savepoint=False),
        connection.cursor() as cursor,
        connection.wrap_database_errors,
    ):
        cursor.execute("SET LOCAL DateStyle = 'ISO, YMD'")
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT", params) as copy:
            for chunk in copy:
                buffer.extend(chunk)
    return bytes(buffer)


def queue_rows_parse(data: bytes) -> list[tuple]:
    """`queue_rows_copy`'s text as the rows `queue_rows` returns (pure computing)."""
    rows = []
    for line in data.decode().split("\n"):
        if not line:
            continue
        rows.append(
            tuple(
                read(field)
                if "\\" not in field
                else None
                if field == "\\N"
                else read(_copy_field(field))
                for read, field in zip(_REQUEST_TEXT, line.split("\t"), strict=True)
            )
        )
    return rows


def request_in(row: Sequence, held: tuple[int, int] = (0, 0)) -> RequestIn | None:
    """Solver input for one request row (REQUEST_FIELDS); None when the job cannot use it."""
    pk, org, group, no_home, delivery, org_province, urgency, need_by, approved_on = row[:9]
    province = delivery or org_province
    if province not in PROVINCES or group not in TARGET_GROUPS or urgency not in URGENCIES:
        return None
    laptops, tablets, either = open_quantities(tuple(row[9:12]), *held)
    return RequestIn(
        id=pk,
        organisation_id=org,
        target_group=group,
        no_home_schooling=bool(no_home),
        province=province,
        urgency=urgency,
        need_by=need_by,
        approved_on=approved_on,
        open_laptops=laptops,
        open_tablets=tablets,
        open_either=either,
    )


def read_requests() -> tuple[list[RequestIn], int, dict[int, tuple[int, int]]]:
    """Approved requests with their open quantities (approved minus what they hold)."""
    rows = queue_rows()
    held = held_per_category_in_queue()
    return (*requests_of(rows, held), held)


def requests_of(rows: list[tuple], held: dict[int, tuple[int, int]]) -> tuple[list, int]:
    """Solver input for the queue's rows with open quantities, and how many rows the job
    cannot use (pure computing)."""
    requests, skipped = [], 0
    for row in rows:
        request = request_in(row, held.get(row[0], (0, 0)))
        if request is None:
            skipped += 1
        elif request.open_total:
            requests.append(request)
    return requests, skipped


def held_per_category_in_queue() -> dict[int, tuple[int, int]]:
    rows = (
        Allocation.objects.committed()
        .filter(request__status=HelpRequest.Status.APPROVED)
        .values("request_id")
        .annotate(**held_counts_by_category())
        .order_by()
    )
    return {row["request_id"]: (row["laptops"], row["tablets"]) for row in rows}


def allocation_inputs(
    today: date | None = None,
    meanwhile: Callable[[list[RequestIn], date], object] | None = None,
) -> RunInputs:
    """Everything one matching run reads: ready devices and approved requests with open
    quantities. Proposals of earlier runs are ignored: the run replaces them. The requests
    come first: `meanwhile(requests, today)` (pure computing, no queries) runs while the
    devices arrive, and its result is kept as `prepared`."""
    started = perf_counter()
    today = today or timezone.localdate()
    with gc_paused():
        # On PostgreSQL the queue arrives as COPY text, parsed while the devices arrive.
        text = queue_rows_copy() if connection.vendor == "postgresql" else None
        rows = queue_rows() if text is None else []
        held = held_per_category_in_queue()

        def work() -> tuple[list[RequestIn], int, object]:
            requests, skipped = requests_of(queue_rows_parse(text) if text else rows, held)
            return requests, skipped, meanwhile(requests, today) if meanwhile else None

        devices, skipped_devices, (requests, skipped_requests, prepared) = read_devices(work)
    return RunInputs(
        devices=devices,
        requests=requests,
        today=today,
        seconds=perf_counter() - started,
        skipped_devices=skipped_devices,
        skipped_requests=skipped_requests,
        held=held,
        prepared=prepared,
    )


def active_policy() -> Policy:
    """The active policy's weights (the defaults while none is saved); reads only."""
    row = PriorityPolicy.objects.filter(is_active=True).only("weights").first()
    return row.policy if row else Policy()
