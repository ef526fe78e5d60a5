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
