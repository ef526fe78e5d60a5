"""Export columns of the distribution app's lists for coordinators (allocations, shipments,
support contacts); the export itself, formula-safe CSV and XLSX with the list's filters, is
`allemaal.exports`."""

from django.utils.translation import gettext_lazy as _

from allemaal.exports import Column, ExportSpec, register


def _province(request) -> str:
    return request.delivery_province or request.organisation.province


register(
    ExportSpec(
        "distribution.allocation",
        [
            Column(_("toewijzing"), "pk"),
            Column(_("status"), "get_status_display"),
            Column(_("apparaatcode"), "device.asset_tag"),
            Column(_("serienummer"), "device.serial_number"),
            Column(_("soort"), "device.get_kind_display"),
            Column(_("kwaliteit"), "device.grade"),
            Column(_("opknappartner"), "device.donation.refurbisher.name"),
            Column(_("hulpaanvraag"), "request.reference"),
            Column(_("organisatie"), "request.organisation.name"),
            Column(_("doelgroep"), "request.get_target_group_display"),
            Column(_("provincie"), lambda a: _province(a.request)),
            Column(_("score"), "score"),
            Column(_("ronde"), "run_id"),
            Column(_("reden met de hand"), "note"),
            Column(_("besloten op"), "decided_at"),
        ],
        filename="toewijzingen",
        select_related=("device__donation__refurbisher", "request__organisation"),
    )
)

register(
    ExportSpec(
        "distribution.shipment",
        [
            Column(_("zending"), "reference"),
            Column(_("status"), "get_status_display"),
            Column(_("opknappartner"), "refurbisher.name"),
            Column(_("organisatie"), "organisation.name"),
            Column(_("plaats"), "delivery_city"),
            Column(_("postcode"), "delivery_postcode"),
            Column(_("vervoerder"), "get_carrier_display"),
            Column(_("track-and-tracecode"), "tracking_code"),
            Column(_("aangemaakt op"), "created_at"),
            Column(_("verzonden op"), "shipped_at"),
            Column(_("ontvangst bevestigd op"), "delivered_at"),
            Column(_("afwijking"), "has_discrepancy"),
            Column(_("afwijking afgehandeld op"), "discrepancy_resolved_at"),
        ],
        filename="zendingen",
        select_related=("refurbisher", "organisation"),
    )
)

register(
    ExportSpec(
        "distribution.supportcontact",
        [
            Column(_("contact"), "pk"),
            Column(_("tijdstip"), "at"),
            Column(_("kanaal"), "get_channel_display"),
            Column(_("onderwerp"), "get_category_display"),
            Column(_("uitkomst"), "get_outcome_display"),
            Column(_("apparaatcode"), "device.asset_tag"),
            Column(_("serienummer"), "device.serial_number"),
            Column(_("organisatie"), "organisation.name"),
            Column(_("opgelost op"), "resolved_at"),
        ],
        filename="hulplijn",
        select_related=("device", "organisation"),
    )
)
