"""Issue 19's broken items, each walked in a real browser: the admin's history speaks Dutch."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from donations.models import Donation, DonationEvent
from donations.tests.factories import DonationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in_with_session(page, live_server, user):
    """Staff use two-step verification: the browser gets a logged-in session."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def test_the_admin_history_names_each_status_in_dutch(page, live_server, coordinator):
    donation = DonationFactory(status=Donation.Status.SCHEDULED)
    DonationEvent.objects.create(donation=donation, from_status="pledged", to_status="scheduled")
    log_in_with_session(page, live_server, coordinator)

    page.goto(f"/admin/donations/donation/{donation.pk}/change/")
    history = page.locator(".inline-group", has_text="geschiedenis").first.inner_text()
    assert "Aangemeld" in history and "Ophalen gepland" in history
    assert "pledged" not in history and "scheduled" not in history


def test_a_request_with_a_damaged_unit_says_what_comes_and_offers_no_cancel(
    page, live_server, school_board, school_board_org, refurbisher_org, refurbisher
):
    from coordination.tests.test_request_delivery_state import delivered_with_one_damaged

    request = delivered_with_one_damaged(
        school_board_org, school_board, refurbisher_org, refurbisher
    )
    log_in_with_session(page, live_server, school_board)

    page.goto(f"/hulpaanvragen/{request.pk}/")
    expect(page.locator("#delivery-state")).to_contain_text("4 van 5 apparaten")
    expect(page.locator("#delivery-state")).to_contain_text("beschadigd gemeld")
    assert page.get_by_role("link", name="Annuleren").count() == 0
    page.get_by_role("link", name="De rest is niet meer nodig").click()
    page.get_by_role("button", name="Ja, aanvraag afsluiten").click()
    expect(page.locator(".messages")).to_contain_text("is afgesloten")


def test_bulk_grading_gives_laptops_and_tablets_each_their_own_system(
    page, live_server, refurbisher, refurbisher_org
):
    from donations.models import Device
    from refurbish.tests.factories import ErasureRecordFactory, device_in

    donation = DonationFactory(status=Donation.Status.RECEIVED, refurbisher=refurbisher_org)
    laptop = device_in(donation, "erased", kind="laptop")
    tablet = device_in(donation, "erased", kind="tablet")
    for device in (laptop, tablet):
        ErasureRecordFactory(device=device)
    log_in_with_session(page, live_server, refurbisher)

    page.goto(f"/opknappen/donatie/{donation.pk}/")
    page.locator("#select-all").check()
    page.get_by_text("Testen en beoordelen").click()
    page.get_by_label("Kwaliteit").select_option("B")
    tablets = page.get_by_label("Besturingssysteem op de tablets")
    assert "Windows 11" not in tablets.inner_text()  # a tablet is never offered Windows
    page.get_by_label("Besturingssysteem op de laptops").select_option("windows11")
    page.locator("input[name=grade-charger_included][value=yes]").check()
    page.get_by_label("Alle onderdelen van de checklist werken").check()
    page.get_by_role("button", name="Beoordelen").click()
    expect(page.locator(".messages")).to_contain_text(
        "kies ook een besturingssysteem voor een tablet"
    )
    assert Device.objects.get(pk=tablet.pk).state == "erased"

    # The refused step comes back open, the devices still chosen: only the tablets' system.
    page.get_by_label("Besturingssysteem op de tablets").select_option("ipados")
    page.locator("input[name=grade-charger_included][value=yes]").check()
    page.get_by_label("Alle onderdelen van de checklist werken").check()
    page.get_by_role("button", name="Beoordelen").click()
    page.get_by_text("2 apparaten bijgewerkt.").wait_for()
    assert Device.objects.get(pk=tablet.pk).os_installed == "ipados"
    assert Device.objects.get(pk=laptop.pk).os_installed == "windows11"


def test_a_failed_submit_moves_focus_to_the_error_summary_and_its_links_to_the_fields(
    page, live_server, donor
):
    log_in_with_session(page, live_server, donor)
    page.goto("/donaties/nieuw/")
    page.get_by_label("Postcode").fill("97110")
    page.get_by_role("button", name="Donatie aanmelden").click()
    page.wait_for_load_state()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Er is een probleem")
    summary.get_by_role("link", name="Postcode").click()
    expect(page.locator("#id_pickup_postcode")).to_be_focused()


# --- the three fixed earlier on main, walked in the browser too ------------------------------


def test_the_donors_donation_page_names_each_step_of_its_history(page, live_server, donor):
    from allemaal.models import Membership

    donation = DonationFactory(donor=Membership.objects.get(user=donor).organisation)
    DonationEvent.objects.create(donation=donation, to_status="pledged")
    log_in_with_session(page, live_server, donor)
    page.goto(f"/donaties/{donation.pk}/")
    lines = page.locator("ul.history li").all_inner_texts()
    assert lines and all("Aangemeld" in line for line in lines)


def test_a_kvk_number_typed_with_a_space_is_taken_whole(page, live_server):
    from allemaal.models import Organisation
    from tests.factories import UserFactory

    user = UserFactory()  # with a verified address, no organisation yet
    log_in_with_session(page, live_server, user)
    page.goto("/organisatie/nieuw/")
    page.get_by_label("Aanvragende organisatie").check()
    page.get_by_label("Naam").fill("Buurthuis West")
    page.get_by_label("KvK-nummer").fill("6123 4567")
    page.get_by_label("Sector").select_option("welfare")
    page.get_by_label("Straat en huisnummer").fill("Westerstraat 4")
    page.get_by_label("Postcode").fill("9711ab")
    page.get_by_label("Plaats").fill("Groningen")
    page.get_by_label("Telefoonnummer").fill("050 123 4567")
    page.get_by_role("button", name="Organisatie aanmelden").click()
    page.wait_for_url("**/organisatie/wacht-op-controle/")
    assert Organisation.objects.get(name="Buurthuis West").kvk_number == "61234567"


def test_allocating_by_hand_takes_printed_codes_and_sends_one_mail_each(
    page, live_server, coordinator
):
    from allemaal.models import Notification
    from distribution.models import Allocation
    from distribution.tests.factories import ApprovedRequestFactory, ready_devices
    from refurbish.asset_tags import format_asset_tag
    from tests.factories import member_of

    request = ApprovedRequestFactory(laptops=2)
    devices = ready_devices(2)
    member_of(request.organisation)
    member_of(devices[0].donation.refurbisher)
    log_in_with_session(page, live_server, coordinator)

    page.goto("/admin/distribution/allocation/met-de-hand/")
    printed = [format_asset_tag(d.asset_tag) for d in devices]
    page.get_by_label("Apparaatcodes of serienummers").fill(f"{printed[0]}\n{printed[1].lower()}")
    page.get_by_label("Hulpaanvraag").fill(request.reference)
    page.get_by_label("Reden").fill("Spoed: examen")
    page.get_by_role("button", name="Toewijzen").click()
    expect(page.locator(".messagelist")).to_contain_text("2 apparaten zijn toegewezen")
    assert Allocation.objects.filter(request=request, status="approved").count() == 2
    kinds = sorted(Notification.objects.values_list("kind", flat=True))
    assert kinds == ["allocation_approved", "allocation_prepare"]
