"""Bar charts as inline SVG, rendered on the server: no JavaScript, no CDN, no image library.

Government intranets are often offline, and a chart that is plain markup prints, scales and is
read by a screen reader: every chart is `role="img"` with a `<title>` and a `<desc>` listing each
label and value, and every bar carries its own `<title>` (a tooltip in browsers). Labels are
escaped; bar lengths are proportional to the values (the largest fills the plot).

- `bar_chart`: horizontal bars, the label on the left and the value after the bar (categories,
  districts, statuses: long Chinese labels read best this way);
- `column_chart`: vertical columns with short labels below (visits per week).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from markupsafe import Markup, escape

from bot import texts

Bars = Sequence[tuple[str, int]]

FONT_SIZE = 13
ROW = 24  # height of a horizontal bar's row
BAR = 16  # thickness of a bar
GAP = 8
COLOR = "#c2185b"
TEXT_COLOR = "#333"
FONT = "font-family=\"'Noto Sans CJK SC','Microsoft YaHei',sans-serif\""


def text_width(text: str, size: int = FONT_SIZE) -> float:
    """The approximate width of `text` in pixels: a CJK or full-width character is one em,
    anything else about 0.6 em."""
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in ("W", "F"))
    return (wide + 0.6 * (len(text) - wide)) * size


def _e(value: object) -> str:
    return str(escape(str(value)))


def _head(ident: str, title: str, bars: Bars, width: float, height: float) -> list[str]:
    desc = "；".join(f"{label}：{value}" for label, value in bars) or texts.t("console.chart.empty")
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width:g} {height:g}" width="{width:g}" height="{height:g}" '
        f'aria-labelledby="{_e(ident)}-title {_e(ident)}-desc" {FONT} '
        f'font-size="{FONT_SIZE}" fill="{TEXT_COLOR}">',
        f'<title id="{_e(ident)}-title">{_e(title)}</title>',
        f'<desc id="{_e(ident)}-desc">{_e(desc)}</desc>',
    ]


def _empty(ident: str, title: str, width: float) -> Markup:
    height = ROW * 2
    parts = _head(ident, title, [], width, height)
    parts.append(
        f'<text x="{width / 2:g}" y="{height / 2 + FONT_SIZE / 3:g}" text-anchor="middle">'
        f"{_e(texts.t('console.chart.empty'))}</text></svg>"
    )
    return Markup("".join(parts))


def bar_chart(
    title: str, bars: Bars, *, ident: str, width: int = 520, color: str = COLOR
) -> Markup:
    """Horizontal bars, one row per (label, value), in the given order."""
    if not bars:
        return _empty(ident, title, width)
    label_width = min(max(text_width(label) for label, _ in bars) + GAP, width * 0.4)
    value_width = max(text_width(str(value)) for _, value in bars) + GAP
    plot = width - label_width - value_width - GAP
    largest = max(value for _, value in bars)
    height = len(bars) * ROW + GAP
    parts = _head(ident, title, bars, width, height)
    for row, (label, value) in enumerate(bars):
        y = GAP / 2 + row * ROW
        length = plot * value / largest if largest > 0 else 0.0
        middle = y + ROW / 2 + FONT_SIZE / 3
        parts.append(
            f'<g class="bar"><title>{_e(label)}：{value}</title>'
            f'<text x="{label_width - GAP:g}" y="{middle:g}" text-anchor="end">{_e(label)}</text>'
            f'<rect x="{label_width:g}" y="{y + (ROW - BAR) / 2:g}" width="{length:.2f}" '
            f'height="{BAR}" fill="{_e(color)}" rx="2"/>'
            f'<text x="{label_width + length + GAP / 2:.2f}" y="{middle:g}" '
            f'class="value">{value}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(
    title: str, bars: Bars, *, ident: str, width: int = 560, height: int = 200, color: str = COLOR
) -> Markup:
    """Vertical columns, one per (label, value), left to right; the value above each column and
    the label below it."""
    if not bars:
        return _empty(ident, title, width)
    top, bottom = FONT_SIZE + GAP, FONT_SIZE + GAP * 2
    plot = height - top - bottom
    slot = width / len(bars)
    thickness = max(4.0, slot * 0.6)
    largest = max(value for _, value in bars)
    baseline = height - bottom
    parts = _head(ident, title, bars, width, height)
    parts.append(f'<line x1="0" y1="{baseline:g}" x2="{width:g}" y2="{baseline:g}" stroke="#bbb"/>')
    for index, (label, value) in enumerate(bars):
        centre = slot * index + slot / 2
        length = plot * value / largest if largest > 0 else 0.0
        parts.append(
            f'<g class="bar"><title>{_e(label)}：{value}</title>'
            f'<rect x="{centre - thickness / 2:.2f}" y="{baseline - length:.2f}" '
            f'width="{thickness:.2f}" height="{length:.2f}" fill="{_e(color)}" rx="2"/>'
            f'<text x="{centre:.2f}" y="{baseline - length - GAP / 2:.2f}" text-anchor="middle" '
            f'class="value">{value}</text>'
            f'<text x="{centre:.2f}" y="{height - GAP:g}" text-anchor="middle" '
            f'font-size="{FONT_SIZE - 2}">{_e(label)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
