"""get_FOO_display() from a table per field and language (allemaal.models.ChoiceLabels)."""

from django.db import models
from django.utils import translation

from donations.models import Donation


def test_a_label_is_in_the_active_language_as_django_gives_it():
    donation = Donation(status=Donation.Status.RECEIVED)
    for language in ("nl", "en", "nl"):
        with translation.override(language):
            django = models.Model._get_FIELD_display(donation, Donation._meta.get_field("status"))
            assert donation.get_status_display() == django
    with translation.override("en"):
        english = donation.get_status_display()
    with translation.override("nl"):
        assert donation.get_status_display() != english


def test_a_value_outside_the_choices_is_shown_as_it_is():
    assert Donation(status="unheard-of").get_status_display() == "unheard-of"
