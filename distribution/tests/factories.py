"""Ready devices, approved requests and allocations for the distribution tests."""

import datetime

import factory
from django.utils import timezone

from allemaal.models import Organisation
from distribution.models import Allocation, AllocationRun, PriorityPolicy
from distribution.solver_classes import Policy
from donations.models import Device
from donations.tests.factories import DeviceFactory, DonationFactory
from helprequests.tests.factories import HelpRequestFactory
from refurbish.asset_tags import generate_asset_tag
from tests.factories import OrganisationFactory


class RefurbisherFactory(OrganisationFactory):
    kind = Organisation.Kind.REFURBISHER
    province = "Utrecht"


class ProcessedDonationFactory(DonationFactory):
    status = "processed"
    refurbisher = factory.SubFactory(RefurbisherFactory)


class ReadyDeviceFactory(DeviceFactory):
    """A tested, graded device at a refurbisher, ready to be allocated."""

    donation = factory.SubFactory(ProcessedDonationFactory)
    state = Device.State.READY
    grade = "B"
    asset_tag = factory.Sequence(lambda n: f"AD-{n:05d}")


class ApprovedRequestFactory(HelpRequestFactory):
    """An approved request in the queue (approved 10 days ago unless told otherwise)."""

    status = "approved"
    submitted_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=12))
    approved_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=10))
    approved_laptops = factory.SelfAttribute("laptops")
    approved_tablets = factory.SelfAttribute("tablets")
    approved_either = factory.SelfAttribute("either")


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriorityPolicy

    """An old version of the policy; `services.policy_current()` makes the active one."""

    version = factory.Sequence(lambda n: 1000 + n)
    weights = factory.LazyFunction(lambda: Policy().to_dict())
    is_active = False


class RunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AllocationRun

    status = AllocationRun.Status.COMPLETED
    trigger = AllocationRun.Trigger.MANUAL
    policy = factory.SubFactory(PolicyFactory)
    policy_version = factory.SelfAttribute("policy.version")


class ProposalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Allocation

    device = factory.SubFactory(ReadyDeviceFactory)
    request = factory.SubFactory(ApprovedRequestFactory)
    run = factory.SubFactory(RunFactory)
    status = Allocation.Status.PROPOSED
    score = 150


def ready_devices(count: int, donation=None, **kwargs) -> list[Device]:
    """`count` ready devices of one donation (one refurbisher)."""
    donation = donation or ProcessedDonationFactory()
    return ReadyDeviceFactory.create_batch(count, donation=donation, **kwargs)


# --- Shipping -------------------------------------------------------------------------------------


class AllocatedDeviceFactory(ReadyDeviceFactory):
    """A prepared device with a real asset tag (check symbol), allocated to a request."""

    state = Device.State.ALLOCATED
    asset_tag = factory.LazyFunction(generate_asset_tag)
    os_installed = "windows11"
    charger_included = True


def approved_allocations(request, count: int, *, donation=None, **device_kwargs):
    """`count` devices of one donation (one refurbisher) allocated to `request` and approved,
    as `allocations_approve` leaves them."""
    donation = donation or ProcessedDonationFactory()
    now = timezone.now()
    return [
        Allocation.objects.create(
            device=AllocatedDeviceFactory(donation=donation, **device_kwargs),
            request=request,
            run=None,
            status=Allocation.Status.APPROVED,
            score=100,
            note="Test",
            decided_at=now,
        )
        for _ in range(count)
    ]


def packed_shipment(allocations, *, by):
    """A prepared shipment with these (approved) allocations scanned onto it."""
    from distribution import services

    first = allocations[0]
    shipment = services.shipment_create(
        refurbisher=first.device.donation.refurbisher, request_id=first.request_id, by=by
    )
    for allocation in allocations:
        services.shipment_add_device(shipment.pk, allocation.device.asset_tag, by=by)
    return shipment


def shipped_shipment(allocations, *, by, carrier="postnl", tracking_code="3SABCD1234567"):
    from distribution import services

    shipment = packed_shipment(allocations, by=by)
    return services.shipment_ship(shipment.pk, carrier=carrier, tracking_code=tracking_code, by=by)
