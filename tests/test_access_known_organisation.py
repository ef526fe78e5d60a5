"""An object fetched for its organisation knows that organisation without reading it again."""

import pytest
from django.http import Http404

from allemaal.access import get_for_organisation
from distribution.tests.factories import ApprovedRequestFactory
from helprequests.models import HelpRequest

pytestmark = pytest.mark.django_db


def test_the_owner_is_the_organisation_asked_for(
    school_board_org, other_donor_org, django_assert_num_queries
):
    request = ApprovedRequestFactory(organisation=school_board_org)
    with django_assert_num_queries(1):
        found = get_for_organisation(HelpRequest.objects.all(), school_board_org, pk=request.pk)
        assert found.organisation is school_board_org
    with pytest.raises(Http404):
        get_for_organisation(HelpRequest.objects.all(), other_donor_org, pk=request.pk)
