from io import StringIO

from django.core.management import call_command

from helprequests.models import HelpRequest, HelpRequestEvent


def test_seed_demo_loads_requests_in_every_state_once(db):
    call_command("seed_demo", stdout=StringIO())
    counts = (HelpRequest.objects.count(), HelpRequestEvent.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (HelpRequest.objects.count(), HelpRequestEvent.objects.count()) == counts
    assert set(HelpRequest.objects.values_list("status", flat=True)) == set(HelpRequest.Status)
    assert HelpRequest.objects.filter(duplicate_of__isnull=False).count() == 1
    sectors = set(HelpRequest.objects.values_list("organisation__sector", flat=True))
    assert {"school_board", "school", "elderly_care", "municipality", "welfare"} <= sectors
