"""The donor's impact report: the estimate of avoided emissions, and the report as a PDF.

The numbers come from `coordination.selectors.donation_impact`; this module holds the emission
factor with its public source (stated on the page and in the PDF) and draws the PDF.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from donations.vocabulary import KINDS_OF_CATEGORY, DeviceCategory

# Making and shipping one new laptop, in kg CO2-equivalent: the components (~151 kg), assembly
# (~4 kg) and transport to the customer (~48 kg) of a Dell Latitude E6400 add up to ~203 kg in
# the life-cycle assessment below, rounded down. Chromebooks are counted as laptops; tablets
# are not counted, for want of an equally documented public figure.
LAPTOP_KG_CO2E = 200
EMISSION_KINDS = KINDS_OF_CATEGORY[DeviceCategory.LAPTOP]
EMISSION_SOURCE = (
    "S. O'Connell en M. Stutz, 'Product Carbon Footprint (PCF) Assessment of Dell Laptop – "
    "Results and Recommendations', IEEE International Symposium on Sustainable Systems and "
    "Technology (ISSST), 2010"
)


def avoided_kg(delivered_laptops: int) -> int:
    """Estimated CO2e avoided: each delivered laptop or Chromebook replaces a new one."""
    return delivered_laptops * LAPTOP_KG_CO2E


def emission_explanation() -> str:
    return _(
        "Dit is een schatting. Wij nemen aan dat elke afgeleverde laptop of Chromebook de "
        "aankoop van een nieuwe laptop voorkomt. Voor het maken en vervoeren van een nieuwe "
        "laptop rekenen wij %(kg)d kg CO2-equivalent: zoveel kostten de onderdelen, de "
        "montage en het transport van een zakelijke laptop (Dell Latitude E6400) in een "
        "openbare levenscyclusanalyse. Tablets tellen wij niet mee, omdat wij daarvoor geen "
        "even goed onderbouwd openbaar getal hebben. Het opknappen en vervoeren van het "
        "gebruikte apparaat trekken wij er niet van af."
    ) % {"kg": LAPTOP_KG_CO2E}


def _styles():
    return {
        "title": ParagraphStyle("title", fontName="Helvetica-Bold", fontSize=17, leading=21),
        "h2": ParagraphStyle("h2", fontName="Helvetica-Bold", fontSize=11.5, leading=15),
        "body": ParagraphStyle("body", fontName="Helvetica", fontSize=9.5, leading=12.5),
        "small": ParagraphStyle(
            "small", fontName="Helvetica", fontSize=8, leading=10.5, textColor="#4a4a48"
        ),
    }


TABLE_STYLE = TableStyle(
    [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.grey),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
)


def _table(rows: list[list], widths: list[float], *, head: bool = False) -> Table:
    style = TableStyle(TABLE_STYLE.getCommands())
    if head:
        style.add("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold")
        style.add("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef4fa"))
    return Table([[str(c) for c in row] for row in rows], colWidths=widths, style=style)


def impact_pdf(donor, impact) -> bytes:
    """The impact report of one donor: counts only, never data of the people reached."""
    styles = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=_("Impactrapport %(donor)s") % {"donor": donor.name},
        author="#allemaaldigitaal",
    )
    today = timezone.localdate().strftime("%d-%m-%Y")
    story = [
        Paragraph(escape(_("Wat uw donaties doen")), styles["title"]),
        Paragraph(
            escape(
                _("Impactrapport van %(donor)s, opgemaakt op %(date)s")
                % {"donor": donor.name, "date": today}
            ),
            styles["body"],
        ),
        Spacer(1, 5 * mm),
        _table(
            [
                [_("Apparaten gedoneerd (door ons ontvangen)"), impact.donated],
                [_("Hergebruikt (opgeknapt en klaargemaakt)"), impact.reused],
                [_("Afgeleverd bij organisaties"), impact.delivered],
                [_("Gerecycled"), impact.recycled],
                [_("waarvan met vernietigde opslag"), impact.storage_destroyed],
                [_("Organisaties bereikt"), impact.organisations],
                [
                    _("Mensen bereikt (volgens de uitgiftes)"),
                    "–" if impact.people_reached is None else impact.people_reached,
                ],
                [_("Vermeden uitstoot (schatting)"), f"{impact.avoided_kg} kg CO2e"],
            ],
            [120 * mm, 50 * mm],
        ),
    ]
    if impact.outcomes:
        story += [
            Spacer(1, 5 * mm),
            Paragraph(escape(_("Waar elk apparaat eindigde")), styles["h2"]),
            _table(
                [[_("Uitkomst"), _("Apparaten")], *[[o, n] for o, n in impact.outcomes]],
                [120 * mm, 50 * mm],
                head=True,
            ),
        ]
    if impact.target_groups:
        story += [
            Spacer(1, 5 * mm),
            Paragraph(escape(_("Afgeleverd per doelgroep")), styles["h2"]),
            _table(
                [[_("Doelgroep"), _("Apparaten")], *[[g, n] for g, n in impact.target_groups]],
                [120 * mm, 50 * mm],
                head=True,
            ),
        ]
    if impact.provinces:
        story += [
            Spacer(1, 5 * mm),
            Paragraph(escape(_("Afgeleverd per provincie")), styles["h2"]),
            _table(
                [
                    [_("Provincie"), _("Apparaten"), _("Organisaties")],
                    *[[p, n, orgs] for p, n, orgs in impact.provinces],
                ],
                [90 * mm, 40 * mm, 40 * mm],
                head=True,
            ),
        ]
    story += [
        Spacer(1, 6 * mm),
        Paragraph(escape(_("Hoe wij de vermeden uitstoot schatten")), styles["h2"]),
        Paragraph(escape(emission_explanation()), styles["small"]),
        Paragraph(escape(_("Bron: %(source)s.") % {"source": EMISSION_SOURCE}), styles["small"]),
        Spacer(1, 4 * mm),
        Paragraph(
            escape(
                _(
                    "Wij tonen alleen aantallen. Wij bewaren en tonen nooit namen of andere "
                    "gegevens van de mensen die een apparaat kregen."
                )
            ),
            styles["small"],
        ),
    ]
    doc.build(story)
    return buffer.getvalue()
