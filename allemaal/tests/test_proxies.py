"""Behind TRUSTED_PROXY_COUNT proxies the per-IP log-in limit counts each client apart, and a
forged X-Forwarded-For neither spreads one client over many addresses nor blames another."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from allemaal.clientip import client_ip
from tests.factories import PASSWORD

PROXY = "10.0.0.2"
ATTACKER = "203.0.113.5"
NEIGHBOUR = "198.51.100.7"


def _request(xff=None, remote=PROXY):
    headers = {"HTTP_X_FORWARDED_FOR": xff} if xff is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


@pytest.mark.parametrize(
    ("count", "xff", "expected"),
    [
        (0, "1.2.3.4", PROXY),  # no proxy configured: the header is the client's own words
        (1, ATTACKER, ATTACKER),
        (1, f"1.2.3.4, {ATTACKER}", ATTACKER),  # the forged left part is ignored
        (2, f"1.2.3.4, {ATTACKER}, 10.0.0.9", ATTACKER),
        (2, ATTACKER, PROXY),  # fewer hops than proxies: nothing in it is trusted
        (1, None, PROXY),
    ],
)
def test_the_client_is_the_nth_address_from_the_right(settings, count, xff, expected):
    settings.TRUSTED_PROXY_COUNT = count
    assert client_ip(_request(xff)) == expected


def _fail_login(client, n, xff_for):
    url = reverse("account_login")
    for i in range(n):
        # A different unknown address each time: only the per-IP limit (10 a minute) applies.
        client.post(
            url,
            {"login": f"onbekend{i}@example.org", "password": "fout-wachtwoord"},
            HTTP_X_FORWARDED_FOR=xff_for(i),
            REMOTE_ADDR=PROXY,
        )


def _log_in(client, user, xff):
    return client.post(
        reverse("account_login"),
        {"login": user.email, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR=xff,
        REMOTE_ADDR=PROXY,
    )


def test_one_clients_failures_do_not_lock_out_the_others_behind_the_proxy(settings, donor):
    settings.TRUSTED_PROXY_COUNT = 1
    _fail_login(Client(), 10, lambda i: ATTACKER)
    assert _log_in(Client(), donor, NEIGHBOUR).status_code == 302


def test_a_forged_forwarded_for_does_not_reset_the_limit(settings, donor, other_donor):
    settings.TRUSTED_PROXY_COUNT = 1
    # Each try claims another address; the proxy appends the real one on the right.
    _fail_login(Client(), 10, lambda i: f"192.0.2.{i}, {ATTACKER}")
    response = _log_in(Client(), donor, f"192.0.2.99, {ATTACKER}")
    assert response.status_code == 200
    assert "Te veel" in response.content.decode()
    # ... and the address it claimed is not locked out in its place
    assert _log_in(Client(), other_donor, "192.0.2.99").status_code == 302


def test_without_a_proxy_setting_the_header_is_ignored(settings, donor):
    settings.TRUSTED_PROXY_COUNT = 0
    _fail_login(Client(), 10, lambda i: f"192.0.2.{i}")
    response = _log_in(Client(), donor, NEIGHBOUR)
    assert response.status_code == 200  # everyone is the proxy's address here
