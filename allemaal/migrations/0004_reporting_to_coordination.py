# The reporting tables move to the app `coordination` (coordination/0001_initial), which keeps
# their table names: only Django's idea of which app owns them changes; no SQL runs.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('allemaal', '0003_notification_to_email_index'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='DashboardSnapshot'),
                migrations.DeleteModel(name='DeviceFact'),
            ],
            database_operations=[],
        ),
    ]
