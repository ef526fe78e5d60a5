"""The role matrix (config/role_matrix.py) holds: every URL, admin model and admin action is in
it (deny by default), and what it claims is what each role gets."""

import re

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import RequestFactory
from django.urls import URLResolver, get_resolver, reverse
from django.utils import translation

from allemaal.models import Organisation
from config import role_matrix as matrix
from tests.factories import OrganisationFactory, UserFactory, member_of, staff_user

ADMIN_MODEL_URL = re.compile(r"^admin:(\w+?)_(\w+)_(changelist|add|change|delete|history)$")


def walk(resolver, namespace=()):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + ((pattern.namespace,) if pattern.namespace else ())
            yield from walk(pattern, inner)
        else:
            yield (":".join((*namespace, pattern.name)) if pattern.name else None), pattern


def admin_models():
    return {model._meta.label: (model, ma) for model, ma in admin.site._registry.items()}


def test_every_url_name_is_in_the_matrix():
    models = {(m._meta.app_label, m._meta.model_name) for m, _ in admin_models().values()}
    missing, names = [], set()
    for name, pattern in walk(get_resolver()):
        if name is None:
            # Only the admin's own redirects: an object's old URL and its catch-all.
            assert str(pattern.pattern).startswith(("<path:object_id>/", "(?P<url>.*)$")), pattern
            continue
        names.add(name)
        match = ADMIN_MODEL_URL.match(name)
        if name in matrix.SITE or (match and (match[1], match[2]) in models):
            continue
        missing.append(name)
    assert missing == [], f"URLs missing from config/role_matrix.py: {missing}"
    assert set(matrix.SITE) - names == set(), "the matrix names URLs that do not exist"


def test_every_admin_model_is_in_the_matrix():
    assert set(admin_models()) == set(matrix.ADMIN_MODELS)


def _request_as(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.fixture
def staff(db):
    superuser = staff_user("coordinators", email="root@example.org")
    superuser.is_superuser = True
    superuser.save(update_fields=["is_superuser"])
    return {
        matrix.HELPDESK: staff_user("helpdesk", email="helpdesk@example.org"),
        matrix.COORDINATOR: staff_user("coordinators", email="coordinator@example.org"),
        matrix.SUPERUSER: superuser,
    }


def test_every_admin_action_is_in_the_matrix(staff):
    request = _request_as(staff[matrix.SUPERUSER])
    actions = {
        f"{label}.{name}"
        for label, (_, ma) in admin_models().items()
        for name in ma.get_actions(request)
    }
    assert actions - set(matrix.ADMIN_ACTIONS) == set(), "actions missing from the matrix"
    assert set(matrix.ADMIN_ACTIONS) - actions == set(), "the matrix names unknown actions"


@pytest.mark.parametrize("role", matrix.STAFF_ROLES)
def test_admin_rights_and_actions_are_those_of_the_matrix(staff, role):
    request = _request_as(staff[role])
    wrong = []
    for label, (_, ma) in admin_models().items():
        for op, allowed in matrix.ADMIN_MODELS[label].items():
            if getattr(ma, f"has_{op}_permission")(request) != (role in allowed):
                wrong.append(f"{label} {op}")
        offered = set(ma.get_actions(request)) if ma.has_view_permission(request) else set()
        for key, allowed in matrix.ADMIN_ACTIONS.items():
            model, name = key.rsplit(".", 1)
            if model == label and (name in offered) != (role in allowed):
                wrong.append(key)
    assert wrong == []


# --- Requests: the claims, tried -------------------------------------------------------------


@pytest.fixture
def actors(staff):
    users = {matrix.ANONYMOUS: None, matrix.USER: UserFactory(), **staff}
    for kind in matrix.KINDS:
        organisation = OrganisationFactory(
            kind=kind, sector="school_board" if kind == Organisation.Kind.REQUESTER else ""
        )
        users[f"{kind}_admin"] = member_of(organisation)
        users[f"{kind}_member"] = member_of(organisation, role="member")
    return users


# Pages opened with a plain GET and no object: 200 for the roles the matrix names, never for
# another (a log-in redirect, a 403, a 404 or a redirect elsewhere).
GET_PAGES = [
    "home",
    "refurbish:certificate_lookup",
    "distribution:help",
    "organisation_create",
    "awaiting_verification",
    "organisation_detail",
    "coordination:donor_overview",
    "coordination:impact",
    "donations:create",
    "donations:pickups",
    "coordination:requester_overview",
    "helprequests:create",
    "helprequests:telecom_dashboard",
    "helprequests:telecom_csv",
    "refurbish:dashboard",
    "refurbish:devices",
    "refurbish:log_upload",
    "refurbish:station_tokens",
    "distribution:shipping",
    "distribution:shipments",
    "distribution:helpdesk",
    "coordination:dashboard",
    "admin:index",
]
ARGS: dict[str, list] = {}
# Pages the matrix opens that a GET of this test cannot show with 200.
NOT_A_PLAIN_PAGE = {
    # An organisation of a verified kind is past its waiting page: it is sent to its own.
    ("awaiting_verification", role)
    for role in matrix.members()
}


@pytest.mark.parametrize("role", matrix.ROLES)
def test_each_role_opens_exactly_the_pages_of_the_matrix(client, actors, role):
    user = actors[role]
    if user is not None:
        client.force_login(user)
    wrong = []
    for name in GET_PAGES:
        if (name, role) in NOT_A_PLAIN_PAGE:
            continue
        response = client.get(reverse(name, args=ARGS.get(name, [])))
        if (response.status_code == 200) != (role in matrix.SITE[name]):
            wrong.append(f"{name}: {response.status_code}")
    assert wrong == []


@pytest.mark.parametrize("role", matrix.STAFF_ROLES)
def test_each_staff_role_opens_exactly_the_admin_lists_of_the_matrix(client, actors, role):
    client.force_login(actors[role])
    wrong = []
    for label, (model, _) in admin_models().items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        status = client.get(url).status_code
        if (status == 200) != (role in matrix.ADMIN_MODELS[label]["view"]):
            wrong.append(f"{label}: {status}")
    assert wrong == []


def _ran(response) -> bool:
    """Whether the posted action ran: it answers with its own page (a reason form) or file (an
    export), or redirects back to the list with its message; a refused one shows the list
    again, with "no action selected" when the role has other actions there."""
    if response.status_code == 403:
        return False
    if response.context is None:
        return True
    if not response.redirect_chain:
        return "cl" not in response.context
    django_text = translation.gettext  # Django's own message, not one of ours to translate
    with translation.override("nl"):
        refused = django_text("No action selected.")
    return refused not in [str(m) for m in response.context["messages"]]


@pytest.mark.parametrize("role", matrix.STAFF_ROLES)
def test_each_staff_role_runs_exactly_the_admin_actions_of_the_matrix(client, actors, role):
    """Each action posted to its change list with a selection that matches nothing: it runs
    (on nothing) only where the matrix gives it to the role."""
    client.force_login(actors[role])
    wrong = []
    for key, allowed in matrix.ADMIN_ACTIONS.items():
        label, name = key.rsplit(".", 1)
        model, _ = admin_models()[label]
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        data = {"action": name, ACTION_CHECKBOX_NAME: ["0"], "index": 0}
        response = client.post(url, data, follow=True)
        if _ran(response) != (role in allowed):
            wrong.append(f"{key}: {response.status_code}")
    assert wrong == []
