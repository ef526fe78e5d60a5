"""Keyboard only: the donor's donation form, the help-request form and the scan pages.

Tab goes through every field of the form in the order it is shown, each focused field shows a
visible focus outline, the fields are filled from the keyboard and Enter sends the form.
TODO(ux, issue 19): after a refused submit, focus moves to the error summary; its test belongs
with the error summary.
"""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from distribution.tests.factories import (
    ApprovedRequestFactory,
    ProcessedDonationFactory,
    approved_allocations,
)
from donations.models import Donation
from donations.tests.factories import DonationFactory
from helprequests.models import HelpRequest
from refurbish.asset_tags import format_asset_tag
from tests.browser.helpers import log_in_with_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOCUSED = """(form) => {
    const e = document.activeElement;
    const s = getComputedStyle(e);
    return {
        key: e.type === 'radio' ? `${e.name}=${e.value}` : (e.name || e.id || e.tagName),
        name: e.name || '', type: e.type || '', inForm: !!e.closest(form),
        outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
    };
}"""
# The form's fields in the order they are shown: each visible, enabled control once (a radio
# group once: Tab enters the group, the arrow keys move within it).
SHOWN = """(form) => {
    const seen = new Set(), keys = [];
    for (const e of document.querySelector(form).querySelectorAll(
            'input, select, textarea, button, a[href]')) {
        if (e.type === 'hidden' || e.disabled || e.tabIndex < 0 || !e.checkVisibility()) continue;
        if (e.type === 'radio') {
            if (seen.has(e.name)) continue;
            seen.add(e.name);
        }
        keys.push(e.type === 'radio' ? e.name : (e.name || e.id || e.tagName));
    }
    return keys;
}"""


def keyboard_fill(page, form: str, values: dict, *, stop_at: str) -> list[str]:
    """Tab from the top of the page into and through `form`, typing `values` as each field
    gets focus (True: Space for a checkbox; a radio group: the arrow keys to that value),
    until `stop_at` has focus. Returns the fields in the order they got focus."""
    order, not_visible = [], []
    # A scan page puts the focus in its field at once (autofocus): that field comes first.
    autofocus = page.evaluate(FOCUSED, form)["inForm"]
    for step in range(200):
        if not (autofocus and step == 0):
            page.keyboard.press("Tab")
        focus = page.evaluate(FOCUSED, form)
        if not focus["inForm"]:
            if order:
                break
            continue
        name = focus["name"] or focus["key"]
        if order and order[-1] == name:
            # A date field has several stops (day, month, year, its calendar button, which
            # shows the browser's own focus ring): one field, seen at its first stop.
            continue
        order.append(name)
        if not focus["outline"]:
            not_visible.append(focus["key"])
        wanted = values.get(focus["name"])
        if focus["type"] == "radio" and wanted is not None:
            for _ in range(20):
                if page.evaluate("document.activeElement.value") == wanted:
                    break
                page.keyboard.press("ArrowDown")
            page.keyboard.press("Space")
        elif focus["type"] == "date" and wanted is not None:
            page.keyboard.type(wanted.strftime("%d%m%Y"))  # day, month, year as a Dutch page asks
        elif focus["type"] == "checkbox" and wanted:
            page.keyboard.press("Space")
        elif wanted is not None:
            page.keyboard.press("ControlOrMeta+a")
            page.keyboard.type(str(wanted))
        if name == stop_at:
            break
    assert not not_visible, f"no visible focus on {not_visible}"
    return order


def sent(page, url: str):
    """Wait for the page after the form; if the form came back, say why."""
    try:
        page.wait_for_url(re.compile(url), timeout=10_000)
    except PlaywrightTimeout:
        errors = page.locator(".has-error").all_inner_texts()
        raise AssertionError(f"the form came back: {errors}") from None


def shown_fields(page, form: str) -> list[str]:
    return page.evaluate(SHOWN, form)


def test_the_donation_form_by_keyboard(browser, live_server, donor):
    context = browser.new_context(base_url=live_server.url, locale="nl-NL")
    context.set_default_timeout(15_000)
    log_in_with_session(context, live_server, donor)
    page = context.new_page()
    page.goto("/donaties/nieuw/")
    form = "main form"
    expected = shown_fields(page, form)
    order = keyboard_fill(
        page,
        form,
        {
            "laptops": "12",
            "chargers": "12",
            "contact_name": "Alice de Vries",
            "consent_transfer": True,
        },
        stop_at=expected[-1],
    )
    # Every field, in the order shown, up to the send button.
    assert order == expected
    assert "laptops" in order and "contact_name" in order

    page.get_by_label("Aantal laptops").focus()
    page.keyboard.press("Enter")
    sent(page, r"/donaties/\d+/$")
    donation = Donation.objects.get()
    assert donation.laptops == 12 and donation.contact_name == "Alice de Vries"
    context.close()


def test_the_help_request_form_by_keyboard(browser, live_server, school_board):
    context = browser.new_context(base_url=live_server.url, locale="nl-NL")
    context.set_default_timeout(15_000)
    log_in_with_session(context, live_server, school_board)
    page = context.new_page()
    page.goto("/hulpaanvragen/nieuw/")
    page.wait_for_load_state("load")
    form = "main form"
    values = {
        "target_group": "primary_pupils",
        "no_home_schooling": True,
        "laptops": "30",
        "people_reached": "40",
        "urgency": "high",
        # Day and month alike: the same keys whether the browser asks day or month first.
        "need_by": datetime.date(timezone.localdate().year + 1, 1, 1),
        "motivation": "Veel leerlingen hebben thuis geen laptop.",
        "contact_name": "Carla Jansen",
        "declaration": True,
    }
    order = keyboard_fill(page, form, values, stop_at="declaration")
    # Choosing a pupils' group shows one more question: the order is read after the choices.
    expected = shown_fields(page, form)
    assert order == expected[: len(order)]
    assert {"target_group", "laptops", "urgency", "contact_name", "declaration"} <= set(order)

    page.get_by_label("Naam contactpersoon").focus()
    page.keyboard.press("Enter")
    sent(page, r"/hulpaanvragen/\d+/controleren/")
    request = HelpRequest.objects.get()
    assert request.laptops == 30 and request.urgency == "high"
    assert request.need_by == values["need_by"]
    context.close()


def test_the_scan_pages_by_keyboard(browser, live_server, refurbisher, refurbisher_org):
    donation = ProcessedDonationFactory(refurbisher=refurbisher_org)
    request = ApprovedRequestFactory(laptops=1)
    allocation = approved_allocations(request, 1, donation=donation)[0]
    tag = format_asset_tag(allocation.device.asset_tag)

    context = browser.new_context(base_url=live_server.url, locale="nl-NL")
    context.set_default_timeout(15_000)
    log_in_with_session(context, live_server, refurbisher)
    page = context.new_page()

    # Intake: the scan field has the focus at once; Enter scans.
    arriving = DonationFactory(status=Donation.Status.RECEIVED, refurbisher=refurbisher_org)
    page.goto(f"/opknappen/donatie/{arriving.pk}/inname/")
    page.wait_for_load_state("load")
    order = keyboard_fill(page, "#scan-form", {"serial": "5CG0KEYB01"}, stop_at="serial")
    assert order == ["serial"]
    page.keyboard.press("Enter")
    page.locator("#scan-status").filter(has_text="5CG0KEYB01").wait_for()
    assert page.evaluate("document.activeElement.name") == "serial"

    # Shipping: the device code field is reached by Tab, Enter scans, focus stays for the next.
    page.goto("/verzenden/")
    page.get_by_role("button", name="Zending maken").focus()
    page.keyboard.press("Enter")
    page.get_by_text("0 apparaten in deze zending").wait_for()
    page.wait_for_load_state("load")
    order = keyboard_fill(page, "#scan-form", {"tag": tag}, stop_at="tag")
    assert order[-1] == "tag"
    page.keyboard.press("Enter")
    page.locator("#scan-status").filter(has_text=tag).wait_for()
    page.get_by_text("1 apparaat in deze zending").wait_for()
    assert page.evaluate("document.activeElement.name") == "tag"
    context.close()
