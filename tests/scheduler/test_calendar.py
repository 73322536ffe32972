"""Quarters, due dates by the statutory calendar, and the status of a summary."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date

import pytest

from scheduler import calendar
from scheduler.calendar import Quarter, due_date, is_working_day, report_status


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no year warned about yet."""
    monkeypatch.setattr(calendar, "_warned_years", set())
    yield


@pytest.mark.parametrize(
    ("quarter", "expected"),
    [
        ("2026Q1", date(2026, 4, 10)),  # a Friday
        ("2026Q3", date(2026, 10, 10)),  # a Saturday that is a 调休 workday
        ("2025Q4", date(2026, 1, 12)),  # Saturday 1-10 → Monday 1-12
        ("2026Q4", date(2027, 1, 11)),  # 2027 not covered: Sunday 1-10 → Monday 1-11
    ],
)
def test_due_date_vectors(quarter: str, expected: date) -> None:
    """The issue's four due dates hold with the default of 10 days."""
    assert due_date(Quarter.parse(quarter)) == expected


def test_due_date_skips_statutory_holidays() -> None:
    """A due date in the National Day holiday moves to the first working day after it."""
    assert due_date(Quarter(2026, 3), days=1) == date(2026, 10, 8)


def test_due_date_days_setting() -> None:
    """`days` counts from the quarter's last day."""
    assert due_date(Quarter(2026, 1), days=14) == date(2026, 4, 14)


def test_override_wins() -> None:
    """An override for the quarter replaces the computed date, even on a holiday."""
    overrides = {"2026Q1": date(2026, 4, 5)}
    assert due_date(Quarter(2026, 1), overrides=overrides) == date(2026, 4, 5)
    assert due_date(Quarter(2026, 2), overrides=overrides) == date(2026, 7, 10)


def test_uncovered_year_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    """A year chinese_calendar lacks skips weekends only and logs one warning per year."""
    caplog.set_level(logging.WARNING, logger="scheduler.calendar")
    assert due_date(Quarter(2026, 4)) == date(2027, 1, 11)
    assert due_date(Quarter(2027, 1)) == date(2027, 4, 12)  # Saturday 4-10 → Monday
    assert not is_working_day(date(2027, 1, 9))
    warnings = [r for r in caplog.records if r.name == "scheduler.calendar"]
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


@pytest.mark.parametrize(
    ("stored", "today", "expected"),
    [
        (None, date(2026, 4, 10), "open"),
        (None, date(2026, 4, 11), "overdue"),
        ("open", date(2026, 4, 11), "overdue"),
        ("returned", date(2026, 4, 1), "open"),
        ("returned", date(2026, 4, 20), "overdue"),
        ("submitted", date(2026, 4, 20), "submitted"),
        ("accepted", date(2026, 4, 20), "accepted"),
    ],
)
def test_report_status(stored: str | None, today: date, expected: str) -> None:
    """Submitted and accepted stay; anything else is open until the due date, then overdue."""
    assert report_status(stored=stored, due=date(2026, 4, 10), today=today) == expected
