"""The append-only trail allows one more DELETE: the first event of a unit added at intake
(from nothing to received: it was never announced) while that event is its whole trail and the
unit is still only received, so that a mis-scan can be undone. A unit from the donor's list is
received from announced, so its intake event is never deletable; nor is any event once a second
one exists."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION donations_deviceevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.from_state = '' AND OLD.to_state = 'announced' AND EXISTS (
        SELECT 1 FROM donations_device d WHERE d.id = OLD.device_id AND d.state = 'announced'
    ) THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'DELETE' AND OLD.from_state = '' AND OLD.to_state = 'received' AND EXISTS (
        SELECT 1 FROM donations_device d WHERE d.id = OLD.device_id AND d.state = 'received'
    ) AND NOT EXISTS (
        SELECT 1 FROM donations_deviceevent e WHERE e.device_id = OLD.device_id AND e.id <> OLD.id
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'donations_deviceevent is append-only: % of a custody event is refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""

# Back to the function of 0006 (the trigger itself is unchanged).
PREVIOUS = """
CREATE OR REPLACE FUNCTION donations_deviceevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.from_state = '' AND OLD.to_state = 'announced' AND EXISTS (
        SELECT 1 FROM donations_device d WHERE d.id = OLD.device_id AND d.state = 'announced'
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'donations_deviceevent is append-only: % of a custody event is refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0008_device_outcomes_not_received_lost"),
    ]

    operations = [migrations.RunPython(forward, backward)]
