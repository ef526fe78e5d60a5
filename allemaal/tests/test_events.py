"""The event registry: only declared events, with their declared payload; handlers run at once,
in order, inside the publisher's transaction, and a handler's refusal rolls the change back."""

import pytest
from django.db import transaction

from allemaal import events
from allemaal.models import Organisation
from allemaal.services import DomainError
from distribution import handlers


@pytest.fixture
def happened(monkeypatch):
    """A declared event of its own, so no real subscriber runs; the registry is restored."""
    monkeypatch.setattr(events, "EVENTS", dict(events.EVENTS))
    monkeypatch.setattr(events, "_handlers", {k: list(v) for k, v in events._handlers.items()})
    return events.declare("test_happened", ("organisation_id",), "Something happened (tests).")


def test_it_refuses_to_publish_an_undeclared_event():
    with pytest.raises(events.UnknownEvent, match="not_declared"):
        events.publish("not_declared", request_id=1)


def test_it_refuses_to_subscribe_to_an_undeclared_event():
    with pytest.raises(events.UnknownEvent):
        events.subscribe("not_declared", lambda **payload: None)


def test_it_refuses_a_payload_other_than_the_declared_one(happened):
    with pytest.raises(TypeError, match="organisation_id"):
        events.publish(happened, organisation_id=1, extra=2)
    with pytest.raises(TypeError):
        events.publish(happened)


def test_it_calls_each_handler_once_in_the_order_of_subscription(happened):
    calls = []

    def first(**payload):
        calls.append(("first", payload))

    def second(**payload):
        calls.append(("second", payload))

    events.subscribe("test_happened", first)
    events.subscribe(happened, second)
    events.subscribe("test_happened", first)  # a second subscription changes nothing
    events.publish("test_happened", organisation_id=7)
    assert calls == [("first", {"organisation_id": 7}), ("second", {"organisation_id": 7})]

    events.unsubscribe(happened, first)
    calls.clear()
    events.publish(happened, organisation_id=8)
    assert calls == [("second", {"organisation_id": 8})]


def test_publishing_an_event_without_subscribers_does_nothing(happened):
    events.publish(happened, organisation_id=1)


@pytest.mark.django_db
def test_a_handler_writes_inside_the_publishers_transaction(happened, donor_org):
    def rename(*, organisation_id):
        Organisation.objects.filter(pk=organisation_id).update(name="Door de handler")

    events.subscribe(happened, rename)
    with transaction.atomic():
        events.publish(happened, organisation_id=donor_org.pk)
        # The effect is there at once, before the commit.
        assert Organisation.objects.get(pk=donor_org.pk).name == "Door de handler"


@pytest.mark.django_db
def test_a_handler_that_refuses_rolls_back_the_publishers_change(happened, donor_org):
    def refuse(*, organisation_id):
        raise DomainError("Dat kan niet.")

    events.subscribe(happened, refuse)
    name = donor_org.name
    with pytest.raises(DomainError, match="Dat kan niet."), transaction.atomic():
        Organisation.objects.filter(pk=donor_org.pk).update(name="Gewijzigd")
        events.publish(happened, organisation_id=donor_org.pk)
    assert Organisation.objects.get(pk=donor_org.pk).name == name


def test_every_declared_event_has_a_subscriber_once_the_apps_are_ready():
    assert {name: events.subscribers(name) for name in events.EVENTS} == {
        "helprequest_withdrawn": [handlers.withdraw_allocations],
        "demand_changed": [handlers.schedule_run_on_commit],
        "supply_ready": [handlers.schedule_run_on_commit],
    }
