"""Why a request got no device in the latest run, in words: plainly for coordinators, kindly
for the requesting organisation (its queue position and what it waits for)."""

from __future__ import annotations

from django.db.models import Subquery
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from helprequests.models import HelpRequest, TargetGroup

from ..models import AllocationRun, UnservedRequest


def _kinds(categories: list[str]) -> str:
    names = {"laptop": _("laptops"), "tablet": _("tablets")}
    return _(" of ").join(str(names[c]) for c in categories) if categories else _("apparaten")


def _group(group: str) -> str:
    try:
        label = str(TargetGroup(group).label)
    except ValueError:
        return group
    return label[:1].lower() + label[1:]


def unserved_text(code: str, params: dict) -> str:
    """The reason for coordinators, in plain words."""
    kinds = _kinds(params.get("categories", []))
    group = _group(params.get("group", ""))
    if code == UnservedRequest.Code.NO_DEVICE_OF_TYPE:
        return _("Er zijn geen %(kinds)s klaar voor uitgifte.") % {"kinds": kinds}
    if code == UnservedRequest.Code.BELOW_MINIMUM:
        return _(
            "Er zijn wel %(kinds)s klaar, maar geen enkele voldoet aan de minimumeisen of de "
            "toegestane klassen voor %(group)s."
        ) % {"kinds": kinds, "group": group}
    if code == UnservedRequest.Code.REJECTED:
        return _(
            "Alle geschikte apparaten zijn eerder voor deze hulpaanvraag of deze organisatie "
            "afgewezen."
        )
    if code == UnservedRequest.Code.PAUSED:
        return _("Een coördinator heeft deze hulpaanvraag afgewezen tot nader order.")
    text = ngettext(
        "Voorrang voor %(n)d aanvraag uit een hogere prioriteitsgroep",
        "Voorrang voor %(n)d aanvragen uit een hogere prioriteitsgroep",
        params.get("higher_tier", 0),
    ) % {"n": params.get("higher_tier", 0)}
    text += ngettext(
        " en %(n)d aanvraag uit dezelfde groep met een hogere score of eerder goedgekeurd.",
        " en %(n)d aanvragen uit dezelfde groep met een hogere score of eerder goedgekeurd.",
        params.get("higher_score", 0),
    ) % {"n": params.get("higher_score", 0)}
    if params.get("share_used"):
        text += " " + _("Het eerlijke deel van de organisatie is al gebruikt.")
    return text


def request_wait_explanation(help_request: HelpRequest) -> str | None:
    """For the requesting organisation: its place in the queue and, kindly, why no device was
    proposed in the latest run; None when the latest run left it nothing to explain."""
    # The latest completed run as a subquery: one query, and the run's row (its statistics)
    # is not read and parsed for a line of text.
    latest = (
        AllocationRun.objects.filter(status=AllocationRun.Status.COMPLETED)
        .order_by("-id")
        .values("id")[:1]
    )
    reason = (
        UnservedRequest.objects.filter(run_id=Subquery(latest), request=help_request)
        .only("code", "params")
        .first()
    )
    if reason is None:
        return None
    params = reason.params
    queue = {"laptop": _("laptops"), "tablet": _("tablets")}.get(
        params.get("queue_category", ""), _("apparaten")
    )
    group = _group(params.get("group", ""))
    if reason.code == UnservedRequest.Code.PAUSED:
        return _("Uw aanvraag wordt nog bekeken; u hoort van ons zodra er meer bekend is.")
    start = _("U staat op plaats %(position)d van de wachtrij voor %(queue)s voor %(group)s") % {
        "position": params.get("position", 0),
        "queue": queue,
        "group": group,
    }
    if reason.code == UnservedRequest.Code.OUTRANKED:
        why = _(
            "de %(queue)s die nu klaarstaan, gaan eerst naar aanvragen met een hogere prioriteit"
        ) % {"queue": queue}
    else:
        why = _("er zijn nu geen geschikte %(queue)s vrij") % {"queue": queue}
    return _("%(start)s; %(why)s. Zodra er een geschikt apparaat is, krijgt u een voorstel.") % {
        "start": start,
        "why": why,
    }
