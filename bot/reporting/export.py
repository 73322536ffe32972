"""Tables of the quarterly summary and of the console's lists: CSV and XLSX.

- `to_csv(rows)`: UTF-8 with a BOM, so that Excel opens the Chinese headers right; dates in
  ISO 8601.
- `to_xlsx(rows_or_figures)`: the units' figures one row per unit (a sequence of rows from
  `summary_rows`), or one unit's figures as a detailed sheet (a `QuarterFigures`): a named
  sheet, dates and times as Excel dates, numbers as numbers, widths that follow the content
  (long text wraps), a frozen header with an autofilter.

Every CSV and XLSX the product writes goes through these two, and both pass every cell through
`inert_cell`: text that a spreadsheet would run as a formula (OWASP's CSV injection rule) gets
a leading `'`, and XLSX text is always a string cell, never a formula. Numbers stay numbers.
The DOCX is `bot.reporting.document`; `bot.reporting.files.render` picks the format.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot import texts
from bot.domain.figures import PartRow, QuarterFigures, QuarterOverview, UnitSummary
from bot.domain.quarters import Quarter, report_title
from bot.reporting.text import assessment_items, change_text, percent

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


class Share(float):
    """A share (0–1) in a table: a number in CSV, a percentage-formatted number in XLSX."""

    @classmethod
    def of(cls, value: float | None) -> Share | None:
        """`value` as a Share (None stays None)."""
        return None if value is None else cls(value)


def _t(key: str, **fmt: object) -> str:
    return texts.t("report." + key, **fmt)


def status_label(status: str) -> str:
    """'已逾期' for 'overdue', and so on (the code itself when unknown)."""
    key = "report.status." + status
    return texts.t(key) if texts.has(key) else status


def kind_label(kind: str) -> str:
    """'联系街道/乡镇' for 'street', and so on (the code itself when unknown)."""
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
        _t("col.due"): date.fromisoformat(entry.due_date),
        _t("col.status"): status_label(entry.status),
        _t("col.submitted_at"): (
            datetime.fromisoformat(entry.submitted_at) if entry.submitted_at else None
        ),
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
        _t("col.share"): Share.of(coverage.share),
        **{_t("rating." + r): rates.count(r) for r in RATING_ROWS},
        _t("rating.share"): Share.of(rates.satisfied_share),
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
            (s_cover, kind_label(kind), f"{row.visited}/{row.held}", None, None)
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
        *part_lines(figures),
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


def part_label(figures: QuarterFigures) -> str:
    """区 for the city's parts, 街道 for a district's."""
    return texts.t(f"report.part.{figures.part or 'street'}")


def part_summary(row: PartRow) -> str:
    """'走访4次·覆盖9人·求助7件（紧急1件）·按时办结50%·满意率67%·联系点覆盖33%'."""
    return texts.t(
        "report.part.line",
        visits=row.visits,
        people=row.people,
        requests=row.requests,
        urgent=row.urgent,
        on_time=percent(row.resolved_on_time),
        satisfaction=percent(row.satisfaction),
        coverage=percent(row.coverage),
    )


@dataclass(frozen=True)
class Common:
    """One problem several parts share: the category or term, its counts, in which parts, and
    the codes of requests behind it."""

    item: str
    count: int
    previous: int | None
    where: str
    requests: list[str]


def common_rows(figures: QuarterFigures) -> list[Common]:
    """普遍性、倾向性 across parts: rising categories, then recurring terms."""
    if figures.common is None:
        return []
    part = part_label(figures)
    sep = texts.t("list.sep")
    return [
        *(
            Common(
                row.label,
                row.count,
                row.previous,
                _t("common.rising", n=len(row.parts), part=part, parts=sep.join(row.parts)),
                row.requests,
            )
            for row in figures.common.categories
        ),
        *(
            Common(
                row.term,
                row.count,
                None,
                _t("common.recurring", n=len(row.parts), part=part, parts=sep.join(row.parts)),
                row.requests,
            )
            for row in figures.common.terms
        ),
    ]


def common_lines(figures: QuarterFigures) -> list[Line]:
    """The common problems as lines (section, item, count, previous, where)."""
    section = _t("section.common", part=part_label(figures))
    return [(section, c.item, c.count, c.previous, c.where) for c in common_rows(figures)]


def part_lines(figures: QuarterFigures) -> list[Line]:
    """Each part's row, then what the parts have in common."""
    section = _t("section.parts", part=part_label(figures))
    rows = [(section, row.part, part_summary(row), None, None) for row in figures.parts or []]
    return [*rows, *common_lines(figures)]


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
        writer.writerow([_csv_value(row.get(c)) for c in header])
    return out.getvalue().encode("utf-8-sig")


def _csv_value(value: object) -> object:
    """A CSV cell: '' for None, ISO 8601 for dates and times, else the inert value."""
    if value is None:
        return ""
    if isinstance(value, datetime):  # a wall time to the minute, or an aware moment in full
        if value.tzinfo is None:
            return value.isoformat(sep=" ", timespec="minutes")
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return inert_cell(value)


DATE_FORMAT = "yyyy-mm-dd"
SHARE_FORMAT = "0.0%"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
MAX_WIDTH = 48  # characters of a column; longer text wraps


def _cell_value(value: object) -> object:
    """What a cell holds: inert text, numbers as they are, dates as Excel dates (an aware time
    as its local wall time: Excel has no time zones)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return inert_cell(value)


def _append(sheet: Any, values: Sequence[object]) -> None:
    """Add a row of inert cells (`inert_cell`); text cells are strings, never formulas; dates
    and times are real Excel dates."""
    from openpyxl.cell import Cell

    cells = []
    for value in values:
        cell = Cell(sheet, value=_cell_value(value))
        if isinstance(cell.value, str):
            cell.data_type = "s"  # openpyxl would make text starting with = a formula
        elif isinstance(value, Share):
            cell.number_format = SHARE_FORMAT
        elif isinstance(cell.value, datetime):
            cell.number_format = DATETIME_FORMAT
        elif isinstance(cell.value, date):
            cell.number_format = DATE_FORMAT
        cells.append(cell)
    sheet.append(cells)


def _sheet_title(name: str) -> str:
    cleaned = "".join(ch for ch in name if ch not in "[]:*?/\\")
    return cleaned[:31] or texts.t("report.sheet")


def _shown_width(value: object) -> int:
    """How wide `value` shows, in Excel's character widths (a Chinese character is two)."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(value))


def _lay_out(sheet: Any, header_row: int) -> None:
    """Column widths from the content (at most MAX_WIDTH, longer text wraps), a bold frozen
    header with an autofilter over the table."""
    from openpyxl.styles import Alignment, Font

    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    widths: dict[int, int] = {}
    for row in sheet.iter_rows(min_row=header_row):
        for cell in row:
            width = _shown_width(cell.value)
            widths[cell.column] = max(widths.get(cell.column, 0), width)
            if width > MAX_WIDTH:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column, width in widths.items():
        sheet.column_dimensions[_column_letter(column)].width = min(MAX_WIDTH, width + 2)
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1).coordinate
    if sheet.max_column and sheet.max_row >= header_row:
        last = _column_letter(sheet.max_column)
        sheet.auto_filter.ref = f"A{header_row}:{last}{sheet.max_row}"


def to_xlsx(
    rows_or_figures: Sequence[Mapping[str, object]] | QuarterFigures,
    columns: Sequence[str] | None = None,
    *,
    sheet_name: str | None = None,
) -> bytes:
    """An XLSX workbook: one row per unit for a sequence of rows (`columns` as in `to_csv`), or
    one unit's detailed sheet (板块, 项目, 数值, 上季度, 变化) for its figures. The sheet is named
    `sheet_name` (else the unit and quarter, or the rows' quarter); dates are Excel dates, the
    header is frozen and filtered, widths follow the content."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    if isinstance(rows_or_figures, QuarterFigures):
        figures = rows_or_figures
        sheet.title = _sheet_title(sheet_name or f"{figures.unit}{figures.quarter}")
        _append(sheet, [report_title(figures.unit, Quarter.parse(figures.quarter))])
        _append(sheet, [_t("range", start=figures.start, end=figures.end)])
        header = [_t("col." + c) for c in ("section", "item", "value", "previous", "change")]
        _append(sheet, header)
        for line in figure_lines(figures):
            _append(sheet, line)
        _lay_out(sheet, header_row=3)
        sheet["A1"].font = Font(bold=True, size=14)
    else:
        rows = list(rows_or_figures)
        header = _columns(rows, columns)
        quarter = str(rows[0].get(_t("col.quarter"), "")) if rows else ""
        sheet.title = _sheet_title(sheet_name or quarter)
        _append(sheet, header)
        for row in rows:
            _append(sheet, [row.get(c) for c in header])
        _lay_out(sheet, header_row=1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    letter: str = get_column_letter(index)
    return letter


def ratio(part: int, whole: int) -> float | None:
    """part / whole, None when whole is 0."""
    return part / whole if whole else None
