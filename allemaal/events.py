"""Events: side effects that travel up the layers, declared in one place.

An app imports only from the layers below it, yet some changes in a lower app must reach an
upper one (a cancelled help request frees its allocations; a device became ready, so the
matching should run). The lower app publishes a named event; the upper app subscribes a
handler in its `AppConfig.ready()`. Every event is declared here with the keyword arguments
its publisher passes, so this file lists every upward side effect of the platform.

Handlers run synchronously, in order of subscription, inside the publisher's transaction: the
effect is part of the same commit (nothing is lost between the two), and tests see it at once.
A handler may refuse the change by raising `allemaal.services.DomainError`; the error reaches
the publisher and its transaction rolls back. A handler that needs to wait for the commit
(queueing a Celery task) registers its own `transaction.on_commit`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


class UnknownEvent(LookupError):
    """An event that is not declared in this module."""


@dataclass(frozen=True)
class Event:
    """One declared event: its name, what its publisher passes, and what it means."""

    name: str
    payload: tuple[str, ...]
    meaning: str


EVENTS: dict[str, Event] = {}
_handlers: dict[str, list[Callable[..., None]]] = {}


def declare(name: str, payload: tuple[str, ...], meaning: str) -> Event:
    event = Event(name, payload, meaning)
    EVENTS[name] = event
    _handlers.setdefault(name, [])
    return event


HELPREQUEST_WITHDRAWN = declare(
    "helprequest_withdrawn",
    ("request_id", "by", "reason", "status"),
    "A help request was cancelled by its organisation or closed by a coordinator (`status` is "
    "the new one). Published by helprequests after locking the request; a cancellation once "
    "devices were shipped is refused by a handler. Distribution withdraws the allocations.",
)
DEMAND_CHANGED = declare(
    "demand_changed",
    ("request_id",),
    "A help request was approved: new demand waits. Distribution schedules an allocation run.",
)
SUPPLY_READY = declare(
    "supply_ready",
    ("device_id",),
    "A device became ready (erased, tested, graded): new supply. Distribution schedules an "
    "allocation run.",
)


def _declared(event: str | Event) -> Event:
    name = event.name if isinstance(event, Event) else event
    try:
        return EVENTS[name]
    except KeyError:
        raise UnknownEvent(f"No event {name!r} is declared in allemaal.events.") from None


def subscribe(event: str | Event, handler: Callable[..., None]) -> None:
    """Call `handler(**payload)` whenever `event` is published; subscribing twice is one."""
    handlers = _handlers[_declared(event).name]
    if handler not in handlers:
        handlers.append(handler)


def unsubscribe(event: str | Event, handler: Callable[..., None]) -> None:
    handlers = _handlers[_declared(event).name]
    if handler in handlers:
        handlers.remove(handler)


def subscribers(event: str | Event) -> list[Callable[..., None]]:
    """The handlers of `event`, in the order they run."""
    return list(_handlers[_declared(event).name])


def publish(event: str | Event, **payload) -> None:
    """Run every handler of `event` now, in the caller's transaction. A handler's error
    (a DomainError refusing the change) reaches the caller, whose transaction rolls back."""
    declared = _declared(event)
    if set(payload) != set(declared.payload):
        raise TypeError(
            f"Event {declared.name!r} takes {sorted(declared.payload)}, not {sorted(payload)}."
        )
    for handler in list(_handlers[declared.name]):
        handler(**payload)
