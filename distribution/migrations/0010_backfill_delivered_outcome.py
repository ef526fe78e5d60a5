"""Devices delivered before the outcome fields existed get them from their delivered allocation:
the kind of organisation, province and target group the donor's outcome names."""

from django.db import migrations


def backfill(apps, schema_editor):
    Allocation = apps.get_model("distribution", "Allocation")
    Device = apps.get_model("donations", "Device")
    rows = (
        Allocation.objects.filter(status="delivered", device__state="delivered")
        .values_list(
            "device_id",
            "request__organisation__sector",
            "request__delivery_province",
            "request__organisation__province",
            "request__target_group",
        )
        .order_by("device_id")
        .iterator(chunk_size=2000)
    )
    batch = []
    for device_id, sector, delivery_province, province, target_group in rows:
        batch.append(
            Device(
                pk=device_id,
                delivered_sector=sector or "",
                delivered_province=delivery_province or province or "",
                delivered_target_group=target_group or "",
            )
        )
        if len(batch) >= 2000:
            _save(Device, batch)
            batch = []
    _save(Device, batch)


def _save(Device, batch):
    Device.objects.bulk_update(
        batch, ["delivered_sector", "delivered_province", "delivered_target_group"]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("distribution", "0009_rejections_stick_and_why_not"),
        ("donations", "0008_device_outcomes_not_received_lost"),
        ("helprequests", "0003_connectivity_within_need_trigger"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
