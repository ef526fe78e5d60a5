"""The two locks that keep matching runs and coordinators' decisions apart.

- The run lock: two matching runs never overlap. PostgreSQL: a transaction-level advisory lock,
  taken with `pg_try_advisory_xact_lock` (a second run is refused at once, and a crashed run
  cannot leave it behind). Elsewhere (SQLite, one process): a cache key with `add` semantics.
- The decisions lock: a run replaces every open proposal, so while it reads and writes no
  coordinator may approve, reject or allocate by hand (their change could be overwritten or
  collide with a new proposal). A run holds it exclusively; each decision takes it shared, so
  decisions never wait for each other. PostgreSQL only: SQLite serialises writers anyway.

Decisions take the shared lock before any row lock, and a run takes no row lock it could wait
for while holding it, so the two cannot deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import cache
from django.db import connection, transaction
from django.utils.translation import gettext as _

from allemaal.services import DomainError

# Advisory lock keys: any two fixed 64-bit numbers no other app uses ("alloc-run", "alloc-dec").
RUN_LOCK_KEY = 0x616C6C6F632D72
DECISIONS_LOCK_KEY = 0x616C6C6F632D64
CACHE_RUN_LOCK = "distribution:allocation-run-lock"
CACHE_RUN_LOCK_SECONDS = 30 * 60


class AllocationRunBusy(DomainError):
    """Another matching run is in progress."""

    def __init__(self):
        super().__init__(
            _(
                "Er loopt al een toewijzingsronde. Deze ronde is niet gestart; probeer het over "
                "een paar minuten opnieuw."
            )
        )


def _on_postgres() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def run_transaction() -> Iterator[None]:
    """A transaction that holds the run lock; AllocationRunBusy when another run holds it."""
    if _on_postgres():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [RUN_LOCK_KEY])
            if not cursor.fetchone()[0]:
                raise AllocationRunBusy
            yield
        return
    token = uuid.uuid4().hex
    if not cache.add(CACHE_RUN_LOCK, token, timeout=CACHE_RUN_LOCK_SECONDS):
        raise AllocationRunBusy
    try:
        with transaction.atomic():
            yield
    finally:
        # Released after the commit, so that the next run reads what this one wrote.
        if cache.get(CACHE_RUN_LOCK) == token:
            cache.delete(CACHE_RUN_LOCK)


def decisions_exclusive() -> None:
    """A run: wait for decisions in progress, and keep new ones out until the transaction ends."""
    if _on_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DECISIONS_LOCK_KEY])


def decisions_shared() -> None:
    """A decision: wait while a run replaces the proposals (call first in the transaction)."""
    if _on_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [DECISIONS_LOCK_KEY])
