"""`bot.domain.quarters`: quarters, due dates over an injected holiday calendar, and the
chinesecalendar adapter. Due dates are checked against the fixed table of
tests/data/holidays.csv, so no test depends on which years the installed package covers."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from bot.domain.quarters import (
    CHINESE_HOLIDAYS,
    ChineseHolidays,
    HolidayCalendar,
    Quarter,
    TableHolidays,
    due_date,
    next_working_day,
    quarter_label,
    report_title,
)


@pytest.mark.parametrize(
    ("quarter", "expected"),
    [
        ("2026Q1", date(2026, 4, 10)),  # a Friday
        ("2026Q3", date(2026, 10, 10)),  # a Saturday that is a 调休 workday
        ("2025Q4", date(2026, 1, 12)),  # Saturday 1-10 → Monday 1-12
        ("2026Q4", date(2027, 1, 11)),  # not in the table: Sunday 1-10 → Monday 1-11
    ],
)
def test_due_date_vectors(quarter: str, expected: date, holidays: TableHolidays) -> None:
    """The issue's four due dates hold with the default of 10 days."""
    assert due_date(Quarter.parse(quarter), calendar=holidays) == expected


def test_due_date_skips_statutory_holidays(holidays: TableHolidays) -> None:
    """A due date in the National Day holiday moves to the first working day after it."""
    assert due_date(Quarter(2026, 3), days=1, calendar=holidays) == date(2026, 10, 8)


def test_due_date_days_setting(holidays: TableHolidays) -> None:
    """`days` counts from the quarter's last day."""
    assert due_date(Quarter(2026, 1), days=14, calendar=holidays) == date(2026, 4, 14)


def test_override_wins(holidays: TableHolidays) -> None:
    """An override for the quarter replaces the computed date, even on a holiday."""
    overrides = {"2026Q1": date(2026, 4, 5)}
    assert due_date(Quarter(2026, 1), overrides=overrides, calendar=holidays) == date(2026, 4, 5)
    assert due_date(Quarter(2026, 2), overrides=overrides, calendar=holidays) == date(2026, 7, 10)


def test_the_calendar_decides_the_working_days() -> None:
    """Any object with `is_working_day` is a calendar: one that rests on Mondays moves a
    Monday due date to Tuesday."""

    class NoMondays:
        def is_working_day(self, day: date) -> bool:
            return day.weekday() not in (0, 5, 6)

    calendar: HolidayCalendar = NoMondays()
    assert next_working_day(date(2026, 1, 10), calendar) == date(2026, 1, 13)
    assert due_date(Quarter(2025, 4), calendar=calendar) == date(2026, 1, 13)


def test_table_reads_holidays_and_workdays(holidays: TableHolidays) -> None:
    """The table: a listed weekday holiday is off, a listed weekend workday is on, and any
    other day goes by the weekday."""
    assert not holidays.is_working_day(date(2025, 10, 1))  # Wednesday, National Day
    assert holidays.is_working_day(date(2025, 9, 28))  # Sunday, 调休
    assert holidays.is_working_day(date(2025, 10, 9))  # an ordinary Thursday
    assert not holidays.is_working_day(date(2025, 10, 12))  # an ordinary Sunday


def test_table_refuses_an_unknown_kind(tmp_path: Path) -> None:
    """A row whose kind is neither holiday nor workday is an error, not a silent weekday."""
    path = tmp_path / "bad.csv"
    path.write_text("date,kind,name\n2026-01-01,festival,元旦\n", encoding="utf-8")
    with pytest.raises(ValueError, match="festival"):
        TableHolidays.from_csv(path)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 1, 1), False),  # 元旦, a Wednesday
        (date(2025, 1, 26), True),  # a Sunday worked for the Spring Festival
        (date(2025, 10, 8), False),  # National Day, a Wednesday
        (date(2025, 10, 11), True),  # a Saturday worked for National Day
        (date(2025, 10, 9), True),  # an ordinary Thursday
        (date(2025, 10, 12), False),  # an ordinary Sunday
    ],
)
def test_production_calendar_knows_2025(day: date, working: bool) -> None:
    """The chinesecalendar adapter on 2025, a year every installed version covers."""
    assert ChineseHolidays().is_working_day(day) is working


def test_production_calendar_is_the_default() -> None:
    """Without a calendar, due dates use the chinesecalendar adapter: 2025Q3 is due on the
    first working day after National Day (10-10 is a Friday)."""
    assert isinstance(CHINESE_HOLIDAYS, ChineseHolidays)
    assert due_date(Quarter(2025, 3)) == date(2025, 10, 10)
    assert due_date(Quarter(2025, 3), days=1) == date(2025, 10, 9)


def test_uncovered_year_skips_weekends_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    """A year the package lacks (its lookup raises NotImplementedError) skips weekends only and
    logs one warning per year."""

    def covers_2026_only(day: date) -> bool:
        if day.year != 2026:
            raise NotImplementedError(f"no data for {day.year}")
        return day.weekday() < 5

    calendar = ChineseHolidays(lookup=covers_2026_only)
    caplog.set_level(logging.WARNING, logger="bot.domain.quarters")
    assert due_date(Quarter(2026, 4), calendar=calendar) == date(2027, 1, 11)
    assert due_date(Quarter(2027, 1), calendar=calendar) == date(2027, 4, 12)  # Sat 4-10 → Mon
    assert not calendar.is_working_day(date(2027, 1, 9))
    warnings = [r for r in caplog.records if r.name == "bot.domain.quarters"]
    assert len(warnings) == 1
    assert "2027" in warnings[0].getMessage()


@pytest.mark.parametrize("text", ["2026Q1", "2026q1", " 2026Q1 "])
def test_parse(text: str) -> None:
    """Quarters parse in either case."""
    assert Quarter.parse(text) == Quarter(2026, 1)


@pytest.mark.parametrize("text", ["2026Q5", "2026Q0", "26Q1", "2026-Q1", "Q1 2026", "", "2026"])
def test_parse_rejects(text: str) -> None:
    """Anything but YYYYQn is a ValueError."""
    with pytest.raises(ValueError):
        Quarter.parse(text)


@pytest.mark.parametrize("text", ["1999Q4", "2101Q1", "0001Q1", "9999Q4"])
def test_years_outside_the_range_are_refused(text: str) -> None:
    """Years outside 2000–2100 are not quarters (their neighbours must be dates too)."""
    with pytest.raises(ValueError, match="2000–2100"):
        Quarter.parse(text)


def test_str_and_order() -> None:
    """A quarter prints as 2026Q1 and sorts by time."""
    assert str(Quarter(2026, 1)) == "2026Q1"
    assert sorted([Quarter(2026, 1), Quarter(2025, 4), Quarter(2026, 2)]) == [
        Quarter(2025, 4),
        Quarter(2026, 1),
        Quarter(2026, 2),
    ]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 1, 1), Quarter(2026, 1)),
        (date(2026, 3, 31), Quarter(2026, 1)),
        (date(2026, 4, 1), Quarter(2026, 2)),
        (date(2026, 12, 31), Quarter(2026, 4)),
    ],
)
def test_of(day: date, expected: Quarter) -> None:
    """A day belongs to its quarter, boundaries included."""
    assert Quarter.of(day) == expected


@pytest.mark.parametrize(
    ("quarter", "start", "end", "middle"),
    [
        (Quarter(2026, 1), date(2026, 1, 1), date(2026, 3, 31), date(2026, 2, 14)),
        (Quarter(2026, 2), date(2026, 4, 1), date(2026, 6, 30), date(2026, 5, 16)),
        (Quarter(2028, 1), date(2028, 1, 1), date(2028, 3, 31), date(2028, 2, 15)),
        (Quarter(2026, 4), date(2026, 10, 1), date(2026, 12, 31), date(2026, 11, 15)),
    ],
)
def test_start_end_middle(quarter: Quarter, start: date, end: date, middle: date) -> None:
    """Start, end and middle (start + (end - start) // 2) of a quarter."""
    assert (quarter.start, quarter.end, quarter.middle) == (start, end, middle)


def test_previous_and_next() -> None:
    """previous() and next() cross year boundaries."""
    assert Quarter(2026, 1).previous() == Quarter(2025, 4)
    assert Quarter(2025, 4).next() == Quarter(2026, 1)
    assert Quarter(2026, 2).previous() == Quarter(2026, 1)
    assert Quarter(2026, 2).next() == Quarter(2026, 3)


def test_labels() -> None:
    """A quarter and a summary read as 2026年第四季度 and 朝阳区妇联2026年第一季度妇情汇总."""
    assert quarter_label(Quarter(2026, 4)) == "2026年第四季度"
    assert report_title("朝阳区", Quarter(2026, 1)) == "朝阳区妇联2026年第一季度妇情汇总"
