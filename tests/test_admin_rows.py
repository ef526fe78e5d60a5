"""The rows of the tuned change lists (allemaal.admin_speed.fast_results) are the HTML Django's
own `results` writes for the same change list: every column kind, escaping, links with and
without the list's filters, empty values."""

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags import admin_list
from django.urls import reverse

from allemaal.admin_speed import FastChangeList, fast_results
from allemaal.tests.test_admin_speed import CHANGELISTS, changelist_url
from distribution.tests.factories import (
    ApprovedRequestFactory,
    ProposalFactory,
    approved_allocations,
    packed_shipment,
)
from donations.tests.factories import DeviceFactory, DonationFactory

pytestmark = pytest.mark.django_db


def _shipment(coordinator):
    return packed_shipment(approved_allocations(ApprovedRequestFactory(), 2), by=coordinator)


EXTRA = {
    "distribution_shipment": (_shipment, {"status__exact": "prepared"}),
    "distribution_allocation": (ProposalFactory, {"status": "proposed"}),
}


def _rows(cl) -> tuple[list[str], list[str]]:
    django = ["".join(row) for row in admin_list.results(cl)]
    fast = ["".join(row) for row in fast_results(cl)]
    return django, fast


@pytest.mark.parametrize("name", [*CHANGELISTS, *EXTRA])
def test_the_rows_are_the_html_django_writes(client, coordinator, name):
    make, filters = {**CHANGELISTS, **EXTRA}[name]
    for _ in range(2):
        make(coordinator) if name == "distribution_shipment" else make()
    client.force_login(coordinator)
    url = (
        reverse(f"admin:{name}_changelist")
        if name.startswith("distribution")
        else changelist_url(name)
    )
    for query in ({}, filters):
        response = client.get(url, query)
        assert response.status_code == 200
        cl = response.context["cl"]
        assert isinstance(cl, FastChangeList)
        django, fast = _rows(cl)
        assert fast == django
        page = response.content.decode()
        assert len(django) >= (0 if query else 2)
        for row in fast:
            assert f"<tr>{row}</tr>" in page


def test_escaping_empty_values_and_filtered_links_are_written_as_django_writes_them(
    client, coordinator
):
    donation = DonationFactory(status="received", contact_name='Jan <b>"&"</b>')
    device = DeviceFactory(donation=donation, serial_number='SN<&"1', make="", model="   ")
    client.force_login(coordinator)
    url = changelist_url("donations_device")
    for query in ({}, {"state__exact": device.state}):
        response = client.get(url, query)
        django, fast = _rows(response.context["cl"])
        assert fast == django and len(fast) == 1
        assert "SN&lt;&amp;&quot;1" in fast[0]
        assert '<td class="field-make">-</td>' in fast[0]  # blank text: the empty value
        assert ("?_changelist_filters=state__exact" in fast[0]) == bool(query)
    response = client.get(changelist_url("donations_donation"))
    django, fast = _rows(response.context["cl"])
    assert fast == django and len(fast) == 1


def test_a_list_with_editable_rows_keeps_djangos_own_rows(client, coordinator):
    from helprequests.models import IntakeSwitch

    assert admin.site._registry[IntakeSwitch].list_editable
    IntakeSwitch.objects.get_or_create(target_group="education", device_type="laptop")
    client.force_login(coordinator)
    page = client.get(reverse("admin:helprequests_intakeswitch_changelist")).content.decode()
    assert 'name="form-0-is_open"' in page
