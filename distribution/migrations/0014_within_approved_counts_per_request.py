"""The statement-level check of 0012 counts what each touched request holds request by request.

0012 counted with one grouped query filtered by `request_id = ANY(touched)`. When the
statistics still said that hardly any allocation is held (a national run of a million
proposals, analysed before its approval starts), the planner read every held allocation
through the status index and tested each against the touched list: each approval part of
20,000 took 7.5 s in the check alone once 700,000 were approved, and the parts got slower as
the approval went on. Now each touched request's held allocations are counted through the
(request, status) index (a LATERAL subquery per request): 0.3 s for the same part, whatever
the statistics say. The rule, the locks, the error and the order of the reported request are
unchanged: a touched request without held allocations counts zero, which never exceeds what
was approved.
"""

from importlib import import_module

from django.db import migrations

PER_STATEMENT = import_module(
    "distribution.migrations.0012_allocation_within_approved_per_statement"
)
# Only the function: the triggers of 0012 stay as they are.
FUNCTION = PER_STATEMENT.CREATE[: PER_STATEMENT.CREATE.index("DROP TRIGGER")]

GROUPED = """
        FROM (SELECT a.request_id,
                     count(*) FILTER (WHERE d.kind <> 'tablet') AS laptops,
                     count(*) FILTER (WHERE d.kind = 'tablet') AS tablets
                FROM distribution_allocation a JOIN donations_device d ON d.id = a.device_id
                WHERE a.request_id = ANY(touched) AND a.status IN (HELD)
                GROUP BY a.request_id) c
        JOIN helprequests_helprequest r ON r.id = c.request_id
""".replace("HELD", PER_STATEMENT.HELD)

PER_REQUEST = """
        FROM unnest(touched) WITH ORDINALITY AS t(request_id, n)
        CROSS JOIN LATERAL (
            SELECT count(*) FILTER (WHERE d.kind <> 'tablet') AS laptops,
                   count(*) FILTER (WHERE d.kind = 'tablet') AS tablets
                FROM distribution_allocation a JOIN donations_device d ON d.id = a.device_id
                WHERE a.request_id = t.request_id AND a.status IN (HELD)) c
        JOIN helprequests_helprequest r ON r.id = t.request_id
""".replace("HELD", PER_STATEMENT.HELD)
# `touched` is in id order: ordering by its place reports the same (first) request as 0012,
# without offering the planner a walk along the requests' primary key (with LIMIT 1 it took
# that walk and scanned the touched list again for each request: minutes for a million).
BY_ID = "        ORDER BY r.id\n        LIMIT 1;"
BY_PLACE = "        ORDER BY t.n\n        LIMIT 1;"

if FUNCTION.count(GROUPED) != 1 or FUNCTION.count(BY_ID) != 1:
    raise RuntimeError("0012's count query is not where this migration expects it")
COUNTED_PER_REQUEST = FUNCTION.replace(GROUPED, PER_REQUEST).replace(BY_ID, BY_PLACE)


def per_request(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COUNTED_PER_REQUEST, params=None)


def grouped(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("distribution", "0013_unserved_run_no_trigger_no_index"),
    ]

    operations = [migrations.RunPython(per_request, grouped)]
