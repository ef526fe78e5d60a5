from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RefurbishConfig(AppConfig):
    name = "refurbish"
    verbose_name = _("Opknappen")
