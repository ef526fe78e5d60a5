"""PDF documents of a shipment: the packing list and one instruction sheet per device.

Both are rendered in the active language (Dutch first; `?lang=en` renders English). Barcodes and
QR codes come from the refurbishment's label helpers, so a tag scans the same everywhere.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.graphics.barcode import code128
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from donations.models import OperatingSystem
from refurbish.asset_tags import format_asset_tag
from refurbish.pdf import _qr_drawing

from . import instructions

MARGIN = 15 * mm


def _styles() -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle("title", fontName="Helvetica-Bold", fontSize=18, leading=22),
        "h2": ParagraphStyle(
            "h2", fontName="Helvetica-Bold", fontSize=13, leading=16, spaceBefore=8, spaceAfter=3
        ),
        "body": ParagraphStyle("body", fontName="Helvetica", fontSize=11, leading=15),
        "bullet": ParagraphStyle(
            "bullet", fontName="Helvetica", fontSize=11, leading=15, leftIndent=12, bulletIndent=2
        ),
        "big": ParagraphStyle("big", fontName="Helvetica-Bold", fontSize=15, leading=19),
        "small": ParagraphStyle("small", fontName="Helvetica", fontSize=8.5, leading=11),
        "cell": ParagraphStyle("cell", fontName="Helvetica", fontSize=9, leading=11),
        "head": ParagraphStyle("head", fontName="Helvetica-Bold", fontSize=9, leading=11),
    }


def _p(text, style) -> Paragraph:
    return Paragraph(escape(str(text)), style)


def _doc(buffer, title: str) -> SimpleDocTemplate:
    return SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author="#allemaaldigitaal",
    )


def _barcode(tag: str, width: float):
    bar_width = 0.25 * mm
    barcode = code128.Code128(tag, barHeight=9 * mm, barWidth=bar_width, quiet=False)
    if barcode.width > width:
        bar_width *= width / barcode.width
        barcode = code128.Code128(tag, barHeight=9 * mm, barWidth=bar_width, quiet=False)
    return barcode


def _make_model(device) -> str:
    return f"{device.make} {device.model}".strip() or device.get_kind_display()


def _charger(device) -> str:
    if device.charger_included is None:
        return _("Onbekend")
    return _("Ja") if device.charger_included else _("Nee")


def _support_line() -> str:
    return _("Gratis hulplijn: %(phone)s (%(hours)s)") % {
        "phone": settings.SUPPORT_PHONE,
        "hours": settings.SUPPORT_HOURS,
    }


# --- Packing list ---------------------------------------------------------------------------------


def packing_list_pdf(shipment, items) -> bytes:
    """Who sends what to whom: the organisation, the delivery address and contact, and per device
    its asset tag (as Code 128 and as text), serial number, make and model, and charger."""
    styles = _styles()
    buffer = io.BytesIO()
    title = _("Paklijst zending %(ref)s") % {"ref": shipment.reference}
    doc = _doc(buffer, title)
    story = [_p(title, styles["title"]), Spacer(1, 4 * mm), _facts(shipment, len(items), styles)]
    story += [Spacer(1, 5 * mm), _items_table(items, styles), Spacer(1, 5 * mm)]
    confirm_url = settings.SITE_URL + reverse("distribution:shipment", args=[shipment.pk])
    story.append(
        _p(
            _(
                "Controleer bij ontvangst of alle apparaten er zijn en bevestig de ontvangst op "
                "%(url)s"
            )
            % {"url": confirm_url},
            styles["body"],
        )
    )
    story.append(_p(_support_line(), styles["body"]))
    doc.build(story, onFirstPage=_footer(shipment), onLaterPages=_footer(shipment))
    return buffer.getvalue()


def _facts(shipment, count: int, styles) -> Table:
    refurbisher = shipment.refurbisher
    contact = ", ".join(
        part for part in (shipment.contact_name, str(shipment.contact_phone or "")) if part
    )
    rows = [
        (_("Organisatie"), shipment.organisation.name),
        (_("Afleveradres"), shipment.delivery_address),
        (_("Contactpersoon"), contact or "-"),
        (
            _("Van"),
            f"{refurbisher.name}, {refurbisher.street}, {refurbisher.postcode} {refurbisher.city}",
        ),
        (_("Aantal apparaten"), str(count)),
    ]
    if shipment.carrier:
        tracking = shipment.tracking_code or "-"
        rows.append((_("Vervoerder"), f"{shipment.get_carrier_display()}, {tracking}"))
    return Table(
        [[_p(label, styles["head"]), _p(value, styles["cell"])] for label, value in rows],
        colWidths=[40 * mm, 140 * mm],
        style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]),
    )


def _items_table(items, styles) -> Table:
    head = ["#", _("Apparaatcode"), _("Serienummer"), _("Merk en model"), _("Oplader")]
    head += [_("Hulpaanvraag"), _("Ontvangen")]
    rows = [[_p(h, styles["head"]) for h in head]]
    for number, item in enumerate(items, start=1):
        device = item.device
        rows.append(
            [
                _p(number, styles["cell"]),
                [
                    _barcode(device.asset_tag, 48 * mm),
                    _p(format_asset_tag(device.asset_tag), styles["cell"]),
                ],
                _p(device.serial_number, styles["cell"]),
                _p(f"{_make_model(device)} ({device.get_kind_display()})", styles["cell"]),
                _p(_charger(device), styles["cell"]),
                _p(item.request.reference, styles["cell"]),
                _p("[   ]", styles["cell"]),
            ]
        )
    widths = [6 * mm, 50 * mm, 28 * mm, 30 * mm, 16 * mm, 28 * mm, 22 * mm]
    return Table(
        rows,
        colWidths=widths,
        repeatRows=1,
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef4fa")),
            ]
        ),
    )


def _footer(shipment):
    printed = timezone.localtime().strftime("%d-%m-%Y %H:%M")

    def draw(pdf, doc):
        pdf.saveState()
        pdf.setFont("Helvetica", 7.5)
        pdf.drawString(MARGIN, 8 * mm, f"#allemaaldigitaal · {shipment.reference} · {printed}")
        pdf.drawRightString(A4[0] - MARGIN, 8 * mm, str(doc.page))
        pdf.restoreState()

    return draw


# --- Instruction sheets ---------------------------------------------------------------------------

TITLES = {
    "laptop": _("Uw laptop van #allemaaldigitaal"),
    "chromebook": _("Uw Chromebook van #allemaaldigitaal"),
    "tablet": _("Uw tablet van #allemaaldigitaal"),
}


def help_url(kind: str) -> str:
    return settings.SITE_URL + reverse(
        "distribution:help_kind", args=[instructions.help_kind(kind)]
    )


def instruction_sheets_pdf(devices) -> bytes:
    """One page per device, in plain language: switching on, the first log-in, Wi-Fi, what
    was installed, what to do when it does not work, the free support line with the asset tag
    to mention, and a QR code to the help page of its type."""
    styles = _styles()
    buffer = io.BytesIO()
    doc = _doc(buffer, _("Uitleg bij uw apparaat"))
    story = []
    for index, device in enumerate(devices):
        if index:
            story.append(PageBreak())
        story += _sheet(device, styles)
    doc.build(story)
    return buffer.getvalue()


def _sheet(device, styles) -> list:
    kind = instructions.help_kind(device.kind)
    family = instructions.family_for(device.kind, device.os_installed)
    tag = format_asset_tag(device.asset_tag)
    story = [
        _p(TITLES[kind], styles["title"]),
        Spacer(1, 2 * mm),
        _p(
            _(
                "Dit apparaat is een gift van een bedrijf. Het is opgeknapt en klaar voor "
                "gebruik. Alle gegevens van de vorige eigenaar zijn veilig gewist."
            ),
            styles["body"],
        ),
        Spacer(1, 3 * mm),
        _tag_box(device, tag, styles),
    ]
    for section in instructions.sections(device.kind, family):
        story.append(
            KeepTogether(
                [_p(section.title, styles["h2"])]
                + [
                    Paragraph(escape(str(line)), styles["bullet"], bulletText="•")
                    for line in section.lines
                ]
            )
        )
    story += [
        _p(_("Wat staat erop?"), styles["h2"]),
        _p(_installed(device, family), styles["body"]),
    ]
    story += [Spacer(1, 4 * mm), _support_box(device, tag, styles)]
    return story


def _tag_box(device, tag: str, styles) -> Table:
    return Table(
        [
            [
                [
                    _p(_("Apparaatcode: %(tag)s") % {"tag": tag}, styles["big"]),
                    _p(_("Noem deze code als u de hulplijn belt."), styles["body"]),
                    _p(_make_model(device), styles["small"]),
                ],
                _barcode(device.asset_tag, 60 * mm),
            ]
        ],
        colWidths=[110 * mm, 70 * mm],
        style=TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        ),
    )


def _installed(device, family: str) -> str:
    system = (
        OperatingSystem(device.os_installed).label
        if device.os_installed in OperatingSystem.values
        else instructions.FAMILY_NAMES[family]
    )
    return _("Op dit apparaat staat %(system)s, met %(apps)s.") % {
        "system": system,
        "apps": instructions.INSTALLED[family],
    }


def _support_box(device, tag: str, styles) -> Table:
    url = help_url(device.kind)
    text = [
        _p(_("Hulp nodig?"), styles["h2"]),
        _p(_support_line(), styles["big"]),
        _p(
            _("Bel gratis. Noem de apparaatcode %(tag)s. Dan weten wij welk apparaat u heeft.")
            % {"tag": tag},
            styles["body"],
        ),
        Spacer(1, 2 * mm),
        _p(_("Meer uitleg: scan de QR-code of ga naar %(url)s") % {"url": url}, styles["small"]),
    ]
    return Table(
        [[text, _qr_drawing(url, 32 * mm)]],
        colWidths=[140 * mm, 40 * mm],
        style=TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.5, colors.HexColor("#0b5394")),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#eef4fa")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
            ]
        ),
    )
