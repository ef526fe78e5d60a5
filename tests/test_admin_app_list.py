"""The admin's list of apps and models (every page's side bar, the start page's list) is built
once a minute per staff member, permissions and language (allemaal.admin_speed), and never
shows one person's list to another or an old list after their permissions change."""

from unittest import mock

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import staff_user

pytestmark = pytest.mark.django_db


def _side_bar(client, url) -> dict[str, list[str]]:
    response = client.get(url)
    assert response.status_code == 200
    return {
        app["app_label"]: [model["object_name"] for model in app["models"]]
        for app in response.context["available_apps"]
    }


def test_built_once_for_a_staff_members_pages(client, coordinator):
    client.force_login(coordinator)
    pages = [reverse("admin:index"), reverse("admin:donations_device_changelist")]
    with mock.patch.object(
        admin.site, "_build_app_dict", wraps=admin.site._build_app_dict
    ) as build:
        for url in pages * 2:
            assert client.get(url).status_code == 200
    # Without the memo: twice on each start page, once on each change list (6 in all).
    assert build.call_count == 1


def test_each_person_their_own_list(client, coordinator):
    viewer = staff_user("viewers", email="viewer@example.org")
    viewer.user_permissions.add(Permission.objects.get(codename="view_device"))
    client.force_login(coordinator)
    full = _side_bar(client, reverse("admin:index"))
    client.force_login(viewer)
    own = _side_bar(client, reverse("admin:index"))
    assert own == {"donations": ["Device"]}
    assert len(full) > 1


def test_a_permission_granted_or_taken_shows_at_once(client):
    viewer = staff_user("viewers", email="viewer@example.org")
    view_device = Permission.objects.get(codename="view_device")
    view_donation = Permission.objects.get(codename="view_donation")
    viewer.user_permissions.add(view_device)
    client.force_login(viewer)
    url = reverse("admin:donations_device_changelist")
    assert _side_bar(client, url) == {"donations": ["Device"]}
    viewer.user_permissions.add(view_donation)
    assert sorted(_side_bar(client, url)["donations"]) == ["Device", "Donation"]
    viewer.user_permissions.remove(view_donation)
    assert _side_bar(client, url) == {"donations": ["Device"]}


def test_in_the_language_of_the_page(client, coordinator):
    client.force_login(coordinator)
    url = reverse("admin:index")

    def names(language: str) -> set[str]:
        response = client.get(url, headers={"accept-language": language})
        return {
            model["name"] for app in response.context["available_apps"] for model in app["models"]
        }

    dutch, english = names("nl"), names("en")
    assert dutch != english
    assert names("nl") == dutch


def test_expires_after_a_minute(client, coordinator):
    client.force_login(coordinator)
    url = reverse("admin:donations_device_changelist")
    clock = [0.0]
    with (
        mock.patch.object(admin.site, "_build_app_dict", wraps=admin.site._build_app_dict) as build,
        mock.patch("allemaal.admin_speed.monotonic", lambda: clock[0]),
    ):
        for now in (1000.0, 1030.0, 1061.0):
            clock[0] = now
            assert client.get(url).status_code == 200
    # Built at 1000, kept at 1030, built again at 1061.
    assert build.call_count == 2


def _nav(page: str) -> str:
    start = page.index('<nav class="sticky" id="nav-sidebar"')
    return page[start : page.index("</nav>", start)]


def test_the_side_bar_is_djangos_own_for_each_page(client, coordinator):
    """Written once per place in the list, the side bar is still the HTML Django's own
    admin/nav_sidebar.html writes for that page: its app and model marked current."""
    from pathlib import Path

    import django
    from django.template import engines

    own = Path(django.__file__).parent / "contrib/admin/templates/admin/nav_sidebar.html"
    djangos = engines["django"].from_string(own.read_text())
    client.force_login(coordinator)
    pages = [
        reverse("admin:donations_device_changelist"),
        reverse("admin:donations_donation_changelist"),
        reverse("admin:donations_device_changelist") + "?state__exact=received",
        reverse("admin:helprequests_helprequest_changelist"),
    ]
    sides = []
    for url in pages * 2:
        response = client.get(url)
        written = _nav(response.content.decode())
        expected = djangos.render(
            {"available_apps": response.context["available_apps"]}, request=response.wsgi_request
        )
        assert written == _nav(expected)
        sides.append(written)
    assert 'class="model-device current-model"' in sides[0]
    assert 'class="model-donation current-model"' in sides[1]
    assert sides[0] == sides[2] and sides[0] != sides[1] and sides[:4] == sides[4:]


def test_the_side_bar_is_written_once_per_place(client, coordinator):
    client.force_login(coordinator)
    devices = reverse("admin:donations_device_changelist")
    donations = reverse("admin:donations_donation_changelist")
    written = []
    for url in (devices, devices + "?state__exact=received", donations, devices, donations):
        response = client.get(url)
        assert response.status_code == 200
        written.append("admin/app_list.html" in [t.name for t in response.templates])
    # Without the memo: on every page.
    assert written == [True, False, True, False, False]
