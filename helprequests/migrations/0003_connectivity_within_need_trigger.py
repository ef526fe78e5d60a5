"""No help request gives out more internet households than it asked for: a constraint trigger
on PostgreSQL.

A CHECK constraint cannot add up rows, so a constraint trigger does it whenever an assignment
could add households: a new one that counts (assigned or fulfilled), or an update that brings
one back, raises its households or moves it to another request. It locks the help request
row first, so two transactions that each assign the last households of the same request are
serialised and the second one fails; under READ COMMITTED its sum then sees the first one's
committed row.

SQLite (the embedded default) relies on `connectivity_assign`, which checks the same under the
same row lock.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION helprequests_connectivity_within_need() RETURNS trigger AS $$
DECLARE
    needed integer;
    assigned integer;
BEGIN
    SELECT connectivity_households INTO needed
        FROM helprequests_helprequest WHERE id = NEW.help_request_id FOR UPDATE;
    SELECT coalesce(sum(households), 0) INTO assigned
        FROM helprequests_connectivityassignment
        WHERE help_request_id = NEW.help_request_id AND status IN ('assigned', 'fulfilled');
    IF assigned > needed THEN
        RAISE EXCEPTION 'help request % would have % households assigned, more than its %',
            NEW.help_request_id, assigned, needed
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'connectivity_within_need';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS connectivity_within_need ON helprequests_connectivityassignment;
CREATE CONSTRAINT TRIGGER connectivity_within_need
    AFTER INSERT ON helprequests_connectivityassignment
    FOR EACH ROW
    WHEN (NEW.status IN ('assigned', 'fulfilled'))
    EXECUTE FUNCTION helprequests_connectivity_within_need();

-- Providing (assigned -> fulfilled) and withdrawing never add households, so they do not fire
-- it: a provider's report locks only its assignment, never the request row.
DROP TRIGGER IF EXISTS connectivity_within_need_update ON helprequests_connectivityassignment;
CREATE CONSTRAINT TRIGGER connectivity_within_need_update
    AFTER UPDATE OF status, households, help_request_id ON helprequests_connectivityassignment
    FOR EACH ROW
    WHEN (
        NEW.status IN ('assigned', 'fulfilled')
        AND (
            OLD.status NOT IN ('assigned', 'fulfilled')
            OR NEW.households > OLD.households
            OR NEW.help_request_id <> OLD.help_request_id
        )
    )
    EXECUTE FUNCTION helprequests_connectivity_within_need();
"""

DROP = """
DROP TRIGGER IF EXISTS connectivity_within_need ON helprequests_connectivityassignment;
DROP TRIGGER IF EXISTS connectivity_within_need_update ON helprequests_connectivityassignment;
DROP FUNCTION IF EXISTS helprequests_connectivity_within_need();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("helprequests", "0002_connectivity")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
