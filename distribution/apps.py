from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DistributionConfig(AppConfig):
    name = "distribution"
    verbose_name = _("Toewijzing en verzending")

    def ready(self):
        from django.db.models.signals import post_migrate

        from allemaal.signals import ensure_staff_groups

        # The staff groups are filled after the platform app migrates, before this app's
        # permissions exist; fill them again once they do, or coordinators cannot see allocations.
        post_migrate.connect(ensure_staff_groups, sender=self, dispatch_uid="distribution_staff")
