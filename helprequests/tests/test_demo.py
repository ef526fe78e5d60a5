from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from allemaal.models import Organisation
from helprequests.models import (
    ConnectivityAssignment,
    ConnectivityEvent,
    HelpRequest,
    HelpRequestEvent,
)


def test_seed_demo_loads_requests_in_every_state_once(db):
    call_command("seed_demo", stdout=StringIO())
    counts = (HelpRequest.objects.count(), HelpRequestEvent.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (HelpRequest.objects.count(), HelpRequestEvent.objects.count()) == counts
    assert set(HelpRequest.objects.values_list("status", flat=True)) == set(HelpRequest.Status)
    assert HelpRequest.objects.filter(duplicate_of__isnull=False).count() == 1
    sectors = set(HelpRequest.objects.values_list("organisation__sector", flat=True))
    assert {"school_board", "school", "elderly_care", "municipality", "welfare"} <= sectors


def test_seed_demo_gives_the_demo_telecom_provider_one_provided_and_one_open_assignment(db):
    call_command("seed_demo", stdout=StringIO())
    counts = (ConnectivityAssignment.objects.count(), ConnectivityEvent.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (ConnectivityAssignment.objects.count(), ConnectivityEvent.objects.count()) == counts
    provider = Organisation.objects.get(kind="telecom", kvk_number="78901234")
    mine = ConnectivityAssignment.objects.filter(provider=provider)
    assert mine.open().count() == 1
    ending = mine.bundles_ending(timezone.localdate(), days=30).get()
    assert ending.sim_cards + ending.hotspots > 0
    for assignment in mine:
        assert assignment.households <= assignment.help_request.connectivity_households
