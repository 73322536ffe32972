"""`bot.reporting.charts`: the summary's charts are PNGs drawn with the bundled CJK font, which
holds every character a chart can draw."""

from __future__ import annotations

import io

from fontTools.ttLib import TTFont

from bot import texts
from bot.domain.figures import QuarterFigures
from bot.reporting import charts


def test_the_bundled_font_draws_every_chart_character() -> None:
    """Each category label and chart text is in the subset font (rebuild it with
    `python -m bot.reporting.charts` after changing one); its licence is beside it."""
    cmap = TTFont(charts.FONT_FILE).getBestCmap()
    missing = [ch for ch in charts.characters() if ord(ch) not in cmap and not ch.isspace()]
    assert missing == []
    assert all(ch in charts.characters() for ch in texts.CATEGORY_LABELS["jobs"])
    assert "Open Font License" in (charts.FONT_FILE.parent / "OFL.txt").read_text("utf-8")


def test_charts_are_pngs(compiled: QuarterFigures) -> None:
    """Both charts come out as PNG images of the page's width."""
    from PIL import Image

    for png in (charts.needs_chart(compiled), charts.trend_chart(compiled)):
        assert png.startswith(b"\x89PNG")
        width, height = Image.open(io.BytesIO(png)).size
        assert width == charts.WIDTH_IN * charts.DPI and height > 200
