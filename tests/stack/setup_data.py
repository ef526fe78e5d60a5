"""Run by tests/stack/run_stack.py inside `manage.py shell`: the people and the things the HTTP
journey needs but does not make itself (verified organisations, a coordinator with TOTP, ready
devices at a refurbisher, an approved help request). Prints them as one JSON line."""

import json

from allauth.mfa.totp.internal.auth import TOTP

from allemaal.models import Organisation
from distribution.tests.factories import ApprovedRequestFactory, ready_devices
from tests.factories import OrganisationFactory, member_of, staff_user

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - a throwaway test database

coordinator = staff_user("coordinators", with_totp=False, email="coordinator@stack.example")
TOTP.activate(coordinator, TOTP_SECRET)
donor_org = OrganisationFactory(kind=Organisation.Kind.DONOR, name="Stack Donor BV")
donor = member_of(donor_org, user__email="donor@stack.example")
school_org = OrganisationFactory(
    kind=Organisation.Kind.REQUESTER,
    sector=Organisation.Sector.SCHOOL_BOARD,
    name="Stichting Stack Scholen",
)
school = member_of(school_org, user__email="school@stack.example")
ready_devices(8, grade="A")
request = ApprovedRequestFactory(
    organisation=school_org, laptops=3, target_group="primary_pupils", no_home_schooling=True
)
print(
    "STACK-DATA "
    + json.dumps(
        {
            "coordinator": coordinator.email,
            "totp_secret": TOTP_SECRET,
            "donor": donor.email,
            "school": school.email,
            "request": request.pk,
        }
    )
)
