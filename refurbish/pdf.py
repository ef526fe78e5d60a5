"""PDF documents of the refurbishment: asset-tag label sheets and the erasure certificate.

The certificate is bilingual (Dutch first, English beside it) in one document, because the
donor passes it on to auditors who may read either; its labels are therefore fixed pairs, not
translated per request.
"""

import io
from datetime import date
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import code128, qr
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .asset_tags import format_asset_tag

# A4 sheet of 3 x 8 labels of 70 x 37 mm (the common "24 per sheet" format).
LABEL_W, LABEL_H = 70 * mm, 37 * mm
COLUMNS, ROWS = 3, 8
TOP_MARGIN = (A4[1] - ROWS * LABEL_H) / 2


def _qr_drawing(value: str, size: float) -> Drawing:
    widget = qr.QrCodeWidget(value, barLevel="M")
    x1, y1, x2, y2 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0])
    drawing.add(widget)
    return drawing


def _fit(text: str, font: str, size: float, width: float, pdf: canvas.Canvas) -> str:
    while text and pdf.stringWidth(text, font, size) > width:
        text = text[:-2] + "…"
    return text


def _draw_label(pdf: canvas.Canvas, x: float, y: float, device) -> None:
    tag = device.asset_tag
    pad = 3 * mm
    qr_size = 23 * mm
    renderPDF.draw(_qr_drawing(tag, qr_size), pdf, x + pad, y + (LABEL_H - qr_size) / 2)
    left = x + pad + qr_size + 2 * mm
    width = x + LABEL_W - pad - left
    top = y + LABEL_H - pad
    pdf.setFont("Helvetica-Bold", 13)
    pdf.drawString(left, top - 11, format_asset_tag(tag))
    # 0.25 mm modules (10 mil) read well with handheld scanners; narrower only if it must fit.
    bar_width = 0.25 * mm
    barcode = code128.Code128(tag, barHeight=10 * mm, barWidth=bar_width, quiet=False)
    if barcode.width > width:
        bar_width *= width / barcode.width
        barcode = code128.Code128(tag, barHeight=10 * mm, barWidth=bar_width, quiet=False)
    barcode.drawOn(pdf, left, top - 15 - 10 * mm)
    pdf.setFont("Helvetica", 7.5)
    make_model = f"{device.make} {device.model}".strip() or device.get_kind_display()
    pdf.drawString(left, y + pad + 9, _fit(make_model, "Helvetica", 7.5, width, pdf))
    pdf.setFont("Helvetica", 6)
    pdf.drawString(left, y + pad + 1, "#allemaaldigitaal")


def labels_pdf(devices) -> bytes:
    """A sheet (or several) of labels: Code 128 and QR with the tag, plus make and model."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle("Apparaatcodes / asset tags")
    per_page = COLUMNS * ROWS
    for index, device in enumerate(devices):
        if index and index % per_page == 0:
            pdf.showPage()
        slot = index % per_page
        column, row = slot % COLUMNS, slot // COLUMNS
        x = column * LABEL_W
        y = A4[1] - TOP_MARGIN - (row + 1) * LABEL_H
        _draw_label(pdf, x, y, device)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# --- Certificate -----------------------------------------------------------------------------

STANDARDS = {
    "clear": "NIST SP 800-88 Clear",
    "purge": "NIST SP 800-88 Purge",
    "destroy": "NIST SP 800-88 Destroy",
}
TECHNIQUES = {
    "overwrite": ("Overschrijven", "Overwrite"),
    "crypto_erase": ("Cryptografisch wissen", "Cryptographic erase"),
    "firmware_sanitize": ("Wissen via firmware", "Firmware sanitize"),
    "physical_destruction": ("Fysiek vernietigd", "Physical destruction"),
}
RESULTS = {
    "passed": ("Geslaagd", "Passed"),
    "failed": ("Mislukt", "Failed"),
}
OUTCOMES = {
    "erased": ("Gewist", "Erased"),
    "destroyed": ("Opslag vernietigd", "Storage destroyed"),
    "missing": ("Geen wisregistratie", "No erasure record"),
    "not_received": (
        "Niet ontvangen, niet in onze handen geweest",
        "Not received, never in our hands",
    ),
}


def run_details(entry: dict) -> list[str]:
    """What the log said about the run, as short bilingual lines (empty for typed records)."""
    lines = []
    if entry.get("rounds") is not None:
        lines.append(f"{entry['rounds']} ronde(s) / round(s)")
    if entry.get("prng"):
        lines.append(f"PRNG {entry['prng']}")
    if entry.get("blanking") is not None:
        lines.append(
            "slotronde nullen / blanking" if entry["blanking"] else "geen slotronde / no blanking"
        )
    if entry.get("started_at"):
        lines.append(f"start {entry['started_at'].replace('T', ' ')[:16]}")
    if entry.get("sha256"):
        lines.append(f"SHA-256 {entry['sha256'][:16]}…")
    return lines


def _pair(dutch: str, english: str) -> str:
    return f"{escape(dutch)}<br/><font color='#555555'><i>{escape(english)}</i></font>"


def _styles():
    return {
        "title": ParagraphStyle("title", fontName="Helvetica-Bold", fontSize=17, leading=21),
        "subtitle": ParagraphStyle(
            "subtitle", fontName="Helvetica-Oblique", fontSize=12, leading=15, textColor="#555555"
        ),
        "body": ParagraphStyle("body", fontName="Helvetica", fontSize=9, leading=11.5),
        "cell": ParagraphStyle("cell", fontName="Helvetica", fontSize=7.5, leading=9),
        "head": ParagraphStyle("head", fontName="Helvetica-Bold", fontSize=7.5, leading=9),
    }


def _device_row(entry: dict, style) -> list:
    tag = format_asset_tag(entry.get("asset_tag"))
    device_text = escape(entry["serial_number"])
    if tag:
        device_text += f"<br/>{escape(tag)}"
    make_model = f"{entry.get('make', '')} {entry.get('model', '')}".strip()
    if make_model:
        device_text += f"<br/><font color='#555555'>{escape(make_model)}</font>"
    drives = entry.get("drives") or []
    if drives:
        device_text += (
            "<br/><font color='#555555'>"
            + escape(", ".join(f"S/N {d['serial']}" for d in drives if d.get("serial")))
            + "</font>"
        )
    outcome = OUTCOMES[entry["outcome"]]
    if entry["outcome"] in ("missing", "not_received"):
        return [
            Paragraph(device_text, style),
            Paragraph(_pair(*outcome), style),
            "",
            "",
            "",
            "",
            "",
        ]
    technique = TECHNIQUES.get(entry["technique"], (entry["technique"], entry["technique"]))
    tool = escape(" ".join(part for part in (entry.get("tool"), entry.get("tool_version")) if part))
    if entry.get("method"):
        tool = f"{tool}, {escape(entry['method'])}" if tool else escape(entry["method"])
    tool += "".join(f"<br/>{escape(line)}" for line in run_details(entry))
    # Certificates issued before the category was stored show the standard recorded then.
    category = entry.get("category") or entry["standard"]
    result = RESULTS.get(entry["result"], (entry["result"], entry["result"]))
    return [
        Paragraph(device_text, style),
        Paragraph(
            f"{escape(STANDARDS.get(category, category))}<br/>" + _pair(*outcome),
            style,
        ),
        Paragraph(_pair(*technique), style),
        Paragraph(tool or "-", style),
        Paragraph(escape(date.fromisoformat(entry["date"]).strftime("%d-%m-%Y")), style),
        Paragraph(escape(entry.get("verification") or "-"), style),
        Paragraph(_pair(*result), style),
    ]


def certificate_pdf(certificate, *, verify_url: str) -> bytes:
    """The certificate of data erasure of one donation, from its issued snapshot."""
    summary = certificate.summary
    styles = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=32 * mm,
        title=f"Wiscertificaat / Certificate of data erasure {summary['donation']}",
        author="#allemaaldigitaal",
    )
    issued = timezone.localtime(certificate.issued_at).strftime("%d-%m-%Y")
    donor, refurbisher, counts = summary["donor"], summary["refurbisher"], summary["counts"]
    facts = [
        (("Certificaatcode", "Certificate code"), certificate.display_code),
        (("Donatie", "Donation"), summary["donation"]),
        (("Donateur", "Donor"), f"{donor['name']} (KvK {donor['kvk_number']})"),
        (
            ("Opknappartner", "Refurbisher"),
            f"{refurbisher['name']} (KvK {refurbisher['kvk_number']})",
        ),
        (("Uitgegeven op", "Issued on"), issued),
        (
            ("Apparaten", "Devices"),
            f"{counts['devices']} ({counts['erased']} gewist / erased, "
            f"{counts['destroyed']} opslag vernietigd / storage destroyed"
            + (
                f", {counts['not_received']} niet ontvangen / not received)"
                if counts.get("not_received")
                else ")"
            ),
        ),
    ]
    story = [
        Paragraph("Certificaat van gegevensverwijdering", styles["title"]),
        Paragraph("Certificate of data erasure", styles["subtitle"]),
        Spacer(1, 5 * mm),
        Table(
            [
                [Paragraph(_pair(*label), styles["body"]), Paragraph(escape(value), styles["body"])]
                for label, value in facts
            ],
            colWidths=[45 * mm, 135 * mm],
            style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]),
        ),
        Spacer(1, 4 * mm),
        Paragraph(
            _pair(
                "De opknappartner verklaart dat de gegevens op de opslag van onderstaande "
                "apparaten zijn verwijderd volgens NIST SP 800-88 Rev. 1, of dat de opslag is "
                "vernietigd. Per apparaat staat de categorie die het bewijs draagt: Clear voor "
                "overschrijven (bij SSD en NVMe nooit meer dan Clear), Purge alleen voor een "
                "sanitize- of secure-erase-opdracht van de schijf zelf, Destroy voor vernietigde "
                "opslag. Alleen apparaten waarvan de laatste wisrun geslaagd is, staan als gewist.",
                "The refurbisher declares that the data on the storage of the devices below "
                "was sanitized according to NIST SP 800-88 Rev. 1, or that the storage was "
                "destroyed. Each device shows the category its evidence supports: Clear for an "
                "overwrite (never more than Clear on SSD and NVMe), Purge only for the drive's own "
                "sanitize or secure-erase command, Destroy for destroyed storage. Only devices "
                "whose latest erasure run passed are listed as erased.",
            ),
            styles["body"],
        ),
        Spacer(1, 4 * mm),
    ]
    head = [
        ("Apparaat", "Device"),
        ("Standaard", "Standard"),
        ("Techniek", "Technique"),
        ("Hulpmiddel", "Tool"),
        ("Datum", "Date"),
        ("Controle", "Verification"),
        ("Resultaat", "Result"),
    ]
    rows = [[Paragraph(_pair(*h), styles["head"]) for h in head]]
    rows += [_device_row(entry, styles["cell"]) for entry in summary["devices"]]
    widths = [42 * mm, 31 * mm, 26 * mm, 25 * mm, 18 * mm, 22 * mm, 16 * mm]
    story.append(
        Table(
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
    )
    story += [
        Spacer(1, 6 * mm),
        Paragraph(
            _pair(
                f"Controleer dit certificaat op {verify_url}",
                f"Verify this certificate at {verify_url}",
            ),
            styles["body"],
        ),
    ]

    def footer(pdf, doc_):
        pdf.saveState()
        renderPDF.draw(_qr_drawing(verify_url, 20 * mm), pdf, A4[0] - 35 * mm, 8 * mm)
        pdf.setFont("Helvetica", 7)
        pdf.drawString(15 * mm, 10 * mm, f"#allemaaldigitaal · {certificate.display_code}")
        pdf.drawRightString(A4[0] - 38 * mm, 10 * mm, f"{doc_.page}")
        pdf.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
