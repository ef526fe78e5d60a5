"""Importing nwipe logs: the service, the upload page, the stations' API and the command."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from donations.models import Device
from refurbish.erasure_logs import LogImportResult, classify_method, erasure_logs_import
from refurbish.models import DriveErasure, ErasureRecord, ErasureSource

from .factories import LOGS, device_in, nwipe_log_for, zip_of


def read(name: str) -> bytes:
    return (LOGS / name).read_bytes()


def run(files, org, user=None, **kwargs):
    return erasure_logs_import(
        files, organisation=org, by=user, source=ErasureSource.UPLOAD, **kwargs
    )


@pytest.fixture
def received(donation):
    """The donation's three devices, taken in (serials match the sample logs)."""
    Device.objects.filter(donation=donation).update(state="received")
    return {d.serial_number: d for d in Device.objects.filter(donation=donation)}


def test_a_log_where_every_drive_was_erased_makes_the_device_erased(
    received, refurbisher, refurbisher_org
):
    [result] = run([("sda.log", read("erased_one_drive.log"))], refurbisher_org, refurbisher)

    device = Device.objects.get(serial_number="PF0XK2LM")
    assert result.status == LogImportResult.RECORDED_ERASED and result.device == device
    assert device.state == "erased"
    record = ErasureRecord.objects.get(device=device)
    assert (record.result, record.standard, record.technique) == ("passed", "clear", "overwrite")
    assert (record.tool, record.tool_version, record.method) == ("nwipe", "0.38", "PRNG Stream")
    assert record.verification == "laatste ronde / last pass"
    assert record.started_at and record.ended_at and record.started_at < record.ended_at
    assert record.operator == refurbisher and record.source == "upload"
    assert record.evidence_name == "sda.log"
    assert record.evidence.read() == read("erased_one_drive.log")
    [drive] = record.drives.all()
    assert (drive.serial, drive.status, drive.result) == ("S3YHNX0M412345A", "Erased", "passed")
    assert device.events.latest("id").to_state == "erased"


def test_it_records_one_erasure_per_drive(received, refurbisher_org):
    [result] = run([("hp.log", read("erased_two_drives.log"))], refurbisher_org)
    assert result.status == "erased"
    assert DriveErasure.objects.filter(record__device__serial_number="5CG8341XYZ").count() == 2


def test_a_log_with_one_failed_drive_is_recorded_but_the_device_stays_received(
    received, refurbisher_org
):
    [result] = run([("dell.log", read("one_drive_failed.log"))], refurbisher_org)

    device = Device.objects.get(serial_number="7QX4T52")
    assert result.status == LogImportResult.RECORDED_FAILED
    assert "FAILED" in result.reason or "mislukt" in result.reason.lower()
    assert device.state == "received"
    record = ErasureRecord.objects.get(device=device)
    assert record.result == "failed" and record.failure_reason
    assert sorted(d.result for d in record.drives.all()) == ["failed", "passed"]


@pytest.mark.parametrize(
    "template",
    [
        "erased_status_but_verification_errors.log",
        "aborted_by_user.log",
        "completed_but_never_started.log",
        "completed_without_drives.log",
    ],
)
def test_a_log_that_does_not_prove_erasure_leaves_the_device_as_it_was(
    received, refurbisher_org, template
):
    content = nwipe_log_for("PF0XK2LM", template=template)
    [result] = run([(template, content)], refurbisher_org)
    assert result.status == LogImportResult.RECORDED_FAILED, result.reason
    assert result.reason
    assert Device.objects.get(serial_number="PF0XK2LM").state == "received"


def test_a_log_for_a_device_not_on_the_platform_is_refused(received, refurbisher_org):
    [result] = run([("x.log", read("unknown_serial.log"))], refurbisher_org)
    assert result.status == LogImportResult.REFUSED
    assert "DSBC012345" in result.reason
    assert ErasureRecord.objects.count() == 0


@pytest.mark.parametrize(
    "name",
    [
        "not_a_log_empty.log",
        "not_a_log_inventory.csv",
        "not_a_log_other_tool.log",
        "not_a_log_plain_text.txt",
    ],
)
def test_a_file_that_is_not_an_nwipe_log_is_refused(received, refurbisher_org, name):
    [result] = run([(name, read(name))], refurbisher_org)
    assert result.status == LogImportResult.REFUSED
    assert "geen nwipe-log" in result.reason
    assert ErasureRecord.objects.count() == 0


def test_a_placeholder_system_serial_never_matches(donation, refurbisher_org):
    device_in(donation, serial_number="To Be Filled By O.E.M.")
    [result] = run([("p.log", read("placeholder_system_serial.log"))], refurbisher_org)
    assert result.status == LogImportResult.REFUSED
    assert "WD-WXH1A23B4567" in result.reason
    assert ErasureRecord.objects.count() == 0


def test_a_log_is_matched_by_a_drive_serial_when_that_was_registered(donation, refurbisher_org):
    device = device_in(donation, serial_number="WD-WXH1A23B4567")
    [result] = run([("p.log", read("placeholder_system_serial.log"))], refurbisher_org)
    assert result.status == "erased" and result.device == device


def test_a_log_without_usable_serial_can_be_matched_by_hand(donation, refurbisher_org):
    device = device_in(donation, serial_number="HANDMATIG1")
    content = read("anonymised_quiet.log")
    [result] = run([("q.log", content)], refurbisher_org, device=device)
    assert result.status == "erased", result.reason
    device.refresh_from_db()
    assert device.state == "erased"


def test_matching_by_hand_refuses_a_log_of_another_device(received, refurbisher_org, donation):
    other = device_in(donation, serial_number="ANDERS1")
    [result] = run([("a.log", read("erased_one_drive.log"))], refurbisher_org, device=other)
    assert result.status == "refused" and "PF0XK2LM" in result.reason


def test_a_log_for_a_device_of_another_refurbisher_is_refused_as_unmatched(
    received, other_refurbisher_org
):
    [result] = run([("a.log", read("erased_one_drive.log"))], other_refurbisher_org)
    assert result.status == "refused" and "Geen apparaat van uw organisatie" in result.reason
    assert Device.objects.get(serial_number="PF0XK2LM").state == "received"


def test_a_log_for_a_device_not_yet_taken_in_is_refused(donation, refurbisher_org):
    [result] = run([("a.log", read("erased_one_drive.log"))], refurbisher_org)
    assert result.status == "refused" and "nog niet ingenomen" in result.reason


def test_a_log_for_a_device_that_already_has_an_outcome_is_refused(donation, refurbisher_org):
    Device.objects.filter(serial_number="PF0XK2LM").update(state="ready")
    [result] = run([("a.log", read("erased_one_drive.log"))], refurbisher_org)
    assert result.status == "refused" and "uitkomst" in result.reason
    assert ErasureRecord.objects.count() == 0


def test_the_same_log_twice_is_recorded_once(received, refurbisher_org):
    content = read("erased_one_drive.log")
    first, second = run([("a.log", content), ("b.log", content)], refurbisher_org)
    assert first.status == "erased" and second.status == "duplicate"
    assert "al eerder vastgelegd" in second.reason
    assert ErasureRecord.objects.count() == 1


def test_good_logs_are_recorded_and_bad_ones_listed_with_their_reason(received, refurbisher_org):
    results = run(
        [
            ("good.log", read("erased_one_drive.log")),
            ("unknown.log", read("unknown_serial.log")),
            ("failed.log", read("one_drive_failed.log")),
            ("inventory.csv", read("not_a_log_inventory.csv")),
        ],
        refurbisher_org,
    )
    assert [(r.name, r.status) for r in results] == [
        ("good.log", "erased"),
        ("unknown.log", "refused"),
        ("failed.log", "failed"),
        ("inventory.csv", "refused"),
    ]
    assert all(r.reason for r in results[1:])
    assert ErasureRecord.objects.count() == 2


def test_a_log_that_breaks_half_way_leaves_nothing_behind(
    received, refurbisher_org, monkeypatch, settings
):
    import refurbish.erasure_logs as module

    real = module.erasure_next_state

    def break_on_the_hp(device, record, history):
        if device.serial_number == "5CG8341XYZ":
            raise RuntimeError("database went away")
        return real(device, record, history)

    monkeypatch.setattr(module, "erasure_next_state", break_on_the_hp)
    with pytest.raises(RuntimeError):
        run(
            [("good.log", read("erased_one_drive.log")), ("hp.log", read("erased_two_drives.log"))],
            refurbisher_org,
        )
    # Both logs were in one batch (one transaction): an unexpected failure undoes the batch,
    # leaving no record, drive, file or move behind; a refused log never does (see above).
    assert not ErasureRecord.objects.exists() and not DriveErasure.objects.exists()
    assert Device.objects.filter(state="erased").count() == 0
    private = settings.MEDIA_ROOT / "private"
    assert not [p for p in private.rglob("*") if p.is_file()]


def test_a_zip_of_logs_is_read_log_by_log(received, refurbisher_org):
    archive = zip_of(
        {
            "a/erased_one_drive.log": read("erased_one_drive.log"),
            "a/one_drive_failed.log": read("one_drive_failed.log"),
            "__MACOSX/._junk": b"junk",
            "notes.txt": b"hello",
        }
    )
    results = run([("logs.zip", archive)], refurbisher_org)
    assert [r.status for r in results] == ["erased", "failed", "refused"]
    assert results[0].name == "logs.zip/a/erased_one_drive.log"


def test_a_broken_zip_is_refused(refurbisher_org):
    [result] = run([("logs.zip", b"PK\x03\x04 broken")], refurbisher_org)
    assert result.status == "refused" and "zip" in result.reason


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("PRNG Stream", ("clear", "overwrite", False)),
        ("DoD Short", ("clear", "overwrite", False)),
        ("Secure Erase (ATA/NVMe)", ("purge", "firmware_sanitize", False)),
        ("Sanitize Crypto Erase (ATA/SCSI/NVMe)", ("purge", "crypto_erase", False)),
        ("Sanitize Block Erase (ATA/SCSI/NVMe)", ("purge", "firmware_sanitize", False)),
        ("Verify Zeros (0x00)", ("clear", "overwrite", True)),
        (None, ("clear", "overwrite", False)),
    ],
)
def test_nwipe_methods_map_to_nist_levels(method, expected):
    assert classify_method(method) == expected


def test_a_verify_only_run_is_not_an_erasure(received, refurbisher_org):
    content = read("erased_one_drive.log").replace(b"PRNG Stream", b"Verify Zeros (0x00)")
    [result] = run([("v.log", content)], refurbisher_org)
    assert result.status == "failed" and "Verify" in result.reason
    assert Device.objects.get(serial_number="PF0XK2LM").state == "received"


# --- upload page -----------------------------------------------------------------------------


def test_the_upload_page_lists_each_log_with_its_outcome(client, received, refurbisher):
    client.force_login(refurbisher)
    response = client.post(
        reverse("refurbish:log_upload"),
        {
            "logs": [
                _upload("good.log", read("erased_one_drive.log")),
                _upload("bad.log", read("unknown_serial.log")),
                _upload("csv.csv", read("not_a_log_inventory.csv")),
            ]
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Vastgelegd: gewist" in page and "Geweigerd" in page
    assert "DSBC012345" in page and "geen nwipe-log" in page
    assert Device.objects.get(serial_number="PF0XK2LM").state == "erased"


def test_the_upload_page_asks_for_a_file(client, refurbisher):
    client.force_login(refurbisher)
    response = client.post(reverse("refurbish:log_upload"), {})
    assert "Kies minstens één logbestand" in response.content.decode()


def test_the_upload_page_is_for_refurbishers_only(client, donor, db):
    assert client.get(reverse("refurbish:log_upload")).status_code == 302
    client.force_login(donor)
    assert client.get(reverse("refurbish:log_upload")).status_code == 403


def test_a_log_matched_by_hand_on_the_device_page(client, donation, refurbisher):
    device = device_in(donation, serial_number="HANDMATIG1")
    client.force_login(refurbisher)
    response = client.post(
        reverse("refurbish:device_log", args=[device.pk]),
        {"log-logs": [_upload("q.log", read("anonymised_quiet.log"))]},
    )
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.state == "erased"


def _upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/plain")


# --- evidence --------------------------------------------------------------------------------


def test_the_evidence_file_is_served_only_to_its_refurbisher_and_coordinators(
    client, received, refurbisher, refurbisher_org, other_refurbisher, donor, coordinator
):
    run([("sda.log", read("erased_one_drive.log"))], refurbisher_org, refurbisher)
    record = ErasureRecord.objects.get()
    url = reverse("refurbish:erasure_evidence", args=[record.pk])
    assert client.get(url).status_code == 302
    for outsider in (other_refurbisher, donor):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    for allowed in (refurbisher, coordinator):
        client.force_login(allowed)
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == read("erased_one_drive.log")
    with pytest.raises(ValueError):
        record.evidence.url  # noqa: B018 - private files have no public address


# --- command ---------------------------------------------------------------------------------


def test_the_command_prints_one_line_per_log_and_fails_when_one_was_refused(
    received, refurbisher_org, tmp_path, capsys
):
    (tmp_path / "a.log").write_bytes(read("erased_one_drive.log"))
    (tmp_path / "b.log").write_bytes(read("unknown_serial.log"))
    with pytest.raises(CommandError) as failure:
        call_command(
            "import_erasure_logs", "--refurbisher", refurbisher_org.kvk_number, str(tmp_path)
        )
    assert failure.value.returncode == 1
    out = capsys.readouterr().out
    assert "ERASED" in out and "PF0XK2LM" in out and "S3YHNX0M412345A passed" in out
    assert "REFUSED" in out and "DSBC012345" in out


def test_the_command_succeeds_when_every_log_was_recorded_or_known(
    received, refurbisher_org, tmp_path, capsys
):
    (tmp_path / "a.log").write_bytes(read("erased_one_drive.log"))
    (tmp_path / "c.log").write_bytes(read("one_drive_failed.log"))
    args = ["import_erasure_logs", "--refurbisher", refurbisher_org.kvk_number, str(tmp_path)]
    call_command(*args)
    call_command(*args)
    out = capsys.readouterr().out
    assert "ALREADY" in out and "FAILED" in out
    assert ErasureRecord.objects.count() == 2


def test_the_command_refuses_an_unknown_refurbisher(db, tmp_path):
    with pytest.raises(CommandError, match="No verified refurbisher"):
        call_command("import_erasure_logs", "--refurbisher", "99999999", str(tmp_path))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_log_sent_twice_at_once_is_recorded_once(received, refurbisher_org):
    """Two imports of one log at the same moment: the second waits for the device's lock, then
    meets the first's record at the unique SHA-256 and reads its batch again: a duplicate, not
    an error, and one record."""
    import threading

    from django.db import connections

    content = read("erased_one_drive.log")
    barrier = threading.Barrier(2)
    results, errors = [], []

    def upload(name):
        try:
            barrier.wait()
            results.extend(run([(name, content)], refurbisher_org))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=upload, args=(f"{n}.log",)) for n in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(result.status for result in results) == ["duplicate", "erased"]
    assert ErasureRecord.objects.count() == 1
