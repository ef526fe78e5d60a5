from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DistributionConfig(AppConfig):
    name = "distribution"
    verbose_name = _("Toewijzing en verzending")

    def ready(self):
        from . import handlers

        handlers.subscribe()
