"""No help request holds more devices than approved: a constraint trigger on PostgreSQL.

A CHECK constraint cannot count rows, so a constraint trigger does it for every allocation that
becomes approved, shipped or delivered (a proposal costs nothing: the WHEN clause skips it, so
COPYing a million proposals fires no function). It locks the request row first, so two
transactions that each approve the last free place of the same request are serialised and the
second one fails; under READ COMMITTED its count then sees the first one's committed rows.

The rule is the solver's, per type: laptops (and Chromebooks) at most approved laptops plus
"either", tablets at most approved tablets plus "either", together at most the approved total.
The trigger also refuses a committed allocation whose device or request does not exist, which
stands in for the per-row foreign keys the table does without (see distribution/models.py).

SQLite (the embedded default) relies on the services, which check the same under a row lock.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION distribution_allocation_within_approved() RETURNS trigger AS $$
DECLARE
    req RECORD;
    laptops integer;
    tablets integer;
BEGIN
    SELECT approved_laptops, approved_tablets, approved_either INTO req
        FROM helprequests_helprequest WHERE id = NEW.request_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'allocation %: help request % does not exist', NEW.id, NEW.request_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    PERFORM 1 FROM donations_device WHERE id = NEW.device_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'allocation %: device % does not exist', NEW.id, NEW.device_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    SELECT count(*) FILTER (WHERE d.kind <> 'tablet'), count(*) FILTER (WHERE d.kind = 'tablet')
        INTO laptops, tablets
        FROM distribution_allocation a JOIN donations_device d ON d.id = a.device_id
        WHERE a.request_id = NEW.request_id AND a.status IN ('approved', 'shipped', 'delivered');
    IF laptops + tablets > req.approved_laptops + req.approved_tablets + req.approved_either
        OR greatest(laptops - req.approved_laptops, 0) + greatest(tablets - req.approved_tablets, 0)
            > req.approved_either
    THEN
        RAISE EXCEPTION 'help request % would hold % laptops and % tablets, more than approved',
            NEW.request_id, laptops, tablets
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'allocation_request_within_approved';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS allocation_request_within_approved ON distribution_allocation;
CREATE CONSTRAINT TRIGGER allocation_request_within_approved
    AFTER INSERT OR UPDATE OF status, request_id, device_id ON distribution_allocation
    FOR EACH ROW
    WHEN (NEW.status IN ('approved', 'shipped', 'delivered'))
    EXECUTE FUNCTION distribution_allocation_within_approved();
"""

DROP = """
DROP TRIGGER IF EXISTS allocation_request_within_approved ON distribution_allocation;
DROP FUNCTION IF EXISTS distribution_allocation_within_approved();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("distribution", "0001_initial"),
        ("donations", "0002_policy_manifest_constraints"),
        ("helprequests", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
