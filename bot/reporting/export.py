"""Files of the quarterly summary: CSV and XLSX tables, and the DOCX a district sends upward.

- `to_csv(rows)`: UTF-8 with a BOM, so that Excel opens the Chinese headers right.
- `to_xlsx(rows_or_figures)`: the units' figures one row per unit (a sequence of rows from
  `summary_rows`), or one unit's figures as a detailed sheet (a `QuarterFigures`).

Every CSV and XLSX the product writes goes through these two, and both pass every cell through
`inert_cell`: text that a spreadsheet would run as a formula (OWASP's CSV injection rule) gets
a leading `'`, and XLSX text is always a string cell, never a formula. Numbers stay numbers.
- `to_docx(figures, …)`: title (朝阳区妇联2026年第一季度妇情汇总), the figures as tables, a bar
  chart of needs by category and the example notes.

The bar chart is a table whose last column carries a bar of █ characters scaled to the largest
category. python-docx cannot make native Word charts, and Pillow is not installed here (no
image library is worth a new dependency for one chart; matplotlib would be a heavy one). A
table of bars is also text: it prints, copies into the city's templates, converts to PDF and
reads aloud, and it is exact, because each bar sits beside its number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from bot import texts
from bot.domain.figures import QuarterFigures, QuarterOverview, UnitSummary
from bot.domain.quarters import Quarter, report_title
from bot.reporting.text import assessment_items, change_text, example_head, percent

BAR = "█"
BAR_WIDTH = 20
FONT = "宋体"
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}

RATING_ROWS = ("satisfied", "basic", "unsatisfied", "unrated")
Line = tuple[str, str, object, object, object]  # section, item, value, previous, change

# A spreadsheet runs a cell whose text starts with one of these as a formula (OWASP, "CSV
# Injection": =, +, -, @, tab, carriage return, line feed).
FORMULA_STARTS = frozenset("=+-@\t\r\n")


def _t(key: str, **fmt: object) -> str:
    return texts.t("report." + key, **fmt)


def status_label(status: str) -> str:
    """'已逾期' for 'overdue', and so on (the code itself when unknown)."""
    key = "report.status." + status
    return texts.t(key) if texts.has(key) else status


def bar(value: int, largest: int) -> str:
    """A bar of █ proportional to value / largest (at least one block for a non-zero value)."""
    if value <= 0 or largest <= 0:
        return ""
    return BAR * max(1, round(BAR_WIDTH * value / largest))


def _kind_label(kind: str) -> str:
    key = "report.kind." + kind
    return texts.t(key) if texts.has(key) else kind


# ----------------------------------------------------------------------------- rows


def summary_row(entry: UnitSummary) -> dict[str, object]:
    """One unit's entry of `quarter_overview` as a flat row with Chinese column names."""
    figures = entry.figures
    visits, requests = figures.visits, figures.requests
    coverage, rates = figures.coverage, figures.satisfaction
    row: dict[str, object] = {
        _t("col.unit"): entry.unit,
        _t("col.quarter"): figures.quarter,
        _t("col.due"): entry.due_date,
        _t("col.status"): status_label(entry.status),
        _t("col.submitted_at"): entry.submitted_at,
        _t("visits.total"): visits.total,
        _t("visits.people"): visits.people,
        **visits.by_form,
        **visits.by_focus,
        **{_t("col.need", label=n.label): n.total for n in figures.needs},
        _t("requests.received"): requests.received,
        _t("requests.resolved"): requests.resolved,
        _t("requests.open"): requests.open,
        _t("requests.median"): requests.median_days_to_resolve,
        _t("requests.urgent"): requests.urgent,
        _t("col.held"): coverage.held,
        _t("col.visited"): coverage.visited,
        _t("col.share"): coverage.share,
        **{_t("rating." + r): rates.count(r) for r in RATING_ROWS},
        _t("rating.share"): rates.satisfied_share,
        **(
            {
                _t("col.assess", label=label): shown
                for _n, label, shown in assessment_items(figures.assessment)
            }
            if figures.assessment is not None
            else {}
        ),
    }
    return row


def summary_rows(overview: QuarterOverview) -> list[dict[str, object]]:
    """Every unit of a `quarter_overview` as flat rows."""
    return [summary_row(entry) for entry in overview.units]


def figure_lines(figures: QuarterFigures) -> list[Line]:
    """The figures as (section, item, value, previous, change) lines, in report order."""
    visits, requests = figures.visits, figures.requests
    coverage, rates = figures.coverage, figures.satisfaction
    s_visits, s_needs, s_requests = (
        _t("section.visits"),
        _t("section.needs"),
        _t("section.requests"),
    )
    s_cover, s_rates, s_probs = (
        _t("section.coverage"),
        _t("section.satisfaction"),
        _t("section.problems"),
    )
    lines: list[Line] = [
        (s_visits, _t("visits.total"), visits.total, None, None),
        (s_visits, _t("visits.people"), visits.people, None, None),
        *((s_visits, form, n, None, None) for form, n in visits.by_form.items()),
        *((s_visits, group, n, None, None) for group, n in visits.by_focus.items()),
        *((s_needs, n.label, n.total, None, None) for n in figures.needs),
        (s_requests, _t("requests.received"), requests.received, None, None),
        (s_requests, _t("requests.resolved"), requests.resolved, None, None),
        (s_requests, _t("requests.open"), requests.open, None, None),
        (s_requests, _t("requests.median"), requests.median_days_to_resolve, None, None),
        (s_requests, _t("requests.urgent"), requests.urgent, None, None),
        *(
            (s_cover, _kind_label(kind), f"{row.visited}/{row.held}", None, None)
            for kind, row in coverage.kinds.items()
        ),
        (s_cover, _t("kind.all"), f"{coverage.visited}/{coverage.held}", None, None),
        *((s_rates, _t("rating." + r), rates.count(r), None, None) for r in RATING_ROWS),
        (s_rates, _t("rating.share"), percent(rates.satisfied_share), None, None),
        *(
            (_t("section.assessment"), label, shown, None, None)
            for _n, label, shown in (
                assessment_items(figures.assessment) if figures.assessment is not None else []
            )
        ),
        *(
            (s_probs, row.label, row.count, row.previous, change_text(row.change))
            for row in figures.problems.categories
        ),
        *(
            (_t("section.terms"), row.term, row.count, row.previous, change_text(row.change))
            for row in figures.problems.terms
        ),
    ]
    return lines


# ----------------------------------------------------------------------------- CSV and XLSX


def inert_cell(value: object) -> object:
    """`value` safe to open in a spreadsheet: text starting with =, +, -, @, tab, CR or LF,
    also after leading spaces (which some spreadsheets trim on import), gets a leading `'`
    (OWASP's CSV injection rule); numbers, dates and None are returned as they are."""
    if (
        isinstance(value, str)
        and value
        and (value[0] in FORMULA_STARTS or value.lstrip()[:1] in FORMULA_STARTS)
    ):
        return "'" + value
    return value


def _columns(rows: Sequence[Mapping[str, object]], columns: Sequence[str] | None) -> list[str]:
    """The given columns, else the rows' keys in first-seen order."""
    if columns is not None:
        return list(columns)
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def to_csv(rows: Sequence[Mapping[str, object]], columns: Sequence[str] | None = None) -> bytes:
    """Rows as CSV, UTF-8 with a BOM for Excel. `columns`: the header even when there are no
    rows (else the rows' keys in first-seen order)."""
    header = _columns(rows, columns)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([inert_cell(name) for name in header])
    for row in rows:
        writer.writerow([inert_cell("" if row.get(c) is None else row.get(c)) for c in header])
    return out.getvalue().encode("utf-8-sig")


def _append(sheet: Any, values: Sequence[object]) -> None:
    """Add a row of inert cells (`inert_cell`); text cells are strings, never formulas."""
    from openpyxl.cell import Cell

    cells = []
    for value in values:
        cell = Cell(sheet, value=inert_cell(value))
        if isinstance(cell.value, str):
            cell.data_type = "s"  # openpyxl would make text starting with = a formula
        cells.append(cell)
    sheet.append(cells)


def _sheet_title(name: str) -> str:
    cleaned = "".join(ch for ch in name if ch not in "[]:*?/\\")
    return cleaned[:31] or "Sheet"


def to_xlsx(
    rows_or_figures: Sequence[Mapping[str, object]] | QuarterFigures,
    columns: Sequence[str] | None = None,
) -> bytes:
    """An XLSX workbook: one row per unit for a sequence of rows (`columns` as in `to_csv`), or
    one unit's detailed sheet (板块, 项目, 数值, 上季度, 变化) for its figures."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    if isinstance(rows_or_figures, QuarterFigures):
        figures = rows_or_figures
        sheet.title = _sheet_title(f"{figures.unit}{figures.quarter}")
        _append(sheet, [report_title(figures.unit, Quarter.parse(figures.quarter))])
        sheet["A1"].font = Font(bold=True, size=14)
        _append(sheet, [_t("range", start=figures.start, end=figures.end)])
        header = [_t("col." + c) for c in ("section", "item", "value", "previous", "change")]
        _append(sheet, header)
        for line in figure_lines(figures):
            _append(sheet, line)
        header_row, widths = 3, [24, 22, 12, 10, 10]
    else:
        rows = list(rows_or_figures)
        header = _columns(rows, columns)
        sheet.title = _sheet_title(str(rows[0].get(_t("col.quarter"), "")) if rows else "")
        _append(sheet, header)
        for row in rows:
            _append(sheet, [row.get(c) for c in header])
        header_row, widths = 1, [12] * len(header)
        sheet.freeze_panes = "B2"
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[_column_letter(index)].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    letter: str = get_column_letter(index)
    return letter


# ----------------------------------------------------------------------------- DOCX


def _table(document: Any, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Any:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = texts.t("report.na") if value is None else str(value)
    return table


def _chinese_font(document: Any) -> None:
    from docx.oxml.ns import qn

    for name in ("Normal", "Title", "Heading 1", "Heading 2"):
        style = document.styles[name]
        style.font.name = FONT
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)


def to_docx(
    figures: QuarterFigures, *, unit_name: str, quarter: Quarter, due: date, status: str
) -> bytes:
    """The quarterly summary as a Word document: title, figure tables, the needs bar chart
    (a table of █ bars) and the example notes."""
    from docx import Document

    document = Document()
    _chinese_font(document)
    document.add_heading(report_title(unit_name, quarter), level=0)
    document.add_paragraph(_t("range", start=figures.start, end=figures.end))
    document.add_paragraph(_t("due", due=due.isoformat(), status=status_label(status)))

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
    largest = max((n.total for n in needs), default=0)
    document.add_heading(_t("section.needs"), level=1)
    document.add_paragraph(_t("chart.caption"))
    _table(
        document,
        [
            _t("col.category"),
            _t("col.visits"),
            _t("col.requests"),
            _t("col.total"),
            _t("col.chart"),
        ],
        [(n.label, n.visits, n.requests, n.total, bar(n.total, largest)) for n in needs],
    )

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
                (_kind_label(k), r.held, r.visited, percent(_ratio(r.visited, r.held)))
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

    problems = figures.problems
    document.add_heading(_t("section.problems"), level=1)
    change_header = [_t("col.count"), _t("col.previous"), _t("col.change")]
    _table(
        document,
        [_t("col.category"), *change_header],
        [(r.label, r.count, r.previous, change_text(r.change)) for r in problems.categories],
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


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# ----------------------------------------------------------------------------- one entry point


def file_name(quarter: str, unit: str | None, fmt: str) -> str:
    """'2026Q1-朝阳区.docx', or '2026Q1.xlsx' for every unit."""
    return f"{quarter}-{unit}.{fmt}" if unit else f"{quarter}.{fmt}"


def render(overview: QuarterOverview, *, fmt: str, unit: str | None) -> bytes:
    """A `quarter_overview` as a csv, xlsx or docx file (docx and a one-unit xlsx take the
    first unit; `unit` is None for the whole city)."""
    if fmt == "csv":
        return to_csv(summary_rows(overview))
    if fmt == "xlsx":
        return to_xlsx(overview.units[0].figures if unit else summary_rows(overview))
    if fmt == "docx":
        if not unit or not overview.units:
            raise ValueError("a DOCX summary is made for one unit")
        entry = overview.units[0]
        return to_docx(
            entry.figures,
            unit_name=entry.unit,
            quarter=Quarter.parse(overview.quarter),
            due=date.fromisoformat(entry.due_date),
            status=entry.status,
        )
    raise ValueError(f"unknown format {fmt!r}: csv, xlsx or docx")
