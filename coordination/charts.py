"""Charts drawn on the server as inline SVG: no script, no external file, readable without CSS.

Each chart is an `<svg role="img">` with a title and a short description; its numbers are in a
table beside it (the templates put them there), which is what screen readers and keyboard
users read. Colours are the Okabe-Ito palette (distinguishable with colour blindness), and every
bar or point carries its value as text as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#0b5394", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9"]
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", ".")
    return f"{value:.1f}".replace(".", ",")


def _svg(chart_id: str, width: int, height: int, title: str, desc: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def _legend(series: list[Series], x: int, y: int, width: int) -> tuple[list[str], int]:
    """Legend items in rows that fit the width; returns the parts and the height used."""
    parts, offset, row = [], 0, 0
    for i, s in enumerate(series):
        item_w = 28 + int(7.2 * len(s.name))
        if offset and x + offset + item_w > width:
            offset, row = 0, row + 1
        colour = PALETTE[i % len(PALETTE)]
        top = y + row * 18
        parts.append(
            f'<rect x="{x + offset}" y="{top - 10}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + offset + 16}" y="{top}" {FONT} fill="#1d1d1b">{escape(s.name)}</text>'
        )
        offset += item_w
    return parts, (row + 1) * 18


def bar_chart(
    chart_id: str,
    title: str,
    labels: list[str],
    series: list[Series],
    *,
    stacked: bool = False,
    desc: str = "",
    width: int = 640,
) -> SafeString:
    """Horizontal bars, one row per label; several series side by side or stacked."""
    # Room for the longest label (about 6.5 px a character at 12 px), within reason.
    label_w = min(320, max(80, 14 + int(7.2 * max((len(label) for label in labels), default=0))))
    value_w, bar_h, gap = 64, 16, 10
    grouped = 1 if stacked or len(series) == 1 else len(series)
    row_h = grouped * bar_h + gap
    legend, legend_h = _legend(series, 8, 16, width) if len(series) > 1 else ([], 0)
    top = legend_h + 10 if legend else 8
    height = top + row_h * max(len(labels), 1) + 4
    totals = [
        sum(v or 0 for v in values) if stacked else max((v or 0) for v in values)
        for values in zip(*(s.values for s in series), strict=True)
    ] or [0]
    scale = (width - label_w - value_w) / (max(totals) or 1)
    body = legend
    for row, label in enumerate(labels):
        y = top + row * row_h
        body.append(
            f'<text x="{label_w - 8}" y="{y + (grouped * bar_h) / 2 + 4}" text-anchor="end" '
            f'{FONT} fill="#1d1d1b">{escape(label)}</text>'
        )
        x = label_w
        for i, s in enumerate(series):
            value = s.values[row] or 0
            w = value * scale
            by = y if stacked else y + i * bar_h
            colour = PALETTE[i % len(PALETTE)]
            body.append(
                f'<rect x="{x:.1f}" y="{by}" width="{w:.1f}" height="{bar_h - 2}" '
                f'fill="{colour}"><title>{escape(s.name)}: {_number(s.values[row])}</title></rect>'
            )
            if stacked:
                x += w
            else:
                body.append(
                    f'<text x="{label_w + w + 4:.1f}" y="{by + bar_h - 4}" {FONT} '
                    f'fill="#1d1d1b">{_number(s.values[row])}</text>'
                )
        if stacked:
            body.append(
                f'<text x="{x + 4:.1f}" y="{y + bar_h - 4}" {FONT} fill="#1d1d1b">'
                f"{_number(totals[row])}</text>"
            )
    return mark_safe(_svg(chart_id, width, height, title, desc, body))  # noqa: S308 - escaped


def line_chart(
    chart_id: str,
    title: str,
    labels: list[str],
    series: list[Series],
    *,
    desc: str = "",
    width: int = 640,
    height: int = 240,
) -> SafeString:
    """Lines over time (one point per label), with the y axis at 0, half and the maximum."""
    legend, legend_h = _legend(series, 8, 16, width)
    left, right, top, bottom = 48, 16, legend_h + 14, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v or 0) for s in series for v in s.values) if series else 0
    peak = peak or 1
    step = plot_w / max(len(labels) - 1, 1)

    def point(i: int, value: float) -> tuple[float, float]:
        return left + i * step, top + plot_h - (value / peak) * plot_h

    body = legend
    for fraction in (0, 0.5, 1):
        y = top + plot_h - fraction * plot_h
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#c9c9c4" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT} fill="#4a4a48">'
            f"{_number(round(peak * fraction))}</text>"
        )
    for i, label in enumerate(labels):
        if i % 2 == 0 or i == len(labels) - 1:
            x, _y = point(i, 0)
            body.append(
                f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle" {FONT} '
                f'fill="#4a4a48">{escape(label)}</text>'
            )
    for n, s in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        points = [point(i, v or 0) for i, v in enumerate(s.values)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for (x, y), label, value in zip(points, labels, s.values, strict=True):
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                f"<title>{escape(s.name)}, {escape(label)}: {_number(value)}</title></circle>"
            )
    return mark_safe(_svg(chart_id, width, height, title, desc, body))  # noqa: S308 - escaped
