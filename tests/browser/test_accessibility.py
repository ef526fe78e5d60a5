"""axe-core on every page each actor reaches: public, each organisation kind, the helpdesk and the
coordinator (the admin and /coordinatie/ included), WCAG 2.1 A and AA.

The pages are found from the URL configuration: every pattern without arguments is visited by
every actor; a pattern with arguments needs an entry in SAMPLES (a test fails for a new one
without), which names candidate objects; the first that answers 200 with HTML is checked. axe
itself comes from the axe-playwright-python package (axe.min.js on local disk), never a CDN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db.models import Q
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from allemaal.models import Membership, Organisation, User
from distribution import instructions
from distribution.models import Shipment
from donations.models import Device, Donation, ManifestImport
from helprequests.models import ConnectivityAssignment, HelpRequest, ProvisionUpload
from refurbish.models import ErasureCertificate, ErasureLogImport, ErasureRecord, StationToken
from tests.browser.helpers import axe_violations, log_in_with_session, scroll_width, too_wide

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MOBILE = 375  # px: the site's pages are checked at a phone's width (the admin at 1280 px)
# The device page, the shipment scan page, the donor's donation page, the dashboard.
MOBILE_PAGES = [r"/opknappen/apparaat/\d+/", r"/verzenden/\d+/", r"/donaties/\d+/", "/coordinatie/"]
# Prefixes that are not pages of ours, or not pages at all.
SKIP_PREFIXES = ("admin/", "accounts/", "i18n/", "healthz", "opknappen/api/")
# Pages of allauth that the actors reach (the rest of accounts/ is behind these).
ACCOUNT_PAGES = ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]
CANDIDATES = 15


def _ids(model, org, *owner_fields, **filters):
    queryset = model.objects.filter(**filters).order_by("-pk")
    if org is not None and owner_fields:
        mine = Q()
        for field in owner_fields:
            mine |= Q(**{field: org})
        queryset = queryset.filter(mine).distinct()
    return list(queryset.values_list("pk", flat=True)[:CANDIDATES])


def _donations(org):
    return _ids(Donation, org, "donor", "refurbisher")


def _devices(org):
    return _ids(
        Device,
        org,
        "donation__donor",
        "donation__refurbisher",
        "allocations__request__organisation",
    )


def _requests(org):
    return _ids(HelpRequest, org, "organisation", "connectivity_assignments__provider")


# URL name -> candidate keyword arguments for the actor's organisation (None: staff).
SAMPLES = {
    "invitation_accept": None,  # needs a fresh token from a mail; covered by its own tests
    "invitation_withdraw": None,  # a form's target (POST)
    "donations:found_later": None,  # a form's target (POST)
    "refurbish:intake_undo": None,  # a form's target (POST)
    "coordination:request_close_rest": lambda org: [{"pk": pk} for pk in _requests(org)],
    "refurbish:intake_complete": lambda org: [{"donation_id": pk} for pk in _donations(org)],
    "helprequests:telecom_upload_job": lambda org: [
        {"job_id": pk} for pk in _ids(ProvisionUpload, org, "provider")
    ],
    "refurbish:log_job": lambda org: [
        {"job_id": pk} for pk in _ids(ErasureLogImport, org, "organisation")
    ],
    "certificate_verify": lambda org: [
        {"code": c} for c in ErasureCertificate.objects.values_list("code", flat=True)[:3]
    ],
    "coordination:export": None,  # downloads
    "coordination:donor_impact": lambda org: [
        {"pk": pk} for pk in _ids(Organisation, None, kind=Organisation.Kind.DONOR)[:3]
    ],
    "coordination:request_detail": lambda org: [{"pk": pk} for pk in _requests(org)],
    "donations:detail": lambda org: [{"pk": pk} for pk in _donations(org)],
    "donations:manifest_upload": lambda org: [{"pk": pk} for pk in _donations(org)],
    "donations:manifest_job": lambda org: [
        {"pk": donation, "job_id": job}
        for job, donation in ManifestImport.objects.order_by("-pk").values_list("pk", "donation")[
            :CANDIDATES
        ]
    ],
    "donations:devices_csv": None,  # a download
    "donations:cancel": lambda org: [{"pk": pk} for pk in _donations(org)],
    "donations:pickup_collected": lambda org: [{"pk": pk} for pk in _donations(org)],
    "donations:pickup_received": lambda org: [{"pk": pk} for pk in _donations(org)],
    "helprequests:edit": lambda org: [{"pk": pk} for pk in _requests(org)],
    "helprequests:review": lambda org: [{"pk": pk} for pk in _requests(org)],
    "helprequests:cancel": lambda org: [{"pk": pk} for pk in _requests(org)],
    "helprequests:telecom_detail": lambda org: [
        {"pk": pk} for pk in _ids(ConnectivityAssignment, org, "provider")
    ],
    "refurbish:donation": lambda org: [{"donation_id": pk} for pk in _donations(org)],
    "refurbish:intake": lambda org: [{"donation_id": pk} for pk in _donations(org)],
    "refurbish:device": lambda org: [{"device_id": pk} for pk in _devices(org)],
    "refurbish:device_erasure": lambda org: [{"device_id": pk} for pk in _devices(org)],
    "refurbish:device_log": lambda org: [{"device_id": pk} for pk in _devices(org)],
    "refurbish:device_inspection": lambda org: [{"device_id": pk} for pk in _devices(org)],
    "refurbish:device_recycle": lambda org: [{"device_id": pk} for pk in _devices(org)],
    "refurbish:erasure_evidence": lambda org: [
        {"record_id": pk} for pk in _ids(ErasureRecord, org, "organisation")
    ],
    "refurbish:station_token_revoke": lambda org: [
        {"token_id": pk} for pk in _ids(StationToken, org, "organisation")
    ],
    "refurbish:certificate": lambda org: [{"donation_id": pk} for pk in _donations(org)],
    "refurbish:certificate_verify": None,  # the same view as certificate_verify at the root
    "distribution:outgoing": lambda org: [
        {"pk": pk} for pk in _ids(Shipment, org, "refurbisher", "organisation")
    ],
    "distribution:outgoing_scan": lambda org: [
        {"pk": pk} for pk in _ids(Shipment, org, "refurbisher", "organisation")
    ],
    "distribution:outgoing_remove": None,  # a form's target (POST)
    "distribution:outgoing_ship": lambda org: [
        {"pk": pk} for pk in _ids(Shipment, org, "refurbisher")
    ],
    "distribution:outgoing_cancel": lambda org: [
        {"pk": pk} for pk in _ids(Shipment, org, "refurbisher")
    ],
    "distribution:shipment": lambda org: [{"pk": pk} for pk in _ids(Shipment, org, "organisation")],
    "distribution:shipment_confirm": lambda org: [
        {"pk": pk} for pk in _ids(Shipment, org, "organisation")
    ],
    "distribution:shipment_item_found": None,  # a form's target (POST)
    "distribution:packing_list": None,  # PDF
    "distribution:instruction_sheets": None,  # PDF
    "distribution:handout": lambda org: [{"request_id": pk} for pk in _requests(org)],
    "distribution:helpdesk_device": lambda org: [{"device_id": pk} for pk in _devices(None)[:3]],
    "distribution:helpdesk_contact": None,  # a form's target (POST)
    "distribution:helpdesk_return": None,  # a form's target (POST)
    "distribution:helpdesk_resolve": None,  # a form's target (POST)
    "distribution:help_kind": lambda org: [{"kind": kind} for kind in instructions.HELP_KINDS],
}
# Patterns whose every sample is a page of its own (not just the first that answers).
EVERY_SAMPLE = {"distribution:help_kind"}


@dataclass
class Route:
    name: str  # namespaced URL name
    route: str  # the pattern as written, for messages
    has_args: bool


def site_routes() -> list[Route]:
    """Every named pattern of the site outside the admin and allauth."""
    found = []

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                ns = pattern.namespace
                walk(pattern.url_patterns, route, f"{namespace}{ns}:" if ns else namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                if route.startswith(SKIP_PREFIXES):
                    continue
                found.append(Route(namespace + pattern.name, route, "<" in route))

    walk(get_resolver().url_patterns, "", "")
    return found


def test_every_page_with_arguments_has_samples():
    """A new page with arguments must say how to reach it (or why not) in SAMPLES."""
    missing = [r.name for r in site_routes() if r.has_args and r.name not in SAMPLES]
    assert not missing, f"add to SAMPLES in {__file__}: {missing}"


def _html_ok(response) -> bool:
    return response.status_code == 200 and response["Content-Type"].startswith("text/html")


def pages_for(user: User | None) -> list[str]:
    """The HTML pages the actor reaches, found with the test client."""
    client = Client()
    org = None
    if user is not None:
        client.force_login(user)
        membership = Membership.objects.filter(user=user).select_related("organisation").first()
        org = membership.organisation if membership else None
    urls = []
    for route in site_routes():
        if not route.has_args:
            url = reverse(route.name)
            if _html_ok(client.get(url)):
                urls.append(url)
            continue
        sample = SAMPLES[route.name]
        if sample is None:
            continue
        for kwargs in sample(org):
            url = reverse(route.name, kwargs=kwargs)
            response = client.get(url)
            if _html_ok(response):
                urls.append(url)
                if route.name not in EVERY_SAMPLE:
                    break
            elif response.status_code in (302, 403, 405):
                break  # not this actor's page (or not a page): no use trying other objects
    return urls


# The object whose change page is checked, where the newest says too little.
ADMIN_OBJECTS = {
    Organisation: Organisation.objects.filter(memberships__isnull=False).order_by("-pk"),
}


def admin_pages(user: User) -> list[str]:
    """The admin home, and each model's list, add and change page the user may see."""
    client = Client()
    client.force_login(user)
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        opts = model._meta
        base = f"admin:{opts.app_label}_{opts.model_name}"
        candidates = [reverse(f"{base}_changelist"), reverse(f"{base}_add")]
        obj = ADMIN_OBJECTS.get(model, model._default_manager.order_by("-pk")).first()
        if obj is not None:
            candidates.append(reverse(f"{base}_change", args=[obj.pk]))
        urls += [url for url in candidates if _html_ok(client.get(url))]
    return urls


def check_pages(browser, live_server, user, urls) -> dict[str, list[str]]:
    """axe on each page; the site's pages at 375 px, where nothing may scroll sideways."""
    # The site's Content-Security-Policy forbids inline scripts: axe is injected past it.
    context = browser.new_context(base_url=live_server.url, locale="nl-NL", bypass_csp=True)
    context.set_default_timeout(15_000)
    if user is not None:
        log_in_with_session(context, live_server, user)
    page = context.new_page()
    found = {}
    for url in urls:
        mobile = not url.startswith("/admin/")
        page.set_viewport_size({"width": MOBILE if mobile else 1280, "height": 800})
        page.goto(url)
        lines = axe_violations(page)
        if mobile and (width := scroll_width(page)) > MOBILE:
            lines.append(f"scroll-width: {width} px wide at {MOBILE} px, scrolls sideways")
            lines += [f"    too wide: {e}" for e in too_wide(page, MOBILE)]
        if lines:
            found[url] = lines
    context.close()
    return found


def report(found: dict[str, dict[str, list[str]]]) -> str:
    out = []
    for actor, pages in found.items():
        for url, lines in pages.items():
            out.append(f"{actor} {url}")
            out += [f"    {line}" for line in lines]
    return "\n".join(out)


@pytest.fixture
def demo():
    """The demo data of `make run`: every organisation kind, every state, the history."""
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115, PTH123
    return {user.email.split("@")[0]: user for user in User.objects.all()}


# One member of each organisation kind, and a requester still awaiting verification.
ORGANISATION_ACTORS = ["donor", "school-board", "refurbisher", "telecom", "pending"]


@pytest.fixture
def short_changelists(monkeypatch):
    """Ten rows show a changelist's markup as well as a hundred, and axe is much quicker."""
    for model_admin in admin.site._registry.values():
        monkeypatch.setattr(model_admin, "list_per_page", 10)


def test_axe_finds_nothing_on_any_page_of_any_actor(browser, live_server, demo, short_changelists):
    """Each actor's pages; a page seen by an earlier actor is not checked again (the public
    pages are checked anonymously and once logged in, by the first actor)."""
    actors = [("anonymous", None)] + [(a, demo[a]) for a in ORGANISATION_ACTORS]
    actors += [("helpdesk", demo["helpdesk"]), ("coordinator", demo["coordinator"])]
    found, seen, public = {}, set(), set()
    for actor, user in actors:
        urls = pages_for(user)
        if user is None:
            urls = list(dict.fromkeys(urls + ACCOUNT_PAGES))
            public = set(urls)
        if actor == "coordinator":
            urls += admin_pages(user)
        again = public if actor == "donor" else set()
        fresh = [u for u in urls if u not in seen or u in again]
        seen.update(fresh)
        found[actor] = check_pages(browser, live_server, user, fresh)
    assert len(seen) > 80
    # The pages that scrolled sideways on a phone are among those checked at 375 px.
    for must in MOBILE_PAGES:
        assert any(re.fullmatch(must, url) for url in seen), must
    found = {actor: pages for actor, pages in found.items() if pages}
    assert not found, "axe (WCAG 2.1 A/AA) found:\n" + report(found)
