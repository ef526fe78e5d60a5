"""Assigning and fulfilling the same need from many threads at once (PostgreSQL, real connections).

Every losing attempt must end in a clear domain error, never an IntegrityError, a 500 or more
households assigned than the request needs.
"""

import datetime
import threading
from collections import Counter

import pytest
from django.db import connections
from django.utils import timezone

from allemaal.services import DomainError
from helprequests.models import ConnectivityAssignment
from helprequests.services import connectivity
from tests.factories import staff_user

from .factories import ConnectivityAssignmentFactory, HelpRequestFactory, TelecomFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 12


def _race(attempt) -> Counter:
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []

    def run(index):
        try:
            barrier.wait()
            attempt(index)
            outcomes.append("won")
        except DomainError as exc:
            assert str(exc)
            outcomes.append("refused")
        except Exception as exc:  # noqa: BLE001 - anything else is the failure we look for
            outcomes.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(outcomes)


def test_many_coordinators_assigning_the_last_households_at_once_never_overshoot():
    request = HelpRequestFactory(approved=True, connectivity_households=6)
    providers = [TelecomFactory() for _ in range(THREADS)]
    coordinator = staff_user("coordinators", with_totp=False)

    outcomes = _race(
        lambda i: connectivity.connectivity_assign(
            request, provider=providers[i], households=3, by=coordinator
        )
    )
    assert outcomes == Counter({"won": 2, "refused": THREADS - 2})
    assigned = ConnectivityAssignment.objects.filter(help_request=request)
    assert sum(a.households for a in assigned) == 6


def test_many_reports_of_one_assignment_at_once_record_exactly_one():
    assignment = ConnectivityAssignmentFactory(households=2)
    until = timezone.localdate() + datetime.timedelta(days=60)

    outcomes = _race(
        lambda i: connectivity.connectivity_fulfil(
            assignment,
            provider=assignment.provider,
            by=None,
            provision=connectivity.Provision(i + 1, 0, until),
        )
    )
    assert outcomes == Counter({"won": 1, "refused": THREADS - 1})
    assignment.refresh_from_db()
    assert assignment.status == ConnectivityAssignment.Status.FULFILLED
    assert assignment.events.count() == 1
