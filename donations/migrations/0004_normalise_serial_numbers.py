"""Store every serial number as `normalise_serial` spells it (no whitespace, capitals).

Intake used to store a serial that was not on the donor's list as scanned (case kept, spaces
collapsed); matching is now one exact comparison with the normalised spelling, so such a row
would be missed by the next scan, the erasure logs and the helpdesk. A row whose normalised
spelling is taken already (the listed device it should have been) is left as it is: two
custody trails cannot be merged by a migration; a coordinator settles that device by hand.
"""

from django.db import migrations

from donations.vocabulary import normalise_serial

CHUNK = 2000


def normalise_serial_numbers(apps, schema_editor):
    Device = apps.get_model("donations", "Device")
    changes = {
        pk: normalise_serial(serial)
        for pk, serial in Device.objects.values_list("pk", "serial_number").iterator(
            chunk_size=CHUNK
        )
        if serial != normalise_serial(serial)
    }
    wanted = sorted(set(changes.values()))
    taken = set()
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        taken.update(
            Device.objects.filter(serial_number__in=chunk).values_list("serial_number", flat=True)
        )
    for pk, serial in sorted(changes.items()):
        if serial and serial not in taken:
            Device.objects.filter(pk=pk).update(serial_number=serial)
            taken.add(serial)


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0003_status_event_labels"),
    ]

    operations = [
        migrations.RunPython(normalise_serial_numbers, migrations.RunPython.noop, elidable=True),
    ]
