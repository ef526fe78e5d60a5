"""The dashboard page: numbers from the snapshot (or live from the facts when filtered by
province, target group or refurbisher), turned into labelled rows and charts."""

from __future__ import annotations

from datetime import date, datetime, time
from urllib.parse import urlencode

from django.apps import apps
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from allemaal.exports import export_url, spec_for
from donations.models import Device
from helprequests.models import TargetGroup

from . import dashboard, sources
from .charts import Series, bar_chart, line_chart
from .dashboard import AGE_BUCKETS, Filters
from .models import DashboardSnapshot


def stage_label(stage: str) -> str:
    return _("Toegezegd") if stage == "pledged" else str(Device.State(stage).label)


def type_label(kind: str) -> str:
    return {
        "laptop": _("Laptops en Chromebooks"),
        "tablet": _("Tablets"),
        "either": _("Laptop of tablet (maakt niet uit)"),
    }[kind]


def lead_label(step: str) -> str:
    return {
        "pledge_received": _("Van aanmelding tot ontvangst"),
        "received_ready": _("Van ontvangst tot klaar voor gebruik"),
        "ready_delivered": _("Van klaar voor gebruik tot afgeleverd"),
    }[step]


def age_labels() -> list[str]:
    labels = []
    for low, high in AGE_BUCKETS:
        if high is None:
            labels.append(_("%(n)d dagen of langer") % {"n": low})
        elif low == 0:
            labels.append(_("korter dan %(n)d dagen") % {"n": high})
        else:
            labels.append(_("%(low)d tot %(high)d dagen") % {"low": low, "high": high})
    return labels


def group_label(value: str) -> str:
    try:
        return str(TargetGroup(value).label)
    except ValueError:
        return value or _("(geen)")


def dashboard_data(snapshot: DashboardSnapshot, filters: Filters, names: dict[int, str]) -> dict:
    """Precomputed for the period alone; counted live from the facts for other filters."""
    unfiltered = snapshot.data["views"][filters.period]
    if not filters.by_dimension:
        return unfiltered
    return dashboard.compute(
        filters, demand_cube=snapshot.data["demand"], refurbishers=names, unfiltered=unfiltered
    )


def build(snapshot: DashboardSnapshot, filters: Filters, names: dict[int, str]) -> dict:
    data = dashboard_data(snapshot, filters, names)
    return {
        "data": data,
        "period_start": parse_date(data["period_start"]) if data["period_start"] else None,
        "live": filters.by_dimension,
        "funnel": _funnel(data),
        "demand": _demand(data["demand"]),
        "supply_demand": _supply_demand(data["supply_demand"]),
        "lead_times": _lead_times(data["lead_times"]),
        "refurbishers": _refurbishers(data["refurbishers"]),
        "throughput": _throughput(data["throughput"]),
        "discrepancies": sources.open_discrepancies(),
        "support": sources.open_support_contacts(),
        "exports": export_links(filters, data),
    }


def _funnel(data: dict) -> dict:
    rows = [(stage_label(r["stage"]), r["reached"], r["now"]) for r in data["funnel"]]
    chart = bar_chart(
        "chart-funnel",
        _("Trechter: apparaten per stap"),
        [label for label, _reached, _now in rows],
        [Series(_("Bereikt"), [reached for _label, reached, _now in rows])],
        desc=_("Hoeveel apparaten elke stap hebben bereikt. De cijfers staan in de tabel."),
    )
    return {"rows": rows, "chart": chart}


def _demand(demand: dict) -> dict:
    by_group = [(group_label(r["target_group"]), r) for r in demand["by_group"]]
    by_province = [(r["province"] or _("(onbekend)"), r) for r in demand["by_province"]]
    return {
        "totals": demand["totals"],
        "devices": demand["devices"],
        "by_group": by_group,
        "by_province": by_province,
        "chart_group": bar_chart(
            "chart-demand-group",
            _("Nog nodig per doelgroep"),
            [label for label, _r in by_group],
            [Series(_("Apparaten nog nodig"), [r["devices"] for _label, r in by_group])],
            desc=_("Apparaten die goedgekeurde hulpaanvragen nog nodig hebben, per doelgroep."),
        ),
        "chart_province": bar_chart(
            "chart-demand-province",
            _("Nog nodig per provincie"),
            [label for label, _r in by_province],
            [Series(_("Apparaten nog nodig"), [r["devices"] for _label, r in by_province])],
            desc=_("Apparaten die goedgekeurde hulpaanvragen nog nodig hebben, per provincie."),
        ),
    }


def _supply_demand(rows: list[dict]) -> dict:
    labelled = [(type_label(r["type"]), r["supply"], r["demand"]) for r in rows]
    chart = bar_chart(
        "chart-supply-demand",
        _("Voorraad tegenover vraag per apparaatsoort"),
        [label for label, _s, _d in labelled],
        [
            Series(_("Klaar voor gebruik"), [s for _label, s, _d in labelled]),
            Series(_("Nog nodig"), [d for _label, _s, d in labelled]),
        ],
        desc=_("Apparaten klaar voor gebruik tegenover wat aanvragen nog nodig hebben."),
    )
    return {"rows": labelled, "chart": chart}


def _lead_times(rows: list[dict]) -> dict:
    labelled = [(lead_label(r["step"]), r["devices"], r["median"], r["p90"]) for r in rows]
    chart = bar_chart(
        "chart-lead-times",
        _("Doorlooptijden in dagen"),
        [label for label, *_rest in labelled],
        [
            Series(_("Mediaan"), [median for _l, _n, median, _p in labelled]),
            Series(_("90e percentiel"), [p90 for _l, _n, _m, p90 in labelled]),
        ],
        desc=_("Mediaan en 90e percentiel van de doorlooptijd per stap, in dagen."),
    )
    return {"rows": labelled, "chart": chart}


def _refurbishers(rows: list[dict]) -> dict:
    labels = age_labels()
    chart = bar_chart(
        "chart-backlog",
        _("Werkvoorraad per opknappartner, naar wachttijd"),
        [r["name"] for r in rows],
        [Series(label, [r["ages"][i] for r in rows]) for i, label in enumerate(labels)],
        stacked=True,
        desc=_("Apparaten die bij elke opknappartner wachten, naar hoe lang ze al wachten."),
    )
    return {"rows": rows, "age_labels": labels, "chart": chart}


def _throughput(rows: list[dict]) -> dict:
    states = [Device.State.RECEIVED, Device.State.READY, Device.State.DELIVERED]
    states.append(Device.State.RECYCLED)
    weeks = [parse_date(r["week"]) for r in rows]
    labels = [w.strftime("%d-%m") for w in weeks]
    chart = line_chart(
        "chart-throughput",
        _("Doorstroom per week, laatste 12 weken"),
        labels,
        [Series(str(s.label), [r[s.value] for r in rows]) for s in states],
        desc=_("Apparaten per week ontvangen, klaargemaakt, afgeleverd en gerecycled."),
    )
    table = [(w, [r[s.value] for s in states]) for w, r in zip(weeks, rows, strict=True)]
    return {"rows": table, "states": [s.label for s in states], "chart": chart}


# Each export with the dashboard's filters in the query string of that model's change list.
EXPORTS = [
    ("donations.donation", lambda: _("Donaties")),
    ("donations.device", lambda: _("Apparaten")),
    ("helprequests.helprequest", lambda: _("Hulpaanvragen")),
    ("distribution.allocation", lambda: _("Toewijzingen")),
    ("distribution.shipment", lambda: _("Zendingen")),
    ("helprequests.connectivityassignment", lambda: _("Internetopdrachten")),
    ("distribution.supportcontact", lambda: _("Contacten met de hulplijn")),
]


def _export_params(label: str, filters: Filters, data: dict) -> dict:
    province, group, refurbisher = filters.province, filters.target_group, filters.refurbisher_id
    params: dict = {}
    if label == "donations.donation":
        params = {"pickup_province__exact": province, "refurbisher__id__exact": refurbisher}
        if data.get("period_start"):
            start = date.fromisoformat(data["period_start"])
            moment = timezone.make_aware(datetime.combine(start, time.min))
            params["created_at__gte"] = moment.isoformat(sep=" ")
    elif label == "donations.device":
        params = {"donation__refurbisher__id__exact": refurbisher}
    elif label == "helprequests.helprequest":
        params = {"delivery_province__exact": province, "target_group__exact": group}
    elif label == "distribution.allocation":
        params = {
            "request__delivery_province__exact": province,
            "request__target_group__exact": group,
        }
    elif label == "helprequests.connectivityassignment":
        params = {"help_request__delivery_province__exact": province}
    return {key: value for key, value in params.items() if value}


def export_links(filters: Filters, data: dict) -> list[dict]:
    links = []
    for label, title in EXPORTS:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        if spec_for(model) is None:
            continue
        query = urlencode(_export_params(label, filters, data))
        links.append(
            {
                "title": title(),
                "csv": export_url(model, "csv", query),
                "xlsx": export_url(model, "xlsx", query),
                "filtered": bool(query),
            }
        )
    return links
