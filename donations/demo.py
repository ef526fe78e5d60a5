"""Demo donations for `manage.py seed_demo`: every status, two donors, manifests, one refurbisher.

Everything goes through the real services (so history, counts and devices are as in use); the
e-mails they queue are dropped before the demo transaction commits, so loading sends nothing.
Idempotent: a donor that already has donations is left alone.
"""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from allemaal.models import Notification

from . import services
from .models import Device, Donation

S = Donation.Status
D = Device.State
MODELS = [
    ("laptop", "Dell", "Latitude 5490", 2018, "Intel Core i5-8350U", 8, 256),
    ("laptop", "HP", "EliteBook 840 G5", 2019, "Intel Core i5-8250U", 8, 256),
    ("laptop", "Lenovo", "ThinkPad T480", 2018, "Intel Core i5-8250U", 16, 512),
    ("chromebook", "Acer", "Chromebook 314", 2020, "Intel Celeron N4020", 4, 64),
    ("tablet", "Apple", "iPad (7e generatie)", 2019, "Apple A10 Fusion", 3, 32),
]


def _manifest(prefix: str, kinds: dict[str, int], old: bool = False) -> SimpleUploadedFile:
    lines = [
        "serienummer;type;merk;model;bouwjaar;processor;werkgeheugen (GB);opslag (GB);eigen code"
    ]
    n = 0
    for kind, count in kinds.items():
        options = [m for m in MODELS if m[0] == kind]
        for i in range(count):
            _kind, make, model, year, cpu, ram, storage = options[i % len(options)]
            n += 1
            year = 2011 if old else year
            lines.append(
                f"{prefix}{n:04d};{kind};{make};{model};{year};{cpu};{ram};{storage};IT-{n:05d}"
            )
    return SimpleUploadedFile(f"{prefix.lower()}apparaten.csv", "\n".join(lines).encode())


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
    road = [S.SCHEDULED, S.COLLECTED, S.RECEIVED]
    for step in road[: road.index(to) + 1]:
        if step == S.SCHEDULED:
            services.donation_schedule_pickup(
                donation.pk,
                by=coordinator,
                pickup_date=timezone.localdate() + datetime.timedelta(days=days),
                refurbisher=refurbisher_org,
            )
        elif step == S.COLLECTED:
            services.donation_confirm_collected(
                donation.pk, by=refurbisher_user, refurbisher=refurbisher_org
            )
        else:
            services.donation_confirm_received(
                donation.pk, by=refurbisher_user, refurbisher=refurbisher_org, counts=counts
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
    _advance(scheduled, S.SCHEDULED, days=5, **common)
    collected = _register(donor, user, laptops=12, tablets=4, chargers=12)
    _advance(collected, S.COLLECTED, **common)
    received = _register(donor, user, laptops=20, chargers=20, already_wiped=True)
    services.manifest_import(
        received.pk, by=user, donor=donor, uploaded_file=_manifest("VV-B-", {"laptop": 19})
    )
    _advance(
        received,
        S.RECEIVED,
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
    # Processed: an old batch, every device counted in and recycled (too old to reuse).
    processed = _register(donor, user, laptops=10, chargers=10, year_from=2010, year_to=2012)
    services.manifest_import(
        processed.pk,
        by=user,
        donor=donor,
        uploaded_file=_manifest("BG-A-", {"laptop": 10}, old=True),
    )
    _advance(
        processed,
        S.RECEIVED,
        coordinator=coordinator,
        refurbisher_org=refurbisher_org,
        refurbisher_user=refurbisher_user,
        counts={"laptops": 10, "chromebooks": 0, "tablets": 0, "chargers": 10},
    )
    ids = list(processed.devices.values_list("pk", flat=True))
    kwargs = {"by": refurbisher_user, "organisation": refurbisher_org}
    services.devices_transition(ids, D.RECEIVED, **kwargs)
    reason = "Te oud voor hergebruik (2011); opslag vernietigd en materiaal gerecycled."
    processed.devices.update(recycle_reason=reason)
    services.devices_transition(ids, D.RECYCLED, note=reason, **kwargs)
    services.donation_mark_processed(processed.pk, by=refurbisher_user)

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
