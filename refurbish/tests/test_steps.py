"""Erasure by hand, test and grade, recycling, and the same steps in bulk."""

import pytest
from django.urls import reverse

from allemaal.services import DomainError
from donations.models import Device
from refurbish import services
from refurbish.models import DeviceInspection, ErasureRecord
from refurbish.services import BulkStepError, ErasureInput, InspectionInput, RecycleInput

from .factories import ErasureRecordFactory, device_in

PASSED_ERASURE = ErasureInput(
    standard="purge",
    technique="crypto_erase",
    result="passed",
    tool="Blancco",
    tool_version="7.1",
    verification="volledig gecontroleerd",
)
GOOD = InspectionInput.all_working(
    battery_health_pct=80, grade="B", os_installed="ubuntu", charger_included=True
)


def erased(donation, **kwargs):
    device = device_in(donation, "erased", **kwargs)
    ErasureRecordFactory(device=device)
    return device


# --- erasure by hand -------------------------------------------------------------------------


def test_a_passed_erasure_makes_a_received_device_erased(donation, refurbisher, refurbisher_org):
    device = device_in(donation, "received")
    record = services.device_record_erasure(
        device.pk, PASSED_ERASURE, by=refurbisher, organisation=refurbisher_org
    )
    device.refresh_from_db()
    assert device.state == "erased"
    assert (record.standard, record.technique, record.operator) == (
        "purge",
        "crypto_erase",
        refurbisher,
    )


def test_a_failed_erasure_is_recorded_and_the_device_stays_received(
    donation, refurbisher, refurbisher_org
):
    device = device_in(donation, "received")
    failed = ErasureInput(
        standard="clear", technique="overwrite", result="failed", failure_reason="schijf kapot"
    )
    services.device_record_erasure(device.pk, failed, by=refurbisher, organisation=refurbisher_org)
    device.refresh_from_db()
    assert device.state == "received"
    assert ErasureRecord.objects.get().failure_reason == "schijf kapot"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (ErasureInput(standard="destroy", technique="overwrite", result="passed"), "Destroy"),
        (
            ErasureInput(standard="clear", technique="physical_destruction", result="passed"),
            "Destroy",
        ),
        (ErasureInput(standard="clear", technique="overwrite", result="failed"), "waarom"),
    ],
)
def test_it_refuses_an_inconsistent_erasure(donation, refurbisher, refurbisher_org, data, message):
    device = device_in(donation, "received")
    with pytest.raises(DomainError, match=message):
        services.device_record_erasure(
            device.pk, data, by=refurbisher, organisation=refurbisher_org
        )
    assert ErasureRecord.objects.count() == 0


@pytest.mark.parametrize("state", ["announced", "ready", "allocated", "recycled"])
def test_it_refuses_an_erasure_of_a_device_not_at_the_workbench(
    donation, refurbisher, refurbisher_org, state
):
    device = device_in(donation, state)
    with pytest.raises(DomainError):
        services.device_record_erasure(
            device.pk, PASSED_ERASURE, by=refurbisher, organisation=refurbisher_org
        )
    assert ErasureRecord.objects.count() == 0


def test_another_refurbisher_cannot_record_an_erasure(
    donation, other_refurbisher, other_refurbisher_org
):
    device = device_in(donation, "received")
    with pytest.raises(DomainError, match="niet gevonden"):
        services.device_record_erasure(
            device.pk, PASSED_ERASURE, by=other_refurbisher, organisation=other_refurbisher_org
        )


# --- test and grade --------------------------------------------------------------------------


def test_a_passed_test_makes_an_erased_device_ready_with_its_grade(
    donation, refurbisher, refurbisher_org
):
    device = erased(donation)
    data = InspectionInput.all_working(
        cpu="Intel Core i5-8250U",
        ram_gb=16,
        storage_gb=512,
        grade="A",
        os_installed="windows11",
        charger_included=True,
        battery_health_pct=90,
    )
    inspection = services.device_record_inspection(
        device.pk, data, by=refurbisher, organisation=refurbisher_org
    )
    device.refresh_from_db()
    assert inspection.passed and device.state == "ready"
    assert (device.grade, device.os_installed, device.charger_included) == ("A", "windows11", True)
    assert (device.cpu, device.ram_gb, device.storage_gb) == ("Intel Core i5-8250U", 16, 512)
    assert device.events.latest("id").to_state == "ready"


@pytest.mark.parametrize(
    ("change", "defect"),
    [
        ({"boots": False}, "start niet op"),
        ({"keyboard": "defect"}, "toetsenbord"),
        ({"battery_health_pct": 30}, "accu"),
    ],
)
def test_a_failed_test_is_recorded_and_the_device_is_not_ready(
    donation, refurbisher, refurbisher_org, change, defect
):
    device = erased(donation)
    data = InspectionInput.all_working(grade="A", os_installed="ubuntu", **{})
    for key, value in change.items():
        setattr(data, key, value)
    inspection = services.device_record_inspection(
        device.pk, data, by=refurbisher, organisation=refurbisher_org
    )
    device.refresh_from_db()
    assert not inspection.passed and defect in ", ".join(inspection.defects)
    assert device.state == "erased" and device.grade == ""


def test_a_device_cannot_be_tested_before_it_is_erased(donation, refurbisher, refurbisher_org):
    device = device_in(donation, "received")
    with pytest.raises(DomainError, match="nog niet gewist"):
        services.device_record_inspection(
            device.pk, GOOD, by=refurbisher, organisation=refurbisher_org
        )
    assert DeviceInspection.objects.count() == 0


def test_a_device_cannot_be_ready_without_a_passed_erasure(donation, refurbisher, refurbisher_org):
    device = device_in(donation, "erased")  # erased state, but no passed erasure record
    ErasureRecordFactory(device=device, result="failed", failure_reason="x")
    with pytest.raises(DomainError, match="geen geslaagde wisregistratie"):
        services.device_record_inspection(
            device.pk, GOOD, by=refurbisher, organisation=refurbisher_org
        )
    device.refresh_from_db()
    assert device.state == "erased"


def test_a_device_cannot_be_ready_without_a_passed_test(donation, refurbisher, refurbisher_org):
    device = erased(donation)
    with pytest.raises(DomainError, match="geslaagde test"):
        services.device_mark_ready(device, by=refurbisher, organisation=refurbisher_org)
    device.refresh_from_db()
    assert device.state == "erased"


def test_a_passing_test_needs_a_grade_and_an_os(donation, refurbisher, refurbisher_org):
    device = erased(donation)
    with pytest.raises(DomainError, match="kwaliteit, besturingssysteem"):
        services.device_record_inspection(
            device.pk, InspectionInput.all_working(), by=refurbisher, organisation=refurbisher_org
        )


# --- recycling -------------------------------------------------------------------------------


def test_an_erased_device_is_recycled_with_a_reason(donation, refurbisher, refurbisher_org):
    device = erased(donation)
    services.device_recycle(
        device.pk,
        RecycleInput(reason="too_old", note="Core 2 Duo"),
        by=refurbisher,
        organisation=refurbisher_org,
    )
    device.refresh_from_db()
    assert device.state == "recycled" and device.recycle_reason == "Te oud: Core 2 Duo"
    assert device.events.latest("id").note == "Te oud: Core 2 Duo"


def test_a_device_that_failed_erasure_is_recycled_only_with_its_storage_destroyed(
    donation, refurbisher, refurbisher_org
):
    device = device_in(donation, "received")
    with pytest.raises(DomainError, match="vernietigd"):
        services.device_recycle(
            device.pk,
            RecycleInput(reason="erasure_failed"),
            by=refurbisher,
            organisation=refurbisher_org,
        )
    with pytest.raises(DomainError, match="nog niet gewist"):
        services.device_recycle(
            device.pk, RecycleInput(reason="broken"), by=refurbisher, organisation=refurbisher_org
        )
    services.device_recycle(
        device.pk,
        RecycleInput(reason="erasure_failed", storage_destroyed=True),
        by=refurbisher,
        organisation=refurbisher_org,
    )
    device.refresh_from_db()
    assert device.state == "recycled"
    record = ErasureRecord.objects.get(device=device)
    assert (record.standard, record.technique, record.result, record.source) == (
        "destroy",
        "physical_destruction",
        "passed",
        "recycle",
    )


def test_a_recycled_device_stays_recycled(donation, refurbisher, refurbisher_org):
    device = device_in(donation, "recycled")
    with pytest.raises(DomainError):
        services.device_recycle(
            device.pk,
            RecycleInput(reason="broken", storage_destroyed=True),
            by=refurbisher,
            organisation=refurbisher_org,
        )


# --- every transition ------------------------------------------------------------------------

STEPS = {
    "erasure": lambda d, u, o: services.device_record_erasure(
        d, PASSED_ERASURE, by=u, organisation=o
    ),
    "inspection": lambda d, u, o: services.device_record_inspection(d, GOOD, by=u, organisation=o),
    "recycle": lambda d, u, o: services.device_recycle(
        d, RecycleInput(reason="broken", storage_destroyed=True), by=u, organisation=o
    ),
}
# state before -> step -> state after (None: refused)
TRANSITIONS = [
    ("announced", "erasure", None),
    ("received", "erasure", "erased"),
    ("erased", "erasure", "erased"),
    ("ready", "erasure", None),
    ("announced", "inspection", None),
    ("received", "inspection", None),
    ("erased", "inspection", "ready"),
    ("ready", "inspection", None),
    ("announced", "recycle", None),
    ("received", "recycle", "recycled"),
    ("erased", "recycle", "recycled"),
    ("ready", "recycle", "recycled"),
    ("allocated", "recycle", None),
    ("shipped", "recycle", None),
    ("delivered", "recycle", None),
    ("recycled", "recycle", None),
]


@pytest.mark.parametrize(("before", "step", "after"), TRANSITIONS)
def test_every_step_from_every_state(donation, refurbisher, refurbisher_org, before, step, after):
    device = erased(donation) if before == "erased" else device_in(donation, before)
    events = device.events.count()
    if after is None:
        with pytest.raises(DomainError):
            STEPS[step](device.pk, refurbisher, refurbisher_org)
    else:
        STEPS[step](device.pk, refurbisher, refurbisher_org)
    device.refresh_from_db()
    assert device.state == (after or before)
    assert device.events.count() == events + (after is not None and after != before)


# --- bulk ------------------------------------------------------------------------------------


def test_a_bulk_grade_makes_every_chosen_device_ready(donation, refurbisher, refurbisher_org):
    devices = [erased(donation) for _ in range(3)]
    services.devices_record_inspection(
        [d.pk for d in devices], GOOD, by=refurbisher, organisation=refurbisher_org
    )
    assert set(
        Device.objects.filter(pk__in=[d.pk for d in devices]).values_list("state", flat=True)
    ) == {"ready"}


def test_a_bulk_step_changes_nothing_when_one_device_breaks_a_rule(
    donation, refurbisher, refurbisher_org
):
    good = [erased(donation) for _ in range(2)]
    bad = device_in(donation, "received", serial_number="NOGNIETGEWIST")
    with pytest.raises(BulkStepError) as failure:
        services.devices_record_inspection(
            [*(d.pk for d in good), bad.pk], GOOD, by=refurbisher, organisation=refurbisher_org
        )
    assert (
        len(failure.value.errors) == 1
        and "NOGNIETGEWIST" in failure.value.errors[0]
        or bad.asset_tag in failure.value.errors[0]
    )
    assert DeviceInspection.objects.count() == 0
    assert not Device.objects.filter(state="ready").exists()


def test_a_bulk_erasure_and_a_bulk_recycle(donation, refurbisher, refurbisher_org):
    devices = [device_in(donation, "received") for _ in range(3)]
    ids = [d.pk for d in devices]
    services.devices_record_erasure(
        ids, PASSED_ERASURE, by=refurbisher, organisation=refurbisher_org
    )
    assert ErasureRecord.objects.filter(device__in=ids).count() == 3
    services.devices_recycle(
        ids, RecycleInput(reason="too_old"), by=refurbisher, organisation=refurbisher_org
    )
    assert set(Device.objects.filter(pk__in=ids).values_list("state", flat=True)) == {"recycled"}


def test_a_bulk_step_with_a_device_of_another_refurbisher_changes_nothing(
    donation, other_donation, refurbisher, refurbisher_org
):
    mine = device_in(donation, "received")
    theirs = device_in(other_donation, "received")
    with pytest.raises(DomainError, match="niet gevonden"):
        services.devices_record_erasure(
            [mine.pk, theirs.pk], PASSED_ERASURE, by=refurbisher, organisation=refurbisher_org
        )
    assert ErasureRecord.objects.count() == 0


def test_the_last_outcome_processes_the_donation_and_issues_the_certificate(
    donation, refurbisher, refurbisher_org, django_capture_on_commit_callbacks, mailoutbox
):
    Device.objects.filter(donation=donation).update(state="received")
    ids = list(donation.devices.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        services.devices_record_erasure(
            ids, PASSED_ERASURE, by=refurbisher, organisation=refurbisher_org
        )
        services.devices_record_inspection(
            ids[:2], GOOD, by=refurbisher, organisation=refurbisher_org
        )
        donation.refresh_from_db()
        assert donation.status == "received"
        assert not hasattr(donation, "erasure_certificate")
        services.device_recycle(
            ids[2], RecycleInput(reason="broken"), by=refurbisher, organisation=refurbisher_org
        )
    donation.refresh_from_db()
    assert donation.status == "processed"
    assert donation.erasure_certificate.summary["counts"] == {
        "devices": 3,
        "erased": 3,
        "destroyed": 0,
    }


# --- pages -----------------------------------------------------------------------------------


def test_the_device_page_for_anonymous_other_and_own_refurbisher(
    client, donation, refurbisher, other_refurbisher
):
    device = device_in(donation, "received")
    url = reverse("refurbish:device", args=[device.pk])
    assert client.get(url).status_code == 302
    client.force_login(other_refurbisher)
    assert client.get(url).status_code == 404
    for step in ("device_erasure", "device_inspection", "device_recycle", "device_log"):
        assert client.post(reverse(f"refurbish:{step}", args=[device.pk]), {}).status_code == 404
    client.force_login(refurbisher)
    assert device.serial_number in client.get(url).content.decode()


def test_the_erasure_form_shows_a_dutch_message_beside_the_field(client, donation, refurbisher):
    device = device_in(donation, "received")
    client.force_login(refurbisher)
    response = client.post(
        reverse("refurbish:device_erasure", args=[device.pk]),
        {"erasure-standard": "clear", "erasure-technique": "overwrite", "erasure-result": "failed"},
    )
    assert response.status_code == 400
    assert "Geef aan waarom het wissen mislukt is" in response.content.decode()
    assert ErasureRecord.objects.count() == 0


def test_the_erasure_form_with_an_evidence_file(client, donation, refurbisher):
    from django.core.files.uploadedfile import SimpleUploadedFile

    device = device_in(donation, "received")
    client.force_login(refurbisher)
    response = client.post(
        reverse("refurbish:device_erasure", args=[device.pk]),
        {
            "erasure-standard": "purge",
            "erasure-technique": "firmware_sanitize",
            "erasure-result": "passed",
            "erasure-tool": "hdparm",
            "erasure-started_at": "2026-03-01T10:00",
            "erasure-ended_at": "2026-03-01T10:05",
            "erasure-evidence": SimpleUploadedFile("rapport.txt", b"secure erase ok"),
        },
    )
    assert response.status_code == 302
    record = ErasureRecord.objects.get()
    assert record.evidence.read() == b"secure erase ok" and record.evidence_name == "rapport.txt"
    device.refresh_from_db()
    assert device.state == "erased"


def test_the_inspection_form_makes_the_device_ready(client, donation, refurbisher):
    device = erased(donation)
    client.force_login(refurbisher)
    data = {
        f"inspection-{k}": "works"
        for k in ("screen", "keyboard", "touchpad", "wifi", "webcam", "ports")
    }
    data.update(
        {
            "inspection-boots": "yes",
            "inspection-battery_health_pct": "77",
            "inspection-charger_included": "yes",
            "inspection-ram_gb": "8",
        }
    )
    response = client.post(reverse("refurbish:device_inspection", args=[device.pk]), data)
    assert response.status_code == 400
    assert "Kies de kwaliteit" in response.content.decode()
    data.update({"inspection-grade": "B", "inspection-os_installed": "windows10"})
    response = client.post(reverse("refurbish:device_inspection", args=[device.pk]), data)
    assert response.status_code == 302
    device.refresh_from_db()
    assert (device.state, device.grade) == ("ready", "B")


def test_the_recycle_form_asks_for_destroyed_storage(client, donation, refurbisher):
    device = device_in(donation, "received")
    client.force_login(refurbisher)
    url = reverse("refurbish:device_recycle", args=[device.pk])
    response = client.post(url, {"recycle-reason": "erasure_failed"})
    assert "moet de opslag vernietigd worden" in response.content.decode()
    response = client.post(url, {"recycle-reason": "broken"})
    assert "nog niet gewist" in response.content.decode()
    device.refresh_from_db()
    assert device.state == "received"


def test_the_bulk_grade_on_the_donation_page(client, donation, refurbisher):
    devices = [erased(donation) for _ in range(2)]
    client.force_login(refurbisher)
    url = reverse("refurbish:donation", args=[donation.pk])
    response = client.post(
        url,
        {
            "device": [d.pk for d in devices],
            "action": "grade",
            "grade-grade": "A",
            "grade-os_laptop": "chromeos_flex",
            "grade-charger_included": "no",
            "grade-all_working": "on",
        },
    )
    assert response.status_code == 302
    assert Device.objects.filter(state="ready").count() == 2


def test_a_refused_bulk_step_lists_every_device_and_changes_nothing(client, donation, refurbisher):
    devices = [device_in(donation, "received") for _ in range(2)]
    client.force_login(refurbisher)
    response = client.post(
        reverse("refurbish:donation", args=[donation.pk]),
        {
            "device": [d.pk for d in devices],
            "action": "grade",
            "grade-grade": "A",
            "grade-os_laptop": "ubuntu",
            "grade-charger_included": "yes",
            "grade-all_working": "on",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "Er is niets gewijzigd" in page
    assert page.count("nog niet gewist; wis het apparaat eerst") == 2
    for device in devices:
        box = f'value="{device.pk}" id="device-{device.pk}" aria-label="{device.serial_number}"'
        assert f"{box} checked" in page
    assert DeviceInspection.objects.count() == 0


def test_the_donation_page_for_another_refurbisher_is_404(client, donation, other_refurbisher):
    client.force_login(other_refurbisher)
    url = reverse("refurbish:donation", args=[donation.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "recycle"}).status_code == 404


def test_the_device_list_shows_only_own_devices_in_constant_queries(
    client, donation, other_donation, refurbisher, django_assert_max_num_queries
):
    device_in(other_donation, "received", serial_number="NIETVANMIJ")
    for _ in range(2):
        erased(donation)
    client.force_login(refurbisher)
    url = reverse("refurbish:devices") + "?status=erased"
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as two:
        client.get(url)
    for _ in range(18):
        erased(donation)
    # session, user, membership, devices with donation, donor and their latest erasure and
    # test (subqueries), context processor.
    with django_assert_max_num_queries(len(two)):
        page = client.get(url).content.decode()
    assert page.count('name="device"') == 20
    client.get(reverse("refurbish:devices") + "?status=received")
    assert (
        "NIETVANMIJ"
        not in client.get(reverse("refurbish:devices") + "?status=received").content.decode()
    )


def test_labels_are_a_pdf_with_tag_barcode_and_make_and_model(
    client, donation, refurbisher, other_donation
):
    from io import BytesIO

    from pypdf import PdfReader

    from refurbish.asset_tags import format_asset_tag

    devices = [
        device_in(donation, "received", make="Lenovo", model="ThinkPad T480") for _ in range(26)
    ]
    client.force_login(refurbisher)
    response = client.post(reverse("refurbish:labels"), {"device": [d.pk for d in devices]})
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(BytesIO(response.content))
    assert len(reader.pages) == 2
    text = "".join(page.extract_text() for page in reader.pages)
    for device in devices:
        assert format_asset_tag(device.asset_tag) in text
    assert "Lenovo ThinkPad T480" in text
    theirs = device_in(other_donation, "received")
    response = client.post(reverse("refurbish:labels"), {"device": [devices[0].pk, theirs.pk]})
    assert response.status_code == 404
    response = client.get(reverse("refurbish:labels"), {"donation": donation.pk})
    assert response.status_code == 200


def test_a_device_is_found_by_its_tag_typed_with_hyphen_or_by_serial(
    client, donation, other_donation, refurbisher
):
    from refurbish.asset_tags import format_asset_tag

    device = device_in(donation, "received", serial_number="ZOEKMIJ1")
    theirs = device_in(other_donation, "received")
    client.force_login(refurbisher)
    url = reverse("refurbish:device_find")
    target = reverse("refurbish:device", args=[device.pk])
    assert client.get(url, {"q": format_asset_tag(device.asset_tag).lower()}).url == target
    assert client.get(url, {"q": "zoekmij1"}).url == target
    assert client.get(url, {"q": theirs.asset_tag}).status_code == 404
    typo = device.asset_tag[:-1] + ("0" if device.asset_tag[-1] != "0" else "1")
    response = client.get(url, {"q": typo})
    assert response.status_code == 404
    assert "klopt niet" in response.content.decode()


# --- the operating system follows the kind of device ------------------------------------------


def test_the_bulk_grade_sets_each_kind_its_own_operating_system(client, donation, refurbisher):
    laptop, tablet = erased(donation, kind="laptop"), erased(donation, kind="tablet")
    client.force_login(refurbisher)
    response = client.post(
        reverse("refurbish:donation", args=[donation.pk]),
        {
            "device": [laptop.pk, tablet.pk],
            "action": "grade",
            "grade-grade": "B",
            "grade-os_laptop": "windows11",
            "grade-os_tablet": "ipados",
            "grade-charger_included": "yes",
            "grade-all_working": "on",
        },
    )
    assert response.status_code == 302
    chosen = Device.objects.filter(pk__in=[laptop.pk, tablet.pk])
    assert dict(chosen.values_list("kind", "os_installed")) == {
        "laptop": "windows11",
        "tablet": "ipados",
    }


def test_a_bulk_grade_refuses_windows_on_a_tablet_in_dutch(donation, refurbisher, refurbisher_org):
    laptop, tablet = erased(donation, kind="laptop"), erased(donation, kind="tablet")
    data = InspectionInput.all_working(grade="A", os_installed="windows11", charger_included=True)
    with pytest.raises(BulkStepError) as refused:
        services.devices_record_inspection(
            [laptop.pk, tablet.pk], data, by=refurbisher, organisation=refurbisher_org
        )
    assert refused.value.errors == [f"{tablet}: Windows 11 kan niet op een tablet; kies een "
                                    "besturingssysteem dat past."]  # fmt: skip
    assert not DeviceInspection.objects.exists()


def test_a_bulk_grade_without_an_os_for_a_chosen_kind_says_so(client, donation, refurbisher):
    tablet = erased(donation, kind="tablet")
    client.force_login(refurbisher)
    response = client.post(
        reverse("refurbish:donation", args=[donation.pk]),
        {
            "device": [tablet.pk],
            "action": "grade",
            "grade-grade": "B",
            "grade-os_laptop": "windows11",
            "grade-charger_included": "yes",
            "grade-all_working": "on",
        },
        follow=True,
    )
    assert "kies ook een besturingssysteem voor een tablet" in response.content.decode()
    assert Device.objects.get(pk=tablet.pk).state == "erased"


def test_the_device_page_offers_only_the_systems_of_its_kind(client, donation, refurbisher):
    tablet = erased(donation, kind="tablet")
    client.force_login(refurbisher)
    form = client.get(reverse("refurbish:device", args=[tablet.pk])).context["inspection_form"]
    assert [v for v, _ in form.fields["os_installed"].choices] == ["", "ipados", "android"]
