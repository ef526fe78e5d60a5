"""The signed-in user is loaded with membership and organisation in one query, compiled once."""

import pytest
from django.contrib.auth import get_user
from django.db import connection
from django.test.utils import CaptureQueriesContext
from phonenumber_field.phonenumber import PhoneNumber

from allemaal.backends import AuthenticationBackend, ModelBackend, user_with_membership
from tests.factories import OrganisationFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("backend", [ModelBackend, AuthenticationBackend])
def test_a_member_comes_with_membership_and_organisation_in_one_query(backend):
    organisation = OrganisationFactory(kind="school", name="Basisschool De Linde")
    user = member_of(organisation)
    for _ in range(2):  # the first compiles the query, the second reuses it: same result
        with CaptureQueriesContext(connection) as queries:
            loaded = backend().get_user(user.pk)
            assert loaded.membership.organisation.name == "Basisschool De Linde"
            assert isinstance(loaded.membership.organisation.phone, PhoneNumber)
            assert loaded.membership.role == user.membership.role
        assert len(queries) == 1
        assert loaded == user and loaded.email == user.email
        assert loaded.date_joined == user.date_joined  # converted as the ORM would (SQLite: text)


def test_a_user_without_membership_has_none_and_a_missing_user_is_no_one():
    staff = UserFactory(is_staff=True)
    loaded = user_with_membership(staff.pk)
    with CaptureQueriesContext(connection) as queries:
        assert not hasattr(loaded, "membership")  # known absent, not looked up again
    assert len(queries) == 0
    assert user_with_membership(staff.pk + 1000) is None


def test_a_deactivated_user_is_not_let_in():
    user = member_of(OrganisationFactory())
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert ModelBackend().get_user(user.pk) is None


def test_a_signed_in_request_gets_the_user_from_the_session(client):
    user = member_of(OrganisationFactory())
    client.force_login(user)
    request = client.get("/").wsgi_request
    assert get_user(request) == user


def test_pages_outside_an_organisation_read_the_membership_loaded_with_the_user(client):
    organisation = OrganisationFactory(kind="school", name="Basisschool De Linde")
    client.force_login(member_of(organisation))
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    assert response.context["current_organisation"] == organisation
    alone = [q["sql"] for q in queries if 'FROM "allemaal_membership"' in q["sql"]]
    assert alone == []  # only the user's own query joins it
