"""Emptied: the custody trail's append-only trigger belongs to the donations app, where the
trail lives, and is created by `donations/migrations/0006_deviceevent_append_only.py` (the same
idempotent statements). Kept so that databases that applied it keep a consistent history."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0001_initial"),
        ("refurbish", "0001_initial"),
    ]

    operations = []
