"""Error pages in the site's layout, Dutch first with English beside it, and a way back."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from config.resilience import server_error


@pytest.mark.django_db
def test_a_wrong_role_url_shows_the_sites_403_page(client, school_board):
    client.force_login(school_board)
    response = client.get(reverse("donations:create"))
    page = response.content.decode()
    assert response.status_code == 403
    assert "U heeft geen toegang tot deze pagina" in page
    assert 'lang="en"' in page and "You do not have access" in page
    assert 'class="site-header"' in page  # the site's layout, not a bare "403 Forbidden"
    assert f'href="{reverse("dashboard")}"' in page


@pytest.mark.django_db
def test_an_unknown_address_shows_the_sites_404_page(client):
    response = client.get("/bestaat-niet/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "Deze pagina bestaat niet" in page and "This page does not exist" in page
    assert 'class="site-header"' in page and f'href="{reverse("account_login")}"' in page


def test_the_500_page_renders_without_a_request_or_database():
    page = render_to_string("500.html")  # Django's own handler passes an empty context
    assert "Er ging iets mis" in page and "Something went wrong" in page
    assert 'href="/"' in page and "site.css" in page


def test_the_500_handler_serves_the_sites_page():
    try:
        raise ValueError("bug")
    except ValueError:
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500 and "Er ging iets mis" in response.content.decode()


def test_the_400_page_speaks_both_languages(rf):
    from django.views.defaults import bad_request

    response = bad_request(rf.get("/"), exception=None)
    assert "De website begreep dit verzoek niet" in response.content.decode()
