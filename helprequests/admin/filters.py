"""The filters of the help requests' change list: waiting time, possible twins, internet."""

from datetime import timedelta

from django.contrib import admin
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..services import connectivity


class AgeFilter(admin.SimpleListFilter):
    """How long a request has waited since it was submitted."""

    title = _("wacht sinds indienen")
    parameter_name = "age"
    BUCKETS = {
        "lt7": (None, 7),
        "7to30": (7, 30),
        "gt30": (30, None),
    }

    def lookups(self, request, model_admin):
        return [
            ("lt7", _("korter dan 7 dagen")),
            ("7to30", _("7 tot 30 dagen")),
            ("gt30", _("langer dan 30 dagen")),
        ]

    def queryset(self, request, queryset):
        if self.value() not in self.BUCKETS:
            return queryset
        younger, older = self.BUCKETS[self.value()]
        now = timezone.now()
        queryset = queryset.filter(submitted_at__isnull=False)
        if younger is not None:
            queryset = queryset.filter(submitted_at__lte=now - timedelta(days=younger))
        if older is not None:
            queryset = queryset.filter(submitted_at__gt=now - timedelta(days=older))
        return queryset


class DuplicateFilter(admin.SimpleListFilter):
    title = _("mogelijk dubbel")
    parameter_name = "duplicate"

    def lookups(self, request, model_admin):
        return [("yes", _("ja")), ("no", _("nee"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(duplicate_of__isnull=False)
        if self.value() == "no":
            return queryset.filter(duplicate_of__isnull=True)
        return queryset


class ConnectivityFilter(admin.SimpleListFilter):
    """Requests whose households still need a telecom provider: the coordinators' to-do list."""

    title = _("internetverbinding")
    parameter_name = "internet"

    def lookups(self, request, model_admin):
        return [
            ("open", _("nog toe te wijzen")),
            ("assigned", _("helemaal toegewezen")),
            ("none", _("niet nodig")),
        ]

    def queryset(self, request, queryset):
        needed = queryset.filter(connectivity_households__gt=0)
        if self.value() == "open":
            return needed.filter(
                status__in=connectivity.ASSIGNABLE_REQUEST_STATUSES,
                connectivity_assigned__lt=F("connectivity_households"),
            )
        if self.value() == "assigned":
            return needed.filter(connectivity_assigned__gte=F("connectivity_households"))
        if self.value() == "none":
            return queryset.filter(connectivity_households=0)
        return queryset
