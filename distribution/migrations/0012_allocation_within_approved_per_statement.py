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
    bad RECORD;
BEGIN
    -- Only rows that end up approved, shipped or delivered (the old trigger's WHEN clause).
    SELECT n.id, n.request_id, n.device_id,
           r.id IS NULL AS no_request, d.id IS NULL AS no_device INTO bad
        FROM new_allocations n
        LEFT JOIN helprequests_helprequest r ON r.id = n.request_id
        LEFT JOIN donations_device d ON d.id = n.device_id
        WHERE n.status IN ('approved', 'shipped', 'delivered') AND (r.id IS NULL OR d.id IS NULL)
        LIMIT 1;
    IF FOUND THEN
        IF bad.no_request THEN
            RAISE EXCEPTION 'allocation %: help request % does not exist', bad.id, bad.request_id
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        RAISE EXCEPTION 'allocation %: device % does not exist', bad.id, bad.device_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    -- Lock the touched requests first (a statement of its own: under READ COMMITTED the count
    -- below then sees what a transaction we waited for committed).
    PERFORM 1 FROM helprequests_helprequest
        WHERE id IN (SELECT request_id FROM new_allocations
                     WHERE status IN ('approved', 'shipped', 'delivered'))
        ORDER BY id FOR UPDATE;
    SELECT r.id, c.laptops, c.tablets INTO bad
        FROM (SELECT a.request_id,
                     count(*) FILTER (WHERE d.kind <> 'tablet') AS laptops,
                     count(*) FILTER (WHERE d.kind = 'tablet') AS tablets
                FROM distribution_allocation a JOIN donations_device d ON d.id = a.device_id
                WHERE a.status IN (HELD)
                  AND a.request_id IN (SELECT request_id FROM new_allocations
                                       WHERE status IN ('approved', 'shipped', 'delivered'))
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
