"""`bot.console.charts`: server-side SVG bar charts that parse, scale and escape."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bot.console.charts import bar_chart, column_chart, text_width

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)


def _rect_lengths(root: ET.Element, attribute: str) -> list[float]:
    return [float(r.attrib[attribute]) for r in root.iter(f"{SVG}rect")]


def test_bar_chart_is_valid_svg_with_accessible_titles() -> None:
    """The chart parses as XML, is an image labelled by its title and a description of the data."""
    root = _parse(bar_chart("求助按类别", [("岗位", 4), ("健康", 2)], ident="cat"))
    assert root.tag == f"{SVG}svg"
    assert root.attrib["role"] == "img"
    assert root.attrib["aria-labelledby"] == "cat-title cat-desc"
    assert root.find(f"{SVG}title").text == "求助按类别"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "岗位：4；健康：2"  # type: ignore[union-attr]
    bar_titles = [t.text for g in root.iter(f"{SVG}g") for t in g.iter(f"{SVG}title")]
    assert bar_titles == ["岗位：4", "健康：2"]


def test_bars_are_proportional_to_their_values() -> None:
    """The largest value fills the plot and the others scale linearly; zero draws nothing."""
    root = _parse(bar_chart("x", [("a", 10), ("b", 5), ("c", 0), ("d", 1)], ident="p"))
    longest, half, zero, tenth = _rect_lengths(root, "width")
    assert half == pytest.approx(longest / 2, abs=0.01)
    assert tenth == pytest.approx(longest / 10, abs=0.01)
    assert zero == 0
    columns = _parse(column_chart("w", [("03-02", 3), ("03-09", 6)], ident="w"))
    low, high = _rect_lengths(columns, "height")
    assert low == pytest.approx(high / 2, abs=0.01)


def test_labels_and_titles_are_escaped() -> None:
    """Markup in a label or a title stays text: the SVG still parses and shows it verbatim."""
    evil = '<script>alert("x")</script>&'
    markup = bar_chart(evil, [(evil, 1)], ident='a"b')
    assert "<script>" not in markup
    root = _parse(markup)
    assert root.find(f"{SVG}title").text == evil  # type: ignore[union-attr]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert evil in texts
    column = column_chart("t", [(evil, 2)], ident="c")
    assert evil in [t.text for t in _parse(column).iter(f"{SVG}text")]


def test_an_empty_chart_says_so() -> None:
    """No data: a valid SVG with the title and the words 暂无数据, no bars."""
    for chart in (bar_chart("空", [], ident="e"), column_chart("空", [], ident="f")):
        root = _parse(chart)
        assert not list(root.iter(f"{SVG}rect"))
        assert "暂无数据" in [t.text for t in root.iter(f"{SVG}text")]


def test_chinese_labels_are_measured_wider_than_latin() -> None:
    """A CJK character counts a full em, a Latin one less, so Chinese labels get room."""
    assert text_width("朝阳区") == pytest.approx(3 * 13)
    assert text_width("abc") < text_width("朝阳区")
