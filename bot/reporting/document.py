"""The quarterly summary as a Word document a federation can file (python-docx).

- **The page**: A4 with the margins of the party and government document standard (GB/T
  9704: top 37 mm, bottom 35 mm, left 28 mm, right 26 mm); the page number centred in the
  footer ("— 1 —", a PAGE field Word and LibreOffice fill in).
- **The fonts**: body 仿宋 16 pt (三号), headings 黑体, the title 方正小标宋简体 22 pt (二号) —
  the names a federation's Word has. Each run also names a Latin font, and the East Asian name
  is what LibreOffice and Word substitute on a machine without it (on Linux fontconfig picks
  Noto Serif/Sans CJK), so the document renders everywhere and looks right where the 公文 fonts
  are installed.
- **The title** stays on one line: its size shrinks (down to 16 pt) when the unit's name would
  make it wrap, so no character is left alone on a second line.
- **Properties**: author and last editor are the unit (朝阳区妇联), created and modified are
  when it was made, the title is the summary's.
- **Contents**: the period and due date; the city's return note when the summary was sent back;
  the district's own remark (报送说明); the figures as tables; two real charts (needs by
  category; this quarter beside the last, `bot.reporting.charts`); the assessment row; the
  problems and key terms; the example notes (masked as the figures hold them).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot import texts
from bot.domain.figures import UnitSummary
from bot.domain.quarters import Quarter, report_title
from bot.reporting import charts
from bot.reporting.export import (
    RATING_ROWS,
    common_rows,
    kind_label,
    part_label,
    ratio,
    status_label,
)
from bot.reporting.text import assessment_items, change_text, example_head, percent

BODY_FONT = "仿宋"
HEADING_FONT = "黑体"
TITLE_FONT = "方正小标宋简体"
LATIN_FONT = "Times New Roman"
BODY_PT = 16  # 三号
TABLE_PT = 12  # 小四: tables and charts' captions
TITLE_PT = 22  # 二号
MIN_TITLE_PT = 16
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
A4_MM = (210, 297)
CHART_WIDTH_MM = 150
PART_COLUMNS = ("visits", "people", "requests", "urgent", "on_time", "satisfaction", "coverage")


def _t(key: str, **fmt: object) -> str:
    return texts.t("report." + key, **fmt)


def _fonts(target: Any, east_asia: str, size: int | None = None, bold: bool = False) -> None:
    """Name `east_asia` for Chinese and Times New Roman for Latin on a style or a run."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    target.font.name = LATIN_FONT
    target.font.bold = bold
    if size is not None:
        target.font.size = Pt(size)
    fonts = target.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)


def _page(document: Any) -> None:
    """A4, the 公文 margins, the page number centred in the footer."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm

    section = document.sections[0]
    section.page_width, section.page_height = Mm(A4_MM[0]), Mm(A4_MM[1])
    for side, mm in MARGINS_MM.items():
        setattr(section, f"{side}_margin", Mm(mm))
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("— ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    footer._p.append(field)
    footer._p.append(footer.add_run(" —")._r)


def _styles(document: Any) -> None:
    _fonts(document.styles["Normal"], BODY_FONT, BODY_PT)
    for name in ("Heading 1", "Heading 2"):
        style = document.styles[name]
        _fonts(style, HEADING_FONT, BODY_PT, bold=False)
        style.font.color.rgb = None


def _properties(document: Any, *, author: str, title: str, now: datetime) -> None:
    properties = document.core_properties
    properties.author = properties.last_modified_by = author
    properties.title = title
    properties.created = properties.modified = now.astimezone(UTC).replace(tzinfo=None)
    properties.revision = 1
    properties.language = "zh-CN"


def _title(document: Any, title: str) -> None:
    """The title centred on one line: 22 pt, smaller when it would not fit the line."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    width_pt = (A4_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]) / 25.4 * 72
    size = max(MIN_TITLE_PT, min(TITLE_PT, int(width_pt // max(len(title), 1))))
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.keep_together = True
    _fonts(paragraph.add_run(title), TITLE_FONT, size)


def _table(document: Any, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        _fonts(cell.paragraphs[0].add_run(text), HEADING_FONT, TABLE_PT)
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = ""
            shown = texts.t("report.na") if value is None else str(value)
            _fonts(cell.paragraphs[0].add_run(shown), BODY_FONT, TABLE_PT)


def _chart(document: Any, png: bytes) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    document.add_picture(io.BytesIO(png), width=Mm(CHART_WIDTH_MM))
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER


def to_docx(entry: UnitSummary, *, quarter: Quarter, now: datetime) -> bytes:
    """One unit's summary (`UnitSummary`: its figures, due date, status, remark and the city's
    return note) as a DOCX made at `now`."""
    from docx import Document

    figures = entry.figures
    title = report_title(entry.unit, quarter)
    document = Document()
    _page(document)
    _styles(document)
    _properties(document, author=texts.t("report.author", unit=entry.unit), title=title, now=now)
    _title(document, title)
    document.add_paragraph(_t("range", start=figures.start, end=figures.end))
    document.add_paragraph(_t("due", due=entry.due_date, status=status_label(entry.status)))
    if entry.review == "returned" and entry.review_comment:
        document.add_paragraph(_t("returned_note", comment=entry.review_comment))
    if entry.remark:
        document.add_heading(_t("section.remark"), level=1)
        document.add_paragraph(entry.remark)

    visits = figures.visits
    document.add_heading(_t("section.visits"), level=1)
    _table(
        document,
        [_t("col.item"), _t("col.value")],
        [
            (_t("visits.total"), visits.total),
            (_t("visits.people"), visits.people),
            *visits.by_form.items(),
            *visits.by_focus.items(),
        ],
    )

    needs = figures.needs
    document.add_heading(_t("section.needs"), level=1)
    _table(
        document,
        [_t("col.category"), _t("col.visits"), _t("col.requests"), _t("col.total")],
        [(n.label, n.visits, n.requests, n.total) for n in needs],
    )
    _chart(document, charts.needs_chart(figures))

    requests = figures.requests
    document.add_heading(_t("section.requests"), level=1)
    _table(
        document,
        [_t("col.item"), _t("col.value")],
        [
            (_t("requests.received"), requests.received),
            (_t("requests.resolved"), requests.resolved),
            (_t("requests.open"), requests.open),
            (_t("requests.median"), requests.median_days_to_resolve),
            (_t("requests.urgent"), requests.urgent),
        ],
    )

    coverage = figures.coverage
    document.add_heading(_t("section.coverage"), level=1)
    _table(
        document,
        [_t("col.category"), _t("col.held"), _t("col.visited"), _t("col.share")],
        [
            *(
                (kind_label(k), r.held, r.visited, percent(ratio(r.visited, r.held)))
                for k, r in coverage.kinds.items()
            ),
            (_t("kind.all"), coverage.held, coverage.visited, percent(coverage.share)),
        ],
    )

    rates = figures.satisfaction
    document.add_heading(_t("section.satisfaction"), level=1)
    _table(
        document,
        [_t("col.item"), _t("col.value")],
        [
            *((_t("rating." + r), rates.count(r)) for r in RATING_ROWS),
            (_t("rating.share"), percent(rates.satisfied_share)),
        ],
    )

    if figures.assessment is not None:
        document.add_heading(_t("section.assessment"), level=1)
        _table(
            document,
            [_t("col.item"), _t("col.value")],
            [(label, shown) for _n, label, shown in assessment_items(figures.assessment)],
        )

    if figures.parts:
        document.add_heading(_t("section.parts", part=part_label(figures)), level=2)
        _table(
            document,
            [_t("col.part"), *(_t(f"part.col.{c}") for c in PART_COLUMNS)],
            [
                (
                    row.part,
                    row.visits,
                    row.people,
                    row.requests,
                    row.urgent,
                    percent(row.resolved_on_time),
                    percent(row.satisfaction),
                    percent(row.coverage),
                )
                for row in figures.parts
            ],
        )

    problems = figures.problems
    document.add_heading(_t("section.problems"), level=1)
    change_header = [_t("col.count"), _t("col.previous"), _t("col.change")]
    _table(
        document,
        [_t("col.category"), *change_header],
        [(r.label, r.count, r.previous, change_text(r.change)) for r in problems.categories],
    )
    if problems.categories:
        _chart(document, charts.trend_chart(figures))
    if figures.common is not None and (figures.common.categories or figures.common.terms):
        document.add_heading(_t("section.common", part=part_label(figures)), level=2)
        sep = texts.t("list.sep")
        rows: list[Sequence[object]] = [
            (c.item, c.count, c.where, sep.join(c.requests)) for c in common_rows(figures)
        ]
        _table(
            document,
            [_t("col.item"), _t("col.count"), _t("col.detail"), _t("col.requests_codes")],
            rows,
        )
    document.add_heading(_t("section.terms"), level=2)
    _table(
        document,
        [_t("col.term"), *change_header],
        [(r.term, r.count, r.previous, change_text(r.change)) for r in problems.terms],
    )

    document.add_heading(_t("section.examples"), level=1)
    if not figures.examples:
        document.add_paragraph(_t("none"))
    for n, example in enumerate(figures.examples, start=1):
        paragraph = document.add_paragraph()
        paragraph.add_run(f"{n}. {example_head(example)}").bold = True
        document.add_paragraph(example.notes)

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
