from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The composition root: settings, root URLs, Celery, demo seeding and the staff groups,
    which know every app. Nothing imports it."""

    name = "config"
    verbose_name = "Configuration"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .staff_groups import ensure_staff_groups

        # After every app's migrations: each app's permissions exist only once it has migrated.
        post_migrate.connect(ensure_staff_groups, dispatch_uid="config_staff_groups")

        from . import scheduler

        scheduler.start()  # `make run` only: the periodic jobs in-process
