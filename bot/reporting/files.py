"""One entry point for a quarter's summary as a file: CSV, XLSX (`bot.reporting.export`) or
DOCX (`bot.reporting.document`), and its name."""

from __future__ import annotations

from datetime import datetime

from bot.domain.figures import QuarterOverview
from bot.domain.quarters import Quarter
from bot.reporting.document import to_docx
from bot.reporting.export import summary_rows, to_csv, to_xlsx


def file_name(quarter: str, unit: str | None, fmt: str) -> str:
    """'2026Q1-朝阳区.docx', or '2026Q1.xlsx' for every unit."""
    return f"{quarter}-{unit}.{fmt}" if unit else f"{quarter}.{fmt}"


def render(overview: QuarterOverview, *, fmt: str, unit: str | None, now: datetime) -> bytes:
    """A `quarter_overview` as a csv, xlsx or docx file made at `now` (docx and a one-unit xlsx
    take the first unit; `unit` is None for the whole city)."""
    if fmt == "csv":
        return to_csv(summary_rows(overview))
    if fmt == "xlsx":
        return to_xlsx(overview.units[0].figures if unit else summary_rows(overview))
    if fmt == "docx":
        if not unit or not overview.units:
            raise ValueError("a DOCX summary is made for one unit")
        return to_docx(overview.units[0], quarter=Quarter.parse(overview.quarter), now=now)
    raise ValueError(f"unknown format {fmt!r}: csv, xlsx or docx")
