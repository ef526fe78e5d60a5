import datetime

import factory
from django.utils import timezone

from allemaal.models import Organisation
from helprequests.models import ConnectivityAssignment, HelpRequest
from tests.factories import OrganisationFactory


class RequesterFactory(OrganisationFactory):
    kind = Organisation.Kind.REQUESTER
    sector = Organisation.Sector.SCHOOL_BOARD


class HelpRequestFactory(factory.django.DjangoModelFactory):
    """A complete draft; the traits give it the state a service would have left."""

    class Meta:
        model = HelpRequest

    class Params:
        submitted = factory.Trait(
            status=HelpRequest.Status.SUBMITTED,
            submitted_at=factory.LazyFunction(timezone.now),
        )
        approved = factory.Trait(
            status=HelpRequest.Status.APPROVED,
            submitted_at=factory.LazyFunction(timezone.now),
            approved_at=factory.LazyFunction(timezone.now),
            approved_laptops=factory.SelfAttribute("laptops"),
            approved_tablets=factory.SelfAttribute("tablets"),
            approved_either=factory.SelfAttribute("either"),
        )

    organisation = factory.SubFactory(RequesterFactory)
    target_group = "primary_pupils"
    no_home_schooling = False
    laptops = 10
    tablets = 0
    either = 0
    people_reached = 20
    connectivity_households = 2
    urgency = "normal"
    need_by = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=21))
    motivation = "Leerlingen zonder laptop thuis."
    delivery_street = "Schoolstraat 5"
    delivery_postcode = "4001 AB"
    delivery_city = "Tiel"
    delivery_province = "Gelderland"
    contact_name = "Carla Jansen"
    contact_phone = "+31344123456"
    declaration = True


class TelecomFactory(OrganisationFactory):
    kind = Organisation.Kind.TELECOM


class ConnectivityAssignmentFactory(factory.django.DjangoModelFactory):
    """An open assignment of an approved request; `fulfilled` gives it what a provider reported."""

    class Meta:
        model = ConnectivityAssignment

    class Params:
        fulfilled = factory.Trait(
            status=ConnectivityAssignment.Status.FULFILLED,
            sim_cards=2,
            hotspots=0,
            bundle_ends_on=factory.LazyFunction(
                lambda: timezone.localdate() + datetime.timedelta(days=90)
            ),
            fulfilled_at=factory.LazyFunction(timezone.now),
        )

    help_request = factory.SubFactory(HelpRequestFactory, approved=True)
    provider = factory.SubFactory(TelecomFactory)
    households = 2
