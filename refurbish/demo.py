"""Demo data of the refurbishment (called by `seed_demo`, idempotently).

Two demo donations at the demo refurbisher, both taken to received through the donation
services (`donations.demo.received_donation`: pledged with an asset list, scheduled, collected,
counted in) and then through the refurbishment services:

* one of the second demo donor, in progress: devices announced, received, erased (from nwipe
  logs sent with the demo API token), one whose erasure failed, ready and recycled;
* one of the first demo donor, finished: every device has an outcome and its erasure
  certificate is issued (the demo donor downloads it). The distribution demo allocates three of
  its ready laptops and ships them on, so that every device state is on screen.

The second demo donor's old batch (`donations.demo`) is scanned in and recycled here too, which
makes that donation processed. A demo donation is recognised by its `brands` marker, the old
batch by its serials still being announced; what is there is left alone.
"""

from datetime import datetime, timedelta

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from allemaal.models import Notification, hash_token
from donations.demo import OLD_BATCH_PREFIX, manifest_file, received_donation
from donations.models import Device, Donation, DonationPolicy

from . import services
from .erasure_logs import erasure_logs_import
from .models import ErasureCertificate, ErasureSource, StationToken
from .services import InspectionInput, RecycleInput

# A fixed, printed token so that the demo wiping station can be tried with curl. Demo only.
DEMO_TOKEN = "adw_demo-wisstation-alleen-voor-de-demo-000000"  # noqa: S105 - demo data
IN_PROGRESS = "Demo opknappen: Dell, HP (in behandeling)"
FINISHED = "Demo opknappen: Lenovo (afgerond)"
MODELS = [("Dell", "Latitude 5490"), ("HP", "EliteBook 840 G5"), ("Lenovo", "ThinkPad T480")]


def nwipe_log(system_serial: str, drive_serial: str, *, erased: bool, start: datetime) -> str:
    """A small log in nwipe 0.38's format (see refurbish/nwipe.py for the line formats)."""
    stamp = lambda moment: moment.strftime("[%Y/%m/%d %H:%M:%S]")  # noqa: E731
    t0, t1 = stamp(start), stamp(start + timedelta(minutes=41))
    status, flag, errors = (" Erased ", " ", 0) if erased else ("-FAILED-", "!", 3)
    closing = (
        "Nwipe successfully completed. See summary table for details."
        if erased
        else "Nwipe exited with errors, check the log & summary table for individual drive status."
    )
    return "\n".join(
        [
            f"{t0}    info: nwipe 0.38",
            f"{t0}  notice: Found /dev/sda,  ATA-SSD, Samsung SSD 860 EVO 250GB,  250 GB, "
            f"S/N={drive_serial}",
            f"{t0}    info: system-manufacturer = Demo",
            f"{t0}    info: system-serial-number = {system_serial}",
            f"{t0}  notice: Program options are set as follows...",
            f"{t0}  notice:   banner   = nwipe 0.38",
            f"{t0}  notice:   method   = PRNG Stream",
            f"{t0}  notice:   rounds   = 1",
            f"{t0}  notice:   verify   = 1 (last pass)",
            f"{t0}  notice: /dev/sda has serial number {drive_serial}",
            f"{t0}  notice: Invoking method 'PRNG Stream' on /dev/sda",
            "",
            "******************************** Error Summary *********************************",
            "!   Device | Pass Errors | Verifications Errors | Fdatasync I\\O Errors",
            "-" * 80,
            f"{flag}      sda |  {errors:10d} |           {0:10d} |           {0:10d}",
            "*" * 80,
            "",
            "********************************* Drive Status *********************************",
            "!   Device | Status | Thru-put | HH:MM:SS | Model/Serial Number",
            "-" * 80,
            f"{flag}      sda |{status}|  320 MB/s | 00:41:00 | Samsung SSD 860 E/{drive_serial}",
            "-" * 80,
            f"{t1} Total Throughput  320 MB/s, PRNG Stream, 1R+B+VL",
            "*" * 80,
            "",
            f"{t1}    info: {closing}",
            "",
        ]
    )


def load(command, personas):
    organisations, users = personas["organisations"], personas["users"]
    refurbisher, user = organisations["refurbisher"], users["refurbisher"]
    latest_mail = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
    token = _demo_token(refurbisher, user)
    _in_progress(personas, token)
    _finished(personas, token)
    _old_batch(refurbisher, user)
    # The services queued e-mails (donation pledged … received, processed, certificate ready);
    # the demo sends none.
    Notification.objects.filter(id__gt=latest_mail).filter(
        Q(kind__startswith="donation_") | Q(kind="refurbish_certificate_ready")
    ).delete()
    certificate = ErasureCertificate.objects.filter(donation__brands=FINISHED).first()
    lines = personas.setdefault("extra_lines", [])
    lines.append("")
    lines.append(f"Wiping-station API token of {refurbisher.name} (demo only): {DEMO_TOKEN}")
    lines.append(
        f'  curl -H "Authorization: Bearer {DEMO_TOKEN}" --data-binary @nwipe.log '
        f"http://127.0.0.1:8000{reverse('refurbish:api_erasure_logs')}"
    )
    if certificate is not None:
        lines.append(
            "Erasure certificate (log in as the demo donor): http://127.0.0.1:8000"
            + reverse("refurbish:certificate", args=[certificate.donation_id])
        )
        lines.append(f"  verify: {services.certificate_verify_url(certificate.code)}")


def _demo_token(refurbisher, user) -> StationToken:
    token, _ = StationToken.objects.get_or_create(
        token_hash=hash_token(DEMO_TOKEN),
        defaults={
            "organisation": refurbisher,
            "name": "Wisstation demo",
            "prefix": DEMO_TOKEN[:8],
            "created_by": user,
        },
    )
    return token


def _donation(personas, key: str, brands: str, prefix: str, count: int) -> Donation | None:
    """A donation of `count` listed laptops of demo donor `key`, counted in at the demo
    refurbisher two weeks ago. The donor pledged at least the minimum batch; a shortfall is
    recorded when the batch is counted in, as it would be."""
    if Donation.objects.filter(brands=brands).exists():
        return None
    organisations, users = personas["organisations"], personas["users"]
    rows = []
    for index in range(count):
        make, model = MODELS[index % len(MODELS)]
        serial = f"{prefix}{index + 1:03d}"
        rows.append((serial, "laptop", make, model, 2018 + index % 4, "Intel Core i5", 8, 256))
    pledged = max(count, DonationPolicy.current().effective_min_batch_size)
    return received_donation(
        organisations[key],
        by=users[key],
        coordinator=users["coordinator"],
        refurbisher=organisations["refurbisher"],
        refurbisher_user=users["refurbisher"],
        pledged={"laptops": pledged, "chargers": pledged},
        received={"laptops": count, "chargers": count},
        manifest=manifest_file(f"{prefix.lower()}lijst.csv", rows),
        days_ago=14,
        brands=brands,
        contact_name="Demo Contactpersoon",
    )


def _serials(donation) -> list[str]:
    return list(donation.devices.order_by("serial_number").values_list("serial_number", flat=True))


def _scan(donation, serials, refurbisher, user) -> None:
    for serial in serials:
        services.device_intake_scan(
            donation, serial, kind="laptop", by=user, organisation=refurbisher
        )


def _wipe(serials, refurbisher, token, *, erased=True) -> None:
    start = timezone.localtime().replace(tzinfo=None, microsecond=0) - timedelta(days=3)
    logs = [
        (f"{serial}.log", nwipe_log(serial, f"S3YD{serial}", erased=erased, start=start).encode())
        for serial in serials
    ]
    erasure_logs_import(
        logs,
        organisation=refurbisher,
        by=None,
        source=ErasureSource.API,
        operator_name=token.name,
    )


def _ids(serials) -> list[int]:
    return list(Device.objects.filter(serial_number__in=serials).values_list("pk", flat=True))


def _grade(serials, refurbisher, user, grade="B") -> None:
    data = InspectionInput.all_working(
        battery_health_pct=82, grade=grade, os_installed="windows11", charger_included=True
    )
    services.devices_record_inspection(_ids(serials), data, by=user, organisation=refurbisher)


def _in_progress(personas, token) -> None:
    refurbisher, user = personas["organisations"]["refurbisher"], personas["users"]["refurbisher"]
    donation = _donation(personas, "donor2", IN_PROGRESS, "DEMO-DH-", 12)
    if donation is None:
        return
    serials = _serials(donation)
    _scan(donation, serials[2:], refurbisher, user)  # the first two stay announced
    _wipe(serials[4:11], refurbisher, token)  # two stay received
    _wipe(serials[11:], refurbisher, token, erased=False)  # failed: stays received
    _grade(serials[6:9], refurbisher, user)  # two stay erased, three become ready
    services.devices_recycle(
        _ids(serials[9:11]),
        RecycleInput(reason="too_old", note="Accu en scharnier versleten"),
        by=user,
        organisation=refurbisher,
    )


def _finished(personas, token) -> None:
    refurbisher, user = personas["organisations"]["refurbisher"], personas["users"]["refurbisher"]
    donation = _donation(personas, "donor", FINISHED, "DEMO-LN-", 9)
    if donation is None:
        return
    serials = _serials(donation)[:8]  # the ninth on the list never arrived
    _scan(donation, serials, refurbisher, user)
    _wipe(serials[:7], refurbisher, token)
    _wipe(serials[7:], refurbisher, token, erased=False)
    _grade(serials[:7], refurbisher, user, grade="A")
    services.device_recycle(
        _ids(serials[7:])[0],
        RecycleInput(reason="erasure_failed", storage_destroyed=True),
        by=user,
        organisation=refurbisher,
    )
    services.donation_intake_complete(donation.pk, by=user, organisation=refurbisher)


def _old_batch(refurbisher, user) -> None:
    """The second demo donor's old laptops: scanned in, then recycled with their storage
    destroyed (too old to reuse); the last outcome makes the donation processed."""
    devices = list(
        Device.objects.filter(
            serial_number__startswith=OLD_BATCH_PREFIX,
            state=Device.State.ANNOUNCED,
            donation__refurbisher=refurbisher,
        )
        .select_related("donation")
        .order_by("serial_number")
    )
    if not devices:
        return
    for device in devices:
        services.device_intake_scan(
            device.donation,
            device.serial_number,
            kind=device.kind,
            by=user,
            organisation=refurbisher,
        )
    services.devices_recycle(
        [device.pk for device in devices],
        RecycleInput(
            reason="too_old",
            storage_destroyed=True,
            note="Uit 2011; opslag vernietigd en materiaal gerecycled.",
        ),
        by=user,
        organisation=refurbisher,
    )
