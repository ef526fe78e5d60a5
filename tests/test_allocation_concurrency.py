"""Approving the same devices from many threads at once (PostgreSQL, real connections).

20 threads x 10 rounds. Each round has 5 ready devices, each proposed to one request. When the
round starts (all threads released together by a barrier) thread 0 approves the proposals and
every other thread tries to allocate the same devices by hand to its own request, half of them
through the service, half through the admin page, each in its own shuffled order. Exactly one
attempt per device may win; every other attempt must end in a clear domain error (a message
on the page for the admin), never a 500, an IntegrityError or a deadlock.
"""

import random
import threading
from collections import Counter

import pytest
from django.db import IntegrityError, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from allemaal.services import DomainError
from distribution import services
from distribution.models import Allocation
from distribution.tests.factories import (
    ApprovedRequestFactory,
    ProcessedDonationFactory,
    RunFactory,
    ready_devices,
)
from donations.models import Device

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20
ROUNDS = 10
DEVICES_PER_ROUND = 5
BY_HAND_URL = reverse("admin:distribution_allocate_by_hand")


def _rounds():
    """Per round: (device id, asset tag, proposal id) of its devices."""
    run = RunFactory()
    target = ApprovedRequestFactory(laptops=ROUNDS * DEVICES_PER_ROUND)
    donation = ProcessedDonationFactory()
    rounds = []
    for _ in range(ROUNDS):
        devices = ready_devices(DEVICES_PER_ROUND, donation=donation)
        rounds.append(
            [
                (
                    device.pk,
                    device.asset_tag,
                    Allocation.objects.create(
                        device=device, request=target, run=run, status="proposed", score=100
                    ).pk,
                )
                for device in devices
            ]
        )
    return rounds


def _attempt(index, client, by, request, device_id, asset_tag, proposal_id) -> str:
    """One try at one device: "won", "refused" (a clear message), or what went wrong."""
    if index == 0:
        decision = services.allocations_approve([proposal_id], by=by, notify=False)
        if decision.done:
            return "won"
        assert decision.refused and decision.refused[0][1]
        return "refused"
    if index % 2:
        try:
            services.allocation_allocate_by_hand(
                device_id=device_id, request_id=request.pk, by=by, reason=f"Thread {index}"
            )
        except DomainError as exc:
            assert str(exc)
            return "refused"
        return "won"
    response = client.post(
        BY_HAND_URL,
        {"device": asset_tag, "help_request": str(request.pk), "reason": f"Thread {index}"},
    )
    if response.status_code == 302:
        return "won"
    assert response.status_code == 200, response.status_code
    assert response.context["form"].non_field_errors()
    return "refused"


def test_twenty_threads_approving_the_same_devices_give_one_winner_per_device(coordinator):
    rounds = _rounds()
    requests = [ApprovedRequestFactory(laptops=ROUNDS * DEVICES_PER_ROUND) for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    outcomes: list[tuple[int, str]] = []
    lock = threading.Lock()

    def worker(index):
        rng = random.Random(index)
        try:
            client = Client()
            if index and index % 2 == 0:
                client.force_login(coordinator)
                client.get(reverse("admin:index"))
            for devices in rounds:
                order = list(devices)
                rng.shuffle(order)
                barrier.wait(timeout=60)
                for device_id, tag, proposal_id in order:
                    try:
                        result = _attempt(
                            index, client, coordinator, requests[index], device_id, tag, proposal_id
                        )
                    except Exception as exc:  # noqa: BLE001 - every surprise is a failure
                        result = f"{type(exc).__name__}: {exc}"
                    with lock:
                        outcomes.append((device_id, result))
        except threading.BrokenBarrierError:
            with lock:
                outcomes.append((0, "broken barrier"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a thread hangs (deadlock?)"

    surprises = [result for _device, result in outcomes if result not in ("won", "refused")]
    assert surprises == []
    assert len(outcomes) == THREADS * ROUNDS * DEVICES_PER_ROUND
    wins = Counter(device for device, result in outcomes if result == "won")
    all_devices = [device for devices in rounds for device, _tag, _proposal in devices]
    assert wins == Counter(all_devices)  # exactly one winner per device
    assert Allocation.objects.live().count() == len(all_devices)
    assert set(Device.objects.filter(pk__in=all_devices).values_list("state", flat=True)) == {
        "allocated"
    }
    for device in all_devices:
        assert Allocation.objects.live().filter(device_id=device).count() == 1


def test_a_direct_second_live_allocation_fails_on_the_database_constraint(coordinator):
    request = ApprovedRequestFactory(laptops=2)
    (device,) = ready_devices(1)
    services.allocation_allocate_by_hand(
        device_id=device.pk, request_id=request.pk, by=coordinator, reason="Eerst"
    )
    other = ApprovedRequestFactory(laptops=1)
    with (
        pytest.raises(IntegrityError, match="allocation_one_live_per_device"),
        transaction.atomic(),
    ):
        Allocation.objects.create(
            device=device,
            request=other,
            status="approved",
            score=1,
            note="Buiten de services om",
            decided_at=timezone.now(),
        )
    assert Allocation.objects.filter(device=device).count() == 1
