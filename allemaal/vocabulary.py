"""Words more than one app needs and that belong to no single one of them.

The target groups are chosen on a help request (helprequests) and named on the donor's outcome
of a delivered device (donations), two apps that never import each other.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TargetGroup(models.TextChoices):
    PRIMARY_PUPILS = "primary_pupils", _("Leerlingen in het basisonderwijs")
    SECONDARY_PUPILS = "secondary_pupils", _("Leerlingen in het voortgezet onderwijs")
    MBO_STUDENTS = "mbo_students", _("Mbo-studenten")
    ISOLATED_ELDERLY = "isolated_elderly", _("Ouderen in een isolement")
    LOW_INCOME_FAMILIES = "low_income_families", _("Gezinnen met een laag inkomen")
    DISABILITY = "disability", _("Mensen met een beperking")
    NEWCOMERS = "newcomers", _("Nieuwkomers")
    OTHER = "other", _("Andere doelgroep")
