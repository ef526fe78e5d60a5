from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelprequestsConfig(AppConfig):
    name = "helprequests"
    verbose_name = _("Hulpaanvragen")
