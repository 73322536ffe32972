"""`bot.reporting.export`, `.document` and `.files`: CSV, XLSX and DOCX files open and carry the
title and the numbers; the DOCX is an A4 document with page numbers, charts and the remark."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from docx import Document
from openpyxl import load_workbook

from bot.domain.figures import QuarterOverview
from bot.domain.quarters import Quarter
from bot.nlp import NLP
from bot.reporting.document import to_docx
from bot.reporting.export import inert_cell, summary_rows, to_csv, to_xlsx
from bot.reporting.figures import quarter_overview
from bot.reporting.files import file_name, render
from storage.db import Database
from tests.reporting.dataset import PHONE, TZ, at, build, unit
from tests.reporting.formulas import FORMULAS, INERT, csv_texts, xlsx_texts

Q1 = Quarter.parse("2026Q1")
MADE = datetime(2026, 4, 12, 2, 30, tzinfo=UTC)


@pytest.fixture
def overview(sqlite_database: Database, nlp: NLP) -> QuarterOverview:
    """The 2026Q1 overview of 朝阳区 and 海淀区 over the dataset (SQLite; export is DB-free)."""
    with sqlite_database.transaction() as session:
        data = build(session)
        return quarter_overview(
            session,
            quarter=Q1,
            units=[data.district, unit(session, "海淀区")],
            nlp=nlp,
            tz=TZ,
            due_days=10,
            now=at(2026, 4, 12),
        )


def _docx_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(parts)


def test_csv_has_a_bom_chinese_headers_and_one_row_per_unit(overview: QuarterOverview) -> None:
    """The CSV starts with a UTF-8 BOM and holds each unit's figures under Chinese headers."""
    content = to_csv(summary_rows(overview))
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert [r["单位"] for r in rows] == ["朝阳区", "海淀区"]
    chaoyang = rows[0]
    assert chaoyang["走访次数"] == "4"
    assert chaoyang["新收求助"] == "7"
    assert chaoyang["办结用时中位数（天）"] == "7.5"
    assert chaoyang["需求-岗位"] == "5"
    assert chaoyang["状态"] == "已逾期"
    assert rows[1]["办结用时中位数（天）"] == ""


def test_xlsx_of_units_has_one_row_per_unit(overview: QuarterOverview) -> None:
    """The units' workbook opens with openpyxl: a header row, then one row per unit."""
    book = load_workbook(io.BytesIO(to_xlsx(summary_rows(overview))))
    sheet = book.active
    assert sheet.title == "2026Q1"
    header = [c.value for c in sheet[1]]
    values = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert values["单位"] == "朝阳区"
    assert values["走访人数"] == 9
    assert values["满意率"] == 0.667
    assert sheet.cell(row=2, column=header.index("满意率") + 1).number_format == "0.0%"
    assert values["截止日期"].date() == date(2026, 4, 10) and values["提交时间"] is None
    assert sheet.cell(row=2, column=header.index("截止日期") + 1).number_format == "yyyy-mm-dd"
    assert sheet.max_row == 3
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:{sheet.cell(row=3, column=len(header)).column_letter}3"  # fmt: skip
    widths = {sheet.column_dimensions[c.column_letter].width for c in sheet[1]}
    assert len(widths) > 1  # from the content, not one width for all


def test_xlsx_of_one_unit_lists_its_figures(overview: QuarterOverview) -> None:
    """One unit's workbook: title, period, then (板块, 项目, 数值, 上季度, 变化) lines."""
    figures = overview.units[0].figures
    sheet = load_workbook(io.BytesIO(to_xlsx(figures))).active
    assert sheet["A1"].value == "朝阳区妇联2026年第一季度妇情汇总"
    lines = {(r[1], r[2]) for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert ("走访次数", 4) in lines
    assert ("紧急求助", 1) in lines
    assert ("合计", "2/6") in lines
    assert ("满意率", "67%") in lines
    rising = [r for r in sheet.iter_rows(min_row=4, values_only=True) if r[1] == "找工作"]
    assert rising == [("高频关键词", "找工作", 5, 1, "↑4")]


def test_docx_is_an_a4_document_with_page_numbers_charts_and_the_remark(
    overview: QuarterOverview,
) -> None:
    """The DOCX opens with python-docx: A4 with the 公文 margins, a PAGE field in the footer,
    the unit as author and the making time as created, the title on one line, the figures,
    two chart images, the district's remark and the city's return note, masked notes."""
    entry = overview.units[0].model_copy(
        update={
            "remark": "本季度重点走访了单亲母亲",
            "review": "returned",
            "review_comment": "请补充典型案例",
        }
    )
    content = to_docx(entry, quarter=Q1, now=MADE)
    document = Document(io.BytesIO(content))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert (round(section.top_margin.mm), round(section.left_margin.mm)) == (37, 28)
    footer = section.footer.paragraphs[0]._p.xml
    assert 'w:instr="PAGE"' in footer
    properties = document.core_properties
    assert properties.author == "朝阳区妇联" and properties.title.endswith("妇情汇总")
    assert properties.created == MADE
    assert document.paragraphs[0].text == "朝阳区妇联2026年第一季度妇情汇总"
    assert document.paragraphs[0].runs[0].font.size.pt == 22
    text = _docx_text(content)
    for expected in (
        "报送截止：2026-04-10｜状态：已逾期",
        "走访次数",
        "7.5",
        "满意率",
        "67%",
        "报送说明",
        "本季度重点走访了单亲母亲",
        "市妇联退回意见：请补充典型案例",
        "六、办理时效与考核",
    ):
        assert expected in text, expected
    assert len(document.inline_shapes) == 2  # needs by category; this quarter against the last
    assert "图示" not in text and "█" not in text
    assert "138****5678" in text and PHONE not in text
    assert "八、典型走访记录" in text


def test_a_long_unit_name_shrinks_the_title_to_one_line(overview: QuarterOverview) -> None:
    """A long unit name makes the title smaller rather than leave a character alone below."""
    entry = overview.units[0].model_copy(update={"unit": "朝阳区双井街道九龙社区"})
    document = Document(io.BytesIO(to_docx(entry, quarter=Q1, now=MADE)))
    size = document.paragraphs[0].runs[0].font.size.pt
    assert 16 <= size < 22
    assert size * len(document.paragraphs[0].text) <= (210 - 28 - 26) / 25.4 * 72


def test_render_picks_the_format_and_names_files(overview: QuarterOverview) -> None:
    """`render` makes each format; docx needs one unit; file names read 2026Q1-朝阳区.docx."""
    one = overview.model_copy(update={"units": overview.units[:1]})
    assert render(overview, fmt="csv", unit=None, now=MADE).startswith(b"\xef\xbb\xbf")
    assert render(one, fmt="xlsx", unit="朝阳区", now=MADE)[:2] == b"PK"
    assert "朝阳区妇联" in _docx_text(render(one, fmt="docx", unit="朝阳区", now=MADE))
    with pytest.raises(ValueError):
        render(overview, fmt="docx", unit=None, now=MADE)
    with pytest.raises(ValueError):
        render(overview, fmt="pdf", unit=None, now=MADE)
    assert file_name("2026Q1", "朝阳区", "docx") == "2026Q1-朝阳区.docx"
    assert file_name("2026Q1", None, "xlsx") == "2026Q1.xlsx"


# ----------------------------------------------------------------------------- formulas


@pytest.mark.parametrize(
    ("value", "written"),
    [
        *((f, "'" + f) for f in FORMULAS),
        ("\n=1", "'\n=1"),
        ("  =1+1", "'  =1+1"),  # some spreadsheets trim leading spaces on import
        ("\u3000@SUM(A1)", "'\u3000@SUM(A1)"),
        ("-3", "'-3"),  # text that looks like a number is still text
        ("王某说=1", "王某说=1"),
        ("2026-04-10", "2026-04-10"),
        ("", ""),
        (-3, -3),
        (0.667, 0.667),
        (date(2026, 4, 10), date(2026, 4, 10)),
        (None, None),
    ],
)
def test_inert_cell_quotes_formula_text_and_keeps_numbers(value: object, written: object) -> None:
    """Text starting (after spaces) with =, +, -, @, tab, CR or LF gets a leading '; other
    text, numbers, dates and None are kept as they are."""
    assert inert_cell(value) == written


def test_csv_and_xlsx_write_formulas_as_inert_text(overview: QuarterOverview) -> None:
    """Formulas in values and in column names come out quoted, never as formulas; numbers stay
    numbers (read back with csv.reader and openpyxl)."""
    rows = [{"需求": f, f: -3, "人数": 2} for f in FORMULAS]
    cells = csv_texts(to_csv(rows))
    assert cells >= INERT and "-3" in cells
    values = xlsx_texts(to_xlsx(rows))
    assert values >= INERT and -3 in values and 2 in values
    real = overview.units[0].figures
    forms = real.visits.model_copy(update={"by_form": dict.fromkeys(FORMULAS, 1)})
    figures = real.model_copy(update={"visits": forms})
    detailed = xlsx_texts(to_xlsx(figures))
    assert detailed >= INERT and 4 in detailed
