"""What waits for the coordinators: the counts on the admin's start page, each with a link to
the filtered list where the work is done.

Every count is capped: the database stops after CAP + 1 matching rows, each found through an
index (a partial one where the rows are rare), so the start page costs five small queries
whether a table holds a thousand rows or millions (proposals come by the million).

Proposals have no index of their own (a run writes a million of them): they are counted in the
order of the partial index of live allocations (`allocation_one_live_per_device`: proposed,
approved, shipped), which holds the work in flight and none of the country's delivered
history. Counted in no order, the planner read the table from its start, past every decided
allocation, to the newest run's proposals at its end: 4.7 ms at 65,000 allocations, growing
with the nation, against 0.6 ms on the index.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from allemaal.models import Notification, Organisation
from distribution.models import Allocation, Shipment
from helprequests.models import HelpRequest

CAP = 999


@dataclass(frozen=True)
class Waiting:
    key: str
    label: str
    count: int
    url: str

    @property
    def capped(self) -> bool:
        return self.count > CAP

    @property
    def shown(self) -> str:
        return f"{CAP}+" if self.capped else str(self.count)


def _capped(queryset) -> int:
    # SELECT COUNT(*) FROM (SELECT ... LIMIT CAP + 1): never more than CAP + 1 rows read.
    return queryset[: CAP + 1].count()


def waiting() -> list[Waiting]:
    """Organisations to verify, requests to decide, proposals to approve, open discrepancies,
    failed mails."""
    rows = [
        (
            "organisations",
            _("Organisaties om te controleren"),
            Organisation.objects.filter(status=Organisation.Status.PENDING).order_by(),
            "admin:allemaal_organisation_changelist",
            "status__exact=pending",
        ),
        (
            "requests",
            _("Hulpaanvragen om te beoordelen"),
            HelpRequest.objects.filter(status=HelpRequest.Status.SUBMITTED).order_by(),
            "admin:helprequests_helprequest_changelist",
            "status__exact=submitted",
        ),
        (
            "proposals",
            _("Voorstellen om goed te keuren"),
            # In the live allocations' index order (the module's docstring).
            Allocation.objects.filter(status=Allocation.Status.PROPOSED).order_by("device_id"),
            "admin:distribution_allocation_changelist",
            "status=proposed",
        ),
        (
            "discrepancies",
            _("Zendingen met een open afwijking"),
            Shipment.objects.open_discrepancies().order_by(),
            "admin:distribution_shipment_changelist",
            "afwijking=open",
        ),
        (
            "mails",
            _("Mislukte e-mails"),
            Notification.objects.filter(status=Notification.Status.FAILED).order_by(),
            "admin:allemaal_notification_changelist",
            "status__exact=failed",
        ),
    ]
    return [
        Waiting(key, label, _capped(queryset), f"{reverse(name)}?{query}")
        for key, label, queryset, name, query in rows
    ]
