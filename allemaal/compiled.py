"""Queries the ORM builds and writes once per shape, then runs again with other ids.

Building a queryset and writing its SQL can cost Django more CPU than PostgreSQL spends answering
a small indexed query: the allocation counts of an organisation's requests (a GROUP BY with two
FILTER clauses over a join) took ~0.46 ms of CPU to build and write and ~0.7 ms to run, on every
`/hulpaanvragen/` and request page. A `CompiledQuery` builds its queryset once per database
connection and shape (the length of each list argument) with stand-in ids, finds where each
stand-in went among the SQL's parameters, and from then on runs that SQL with the real ids.

`build` must depend on its arguments alone (never the clock, a setting or the database) and pass
them into the query as they are. The SQL is reused only where that gives exactly the ORM's query:
every argument is an int (not a bool) or a list of ints, and each stand-in appears exactly once
among the parameters and nowhere in the SQL text. Otherwise (or for an empty list, which the ORM
answers without a query) the queryset is built and run anew each time. The rows are tuples in
the SQL's column order, the columns' converters applied: for `.values(*fields)
.annotate(**aggregates)`, the fields, then the aggregates in the order given. Database
connections belong to one thread each, and so does what is compiled for one.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

# Ids no row has: argument i, position j is _STAND_IN + 1000 * i + j.
_STAND_IN = 7_391_046_000_000
_MAX_LIST = 999
_MISSING = object()
_KEPT = 64  # shapes per connection (list lengths); more and the cache starts again


def _plain(value) -> bool:
    return type(value) is int or (
        type(value) is list and len(value) <= _MAX_LIST and all(type(v) is int for v in value)
    )


class _Plan:
    def __init__(self, sql: str, params: list, places: list, compiler, converters):
        self.sql, self.params, self.places = sql, params, places
        self.compiler, self.converters = compiler, converters

    def run(self, connection, args) -> list[tuple]:
        params = list(self.params)
        for index, (argument, position) in self.places:
            value = args[argument]
            params[index] = value if position is None else value[position]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = [tuple(row) for row in self.compiler.apply_converters(rows, self.converters)]
        return rows


def _compile(build: Callable[..., QuerySet], shape: tuple, connection) -> _Plan | None:
    stand_ins = [
        _STAND_IN + 1000 * i if n is None else [_STAND_IN + 1000 * i + j for j in range(n)]
        for i, n in enumerate(shape)
    ]
    wanted = {}
    for i, value in enumerate(stand_ins):
        for j, stand_in in enumerate(value) if isinstance(value, list) else [(None, value)]:
            wanted[stand_in] = (i, j)
    compiler = build(*stand_ins).query.get_compiler(connection=connection)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None
    places = [
        (index, wanted[param])
        for index, param in enumerate(params)
        if type(param) is int and param in wanted
    ]
    found = [slot for _index, slot in places]
    if len(found) != len(wanted) or set(found) != set(wanted.values()):
        return None  # a stand-in was dropped, repeated or changed on its way into the SQL
    if any(str(stand_in) in sql for stand_in in wanted):
        return None  # written into the SQL text
    columns = [column[0] for column in compiler.select[: compiler.col_count]]
    return _Plan(sql, list(params), places, compiler, compiler.get_converters(columns))


class CompiledQuery:
    """`CompiledQuery(build)(*args)`: the rows of `build(*args)`, a values queryset, with its SQL
    written once per connection and shape (the module's docstring)."""

    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self._compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __call__(self, *args) -> list[tuple]:
        if not all(_plain(arg) for arg in args):
            return self._built(args)
        connection = connections[DEFAULT_DB_ALIAS]
        shapes = self._compiled.get(connection)
        if shapes is None:
            shapes = self._compiled[connection] = {}
        shape = tuple(len(arg) if type(arg) is list else None for arg in args)
        plan = shapes.get(shape, _MISSING)
        if plan is _MISSING:
            if len(shapes) >= _KEPT:
                shapes.clear()
            plan = shapes[shape] = _compile(self.build, shape, connection)
        if plan is None:
            return self._built(args)
        return plan.run(connection, args)

    def _built(self, args) -> list[tuple]:
        queryset = self.build(*args)
        return [tuple(row.values()) if isinstance(row, dict) else tuple(row) for row in queryset]
