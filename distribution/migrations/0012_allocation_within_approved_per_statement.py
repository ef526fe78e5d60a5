"""The limit "never more devices than approved" checked once per statement, not once per row.

The constraint trigger of 0002/0003 ran for every allocation that became approved, shipped or
delivered, and counted the request's held devices each time: 48 of the 54 s that approving
100,000 proposals took. These statement-level triggers get the rows the statement wrote as a
transition table and check, in one query, only the requests those rows belong to: the same
rule (laptops and Chromebooks at most approved laptops plus "either", tablets at most approved
tablets plus "either", together at most the approved total; approved, shipped, delivered and
returned count as held), the same locks (the touched requests FOR UPDATE, in id order, before
counting, so two transactions filling the last place of a request are serialised and the second
one's count sees the first one's rows), the same error (SQLSTATE check_violation, constraint
allocation_request_within_approved, which the services turn into a clear message), and the same
stand-in for the foreign keys (a held allocation's device and request must exist).

A constraint trigger cannot be FOR EACH STATEMENT, and a trigger with transition tables cannot
name columns (UPDATE OF …) or serve two events, so there are two plain AFTER triggers, one for
INSERT and one for UPDATE; both fire at the end of the statement, as the non-deferrable
constraint trigger did. Like its WHEN clause, the check only looks at rows that end up held
(a million proposals COPYed in by a run are skipped by the first filter).

Also: the run's approval progress (`AllocationRun.approval`).
"""

from importlib import import_module

from django.db import migrations, models

HELD = "'approved', 'shipped', 'delivered', 'returned'"

CREATE = """
CREATE OR REPLACE FUNCTION distribution_allocations_within_approved() RETURNS trigger AS $$
DECLARE
    touched bigint[];
    devices bigint[];
    bad RECORD;
BEGIN
    -- Only rows that end up approved, shipped or delivered (the old trigger's WHEN clause).
    -- The requests and devices go into arrays first: every query below then looks them up by
    -- index, whatever the planner guesses about the transition table (it has no statistics).
    SELECT array_agg(DISTINCT request_id ORDER BY request_id), array_agg(DISTINCT device_id)
        INTO touched, devices
        FROM new_allocations WHERE status IN ('approved', 'shipped', 'delivered');
    IF touched IS NULL THEN
        RETURN NULL;
    END IF;
    -- Lock the touched requests first (a statement of its own: under READ COMMITTED the count
    -- below then sees what a transaction we waited for committed).
    PERFORM 1 FROM helprequests_helprequest WHERE id = ANY(touched) ORDER BY id FOR UPDATE;
    IF (SELECT count(*) FROM helprequests_helprequest WHERE id = ANY(touched))
            < cardinality(touched) THEN
        SELECT n.id, n.request_id INTO bad FROM new_allocations n
            WHERE n.status IN ('approved', 'shipped', 'delivered') AND NOT EXISTS (
                SELECT 1 FROM helprequests_helprequest r WHERE r.id = n.request_id)
            ORDER BY n.id LIMIT 1;
        RAISE EXCEPTION 'allocation %: help request % does not exist', bad.id, bad.request_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF (SELECT count(*) FROM donations_device WHERE id = ANY(devices)) < cardinality(devices) THEN
        SELECT n.id, n.device_id INTO bad FROM new_allocations n
            WHERE n.status IN ('approved', 'shipped', 'delivered') AND NOT EXISTS (
                SELECT 1 FROM donations_device d WHERE d.id = n.device_id)
            ORDER BY n.id LIMIT 1;
        RAISE EXCEPTION 'allocation %: device % does not exist', bad.id, bad.device_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    SELECT r.id, c.laptops, c.tablets INTO bad
        FROM (SELECT a.request_id,
                     count(*) FILTER (WHERE d.kind <> 'tablet') AS laptops,
                     count(*) FILTER (WHERE d.kind = 'tablet') AS tablets
                FROM distribution_allocation a JOIN donations_device d ON d.id = a.device_id
                WHERE a.request_id = ANY(touched) AND a.status IN (HELD)
                GROUP BY a.request_id) c
        JOIN helprequests_helprequest r ON r.id = c.request_id
        WHERE c.laptops + c.tablets > r.approved_laptops + r.approved_tablets + r.approved_either
           OR greatest(c.laptops - r.approved_laptops, 0)
              + greatest(c.tablets - r.approved_tablets, 0) > r.approved_either
        ORDER BY r.id
        LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'help request % would hold % laptops and % tablets, more than approved',
            bad.id, bad.laptops, bad.tablets
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'allocation_request_within_approved';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS allocation_request_within_approved ON distribution_allocation;
DROP FUNCTION IF EXISTS distribution_allocation_within_approved();

CREATE TRIGGER allocation_request_within_approved_insert
    AFTER INSERT ON distribution_allocation
    REFERENCING NEW TABLE AS new_allocations
    FOR EACH STATEMENT EXECUTE FUNCTION distribution_allocations_within_approved();
CREATE TRIGGER allocation_request_within_approved_update
    AFTER UPDATE ON distribution_allocation
    REFERENCING NEW TABLE AS new_allocations
    FOR EACH STATEMENT EXECUTE FUNCTION distribution_allocations_within_approved();
""".replace("HELD", HELD)

DROP = """
DROP TRIGGER IF EXISTS allocation_request_within_approved_insert ON distribution_allocation;
DROP TRIGGER IF EXISTS allocation_request_within_approved_update ON distribution_allocation;
DROP FUNCTION IF EXISTS distribution_allocations_within_approved();
"""


def per_statement(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def per_row(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)
        first = import_module("distribution.migrations.0002_allocation_within_approved_trigger")
        returns = import_module("distribution.migrations.0003_allocation_returns")
        schema_editor.execute(first.CREATE, params=None)
        held = "'approved', 'shipped', 'delivered', 'returned'"
        schema_editor.execute(returns.FUNCTION.replace("HELD", held), params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("distribution", "0011_queue_place_records"),
    ]

    operations = [
        migrations.AddField(
            model_name="allocationrun",
            name="approval",
            field=models.JSONField(blank=True, default=dict, verbose_name="goedkeuring"),
        ),
        migrations.RunPython(per_statement, per_row),
    ]
