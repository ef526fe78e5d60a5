"""Admin change lists that stay fast at a million rows: a constant, small number of queries,
no full-table COUNT(*) and no SELECT DISTINCT on page load, totals estimated or capped, and
codes found by an exact match."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from allemaal.admin_speed import FastChangeListMixin, unshown_phone_fields
from allemaal.models import Notification
from donations.admin import DeviceAdmin
from donations.models import Device, DeviceEvent
from donations.tests.factories import DeviceFactory, DonationFactory
from helprequests.tests.factories import ConnectivityAssignmentFactory, HelpRequestFactory
from refurbish.tests.factories import ErasureRecordFactory
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def _received_device():
    return DeviceFactory(donation=DonationFactory(status="received"))


def _event():
    return DeviceEvent.objects.create(device=DeviceFactory(), to_state="announced")


def _notification():
    return Notification.objects.create(
        to_email="someone@example.org", kind="donation_registered", subject="x", body_text="y"
    )


# changelist name -> (make one row, a filter of its list with fixed choices)
CHANGELISTS = {
    "donations_device": (DeviceFactory, {"state__exact": "announced"}),
    "donations_donation": (lambda: DonationFactory(status="scheduled"), {"status__exact": "x"}),
    "helprequests_helprequest": (HelpRequestFactory, {"status__exact": "draft"}),
    "helprequests_connectivityassignment": (
        ConnectivityAssignmentFactory,
        {"status__exact": "assigned"},
    ),
    "refurbish_devicetrail": (DeviceFactory, {"kind__exact": "laptop"}),
    "donations_deviceevent": (_event, {"to_state__exact": "announced"}),
    "refurbish_erasurerecord": (
        lambda: ErasureRecordFactory(device=_received_device()),
        {"result__exact": "passed"},
    ),
    "allemaal_organisation": (OrganisationFactory, {"kind__exact": "donor"}),
    "allemaal_notification": (_notification, {"status__exact": "pending"}),
}


@pytest.fixture
def admin_client(client, coordinator):
    client.force_login(coordinator)
    return client


def changelist_url(name: str) -> str:
    if name == "donations_deviceevent":
        # Registered by the donations or the refurbish admin, whichever came first.
        name = f"{DeviceEvent._meta.app_label}_deviceevent"
    return reverse(f"admin:{name}_changelist")


@pytest.mark.parametrize("name", CHANGELISTS)
def test_a_changelist_costs_five_queries_for_two_or_twenty_rows(
    admin_client, django_assert_num_queries, name
):
    make, _filters = CHANGELISTS[name]
    for _ in range(2):
        make()
    url = changelist_url(name)
    admin_client.get(url)  # fills the cached filter choices
    # session, user, the user's permissions, its groups' permissions, and the page with its
    # total in one query
    with django_assert_num_queries(5):
        response = admin_client.get(url)
    assert len(response.context["cl"].result_list) == 2
    for _ in range(18):
        make()
    with django_assert_num_queries(5):
        response = admin_client.get(url)
    rows = len(response.context["cl"].result_list)
    assert rows >= 20
    assert response.context["cl"].result_count == rows


def _unbounded_counts_or_distinct(queries) -> list[str]:
    """Captured SQL that counts a whole table (COUNT without WHERE and without a LIMIT that
    caps it) or selects DISTINCT."""
    bad = []
    for query in queries:
        sql = query["sql"].upper()
        if "DISTINCT" in sql:
            bad.append(sql)
        for match in re.finditer(r"COUNT\(\*\)", sql):
            counted = sql[match.end() :]
            if " WHERE " not in counted and " LIMIT " not in counted:
                bad.append(sql)
    return bad


@pytest.mark.postgres
@pytest.mark.parametrize("name", CHANGELISTS)
def test_no_full_table_count_or_distinct_on_page_load(admin_client, name):
    make, filters = CHANGELISTS[name]
    for _ in range(20):
        make()
    url = changelist_url(name)
    admin_client.get(url)
    for params in ({}, filters):
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url, params).status_code == 200
        assert not _unbounded_counts_or_distinct(captured.captured_queries), params


@pytest.mark.postgres
def test_an_analysed_table_shows_the_estimate_of_postgresql(admin_client, monkeypatch):
    DeviceFactory.create_batch(30)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Device._meta.db_table}")
    monkeypatch.setattr(DeviceAdmin, "count_cap", 10)
    monkeypatch.setattr(DeviceAdmin, "list_per_page", 5)
    response = admin_client.get(changelist_url("donations_device"))
    changelist = response.context["cl"]
    assert changelist.count_is_estimate and changelist.result_count == 30
    assert "ongeveer 30" in response.content.decode()


def test_a_filtered_total_is_counted_up_to_the_cap(admin_client, monkeypatch):
    DeviceFactory.create_batch(12)
    monkeypatch.setattr(DeviceAdmin, "count_cap", 8)
    monkeypatch.setattr(DeviceAdmin, "list_per_page", 5)
    url = changelist_url("donations_device")
    response = admin_client.get(url, {"state__exact": "announced"})
    changelist = response.context["cl"]
    assert changelist.count_is_capped and changelist.result_count == 8
    assert "meer dan 8" in response.content.decode()
    assert changelist.paginator.num_pages == 2
    # the last page is exact: its rows are all there are
    last = admin_client.get(url, {"state__exact": "announced", "p": "3"}).context["cl"]
    assert (last.result_count, len(last.result_list), last.count_is_capped) == (12, 2, False)


def test_devices_are_filtered_by_the_refurbisher_of_their_donation(admin_client):
    refurbisher = OrganisationFactory(kind="refurbisher")
    mine = DeviceFactory(donation=DonationFactory(status="received", refurbisher=refurbisher))
    DeviceFactory(donation=DonationFactory(status="received"))
    response = admin_client.get(
        changelist_url("donations_device"), {"donation__refurbisher__id__exact": refurbisher.pk}
    )
    assert [d.pk for d in response.context["cl"].result_list] == [mine.pk]


def test_a_small_table_is_counted_exactly(admin_client):
    DeviceFactory.create_batch(3)
    response = admin_client.get(changelist_url("donations_device"))
    changelist = response.context["cl"]
    assert changelist.result_count == 3
    assert not (changelist.count_is_estimate or changelist.count_is_capped)


def test_a_page_beyond_the_end_goes_back_to_the_list(admin_client):
    DeviceFactory.create_batch(2)
    response = admin_client.get(changelist_url("donations_device"), {"p": "9"})
    assert response.status_code == 302 and response.url.endswith("?e=1")


@pytest.mark.parametrize("typed", ["sn-0001 ", " Sn-0001", "SN-0001"])
def test_a_serial_number_is_found_however_it_is_typed(admin_client, typed):
    device = DeviceFactory(serial_number="SN-0001")
    DeviceFactory(serial_number="SN-0002")
    response = admin_client.get(changelist_url("donations_device"), {"q": typed})
    assert [d.pk for d in response.context["cl"].result_list] == [device.pk]


@pytest.mark.parametrize("name", ["donations_device", "refurbish_devicetrail"])
def test_an_asset_tag_is_found_as_printed_on_the_label(admin_client, name):
    device = DeviceFactory(asset_tag="7KQ3M9TXR4")
    DeviceFactory(asset_tag="8KQ3M9TXR4")
    response = admin_client.get(changelist_url(name), {"q": "7kq3m-9txr4"})
    assert [d.pk for d in response.context["cl"].result_list] == [device.pk]


def test_a_search_uses_no_pattern_match_over_the_devices(admin_client):
    DeviceFactory.create_batch(2)
    with CaptureQueriesContext(connection) as captured:
        admin_client.get(changelist_url("donations_device"), {"q": "SN00000001"})
    sql = " ".join(q["sql"].upper() for q in captured.captured_queries)
    assert " LIKE " not in sql and "UPPER(" not in sql


def test_an_email_in_the_outbox_is_found_by_its_exact_address(admin_client):
    mine = _notification()
    Notification.objects.create(
        to_email="someone@example.org.uk", kind="x", subject="x", body_text="y"
    )
    url = changelist_url("allemaal_notification")
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(url, {"q": " Someone@Example.org"})
    assert [n.pk for n in response.context["cl"].result_list] == [mine.pk]
    sql = " ".join(q["sql"].upper() for q in captured.captured_queries)
    assert " LIKE " not in sql and "UPPER(" not in sql


def test_custody_events_have_a_date_filter_with_fixed_choices(admin_client):
    _event()
    response = admin_client.get(changelist_url("donations_deviceevent"))
    assert response.context["cl"].date_hierarchy is None
    today = timezone.localdate().isoformat()
    assert f"at__gte={today}" in response.content.decode()


def test_the_tuned_admins_use_the_mixin():
    from django.contrib import admin

    for name in CHANGELISTS:
        app_label, model_name = name.split("_", 1)
        if name == "donations_deviceevent":
            app_label = DeviceEvent._meta.app_label
        model = next(
            m
            for m in admin.site._registry
            if (m._meta.app_label, m._meta.model_name) == (app_label, model_name)
        )
        model_admin = admin.site._registry[model]
        assert isinstance(model_admin, FastChangeListMixin), name
        assert model_admin.show_full_result_count is False


def test_the_row_checkbox_is_the_html_django_renders_for_it():
    from django.contrib import admin

    device = DeviceFactory(serial_number='SN<&"1')  # escaped alike
    fast = DeviceAdmin(Device, admin.site).action_checkbox(device)
    django = admin.ModelAdmin.action_checkbox(DeviceAdmin(Device, admin.site), device)
    assert fast == django
    assert f'value="{device.pk}"' in fast


def test_a_changelist_reads_no_phone_number_it_does_not_show(admin_client):
    # Each phone number read is parsed as it loads; a list that shows none reads none, neither
    # its rows' (the donation's contact) nor those of the rows read with them (the donor's).
    for _ in range(3):
        DonationFactory(status="scheduled")
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(reverse("admin:donations_donation_changelist"))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 3
    page = [q["sql"] for q in captured.captured_queries if 'FROM "donations_donation"' in q["sql"]]
    assert page
    assert not [sql for sql in page if "phone" in sql]


def test_a_phone_number_the_list_shows_is_read():
    from donations.models import Donation

    queryset = Donation.objects.select_related("donor", "refurbisher")
    assert unshown_phone_fields(queryset, ["contact_phone"]) == [
        "donor__phone",
        "refurbisher__phone",
    ]
    assert unshown_phone_fields(queryset, []) == [
        "contact_phone",
        "donor__phone",
        "refurbisher__phone",
    ]
    assert unshown_phone_fields(Donation.objects.all(), []) == ["contact_phone"]


def test_a_row_link_keeps_the_lists_filters_as_django_writes_them(admin_client, monkeypatch):
    from django.contrib.admin.templatetags import admin_urls
    from django.contrib.admin.templatetags.admin_urls import add_preserved_filters

    donation, *_others = (DonationFactory(status="scheduled") for _ in range(3))
    url = reverse("admin:donations_donation_changelist")
    change = reverse("admin:donations_donation_change", args=[donation.pk])
    resolved = []
    resolve = admin_urls.resolve
    monkeypatch.setattr(admin_urls, "resolve", lambda path: resolved.append(path) or resolve(path))
    response = admin_client.get(url, {"status__exact": "scheduled"})
    # The rows' links are written without resolving each one (only the add link's is).
    assert not [path for path in resolved if path.endswith("/change/")]
    cl = response.context["cl"]
    # What Django's own change list would link to, from the same filters.
    django_link = add_preserved_filters(
        {"preserved_filters": cl.row_filters, "opts": cl.opts}, change
    )
    assert django_link == change + "?_changelist_filters=status__exact%3Dscheduled"
    assert f'href="{django_link}"' in response.content.decode()
    # Without filters, the plain link.
    response = admin_client.get(url)
    assert f'href="{change}"' in response.content.decode()
