"""Keeps the staff groups and their permissions in step with the models after each migrate."""

from django.contrib.auth.models import Group, Permission

OWN_APPS = ["allemaal", "donations", "helprequests", "refurbish", "distribution", "coordination"]
# The helpdesk finds devices, logs contacts and starts returns (its own pages at /helpdesk/) and
# views the rest read-only; never who is invited where, nor wiping-station keys.
HELPDESK_HIDDEN = ["view_invitation", "view_stationtoken"]


def ensure_staff_groups(**kwargs):
    coordinators, _ = Group.objects.get_or_create(name="coordinators")
    helpdesk, _ = Group.objects.get_or_create(name="helpdesk")
    own = Permission.objects.filter(content_type__app_label__in=OWN_APPS)
    coordinators.permissions.set(own.exclude(codename__startswith="delete_"))
    helpdesk.permissions.set(
        own.filter(codename__startswith="view_").exclude(codename__in=HELPDESK_HIDDEN)
    )
