"""Allocations that came back through the support line: `returned` (no replacement: the
request keeps the place, so it counts as held) and `replaced` (the place is free again).

The constraint trigger of 0002 now counts `returned` among the devices a request holds. Its WHEN
clause is unchanged: moving a delivered allocation to `returned` never adds to the count.
"""

from django.db import migrations, models

FUNCTION = """
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
        WHERE a.request_id = NEW.request_id
          AND a.status IN (HELD);
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
"""


def count_returned(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        held = "'approved', 'shipped', 'delivered', 'returned'"
        schema_editor.execute(FUNCTION.replace("HELD", held), params=None)


def count_without_returned(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        held = "'approved', 'shipped', 'delivered'"
        schema_editor.execute(FUNCTION.replace("HELD", held), params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("distribution", "0002_allocation_within_approved_trigger"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="allocation",
            name="allocation_status_valid",
        ),
        migrations.RemoveIndex(
            model_name="allocation",
            name="allocation_request_decided",
        ),
        migrations.RemoveIndex(
            model_name="allocation",
            name="allocation_device_history",
        ),
        migrations.AlterField(
            model_name="allocation",
            name="status",
            field=models.CharField(
                choices=[
                    ("proposed", "Voorgesteld"),
                    ("approved", "Goedgekeurd"),
                    ("rejected", "Afgewezen"),
                    ("cancelled", "Geannuleerd"),
                    ("shipped", "Verzonden"),
                    ("delivered", "Afgeleverd"),
                    ("returned", "Teruggestuurd, geen vervanging"),
                    ("replaced", "Teruggestuurd, vervanging nodig"),
                ],
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.AddIndex(
            model_name="allocation",
            index=models.Index(
                condition=models.Q(
                    (
                        "status__in",
                        [
                            "approved",
                            "rejected",
                            "cancelled",
                            "shipped",
                            "delivered",
                            "returned",
                            "replaced",
                        ],
                    )
                ),
                fields=["request", "status"],
                name="allocation_request_decided",
            ),
        ),
        migrations.AddIndex(
            model_name="allocation",
            index=models.Index(
                condition=models.Q(
                    ("status__in", ["rejected", "cancelled", "delivered", "returned", "replaced"])
                ),
                fields=["device"],
                name="allocation_device_history",
            ),
        ),
        migrations.AddConstraint(
            model_name="allocation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "status__in",
                        [
                            "proposed",
                            "approved",
                            "rejected",
                            "cancelled",
                            "shipped",
                            "delivered",
                            "returned",
                            "replaced",
                        ],
                    )
                ),
                name="allocation_status_valid",
            ),
        ),
        migrations.RunPython(count_returned, count_without_returned),
    ]
