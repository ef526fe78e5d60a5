"""Demo donations for `manage.py seed_demo`: every status, two donors, manifests, one refurbisher.

Everything goes through the real services (so history, counts and devices are as in use); the
e-mails they queue are dropped before the demo transaction commits, so loading sends nothing.
The second donor's old batch is left received with its asset list: the refurbishment demo scans
it in and recycles it, which makes it processed (the refurbisher's steps live above this app).
`received_donation` is how the other apps' demos get a donation that is counted in.
Idempotent: a donor that already has donations is left alone.
"""

import datetime
from collections.abc import Iterable, Sequence

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from allemaal.models import Notification, Organisation, User

from . import services
from .manifest import TEMPLATE_HEADER
from .models import Donation, DonationEvent, Manifest

MODELS = [
    ("laptop", "Dell", "Latitude 5490", 2018, "Intel Core i5-8350U", 8, 256),
    ("laptop", "HP", "EliteBook 840 G5", 2019, "Intel Core i5-8250U", 8, 256),
    ("laptop", "Lenovo", "ThinkPad T480", 2018, "Intel Core i5-8250U", 16, 512),
    ("chromebook", "Acer", "Chromebook 314", 2020, "Intel Celeron N4020", 4, 64),
    ("tablet", "Apple", "iPad (7e generatie)", 2019, "Apple A10 Fusion", 3, 32),
]
# The serials of the second donor's old batch, which the refurbishment demo recycles.
OLD_BATCH_PREFIX = "BG-A-"


def manifest_file(name: str, rows: Iterable[Sequence]) -> SimpleUploadedFile:
    """An asset list in the template's columns (serial, type, make, model, year, processor,
    RAM, storage, own code), one sequence per device; None or a missing cell stays empty."""
    width = len(TEMPLATE_HEADER)
    lines = [";".join(TEMPLATE_HEADER)]
    for row in rows:
        cells = ["" if value is None else str(value) for value in row]
        lines.append(";".join(cells + [""] * (width - len(cells))))
    return SimpleUploadedFile(name, "\n".join(lines).encode())


def _manifest(prefix: str, kinds: dict[str, int], old: bool = False) -> SimpleUploadedFile:
    rows = []
    for kind, count in kinds.items():
        options = [m for m in MODELS if m[0] == kind]
        for i in range(count):
            _kind, make, model, year, cpu, ram, storage = options[i % len(options)]
            n = len(rows) + 1
            year = 2011 if old else year
            rows.append(
                (f"{prefix}{n:04d}", kind, make, model, year, cpu, ram, storage, f"IT-{n:05d}")
            )
    return manifest_file(f"{prefix.lower()}apparaten.csv", rows)


def _register(donor, user, **counts) -> Donation:
    data = {
        "laptops": 0,
        "chromebooks": 0,
        "tablets": 0,
        "chargers": 0,
        "brands": "Dell, HP, Lenovo",
        "pickup_street": donor.street,
        "pickup_postcode": donor.postcode,
        "pickup_city": donor.city,
        "contact_name": "Facilitair team",
        "contact_phone": str(donor.phone),
        "consent_transfer": True,
        **counts,
    }
    return services.donation_register(donor=donor, by=user, data=data)


def _advance(donation, to, *, coordinator, refurbisher_org, refurbisher_user, days=0, counts=None):
    """Take a pledged donation along its road up to `to`."""
    road = [Donation.Status.SCHEDULED, Donation.Status.COLLECTED, Donation.Status.RECEIVED]
    for step in road[: road.index(to) + 1]:
        if step == Donation.Status.SCHEDULED:
            services.donation_schedule_pickup(
                donation.pk,
                by=coordinator,
                pickup_date=timezone.localdate() + datetime.timedelta(days=days),
                refurbisher=refurbisher_org,
            )
        elif step == Donation.Status.COLLECTED:
            services.donation_confirm_collected(
                donation.pk, by=refurbisher_user, refurbisher=refurbisher_org
            )
        else:
            services.donation_confirm_received(
                donation.pk, by=refurbisher_user, refurbisher=refurbisher_org, counts=counts
            )


def received_donation(
    donor: Organisation,
    *,
    by: User,
    coordinator: User,
    refurbisher: Organisation,
    refurbisher_user: User,
    pledged: dict[str, int],
    received: dict[str, int],
    manifest: SimpleUploadedFile,
    days_ago: int = 0,
    **fields,
) -> Donation:
    """A donation taken up to received as its people would: the donor (`by`) pledges `pledged`
    and uploads its asset list, a coordinator schedules the pickup, the refurbisher collects it
    and counts `received` in. Then its history moves `days_ago` days back (see `_backdate`)."""
    donation = _register(donor, by, **pledged, **fields)
    services.manifest_import(donation.pk, by=by, donor=donor, uploaded_file=manifest)
    _advance(
        donation,
        Donation.Status.RECEIVED,
        coordinator=coordinator,
        refurbisher_org=refurbisher,
        refurbisher_user=refurbisher_user,
        counts={"laptops": 0, "chromebooks": 0, "tablets": 0, "chargers": 0, **received},
    )
    _backdate(donation, days_ago)
    donation.refresh_from_db()
    return donation


def _backdate(donation: Donation, days_ago: int) -> None:
    """Move a just-received donation's past `days_ago` days back, since the services stamp
    everything with the current time: pledged and listed a week before its pickup, picked up and
    counted in `days_ago` days ago. Only timestamps and the pickup day change; every status was
    set by the services above, and the history rows keep their order. The devices' custody
    trail is append-only (PostgreSQL refuses any update), so it keeps its real times."""
    if not days_ago:
        return
    picked_up = timezone.now() - datetime.timedelta(days=days_ago)
    pledged = picked_up - datetime.timedelta(days=7)
    Donation.objects.filter(pk=donation.pk).update(
        created_at=pledged, pickup_date=timezone.localdate(picked_up)
    )
    history = {
        Donation.Status.PLEDGED: pledged,
        Donation.Status.SCHEDULED: pledged + datetime.timedelta(days=1),
        Donation.Status.COLLECTED: picked_up,
        Donation.Status.RECEIVED: picked_up + datetime.timedelta(hours=3),
    }
    for status, at in history.items():
        DonationEvent.objects.filter(donation=donation, to_status=status).update(at=at)
    Manifest.objects.filter(donation=donation).update(
        uploaded_at=pledged + datetime.timedelta(hours=1)
    )


def _first_donor(command, personas, key, coordinator, refurbisher_org, refurbisher_user):
    donor, user = personas["organisations"][key], personas["users"][key]
    common = dict(
        coordinator=coordinator,
        refurbisher_org=refurbisher_org,
        refurbisher_user=refurbisher_user,
    )
    # Pledged, with its asset list: 40 devices announced.
    pledged = _register(donor, user, laptops=30, chromebooks=5, tablets=5, chargers=35)
    services.manifest_import(
        pledged.pk,
        by=user,
        donor=donor,
        uploaded_file=_manifest("VV-A-", {"laptop": 30, "chromebook": 5, "tablet": 5}),
    )
    scheduled = _register(donor, user, laptops=25, chargers=25, year_from=2017, year_to=2020)
    _advance(scheduled, Donation.Status.SCHEDULED, days=5, **common)
    collected = _register(donor, user, laptops=12, tablets=4, chargers=12)
    _advance(collected, Donation.Status.COLLECTED, **common)
    received = _register(donor, user, laptops=20, chargers=20, already_wiped=True)
    services.manifest_import(
        received.pk, by=user, donor=donor, uploaded_file=_manifest("VV-B-", {"laptop": 19})
    )
    _advance(
        received,
        Donation.Status.RECEIVED,
        counts={"laptops": 19, "chromebooks": 0, "tablets": 0, "chargers": 18},
        **common,
    )
    cancelled = _register(donor, user, laptops=15, chargers=15)
    services.donation_cancel(
        cancelled.pk,
        by=user,
        donor=donor,
        reason="De laptops gaan toch mee naar ons nieuwe kantoor.",
    )


def _second_donor(command, personas, key, coordinator, refurbisher_org, refurbisher_user):
    donor, user = personas["organisations"][key], personas["users"][key]
    # An old batch, counted in at the refurbisher; the refurbishment demo recycles every device
    # (too old to reuse), which makes the donation processed.
    received_donation(
        donor,
        by=user,
        coordinator=coordinator,
        refurbisher=refurbisher_org,
        refurbisher_user=refurbisher_user,
        pledged={"laptops": 10, "chargers": 10},
        received={"laptops": 10, "chargers": 10},
        manifest=_manifest(OLD_BATCH_PREFIX, {"laptop": 10}, old=True),
        year_from=2010,
        year_to=2012,
    )
    declined = _register(donor, user, tablets=12, chargers=0)
    services.donation_decline(
        declined.pk,
        by=coordinator,
        reason="Deze tablets krijgen geen updates meer; wij kunnen ze niet veilig weggeven.",
    )
    _register(donor, user, laptops=14, chargers=14)


def load(command, personas):
    orgs, users = personas["organisations"], personas["users"]
    coordinator = users["coordinator"]
    refurbisher_org, refurbisher_user = orgs["refurbisher"], users["refurbisher"]
    latest_mail = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
    loaded = []
    for key, build in [("donor", _first_donor), ("donor2", _second_donor)]:
        if Donation.objects.filter(donor=orgs[key]).exists():
            continue
        build(command, personas, key, coordinator, refurbisher_org, refurbisher_user)
        loaded.append(key)
    # The services queued e-mails; the demo sends none (they would go out after commit).
    Notification.objects.filter(id__gt=latest_mail, kind__startswith="donation_").delete()
    if loaded:
        personas.setdefault("extra_lines", []).append(
            "Donations: demo donors have donations in every status; the refurbisher's pickups "
            "are at /donaties/ophalen/."
        )
