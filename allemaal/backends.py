"""The authentication backends: Django's and allauth's, loading the signed-in user with their
membership and organisation in one query.

Every page of an organisation needs all three (`allemaal.access.organisation_required`), so a
signed-in request pays one query for them, not two. The user is still read at every request, so
a deactivated user is out at their next one (`user_can_authenticate`).

That query is the same at every request but for the user's id, and building it with the ORM cost
three times what running it did (0.7 of 1.0 ms of CPU; issue 21). So it is compiled once per
database connection (`_UserQuery`) and its rows become models through Django's own converters and
`select_related` populators, exactly as `QuerySet.get` would make them.
"""

import weakref

from allauth.account import auth_backends as allauth_backends
from django.contrib.auth import backends, get_user_model
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.query import get_related_populators

_PLACEHOLDER = -7_321_654  # an id no user has; its place in the parameters is where the id goes


class _UserQuery:
    """The user with membership and organisation, compiled once for one database connection."""

    def __init__(self, connection):
        users = get_user_model()._default_manager.select_related("membership__organisation")
        compiler = users.filter(pk=_PLACEHOLDER).query.get_compiler(connection=connection)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        self.id_index = self.params.index(_PLACEHOLDER)
        self.compiler = compiler
        select, klass_info = compiler.select, compiler.klass_info
        self.converters = compiler.get_converters([column[0] for column in select])
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.user_slice = slice(first, last)
        self.user_fields = [column[0].target.attname for column in select[first:last]]
        self.related = get_related_populators(klass_info, select, connection.alias)
        self.model = klass_info["model"]

    def get(self, connection, user_id):
        params = list(self.params)
        params[self.id_index] = user_id
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        if self.converters:
            row = next(iter(self.compiler.apply_converters([row], self.converters)))
        user = self.model.from_db(connection.alias, self.user_fields, row[self.user_slice])
        for populator in self.related:
            populator.populate(row, user)
        return user


_compiled: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def user_with_membership(user_id):
    """The user with `membership` and `membership.organisation` loaded (None for no user).
    `user_id` is the session's, already made an id by `django.contrib.auth.get_user`."""
    connection = connections[DEFAULT_DB_ALIAS]
    query = _compiled.get(connection)
    if query is None:
        query = _compiled[connection] = _UserQuery(connection)
    return query.get(connection, user_id)


class _WithMembership:
    def get_user(self, user_id):
        user = user_with_membership(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_WithMembership, backends.ModelBackend):
    pass


class AuthenticationBackend(_WithMembership, allauth_backends.AuthenticationBackend):
    pass
