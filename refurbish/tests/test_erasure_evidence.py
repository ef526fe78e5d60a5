"""Erasure evidence that holds (issue 14): the latest run decides, evidence belongs to one
machine, only real logs count, what the log says is kept, and the certificate states the NIST
SP 800-88 category the evidence supports.

The logs are built here in the shape nwipe 0.32 (as shipped in ShredOS) writes them, after
nwipe's src/logging.c (nwipe_log, nwipe_log_sysinfo, nwipe_log_summary) and src/options.c.
"""

from datetime import datetime

import pytest
from django.urls import reverse

from allemaal.services import DomainError
from refurbish import services
from refurbish.erasure_logs import LogImportResult, erasure_logs_import
from refurbish.models import (
    ErasureCertificate,
    ErasureRecord,
    ErasureResult,
    ErasureSource,
    ErasureStandard,
    ErasureTechnique,
)
from refurbish.nwipe import TablesWithoutLog, parse_nwipe_log
from refurbish.selectors import certificate_summary
from refurbish.services import ErasureInput, new_certificate_code

from .factories import device_in, received_donation

SHREDOS_BANNER = "ShredOS v2021.08.2_21_x86-64_0.32.023"


def shredos_log(
    *,
    system_serial: str = "5CG1234ABC",
    drives: tuple = (("sda", "WDC WD5000LPVX-22V0TT0", "WX11A1234567", "Erased", 0),),
    day: str = "2025/05/06",
    banner: str = SHREDOS_BANNER,
    nvme: bool = False,
) -> bytes:
    """A ShredOS log: banner with version, system serial, drive table, error summary.

    `drives` holds (name, model, serial, status, pass errors) per drive.
    """

    def line(clock: str, level: str, message: str) -> str:
        return f"[{day} {clock}] {level:>8}: {message}"

    out = [
        line("09:59:40", "info", banner),
        line("09:59:40", "info", "Linux version 5.13.19 (nick@shredos) #1 SMP"),
    ]
    bus = "NVME   " if nvme else "ATA    "
    for name, model, serial, _status, _errors in drives:
        out.append(
            line("09:59:41", "notice", f"Found /dev/{name},  {bus}, {model}, 500 GB, S/N={serial}")
        )
    out.append(line("09:59:41", "info", f"Automatically enumerated {len(drives)} devices."))
    out += [
        line("09:59:41", "info", "system-manufacturer = HP"),
        line("09:59:41", "info", "system-product-name = HP ProBook 450 G5"),
        line("09:59:41", "info", f"system-serial-number = {system_serial}"),
        line("10:02:00", "notice", "Program options are set as follows..."),
        line("10:02:00", "notice", f"  banner   = {banner}"),
        line("10:02:00", "notice", "  prng     = Isaac64"),
        line("10:02:00", "notice", "  method   = PRNG Stream"),
        line("10:02:00", "notice", "  rounds   = 1"),
        line("10:02:00", "notice", "  verify   = 1 (last pass)"),
    ]
    for name, _model, serial, _status, _errors in drives:
        out += [
            line("10:02:01", "notice", f"/dev/{name} has serial number {serial}"),
            line("10:02:01", "notice", f"/dev/{name}, sect/blk/dev 512/4096/500107862016"),
            line("10:02:01", "notice", f"Invoking method 'PRNG Stream' on /dev/{name}"),
            line("10:02:01", "notice", f"Starting round 1 of 1 on /dev/{name}"),
            line("10:02:01", "notice", f"Starting pass 1/1, round 1/1, on /dev/{name}"),
            line("11:30:00", "notice", f"500107862016 bytes written to /dev/{name}"),
            line("11:30:00", "notice", f"Finished pass 1/1, round 1/1, on /dev/{name}"),
            line("12:58:00", "notice", f"[SUCCESS] Blanked device /dev/{name}"),
        ]
    out += [
        "",
        "******************************** Error Summary *********************************",
        "!   Device | Pass Errors | Verifications Errors | Fdatasync I\\O Errors",
        "--------------------------------------------------------------------------------",
    ]
    for name, _model, _serial, _status, errors in drives:
        flag = "!" if errors else " "
        out.append(f"{flag} {name:>8} |  {errors:>10} |           {0:>10} |           {0:>10}")
    out += [
        "********************************************************************************",
        "",
        "********************************* Drive Status *********************************",
        "!   Device | Status | Thru-put | HH:MM:SS | Model/Serial Number",
        "--------------------------------------------------------------------------------",
    ]
    for name, model, serial, status, _errors in drives:
        flag = " " if status == "Erased" else "!"
        cell = f" {status} " if status == "Erased" else status
        out.append(f"{flag} {name:>8} |{cell}|  120 MB/s | 02:56:00 | {model[:17]}/{serial}")
    failed = any(status != "Erased" or errors for *_rest, status, errors in drives)
    out += [
        "--------------------------------------------------------------------------------",
        f"[{day} 12:58:00] Total Throughput  120 MB/s, PRNG Stream, 1R+B+VL",
        "********************************************************************************",
        "",
        line(
            "12:58:00",
            "info" if not failed else "error",
            "Nwipe exited with errors, check the log & summary table for individual drive status."
            if failed
            else "Nwipe successfully completed. See summary table for details.",
        ),
    ]
    return ("\n".join(out) + "\n").encode()


def tables_only(log: bytes) -> bytes:
    """What people paste into a ticket: only the two summary tables."""
    text = log.decode()
    start = text.index("******************************** Error Summary")
    end = text.rindex(
        "********************************************************************************"
    )
    return text[start : end + 80].encode()


def log_2019() -> bytes:
    """nwipe 0.26-0.28 (2019-2020): "nwipe: level:" lines, no summary tables at all."""
    stamp = "[2019/11/20 14:02:11] nwipe:"
    return "\n".join(
        [
            f"{stamp} notice: Found /dev/sda, ATA WDC WD5000LPVX-2, 500GB, S/N=WX11A1234567",
            f"{stamp} info: Automatically enumerated 1 devices.",
            f"{stamp} notice: system-serial-number = 5CG1234ABC",
            f"{stamp} notice: Opened entropy source '/dev/urandom'.",
            f"{stamp} info: Device '/dev/sda' is size 500107862016.",
            f"{stamp} notice: Invoking method 'PRNG Stream' on device '/dev/sda'.",
            f"{stamp} notice: Starting round 1 of 1 on device '/dev/sda'.",
            "[2019/11/20 16:40:00] nwipe: notice: Verified that '/dev/sda' is empty.",
            "[2019/11/20 16:40:00] nwipe: info: Nwipe successfully exited.",
            "",
        ]
    ).encode()


def log_2020() -> bytes:
    """nwipe 0.30 (December 2020): a Drive Status table without its title, no Error Summary."""
    stamp = "[2020/12/15 09:00:00]"
    return "\n".join(
        [
            f"{stamp}    info: nwipe 0.30",
            f"{stamp}  notice: Found /dev/sda,  ATA    , WDC WD5000LPVX-22V0TT0, 500 GB, "
            "S/N=WX11A1234567",
            f"{stamp}    info: system-serial-number = 5CG1234ABC",
            f"{stamp}  notice: Invoking method 'PRNG Stream' on /dev/sda",
            "",
            "********************************************************************************",
            "! Device | Status | Thru-put | HH:MM:SS | Model/Serial Number",
            "--------------------------------------------------------------------------------",
            "     sda | Erased |  120 MB/s | 02:56:00 | WDC WD5000LPVX-22/WX11A1234567",
            "--------------------------------------------------------------------------------",
            "[2020/12/15 11:56:00] Total Throughput 120 MB/s, PRNG Stream, 1R+B+VL",
            "********************************************************************************",
            "[2020/12/15 11:56:00]    info: Nwipe successfully exited.",
            "",
        ]
    ).encode()


def run(files, org, user=None, **kwargs):
    return erasure_logs_import(
        files, organisation=org, by=user, source=ErasureSource.UPLOAD, **kwargs
    )


@pytest.fixture
def laptop(refurbisher_org, donor_org):
    donation = received_donation(refurbisher_org, donor=donor_org, laptops=1)
    return device_in(donation, "received", serial_number="5CG1234ABC")


PASSED = shredos_log()
FAILED = shredos_log(
    day="2025/05/09",
    drives=(("sda", "WDC WD5000LPVX-22V0TT0", "WX11A1234567", "-FAILED-", 12),),
)


# --- Record what the log says ------------------------------------------------------------


def test_a_shredos_banner_gives_the_nwipe_version():
    assert parse_nwipe_log(PASSED).nwipe_version == "0.32.023"
    newer = shredos_log(banner="ShredOS v2024.11_27_x86-64_0.38")
    assert parse_nwipe_log(newer).nwipe_version == "0.38"


def test_the_start_is_the_moment_the_wipe_started_not_the_first_line():
    log = parse_nwipe_log(PASSED)
    assert log.log_started_at == datetime(2025, 5, 6, 9, 59, 40)  # noqa: DTZ001
    assert log.started_at == datetime(2025, 5, 6, 10, 2, 1)  # noqa: DTZ001


def test_the_record_keeps_version_start_rounds_verification_prng_blanking_and_sha256(
    laptop, refurbisher_org, refurbisher, client
):
    [result] = run([("hp.log", PASSED)], refurbisher_org, refurbisher)

    record = result.record
    assert result.status == LogImportResult.RECORDED_ERASED
    assert (record.tool_version, record.rounds, record.prng, record.blanking) == (
        "0.32.023",
        1,
        "Isaac64",
        True,
    )
    assert record.verification == "laatste ronde / last pass"
    assert record.started_at.strftime("%H:%M:%S") == "10:02:01"
    assert len(record.evidence_sha256) == 64
    [drive] = record.drives.all()
    assert (drive.throughput, str(drive.duration)) == ("120 MB/s", "2:56:00")

    client.force_login(refurbisher)
    page = client.get(reverse("refurbish:device", args=[laptop.pk])).content.decode()
    for shown in ("0.32.023", "Isaac64", "1 ronde", "slotronde met nullen", record.evidence_sha256):
        assert shown in page


# --- The latest run decides --------------------------------------------------------------


def test_a_failed_rerun_after_a_pass_sends_the_device_back_to_received(
    laptop, refurbisher_org, refurbisher
):
    run([("pass.log", PASSED)], refurbisher_org, refurbisher)
    laptop.refresh_from_db()
    assert laptop.state == "erased"

    [result] = run([("fail.log", FAILED)], refurbisher_org, refurbisher)

    laptop.refresh_from_db()
    assert result.status == LogImportResult.RECORDED_FAILED and not result.device_erased
    assert laptop.state == "received"
    event = laptop.events.latest("id")
    assert (event.from_state, event.to_state) == ("erased", "received")
    assert "Opnieuw wissen" in event.note
    with pytest.raises(DomainError):
        services.device_mark_ready(laptop, by=refurbisher, organisation=refurbisher_org)
    assert certificate_summary(laptop.donation)["devices"][0]["outcome"] == "missing"


def test_an_older_pass_uploaded_after_a_newer_failure_does_not_erase(laptop, refurbisher_org):
    run([("fail.log", FAILED)], refurbisher_org)
    run([("pass.log", PASSED)], refurbisher_org)  # the run of 6 May, before the failure

    laptop.refresh_from_db()
    assert laptop.state == "received"


def test_the_latest_outcome_per_drive_decides(laptop, refurbisher_org):
    disk_a = ("sda", "WDC WD5000LPVX-22V0TT0", "WX11A1234567")
    disk_b = ("sdb", "ST500LM030-2E717D", "WCJ0ABCD")
    both = shredos_log(day="2025/05/01", drives=((*disk_a, "Erased", 0), (*disk_b, "Erased", 0)))
    b_fails = shredos_log(day="2025/05/02", drives=((*disk_b, "-FAILED-", 3),))
    only_a = shredos_log(day="2025/05/03", drives=((*disk_a, "Erased", 0),))

    run([("1.log", both)], refurbisher_org)
    laptop.refresh_from_db()
    assert laptop.state == "erased"
    run([("2.log", b_fails)], refurbisher_org)
    run([("3.log", only_a)], refurbisher_org)

    laptop.refresh_from_db()
    assert laptop.state == "received"  # disk B's latest run failed; A's pass does not cover it


def test_the_certificate_lists_only_devices_whose_latest_evidence_passed(
    laptop, refurbisher_org, donor_org
):
    other = device_in(laptop.donation, "received", serial_number="PF0XK2LM")
    run([("a.log", PASSED)], refurbisher_org)
    run(
        [
            (
                "b.log",
                shredos_log(
                    system_serial="PF0XK2LM", drives=(("sda", "SSD", "S3Y1", "Erased", 0),)
                ),
            )
        ],
        refurbisher_org,
    )
    run(
        [
            (
                "c.log",
                shredos_log(
                    system_serial="PF0XK2LM",
                    day="2025/06/01",
                    drives=(("sda", "SSD", "S3Y1", "-FAILED-", 1),),
                ),
            )
        ],
        refurbisher_org,
    )

    entries = {e["serial_number"]: e for e in certificate_summary(laptop.donation)["devices"]}

    assert entries["5CG1234ABC"]["outcome"] == "erased"
    assert entries[other.serial_number]["outcome"] == "missing"


# --- Evidence belongs to one machine ------------------------------------------------------


def test_a_log_naming_another_machine_cannot_be_attached_by_hand(laptop, refurbisher_org):
    elsewhere = shredos_log(system_serial="CND9999XYZ")

    [result] = run([("x.log", elsewhere)], refurbisher_org, device=laptop)

    assert result.refused and "CND9999XYZ" in result.reason
    assert not ErasureRecord.objects.exists()


@pytest.mark.parametrize(
    "placeholder",
    ["To Be Filled By O.E.M.", "Default string", "0123456789", "System Serial Number", ""],
)
def test_a_log_without_a_real_system_serial_can_be_attached_by_hand(
    laptop, refurbisher_org, placeholder
):
    [result] = run(
        [("x.log", shredos_log(system_serial=placeholder))], refurbisher_org, device=laptop
    )

    assert result.status == LogImportResult.RECORDED_ERASED and result.device == laptop


def test_the_same_log_never_counts_for_two_devices(
    laptop, refurbisher_org, other_refurbisher_org, other_donor_org
):
    anonymous = shredos_log(system_serial="To Be Filled By O.E.M.")
    second = device_in(laptop.donation, "received", serial_number="PF0XK2LM")
    elsewhere = device_in(
        received_donation(other_refurbisher_org, donor=other_donor_org, laptops=1), "received"
    )

    run([("x.log", anonymous)], refurbisher_org, device=laptop)
    [again] = run([("x.log", anonymous)], refurbisher_org, device=second)
    [theirs] = run([("x.log", anonymous)], other_refurbisher_org, device=elsewhere)

    assert again.refused and laptop.serial_number in again.reason
    assert theirs.refused and "ander apparaat" in theirs.reason
    assert ErasureRecord.objects.count() == 1
    second.refresh_from_db()
    assert second.state == "received"


def test_a_drive_erased_in_two_machines_is_flagged_not_refused(laptop, refurbisher_org):
    other = device_in(laptop.donation, "received", serial_number="PF0XK2LM")
    run([("a.log", PASSED)], refurbisher_org)

    [result] = run(
        [("b.log", shredos_log(system_serial="PF0XK2LM", day="2025/05/20"))], refurbisher_org
    )

    assert result.status == LogImportResult.RECORDED_ERASED and result.device == other
    assert "WX11A1234567" in result.reason and "5CG1234ABC" in result.reason
    assert "WX11A1234567" in result.record.flags


# --- Only real logs count -----------------------------------------------------------------


def test_the_two_tables_pasted_without_log_lines_are_not_evidence(laptop, refurbisher_org):
    pasted = tables_only(PASSED)
    with pytest.raises(TablesWithoutLog):
        parse_nwipe_log(pasted)

    [result] = run([("pasted.txt", pasted)], refurbisher_org)

    assert result.refused and "samenvattingstabellen" in result.reason
    assert "geen nwipe-log" not in result.reason
    assert not ErasureRecord.objects.exists()


@pytest.mark.parametrize("old_log", [log_2019(), log_2020()], ids=["2019", "2020"])
def test_an_nwipe_log_from_before_the_error_summary_is_refused_with_its_reason(
    laptop, refurbisher_org, old_log
):
    log = parse_nwipe_log(old_log)
    assert log.system_serial == "5CG1234ABC" and log.no_error_summary_version

    [result] = run([("old.log", old_log)], refurbisher_org)

    assert result.refused
    assert "deze nwipe-versie schrijft geen foutoverzicht" in result.reason.lower()
    assert "this nwipe version's log has no error summary" in result.reason.lower()
    assert "geen nwipe-log" not in result.reason
    laptop.refresh_from_db()
    assert laptop.state == "received"


def test_the_2020_table_without_title_is_read():
    [drive] = parse_nwipe_log(log_2020()).drives
    assert (drive.device, drive.serial, drive.status) == ("/dev/sda", "WX11A1234567", "Erased")


# --- NIST SP 800-88 category --------------------------------------------------------------


def _record(device, org, **kwargs):
    fields = {
        "standard": ErasureStandard.CLEAR,
        "technique": ErasureTechnique.OVERWRITE,
        "result": ErasureResult.PASSED,
    }
    fields.update(kwargs)
    return ErasureRecord.objects.create(
        device=device, organisation=org, source=ErasureSource.MANUAL, **fields
    )


def test_the_category_is_what_the_evidence_supports(laptop, refurbisher_org):
    overwrite_claimed_purge = _record(laptop, refurbisher_org, standard=ErasureStandard.PURGE)
    sanitize_without_evidence = _record(
        laptop,
        refurbisher_org,
        standard=ErasureStandard.PURGE,
        technique=ErasureTechnique.FIRMWARE_SANITIZE,
    )
    sanitize_with_log = _record(
        laptop,
        refurbisher_org,
        standard=ErasureStandard.PURGE,
        technique=ErasureTechnique.FIRMWARE_SANITIZE,
        evidence_sha256="a" * 64,
    )
    destroyed = _record(
        laptop,
        refurbisher_org,
        standard=ErasureStandard.DESTROY,
        technique=ErasureTechnique.PHYSICAL_DESTRUCTION,
    )

    assert overwrite_claimed_purge.nist_category == "clear"
    assert sanitize_without_evidence.nist_category == "clear"
    assert sanitize_with_log.nist_category == "purge"
    assert destroyed.nist_category == "destroy"


def test_an_ssd_overwrite_is_clear_on_the_certificate_and_the_verify_page(
    laptop, refurbisher_org, client
):
    nvme = shredos_log(
        nvme=True, drives=(("nvme0n1", "Samsung SSD 970 EVO", "S4EWNX0N1", "Erased", 0),)
    )
    run([("nvme.log", nvme)], refurbisher_org)
    summary = certificate_summary(laptop.donation)
    certificate = ErasureCertificate.objects.create(
        donation=laptop.donation, code=new_certificate_code(), summary=summary
    )

    [entry] = summary["devices"]
    assert (entry["outcome"], entry["category"]) == ("erased", "clear")
    assert (entry["rounds"], entry["prng"], entry["blanking"]) == (1, "Isaac64", True)
    page = client.get(services.certificate_verify_url(certificate.code)).content.decode()
    # The page explains each category in plain Dutch; the device itself is stated as Clear only.
    assert "NIST SP 800-88 Clear" in page and "NIST SP 800-88 Purge" not in page
    assert "Isaac64" in page


def test_a_manual_purge_without_evidence_is_stated_as_clear(laptop, refurbisher, refurbisher_org):
    services.device_record_erasure(
        laptop.pk,
        ErasureInput(
            standard=ErasureStandard.PURGE,
            technique=ErasureTechnique.FIRMWARE_SANITIZE,
            result=ErasureResult.PASSED,
        ),
        by=refurbisher,
        organisation=refurbisher_org,
    )

    [entry] = certificate_summary(laptop.donation)["devices"]
    assert (entry["standard"], entry["category"]) == ("purge", "clear")
