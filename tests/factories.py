"""Factories of the platform core; apps add their own in `<app>/tests/factories.py`."""

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group

from allemaal.models import Membership, Organisation, User

PASSWORD = "Correct-Paard-Batterij-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = Organisation.Kind.DONOR
    name = factory.Sequence(lambda n: f"Organisatie {n} BV")
    kvk_number = factory.Sequence(lambda n: f"{10000000 + n:08d}")
    street = "Dorpsstraat 1"
    postcode = "3511 AB"
    city = "Utrecht"
    province = "Utrecht"
    phone = "+31301234567"
    status = Organisation.Status.VERIFIED


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Membership.Role.ADMIN


def member_of(organisation: Organisation, **kwargs) -> User:
    return MembershipFactory(organisation=organisation, **kwargs).user


def staff_user(group: str, *, with_totp: bool = True, **kwargs) -> User:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = UserFactory(is_staff=True, **kwargs)
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    if with_totp:
        TOTP.activate(user, generate_totp_secret())
    return user
