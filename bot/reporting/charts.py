"""Charts of the quarterly summary, drawn with matplotlib into PNGs for the DOCX.

- `needs_chart(figures)`: the needs found this quarter by category (visits and requests
  together), a horizontal bar each, its number at its end;
- `trend_chart(figures)`: each category this quarter beside the quarter before (the
  普遍性、倾向性 comparison), grouped bars.

Why matplotlib: python-docx cannot make native Word charts, and a picture is what a federation's
document carries (the earlier table of █ characters wrapped and could not be scaled). The Agg
backend draws without a screen, so it runs in the server and in CI.

**The font.** Chart labels are Chinese, and a server may have no CJK font at all (a slim image,
a fresh machine). So the charts draw with a subset of Noto Sans CJK SC bundled in
`bot/reporting/data/chart-font.otf` (SIL Open Font License 1.1, `OFL.txt` beside it), holding
only the characters the charts can draw: the category labels, the chart texts of
`bot.texts` (report.chart.*), digits and ASCII. It is a few tens of kilobytes;
`python -m bot.reporting.charts` rebuilds it from a Noto Sans CJK collection (fontTools, which
matplotlib brings) when a label changes, and a test checks that every character the charts
can draw is in it.
"""

from __future__ import annotations

import io
import string
import sys
from functools import cache
from pathlib import Path
from typing import Any

from bot import texts
from bot.domain.figures import QuarterFigures

FONT_FILE = Path(__file__).parent / "data" / "chart-font.otf"
NOTO = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
NOTO_SC = 2  # the collection's Simplified Chinese face
CHART_KEYS = ("report.chart.needs", "report.chart.trend", "report.chart.now", "report.chart.before")
COLOURS = ("#b22234", "#8c96a6")  # the console's red; a muted grey for the quarter before
DPI = 200
WIDTH_IN = 6.0  # fits a 公文 page's 156 mm text width


def characters() -> str:
    """Every character a chart can draw: labels, chart texts, digits and ASCII."""
    found = set(string.printable.strip()) | {" "}
    for label in texts.CATEGORY_LABELS.values():
        found.update(label)
    for key in CHART_KEYS:
        found.update(texts.t(key))
    return "".join(sorted(found))


@cache
def _font() -> Any:
    from matplotlib import font_manager

    return font_manager.FontProperties(fname=str(FONT_FILE))


def _figure(rows: int) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, 0.45 * rows + 1.1), dpi=DPI)
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _png(figure: Any) -> bytes:
    out = io.BytesIO()
    figure.tight_layout()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def needs_chart(figures: QuarterFigures) -> bytes:
    """A PNG: needs by category this quarter (largest on top), each bar labelled."""
    font = _font()
    needs = sorted(figures.needs, key=lambda n: n.total)
    figure, axes = _figure(len(needs))
    bars = axes.barh([n.label for n in needs], [n.total for n in needs], color=COLOURS[0])
    axes.bar_label(bars, padding=3, fontproperties=font)
    axes.set_title(texts.t("report.chart.needs"), fontproperties=font)
    for label in axes.get_yticklabels():
        label.set_fontproperties(font)
    axes.xaxis.get_major_locator().set_params(integer=True)
    return _png(figure)


def trend_chart(figures: QuarterFigures) -> bytes:
    """A PNG: each category this quarter beside the quarter before."""
    font = _font()
    rows = list(reversed(figures.problems.categories)) or []
    figure, axes = _figure(max(len(rows), 1) * 2)
    places = range(len(rows))
    height = 0.38
    now = axes.barh(
        [p + height / 2 for p in places],
        [r.count for r in rows],
        height,
        color=COLOURS[0],
        label=texts.t("report.chart.now"),
    )
    before = axes.barh(
        [p - height / 2 for p in places],
        [r.previous for r in rows],
        height,
        color=COLOURS[1],
        label=texts.t("report.chart.before"),
    )
    for bars in (now, before):
        axes.bar_label(bars, padding=3, fontproperties=font)
    axes.set_yticks(list(places), [r.label for r in rows])
    for label in axes.get_yticklabels():
        label.set_fontproperties(font)
    axes.set_title(texts.t("report.chart.trend"), fontproperties=font)
    axes.legend(prop=font, frameon=False, loc="lower right")
    axes.xaxis.get_major_locator().set_params(integer=True)
    return _png(figure)


def build_font(source: Path = NOTO, target: Path = FONT_FILE) -> int:
    """Write the subset of Noto Sans CJK SC the charts need to `target`; its size in bytes."""
    from fontTools import subset

    options = subset.Options()
    options.font_number = NOTO_SC
    options.name_IDs = ["*"]  # keep the copyright and the licence in the file
    options.notdef_outline = True
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters())
    subsetter.subset(font)
    subset.save_font(font, str(target), options)
    return target.stat().st_size


if __name__ == "__main__":  # pragma: no cover - a build step, run by hand
    size = build_font(Path(sys.argv[1]) if len(sys.argv) > 1 else NOTO)
    sys.stdout.write(f"{FONT_FILE}: {size} bytes, {len(characters())} characters\n")
