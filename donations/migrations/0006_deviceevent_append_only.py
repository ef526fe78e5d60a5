"""Custody events are append-only: PostgreSQL refuses any UPDATE or DELETE of a DeviceEvent.

One DELETE stays possible: the announcement event of a device that is still only announced
(a line on a donor's list that never reached anybody's hands), which `donations.services`
removes with its device when a donation is cancelled or declined, so that the serial is free
again. Once a device was received, its trail can no longer be touched.

Only on PostgreSQL (production and CI); SQLite, the embedded default, relies on the code and
the read-only admin. TRUNCATE (used by test isolation) does not fire row triggers.

The trail is the donations app's (where `Device` and `DeviceEvent` live), so its guard is too;
it was first created by refurbish's 0002, which is now empty. Both statements are idempotent,
so a database that already has the trigger gets the same one again.
"""

from django.db import migrations

CREATE = """
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

DROP TRIGGER IF EXISTS donations_deviceevent_append_only ON donations_deviceevent;
CREATE TRIGGER donations_deviceevent_append_only
    BEFORE UPDATE OR DELETE ON donations_deviceevent
    FOR EACH ROW EXECUTE FUNCTION donations_deviceevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS donations_deviceevent_append_only ON donations_deviceevent;
DROP FUNCTION IF EXISTS donations_deviceevent_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0005_manifest_import_job"),
    ]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
