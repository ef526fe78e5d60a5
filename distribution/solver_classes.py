"""Inputs, outputs, policy and scoring of the allocation solver (pure Python, no database).

The graph algorithms live in `distribution.solver`; this module holds what both solvers, the tests
and the Django side share: the dataclasses, the `Policy` with its JSON form, the score of one
(device, request) pair, the hard rules, the reason codes and their plain-language rendering.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

import numpy as np

# The device kinds and categories (a laptop need is met by a laptop or a Chromebook, a tablet
# need only by a tablet) are the device vocabulary's.
from donations.vocabulary import CATEGORIES, CATEGORY_OF_KIND

GRADES = ("A", "B", "C")
URGENCIES = ("high", "normal", "low")
TARGET_GROUPS = (
    "primary_pupils",
    "secondary_pupils",
    "mbo_students",
    "isolated_elderly",
    "low_income_families",
    "disability",
    "newcomers",
    "other",
)
PUPIL_GROUPS = frozenset({"primary_pupils", "secondary_pupils", "mbo_students"})
# Keys of Policy.group_weights: pupil groups share two weights, split by home-schooling access.
WEIGHT_KEYS = (
    "pupils_no_home_schooling",
    "pupils",
    "low_income_families",
    "isolated_elderly",
    "disability",
    "newcomers",
    "other",
)
SPEC_FIELDS = ("ram_gb", "storage_gb")
REGION_RELATIONS = ("same", "neighbour", "elsewhere")

# Land neighbours of the twelve provinces, counting borders that run over dams and through the
# IJsselmeer/Markermeer (Afsluitdijk, Hollandse Brug, Brouwersdam): what matters is a short drive.
NEIGHBOURS: dict[str, frozenset[str]] = {
    "Groningen": frozenset({"Friesland", "Drenthe"}),
    "Friesland": frozenset({"Groningen", "Drenthe", "Overijssel", "Flevoland", "Noord-Holland"}),
    "Drenthe": frozenset({"Groningen", "Friesland", "Overijssel"}),
    "Overijssel": frozenset({"Drenthe", "Friesland", "Flevoland", "Gelderland"}),
    "Flevoland": frozenset({"Friesland", "Overijssel", "Gelderland", "Utrecht", "Noord-Holland"}),
    "Gelderland": frozenset(
        {"Overijssel", "Flevoland", "Utrecht", "Zuid-Holland", "Noord-Brabant", "Limburg"}
    ),
    "Utrecht": frozenset({"Noord-Holland", "Zuid-Holland", "Gelderland", "Flevoland"}),
    "Noord-Holland": frozenset({"Zuid-Holland", "Utrecht", "Flevoland", "Friesland"}),
    "Zuid-Holland": frozenset(
        {"Noord-Holland", "Utrecht", "Gelderland", "Noord-Brabant", "Zeeland"}
    ),
    "Zeeland": frozenset({"Zuid-Holland", "Noord-Brabant"}),
    "Noord-Brabant": frozenset({"Zeeland", "Zuid-Holland", "Gelderland", "Limburg"}),
    "Limburg": frozenset({"Noord-Brabant", "Gelderland"}),
}
PROVINCES = tuple(NEIGHBOURS)


def region_relation(device_province: str, request_province: str) -> str:
    if device_province == request_province:
        return "same"
    if device_province in NEIGHBOURS[request_province]:
        return "neighbour"
    return "elsewhere"


# ---------------------------------------------------------------------------------------------
# Inputs and outputs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceIn:
    id: int
    kind: str  # "laptop" | "chromebook" | "tablet"
    grade: str  # "A" | "B" | "C"
    ram_gb: int
    storage_gb: int
    province: str  # province of the refurbisher that holds the device
    refurbisher_id: int


@dataclass(frozen=True, slots=True)
class RequestIn:
    id: int
    organisation_id: int
    target_group: str
    no_home_schooling: bool
    province: str  # province of the delivery address
    urgency: str  # "high" | "normal" | "low"
    need_by: date | None
    approved_on: date
    open_laptops: int  # met by a laptop or a chromebook
    open_tablets: int  # met by a tablet only
    open_either: int  # met by any kind

    @property
    def open_total(self) -> int:
        return self.open_laptops + self.open_tablets + self.open_either

    def open_for(self, category: str) -> int:
        """Most units of one category the request can take (its own need plus all of "either")."""
        own = self.open_laptops if category == "laptop" else self.open_tablets
        return own + self.open_either


@dataclass(slots=True)  # not frozen: a frozen dataclass is 3x slower to build, a million times
class Assignment:
    device_id: int
    request_id: int
    score: int
    # Shared by every device of one (device class, request) pair; see OBJECTIVE.md for the codes.
    reasons: tuple[str, ...]


@dataclass
class History:
    """What earlier decisions tell a run: devices held per organisation (approved, not yet
    delivered), the open proposals of the previous run, and the rejections still in force."""

    held_by_org: dict[int, int] = field(default_factory=dict)
    # device id -> request id of the previous run's open proposal; or the same as two arrays
    # (device ids, request ids), as a run reads them
    previous: dict[int, int] | tuple[np.ndarray, np.ndarray] = field(default_factory=dict)
    # (device id, request id): never again; (device id, organisation id): not to that org
    rejected_pairs: set[tuple[int, int]] = field(default_factory=set)
    rejected_for_org: set[tuple[int, int]] = field(default_factory=set)

    @property
    def held_total(self) -> int:
        return sum(self.held_by_org.values())


@dataclass(slots=True)
class Unserved:
    """Why a request with open quantity got no device in a run: a code and its numbers."""

    code: str
    params: dict[str, Any]


class Deferred(Sequence):
    """A list made by `make` when first read."""

    def __init__(self, make: Callable[[], list]) -> None:
        self._make: Callable[[], list] | None = make
        self._items: list = []

    def _list(self) -> list:
        if self._make is not None:
            self._items, self._make = self._make(), None
        return self._items

    def __getitem__(self, index):
        return self._list()[index]

    def __len__(self) -> int:
        return len(self._list())


@dataclass(eq=False)
class Proposals:
    """A run's proposals as parallel arrays, one position per device: the device, its request,
    the pair's score, and the index of its (device class, request) pair in `reasons` (every
    device of one pair shares the reasons). `positions` are the devices' places in the
    solver's device arrays. Sliced like a list (`proposals[:10]`)."""

    device_ids: np.ndarray
    request_ids: np.ndarray
    scores: np.ndarray
    pair: np.ndarray
    reasons: Sequence[tuple[str, ...]]
    positions: np.ndarray

    @classmethod
    def empty(cls) -> Proposals:
        none = np.zeros(0, np.int64)
        return cls(none, none, none, none, [], none)

    @classmethod
    def of(cls, assignments: list[Assignment]) -> Proposals:
        n = len(assignments)

        def ints(name: str) -> np.ndarray:
            return np.fromiter((getattr(a, name) for a in assignments), np.int64, n)

        return cls(
            ints("device_id"),
            ints("request_id"),
            ints("score"),
            np.arange(n),
            [a.reasons for a in assignments],
            np.zeros(n, np.int64),
        )

    def __len__(self) -> int:
        return len(self.device_ids)

    def __getitem__(self, part: slice) -> Proposals:
        return Proposals(
            self.device_ids[part],
            self.request_ids[part],
            self.scores[part],
            self.pair[part],
            self.reasons,
            self.positions[part],
        )

    def assignments(self) -> list[Assignment]:
        reasons = self.reasons
        return [
            Assignment(device, request, score, reasons[pair])
            for device, request, score, pair in zip(
                self.device_ids.tolist(),
                self.request_ids.tolist(),
                self.scores.tolist(),
                self.pair.tolist(),
                strict=True,
            )
        ]


@dataclass(eq=False)
class Solution:
    proposals: Proposals
    total_score: int
    stats: dict[str, Any] = field(default_factory=dict)
    # request id -> why it got nothing (every open request without a device has one)
    unserved: dict[int, Unserved] = field(default_factory=dict)
    _assignments: list[Assignment] | None = field(default=None, repr=False)
    # solve(..., explain=False): computes `unserved` when `explain` is first called
    _why_not: Callable[[], dict[int, Unserved]] | None = field(default=None, repr=False)

    def explain(self) -> dict[int, Unserved]:
        """`unserved`, computed now if the solver left it for later (a run computes it while
        the database takes in the proposals)."""
        if self._why_not is not None:
            self.unserved = self._why_not()
            self._why_not = None
            self.stats["unserved_requests"] = len(self.unserved)
        return self.unserved

    @property
    def units(self) -> int:
        return len(self.proposals)

    @property
    def assignments(self) -> list[Assignment]:
        """One Assignment object per proposal, built on first use (a national run's writes
        use the arrays of `proposals` and never build these)."""
        if self._assignments is None:
            self._assignments = self.proposals.assignments()
        return self._assignments

    def allocated_per_request(self) -> dict[int, int]:
        rids, counts = np.unique(self.proposals.request_ids, return_counts=True)
        return dict(zip(rids.tolist(), counts.tolist(), strict=True))


# ---------------------------------------------------------------------------------------------
# Policy
# ---------------------------------------------------------------------------------------------

POLICY_SCHEMA = 1


def _default_group_weights() -> dict[str, int]:
    return {
        "pupils_no_home_schooling": 100,
        "pupils": 70,
        "low_income_families": 60,
        "isolated_elderly": 60,
        "disability": 60,
        "newcomers": 60,
        "other": 40,
    }


def _default_min_specs() -> dict[str, dict[str, dict[str, int]]]:
    school_laptop = {"laptop": {"ram_gb": 4, "storage_gb": 64}}
    return {
        "secondary_pupils": {c: dict(s) for c, s in school_laptop.items()},
        "mbo_students": {c: dict(s) for c, s in school_laptop.items()},
    }


def _default_tiers() -> list[list[str]]:
    """The source's order: "Kinderen die geen toegang hebben tot het thuisonderwijs zijn de
    eerste prioriteit"; then the other pupils; then the other vulnerable groups."""
    return [
        ["pupils_no_home_schooling"],
        ["pupils"],
        # In WEIGHT_KEYS order, as the policy form writes a tier (the order within a tier is
        # not a ranking).
        ["low_income_families", "isolated_elderly", "disability", "newcomers", "other"],
    ]


@dataclass
class Policy:
    """Coordinator-editable weights and rules; every field survives `to_dict`/`from_dict`."""

    group_weights: dict[str, int] = field(default_factory=_default_group_weights)
    urgency_bonus: dict[str, int] = field(
        default_factory=lambda: {"high": 20, "normal": 0, "low": -10}
    )
    # Full bonus when the need-by date is today or past, falling linearly to 0 at the horizon.
    need_by_max_bonus: int = 15
    need_by_horizon_days: int = 60
    aging_points_per_day: int = 1
    aging_max: int = 120
    region_bonus: dict[str, int] = field(
        default_factory=lambda: {"same": 10, "neighbour": 5, "elsewhere": 0}
    )
    grade_bonus: dict[str, int] = field(default_factory=lambda: {"A": 3, "B": 2, "C": 0})
    org_cap_share: float = 0.25
    # target group -> category ("laptop" covers chromebooks) -> {"ram_gb": n, "storage_gb": n}
    min_specs: dict[str, dict[str, dict[str, int]]] = field(default_factory=_default_min_specs)
    # target group -> grades it may receive; a group left out may receive every grade.
    allowed_grades: dict[str, list[str]] = field(
        default_factory=lambda: {group: list(GRADES) for group in TARGET_GROUPS}
    )
    # Ordered tiers of WEIGHT_KEYS, applied lexicographically: a device goes to a lower tier
    # only when no request of a higher tier can use it. Every key sits in exactly one tier.
    tiers: list[list[str]] = field(default_factory=_default_tiers)
    # Per tier, the part of a run's ready devices reserved for it (0 = none): its requests get
    # up to that many devices before any tier order applies.
    tier_reserve: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    # Cross-tier aging: every this many days of waiting a request moves up one tier (0 = off).
    tier_aging_days: int = 0

    def __post_init__(self) -> None:
        self._validate()

    # -- JSON ---------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": POLICY_SCHEMA,
            "group_weights": dict(self.group_weights),
            "urgency_bonus": dict(self.urgency_bonus),
            "need_by_max_bonus": self.need_by_max_bonus,
            "need_by_horizon_days": self.need_by_horizon_days,
            "aging_points_per_day": self.aging_points_per_day,
            "aging_max": self.aging_max,
            "region_bonus": dict(self.region_bonus),
            "grade_bonus": dict(self.grade_bonus),
            "org_cap_share": self.org_cap_share,
            "min_specs": {
                group: {cat: dict(spec) for cat, spec in cats.items()}
                for group, cats in self.min_specs.items()
            },
            "allowed_grades": {group: list(g) for group, g in self.allowed_grades.items()},
            "tiers": [list(tier) for tier in self.tiers],
            "tier_reserve": list(self.tier_reserve),
            "tier_aging_days": self.tier_aging_days,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        """A policy from its JSON form; missing fields take their defaults, unknown ones fail."""
        data = dict(data)
        schema = data.pop("schema", POLICY_SCHEMA)
        if schema != POLICY_SCHEMA:
            raise ValueError(f"unsupported policy schema {schema!r}")
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown policy fields: {sorted(unknown)}")
        defaults = cls()
        return cls(
            **{
                name: _deep_copy_json(data.get(name, getattr(defaults, name)))
                for name in cls.__dataclass_fields__
            }
        )

    # -- derived numbers ------------------------------------------------------------------------

    def org_cap(self, supply: int) -> int:
        """Most devices one organisation may receive in a run with `supply` devices."""
        # Fraction(str(...)) so that 0.1 * 30 is 3, not 3.0000000000000004 rounded up to 4.
        return max(1, math.ceil(Fraction(str(self.org_cap_share)) * supply))

    def share_cap(self, supply: int, held: int = 0) -> int:
        """An organisation's fair share: `share` of the ready devices plus every device held
        (approved, not yet delivered), rounded up, at least one. What it already holds counts."""
        return self.org_cap(supply + held)

    def group_weight(self, target_group: str, no_home_schooling: bool) -> int:
        return self.group_weights[weight_key(target_group, no_home_schooling)]

    def base_tier(self, target_group: str, no_home_schooling: bool) -> int:
        """0 for the first tier."""
        key = weight_key(target_group, no_home_schooling)
        return next(index for index, tier in enumerate(self.tiers) if key in tier)

    def tier_of(self, target_group: str, no_home_schooling: bool, waiting_days: int) -> int:
        """The request's tier (0 first) after cross-tier aging, when switched on."""
        tier = self.base_tier(target_group, no_home_schooling)
        if self.tier_aging_days:
            tier = max(0, tier - waiting_days // self.tier_aging_days)
        return tier

    def tier_reserve_units(self, tier: int, supply: int) -> int:
        """Devices of a run with `supply` ready devices reserved for a tier (rounded down)."""
        share = self.tier_reserve[tier] if tier < len(self.tier_reserve) else 0
        return math.floor(Fraction(str(share)) * supply)

    def minimum(self, target_group: str, category: str) -> dict[str, int] | None:
        return self.min_specs.get(target_group, {}).get(category)

    def allows_grade(self, target_group: str, grade: str) -> bool:
        grades = self.allowed_grades.get(target_group)
        return grades is None or grade in grades

    def priority_spread(self) -> int:
        """Largest difference that group, urgency and need-by can make between two requests."""
        weights = self.group_weights.values()
        urgencies = self.urgency_bonus.values()
        need_by = (0, self.need_by_max_bonus)
        high = max(weights) + max(urgencies) + max(need_by)
        low = min(weights) + min(urgencies) + min(need_by)
        return high - low

    # -- validation -----------------------------------------------------------------------------

    def _validate(self) -> None:
        _check_int_map("group_weights", self.group_weights, WEIGHT_KEYS)
        _check_int_map("urgency_bonus", self.urgency_bonus, URGENCIES)
        _check_int_map("region_bonus", self.region_bonus, REGION_RELATIONS)
        _check_int_map("grade_bonus", self.grade_bonus, GRADES)
        for name in ("need_by_max_bonus", "aging_points_per_day", "aging_max"):
            _check_int(name, getattr(self, name), minimum=0)
        _check_int("need_by_horizon_days", self.need_by_horizon_days, minimum=1)
        share = self.org_cap_share
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
            raise ValueError("org_cap_share must be a number in (0, 1]")
        for group, cats in self.min_specs.items():
            _check_group(f"min_specs[{group!r}]", group)
            for category, spec in cats.items():
                if category not in CATEGORIES:
                    raise ValueError(f"min_specs[{group!r}]: unknown category {category!r}")
                where = f"min_specs[{group!r}][{category!r}]"
                if not set(spec) <= set(SPEC_FIELDS):
                    raise ValueError(f"{where}: only {SPEC_FIELDS} may be set")
                for key, value in spec.items():
                    _check_int(f"{where}[{key!r}]", value, minimum=0)
        for group, grades in self.allowed_grades.items():
            _check_group(f"allowed_grades[{group!r}]", group)
            if not isinstance(grades, list | tuple) or not set(grades) <= set(GRADES):
                raise ValueError(f"allowed_grades[{group!r}] must be a list of {GRADES}")
        self._validate_tiers()

    def _validate_tiers(self) -> None:
        tiers = self.tiers
        if not isinstance(tiers, list | tuple) or not all(
            isinstance(tier, list | tuple) and tier for tier in tiers
        ):
            raise ValueError("tiers must be a list of non-empty lists")
        keys = [key for tier in tiers for key in tier]
        if sorted(keys) != sorted(WEIGHT_KEYS):
            raise ValueError(f"every one of {WEIGHT_KEYS} must be in exactly one tier")
        reserve = self.tier_reserve
        if not isinstance(reserve, list | tuple) or len(reserve) != len(tiers):
            raise ValueError("tier_reserve must have one share per tier")
        for share in reserve:
            if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
                raise ValueError("each tier_reserve must be a number in [0, 1]")
        if sum(Fraction(str(share)) for share in reserve) > 1:
            raise ValueError("the tier reserves add up to more than the whole run")
        _check_int("tier_aging_days", self.tier_aging_days, minimum=0)


def weight_key(target_group: str, no_home_schooling: bool) -> str:
    """The key of Policy.group_weights and Policy.tiers for a request's group."""
    if target_group in PUPIL_GROUPS:
        return "pupils_no_home_schooling" if no_home_schooling else "pupils"
    return target_group


def _deep_copy_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _deep_copy_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_deep_copy_json(item) for item in value]
    return value


def _check_int(name: str, value: Any, minimum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, not {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}")


def _check_int_map(name: str, mapping: Any, keys: tuple[str, ...]) -> None:
    if not isinstance(mapping, dict) or set(mapping) != set(keys):
        raise ValueError(f"{name} must have exactly the keys {keys}")
    for key, value in mapping.items():
        _check_int(f"{name}[{key!r}]", value)


def _check_group(name: str, group: str) -> None:
    if group not in TARGET_GROUPS:
        raise ValueError(f"{name}: unknown target group")


# ---------------------------------------------------------------------------------------------
# Scoring and hard rules (the per-pair definitions; the solvers compute the same per class)
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class PriorityParts:
    group: int
    urgency: int
    need_by: int
    aging: int
    waiting_days: int
    need_by_days: int | None

    @property
    def total(self) -> int:
        return self.group + self.urgency + self.need_by + self.aging


def priority_parts(request: RequestIn, policy: Policy, today: date) -> PriorityParts:
    waiting_days = max(0, (today - request.approved_on).days)
    aging = min(policy.aging_max, waiting_days * policy.aging_points_per_day)
    need_by_days = None if request.need_by is None else (request.need_by - today).days
    if need_by_days is None:
        need_by = 0
    else:
        horizon = policy.need_by_horizon_days
        left = min(max(need_by_days, 0), horizon)
        need_by = policy.need_by_max_bonus * (horizon - left) // horizon
    return PriorityParts(
        group=policy.group_weight(request.target_group, request.no_home_schooling),
        urgency=policy.urgency_bonus[request.urgency],
        need_by=need_by,
        aging=aging,
        waiting_days=waiting_days,
        need_by_days=need_by_days,
    )


def request_priority(request: RequestIn, policy: Policy, today: date) -> int:
    return priority_parts(request, policy, today).total


def device_fit(device: DeviceIn, request_province: str, policy: Policy) -> int:
    relation = region_relation(device.province, request_province)
    return policy.region_bonus[relation] + policy.grade_bonus[device.grade]


def pair_score(device: DeviceIn, request: RequestIn, policy: Policy, today: date) -> int:
    """score(d, r) = priority(r) + fit(d, r); the solvers maximise its sum."""
    return request_priority(request, policy, today) + device_fit(device, request.province, policy)


def meets_rules(device: DeviceIn, target_group: str, policy: Policy) -> bool:
    """The hard rules on the device itself: allowed grade and the group's minimum specs."""
    if not policy.allows_grade(target_group, device.grade):
        return False
    minimum = policy.minimum(target_group, CATEGORY_OF_KIND[device.kind])
    if minimum is None:
        return True
    return device.ram_gb >= minimum.get("ram_gb", 0) and device.storage_gb >= minimum.get(
        "storage_gb", 0
    )


def can_serve(device: DeviceIn, request: RequestIn, policy: Policy) -> bool:
    """The device may go to the request at all (its category is wanted and the rules hold)."""
    return request.open_for(CATEGORY_OF_KIND[device.kind]) > 0 and meets_rules(
        device, request.target_group, policy
    )


# ---------------------------------------------------------------------------------------------
# Reasons and their plain-language rendering
# ---------------------------------------------------------------------------------------------


def reasons_for(
    parts: PriorityParts,
    request: RequestIn,
    kind: str,
    grade: str,
    device_province: str,
    policy: Policy,
) -> tuple[str, ...]:
    relation = region_relation(device_province, request.province)
    reasons = [f"group:{request.target_group}"]
    if request.no_home_schooling and request.target_group in PUPIL_GROUPS:
        reasons.append("no_home_schooling")
    reasons.append(f"waiting_days:{parts.waiting_days}")
    reasons.append(f"urgency:{request.urgency}")
    if parts.need_by_days is not None:
        reasons.append(f"need_by_days:{parts.need_by_days}")
    reasons.append(f"region:{relation}:{device_province}")
    reasons.append(f"device:{kind}:{grade}")
    if policy.minimum(request.target_group, CATEGORY_OF_KIND[kind]) is not None:
        reasons.append("minimum:met")
    region, grade_points = policy.region_bonus[relation], policy.grade_bonus[grade]
    reasons.append(
        f"points:group={parts.group},urgency={parts.urgency},need_by={parts.need_by},"
        f"aging={parts.aging},region={region},grade={grade_points}"
    )
    return tuple(reasons)


GROUP_TEXT = {
    "primary_pupils": ("Primary pupils", "Leerlingen basisonderwijs"),
    "secondary_pupils": ("Secondary pupils", "Leerlingen voortgezet onderwijs"),
    "mbo_students": ("MBO students", "Mbo-studenten"),
    "isolated_elderly": ("Isolated elderly people", "Eenzame ouderen"),
    "low_income_families": ("Low-income families", "Gezinnen met een laag inkomen"),
    "disability": ("People with a disability", "Mensen met een beperking"),
    "newcomers": ("Newcomers", "Nieuwkomers"),
    "other": ("Other", "Overig"),
}
KIND_TEXT = {
    "laptop": ("laptop", "laptop"),
    "chromebook": ("Chromebook", "Chromebook"),
    "tablet": ("tablet", "tablet"),
}


def explain(assignment: Assignment, device: DeviceIn | None = None, lang: str = "nl") -> str:
    """One line a coordinator can read, in Dutch ("nl") or English ("en")."""
    if lang not in ("nl", "en"):
        raise ValueError("lang must be 'nl' or 'en'")
    nl = lang == "nl"
    parts: list[str] = []
    for reason in assignment.reasons:
        key, _, value = reason.partition(":")
        text = _reason_text(key, value, nl, device)
        if text is None:
            continue
        if key in ("no_home_schooling", "minimum") and parts:
            parts[-1] += text
        else:
            parts.append(text)
    return "; ".join(parts)


def _reason_text(key: str, value: str, nl: bool, device: DeviceIn | None) -> str | None:
    if key == "group":
        return GROUP_TEXT[value][nl]
    if key == "no_home_schooling":
        return " zonder toegang tot thuisonderwijs" if nl else " without home-schooling access"
    if key == "waiting_days":
        amount = _days(int(value), nl)
        return f"wacht {amount}" if nl else f"waiting {amount}"
    if key == "urgency":
        texts = {"high": ("urgent", "urgent"), "normal": ("normal urgency", "gewone urgentie")}
        texts["low"] = ("low urgency", "lage urgentie")
        return texts[value][nl]
    if key == "need_by_days":
        days = int(value)
        if days == 0:
            return "vandaag nodig" if nl else "needed today"
        amount = _days(abs(days), nl)
        if days < 0:
            return f"{amount} over de gewenste datum" if nl else f"{amount} past the need-by date"
        return f"nodig binnen {amount}" if nl else f"needed within {amount}"
    if key == "region":
        relation, province = value.split(":", 1)
        texts = {
            "same": ("device in the same province", "apparaat in dezelfde provincie"),
            "neighbour": ("device in a neighbouring province", "apparaat in een buurprovincie"),
            "elsewhere": ("device in another province", "apparaat in een andere provincie"),
        }
        return f"{texts[relation][nl]} ({province})"
    if key == "device":
        kind, grade = value.split(":")
        text = f"{KIND_TEXT[kind][nl]} {'klasse' if nl else 'grade'} {grade}"
        if device is not None:
            storage = "opslag" if nl else "storage"
            text += f", {device.ram_gb} GB RAM, {device.storage_gb} GB {storage}"
        return text
    if key == "minimum":
        return ", voldoet aan de minimumeisen" if nl else ", meets the minimum"
    return None


def _days(days: int, nl: bool) -> str:
    if nl:
        return f"{days} {'dag' if days == 1 else 'dagen'}"
    return f"{days} {'day' if days == 1 else 'days'}"
