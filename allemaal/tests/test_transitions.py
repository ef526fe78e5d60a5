"""The one state-transition helper (allemaal.transitions) and the tables beside the models."""

import pytest
from django.apps import apps
from django.db import transaction

from allemaal.services import DomainError
from allemaal.transitions import TransitionTable, transition, transition_many
from donations.models import Device, DeviceEvent, Donation, DonationEvent
from donations.tests.factories import DeviceFactory, DonationFactory

pytestmark = pytest.mark.django_db

TABLES = [
    m for m in apps.get_models() if isinstance(getattr(m, "transitions", None), TransitionTable)
]


def test_every_model_with_a_status_history_has_a_table():
    names = {m.__name__ for m in TABLES}
    assert names >= {
        "Organisation",
        "Donation",
        "Device",
        "HelpRequest",
        "ConnectivityAssignment",
        "Allocation",
        "Shipment",
    }


@pytest.mark.parametrize("model", TABLES, ids=lambda m: m.__name__)
def test_a_table_names_every_state_of_its_field_and_a_history_with_matching_fields(model):
    table = model.transitions
    choices = {value for value, _label in model._meta.get_field(table.field).flatchoices}
    assert table.states == choices
    history = table.history_model(model)
    history_fields = {f.name for f in history._meta.get_fields()}
    assert {f"from_{table.field}", f"to_{table.field}", "at", "by", "note"} <= history_fields
    if table.stamp:
        model._meta.get_field(table.stamp)


@pytest.mark.parametrize("model", TABLES, ids=lambda m: m.__name__)
def test_terminal_states_are_never_left(model):
    table = model.transitions
    for state in table.terminal:
        assert not any(table.allows(state, other) for other in table.states)


def test_a_table_refuses_a_move_to_a_state_it_does_not_know():
    with pytest.raises(ValueError, match="gone"):
        TransitionTable({"a": {"gone"}}, refused="%(ref)s", history="X")


def test_it_refuses_a_move_outside_the_table_with_the_dutch_message():
    donation = DonationFactory()
    with pytest.raises(DomainError) as refused:
        transition(donation, Donation.Status.RECEIVED, by=None)
    assert str(refused.value) == (
        f"Donatie {donation.reference} kan niet van 'Aangemeld' naar 'Ontvangen en geteld'."
    )
    donation.refresh_from_db()
    assert donation.status == Donation.Status.PLEDGED
    assert not DonationEvent.objects.exists()


def test_it_returns_early_on_a_no_op(django_assert_num_queries):
    donation = DonationFactory()
    with django_assert_num_queries(0):
        assert transition(donation, Donation.Status.PLEDGED, by=None, locked=True) is False
    assert transition(donation, Donation.Status.PLEDGED, by=None) is False
    assert not DonationEvent.objects.exists()


def test_it_saves_only_the_named_fields_and_writes_who_from_to_and_why(coordinator):
    donation = DonationFactory()
    donation.status_reason = "Te weinig apparaten"
    donation.contact_name = "not saved"
    assert transition(
        donation,
        Donation.Status.DECLINED,
        by=coordinator,
        note="Te klein",
        update_fields=["status_reason"],
    )
    donation.refresh_from_db()
    assert (donation.status, donation.status_reason) == (
        Donation.Status.DECLINED,
        "Te weinig apparaten",
    )
    assert donation.contact_name == "Alice de Vries"
    event = DonationEvent.objects.get()
    assert (event.donation, event.by, event.from_status, event.to_status, event.note) == (
        donation,
        coordinator,
        Donation.Status.PLEDGED,
        Donation.Status.DECLINED,
        "Te klein",
    )


def test_it_reads_the_state_under_the_lock_not_from_a_stale_row():
    donation = DonationFactory()
    Donation.objects.filter(pk=donation.pk).update(status=Donation.Status.CANCELLED)
    with pytest.raises(DomainError, match="'Geannuleerd' naar 'Ophalen gepland'"):
        transition(donation, Donation.Status.SCHEDULED, by=None)
    assert Donation.objects.get(pk=donation.pk).status == Donation.Status.CANCELLED


def test_a_terminal_state_is_never_left():
    donation = DonationFactory(status=Donation.Status.CANCELLED)
    for state in Donation.Status.values:
        if state != Donation.Status.CANCELLED:
            with pytest.raises(DomainError):
                transition(donation, state, by=None)
    assert Donation.objects.get(pk=donation.pk).status == Donation.Status.CANCELLED


def test_the_stamp_and_the_history_share_the_time_and_extra_history_fields(donor_org):
    device = DeviceFactory()
    transition(device, Device.State.RECEIVED, by=None, event_fields={"organisation": donor_org})
    device.refresh_from_db()
    event = DeviceEvent.objects.get(device=device)
    assert event.organisation == donor_org and event.from_state == Device.State.ANNOUNCED
    assert device.state_changed_at == event.at


@pytest.mark.django_db(transaction=True)
def test_side_effects_run_only_after_commit_and_never_after_a_rollback():
    ran = []
    donation = DonationFactory()
    with transaction.atomic():
        transition(donation, Donation.Status.CANCELLED, by=None, on_commit=lambda: ran.append("ok"))
        assert ran == []
    assert ran == ["ok"]

    other = DonationFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        transition(
            other, Donation.Status.CANCELLED, by=None, on_commit=lambda: ran.append("rolled back")
        )
        raise RuntimeError
    assert ran == ["ok"]
    assert Donation.objects.get(pk=other.pk).status == Donation.Status.PLEDGED

    transition(donation, Donation.Status.CANCELLED, by=None, on_commit=lambda: ran.append("no-op"))
    assert ran == ["ok"]


def test_many_rows_are_checked_before_any_is_written():
    pledged, collected = DonationFactory(), DonationFactory(status=Donation.Status.COLLECTED)
    with pytest.raises(DomainError, match=collected.reference):
        transition_many([collected, pledged], Donation.Status.CANCELLED, by=None)
    assert Donation.objects.get(pk=pledged.pk).status == Donation.Status.PLEDGED
    assert not DonationEvent.objects.exists()


def test_many_rows_move_in_key_order_with_one_history_insert(
    coordinator, django_assert_num_queries
):
    donations = DonationFactory.create_batch(3)
    already = DonationFactory(status=Donation.Status.CANCELLED)
    with django_assert_num_queries(4):  # three updates, one insert of the history rows
        moved = transition_many(
            [*reversed(donations), already], Donation.Status.CANCELLED, by=coordinator, locked=True
        )
    assert moved == sorted(donations, key=lambda d: d.pk)
    events = DonationEvent.objects.order_by("id")
    assert [e.donation_id for e in events] == [d.pk for d in moved]
    assert {(e.from_status, e.to_status, e.by) for e in events} == {
        (Donation.Status.PLEDGED, Donation.Status.CANCELLED, coordinator)
    }


def test_many_rows_are_locked_and_read_here_when_the_caller_did_not():
    donation = DonationFactory()
    Donation.objects.filter(pk=donation.pk).update(status=Donation.Status.CANCELLED)
    assert transition_many([donation], Donation.Status.CANCELLED, by=None) == []
    assert not DonationEvent.objects.exists()


def test_a_device_keeps_refusing_a_repeated_state():
    from donations.services import device_transition

    device = DeviceFactory(state=Device.State.RECEIVED)
    with pytest.raises(DomainError, match="kan niet van 'Ontvangen' naar 'Ontvangen'"):
        device_transition(device, Device.State.RECEIVED, by=None, organisation=None)
