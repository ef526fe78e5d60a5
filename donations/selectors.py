"""Reads for the donor's and the refurbisher's pages, each a fixed number of queries.

The donor's impact (which reads the downstream apps) lives in `coordination.selectors`.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Prefetch, QuerySet

from allemaal.compiled import CompiledQuery
from allemaal.models import Organisation, choice_labels

from .manifest import (
    COLUMN_KEYS,
    FIELD_LABELS,
    HeaderPlan,
    ManifestInvalid,
    ManifestReader,
    stored_plan,
)
from .models import Device, Donation, DonationEvent, ManifestImport
from .vocabulary import DeviceKind

# The normal road of a donation; cancelled and declined end it early.
DONATION_ROAD = [
    Donation.Status.PLEDGED,
    Donation.Status.SCHEDULED,
    Donation.Status.COLLECTED,
    Donation.Status.RECEIVED,
    Donation.Status.PROCESSED,
]
DEVICE_STATES = list(Device.State)


def donor_donations(donor: Organisation) -> QuerySet:
    """The donor's donations, newest first, with refurbisher and history in two extra queries."""
    return (
        Donation.objects.filter(donor=donor)
        .select_related("refurbisher", "erasure_certificate")
        .prefetch_related(
            Prefetch("events", queryset=DonationEvent.objects.order_by("at", "id")),
        )
        .order_by("-created_at", "-id")
    )


# (donation id, state, devices) of the given donations: written once per number of donations.
_DEVICES_PER_STATE = CompiledQuery(
    lambda ids: (
        Device.objects.filter(donation_id__in=ids)
        .order_by()
        .values_list("donation_id", "state")
        .annotate(n=Count("id"))
    )
)


def device_counts(donation_ids) -> dict[int, dict[str, int]]:
    """Devices per state for each donation, in one aggregate query for all of them."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for donation_id, state, n in _DEVICES_PER_STATE(list(donation_ids)):
        counts[donation_id][state] = n
    return counts


def with_device_counts(donations) -> list[Donation]:
    """Attach `device_counts` (a row per state, in lifecycle order) and the total to each."""
    donations = list(donations)
    counts = device_counts(d.pk for d in donations)
    labels = choice_labels(Device._meta.get_field("state"))
    for donation in donations:
        mine = counts.get(donation.pk, {})
        donation.device_counts = [
            {"state": state, "label": labels[state], "n": mine.get(state, 0)}
            for state in DEVICE_STATES
        ]
        donation.device_total = sum(mine.values())
    return donations


def donation_timeline(donation: Donation) -> list[dict]:
    """The steps of a donation's road, each done / current / to come, with the date reached.

    Uses the prefetched `events`; a cancelled or declined donation ends at that step.
    """
    # /donaties/ shows 25 timelines: the labels as text, once per language.
    labels = choice_labels(Donation._meta.get_field("status"))
    reached = {}
    for event in donation.events.all():
        reached.setdefault(event.to_status, event.at)
    if donation.status in (Donation.Status.CANCELLED, Donation.Status.DECLINED):
        road = [s for s in DONATION_ROAD if s in reached] + [donation.status]
    else:
        road = DONATION_ROAD
    current = road.index(donation.status)
    return [
        {
            "status": status,
            "label": labels[status],
            "at": reached.get(status),
            "state": "done" if i < current else "current" if i == current else "todo",
        }
        for i, status in enumerate(road)
    ]


def refurbisher_pickups(refurbisher: Organisation) -> QuerySet:
    """The donations assigned to a refurbisher: still to collect or count first, then done."""
    return (
        Donation.objects.filter(refurbisher=refurbisher)
        .exclude(status__in=[Donation.Status.CANCELLED, Donation.Status.DECLINED])
        .select_related("donor")
        .order_by("pickup_date", "id")
    )


OPEN_PICKUP_STATUSES = [Donation.Status.SCHEDULED, Donation.Status.COLLECTED]


# --- The preview of an asset list ------------------------------------------------------------


@dataclass
class ManifestPreview:
    plan: HeaderPlan
    # The first rows as they will be stored: (row number, [(label, value, derived from)]).
    rows: list
    errors: list
    total_errors: int
    skipped: list
    count: int
    remembered: bool


def _shown(key: str, value) -> str:
    if value is None or value == "":
        return ""
    if key == "kind":
        return str(DeviceKind(value).label)
    return str(value)


def manifest_preview(job: ManifestImport, organisation: Organisation) -> ManifestPreview:
    """Read a kept list with the donor's mapping (or the one the organisation chose for the
    same header before, or our own reading), as the import will: no writes."""
    from .services import remembered_mapping

    mapping, remembered = job.mapping, False
    with job.file.open("rb") as stored:
        if mapping is None:
            signature = stored_plan(stored).signature
            mapping = remembered_mapping(organisation, signature)
            remembered = mapping is not None
        stored.seek(0)
        try:
            reader = ManifestReader(
                stored=stored, mapping=mapping, skip_unaccepted=job.skip_unaccepted
            )
        except ManifestInvalid as invalid:
            stored.seek(0)
            plan = stored_plan(stored, mapping)
            return ManifestPreview(plan, [], invalid.errors, invalid.total, [], 0, remembered)
        for _row in reader.rows():
            pass
        errors, total = [], 0
        try:
            reader.finish()
        except ManifestInvalid as invalid:
            errors, total = invalid.errors, invalid.total
    rows = [
        (
            number,
            [
                (FIELD_LABELS[key], _shown(key, value), derived.get(key, ""))
                for key, value in zip(COLUMN_KEYS, values, strict=True)
            ],
        )
        for number, values, derived in reader.preview
    ]
    return ManifestPreview(
        reader.plan, rows, errors, total, reader.skipped, reader.count, remembered
    )
