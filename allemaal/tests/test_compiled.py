"""allemaal.compiled.CompiledQuery: the ORM's rows, with the SQL written once per shape."""

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from allemaal.compiled import CompiledQuery
from allemaal.models import Membership, Organisation
from tests.factories import OrganisationFactory, member_of

pytestmark = pytest.mark.django_db


def _members_per_organisation(ids, role_other_than):
    return (
        Membership.objects.filter(organisation_id__in=ids)
        .exclude(user_id=role_other_than)
        .values("organisation_id")
        .annotate(n=Count("id"))
        .order_by("organisation_id")
    )


@pytest.fixture
def organisations():
    made = OrganisationFactory.create_batch(3)
    for organisation, members in zip(made, (1, 2, 3), strict=True):
        for _ in range(members):
            member_of(organisation)
    return made


def _orm(build, *args) -> list[tuple]:
    return [tuple(row.values()) for row in build(*args)]


def test_the_rows_are_the_orms_for_every_shape_and_order(organisations):
    query = CompiledQuery(_members_per_organisation)
    a, b, c = (o.pk for o in organisations)
    for ids in ([a], [a, b, c], [c, a], [b, b, a], [a, 10**9], [10**9]):
        assert query(ids, 0) == _orm(_members_per_organisation, ids, 0), ids
        assert query(ids, 0) == _orm(_members_per_organisation, ids, 0), ids  # compiled now
    user = Membership.objects.filter(organisation_id=c).values_list("user_id", flat=True)[0]
    assert query([c], user) == [(c, 2)]


def test_the_sql_is_written_once_per_shape_and_each_run_is_a_query(organisations):
    built = []

    def build(ids, other):
        built.append(len(ids))
        return _members_per_organisation(ids, other)

    query = CompiledQuery(build)
    a, b, c = (o.pk for o in organisations)
    with CaptureQueriesContext(connection) as queries:
        query([a, b], 0)
        query([c, a], 0)
        query([b], 0)
        query([a], 0)
    assert built == [2, 1]
    assert len(queries) == 4


def test_an_empty_list_asks_nothing_and_other_values_take_the_orms_way(organisations):
    query = CompiledQuery(_members_per_organisation)
    a = organisations[0].pk
    with CaptureQueriesContext(connection) as queries:
        assert query([], 0) == []
    assert len(queries) == 0
    # Not plain ints: built by the ORM every time, the same rows.
    assert query([str(a)], 0) == [(a, 1)]
    assert query([a], False) == _orm(_members_per_organisation, [a], False)


def test_a_builder_that_changes_its_ids_is_never_compiled(organisations):
    """A stand-in that does not reach the SQL as given: the ORM builds the query each time."""
    built = []

    def build(ids):
        built.append(ids)
        return Organisation.objects.filter(pk__in=[i + 0 for i in ids][:1]).values("id")

    query = CompiledQuery(build)
    a, b, _c = (o.pk for o in organisations)
    assert query([a, b]) == [(a,)]
    assert query([b, a]) == [(b,)]
    assert len(built) == 3  # the stand-ins once, then every call
