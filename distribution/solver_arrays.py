"""Devices as columns of numpy arrays: how the solver holds a national run's million devices.

A run reads its devices straight into these arrays (distribution/selectors/inputs.py, with
COPY); the tests and small callers pass `DeviceIn` objects, which `DeviceArrays.of` turns into
the same arrays, so there is one solver path. Kinds, grades and provinces are small codes
that index the sorted vocabularies below: sorting by code is sorting by name, which keeps the
order of device classes (and so every tie) what it was with strings.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from donations.vocabulary import KINDS

from .solver_classes import GRADES, PROVINCES, DeviceIn

KIND_ORDER = tuple(sorted(KINDS))
GRADE_ORDER = tuple(sorted(GRADES))
PROVINCE_ORDER = tuple(sorted(PROVINCES))
_FIELDS = ("id", "kind", "grade", "ram_gb", "storage_gb", "province", "refurbisher_id")


def _codes(what: str, values: Sequence[str], order: tuple[str, ...]) -> np.ndarray:
    index = {value: code for code, value in enumerate(order)}
    try:
        return np.fromiter((index[v] for v in values), np.int64, len(values))
    except KeyError as exc:
        raise ValueError(f"unknown {what} {exc.args[0]!r}") from None


@dataclass(slots=True)
class DeviceArrays:
    """One device per position; `kind`, `grade` and `province` are codes into KIND_ORDER,
    GRADE_ORDER and PROVINCE_ORDER (the province of the refurbisher holding the device)."""

    id: np.ndarray
    kind: np.ndarray
    grade: np.ndarray
    ram_gb: np.ndarray
    storage_gb: np.ndarray
    province: np.ndarray
    refurbisher_id: np.ndarray

    def __len__(self) -> int:
        return len(self.id)

    def __iter__(self) -> Iterator[DeviceIn]:
        """The devices as DeviceIn objects (for tests and small callers; a run never does)."""
        return (self.device(i) for i in range(len(self)))

    @classmethod
    def empty(cls) -> DeviceArrays:
        return cls(*(np.zeros(0, np.int64) for _ in _FIELDS))

    @classmethod
    def of(cls, devices: Sequence[DeviceIn] | DeviceArrays) -> DeviceArrays:
        """The arrays of `devices` (objects with DeviceIn's attributes), checking the codes."""
        if isinstance(devices, DeviceArrays):
            for name, order in (
                ("kind", KIND_ORDER),
                ("grade", GRADE_ORDER),
                ("province", PROVINCE_ORDER),
            ):
                codes = getattr(devices, name)
                if len(codes) and not 0 <= codes.min() <= codes.max() < len(order):
                    raise ValueError(f"unknown device {name} code")
            return devices
        devices = list(devices)
        n = len(devices)

        def ints(name: str) -> np.ndarray:
            return np.fromiter((getattr(d, name) for d in devices), np.int64, n)

        return cls(
            id=ints("id"),
            kind=_codes("device kind", [d.kind for d in devices], KIND_ORDER),
            grade=_codes("device grade", [d.grade for d in devices], GRADE_ORDER),
            ram_gb=ints("ram_gb"),
            storage_gb=ints("storage_gb"),
            province=_codes("device province", [d.province for d in devices], PROVINCE_ORDER),
            refurbisher_id=ints("refurbisher_id"),
        )

    def take(self, positions: np.ndarray) -> DeviceArrays:
        return DeviceArrays(*(getattr(self, name)[positions] for name in _FIELDS))

    def device(self, position: int) -> DeviceIn:
        """The device at `position` as a DeviceIn (for the per-class rules and scores)."""
        return DeviceIn(
            id=int(self.id[position]),
            kind=KIND_ORDER[self.kind[position]],
            grade=GRADE_ORDER[self.grade[position]],
            ram_gb=int(self.ram_gb[position]),
            storage_gb=int(self.storage_gb[position]),
            province=PROVINCE_ORDER[self.province[position]],
            refurbisher_id=int(self.refurbisher_id[position]),
        )


def dense_ranks(keys: list[tuple]) -> np.ndarray:
    """Per key, its position among the distinct keys in sorted order."""
    distinct = {key: rank for rank, key in enumerate(sorted(set(keys)))}
    return np.fromiter((distinct[key] for key in keys), np.int64, len(keys))


def group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Start positions of the runs of equal values in a sorted array, with its length appended."""
    if not len(sorted_keys):
        return np.zeros(1, np.int64)
    change = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
    return np.concatenate(([0], change, [len(sorted_keys)]))


def lookup(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray, missing: int) -> np.ndarray:
    """values[keys == w] for each w of `wanted` (keys unique), `missing` where none is."""
    if not len(keys):
        return np.full(len(wanted), missing, np.int64)
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    at = np.searchsorted(keys, wanted)
    at_clipped = np.minimum(at, len(keys) - 1)
    found = keys[at_clipped] == wanted
    return np.where(found, values[at_clipped], missing)


def sort_rows(columns: Sequence[np.ndarray]) -> np.ndarray:
    """The positions of the rows of equally long integer columns in lexicographic order (the
    first column first), equal rows in their order: `np.lexsort(columns[::-1])`. When every
    column's range fits, the columns are packed into one int64 key for one stable sort, which
    for a million devices and eight columns is many times faster than lexsort's eight passes."""
    columns = [np.asarray(column, np.int64) for column in columns]
    if not columns or not len(columns[0]):
        return np.zeros(0, np.int64)
    lows = [int(column.min()) for column in columns]
    widths = [
        (int(column.max()) - low).bit_length() for column, low in zip(columns, lows, strict=True)
    ]
    if sum(widths) > 62:
        return np.lexsort(columns[::-1])
    packed = np.zeros(len(columns[0]), np.int64)
    for column, low, width in zip(columns, lows, widths, strict=True):
        packed <<= width
        packed |= column - low
    return np.argsort(packed, kind="stable")


def unique_rows(columns: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of equally long integer columns: the position of one row of each
    (in sorted order), and per row the index of its distinct row."""
    order = sort_rows(columns)
    change = np.zeros(max(len(order) - 1, 0), bool)
    for column in columns:
        ordered = column[order]
        change |= ordered[1:] != ordered[:-1]
    index_sorted = np.concatenate(([0], np.cumsum(change))) if len(order) else order
    inverse = np.empty(len(order), np.int64)
    inverse[order] = index_sorted
    starts = np.concatenate(([0], np.flatnonzero(change) + 1)) if len(order) else order
    return order[starts], inverse
