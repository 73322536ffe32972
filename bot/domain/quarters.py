"""Quarters and the due dates of their summaries, over an injected holiday calendar.

A quarter's summary is due a number of days after it ends, moved to the next working day by a
`HolidayCalendar`. In production that is `ChineseHolidays` (the chinesecalendar package: 调休
workdays count as working, statutory holidays do not; for a year it does not cover yet, only
weekends are skipped and one warning per year is logged). Tests pass a `TableHolidays` built
from a fixed table, so no test depends on which years the installed package covers.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Protocol

from bot import texts

logger = logging.getLogger("bot.domain.quarters")

# The years a quarter may name; a quarter's neighbours (for comparisons and due dates) must be
# dates too, so 0001Q1 and 9999Q4 are refused with the rest, as 400s, not 500s.
FIRST_YEAR, LAST_YEAR = 2000, 2100
DEFAULT_DUE_DAYS = 10
_QUARTER = re.compile(r"(\d{4})Q([1-4])", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter, e.g. 2026Q1 (January to March 2026); ordered by time."""

    year: int
    q: int

    def __post_init__(self) -> None:
        if not 1 <= self.q <= 4 or not FIRST_YEAR <= self.year <= LAST_YEAR:
            raise ValueError(
                f"not a quarter: {self.year}Q{self.q} (years {FIRST_YEAR}–{LAST_YEAR})"
            )

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """Read "2026Q1" (any case, surrounding blanks ignored); ValueError otherwise."""
        found = _QUARTER.fullmatch(text.strip())
        if found is None:
            raise ValueError(f"not a quarter (expected e.g. 2026Q1): {text!r}")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, day: date) -> Quarter:
        """The quarter a day falls in."""
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.q}"

    @property
    def start(self) -> date:
        """The quarter's first day."""
        return date(self.year, 3 * (self.q - 1) + 1, 1)

    @property
    def end(self) -> date:
        """The quarter's last day."""
        return self.next().start - timedelta(days=1)

    @property
    def middle(self) -> date:
        """The quarter's middle day: start + (end - start) // 2."""
        return self.start + (self.end - self.start) // 2

    def previous(self) -> Quarter:
        """The quarter before this one."""
        return Quarter(self.year - 1, 4) if self.q == 1 else Quarter(self.year, self.q - 1)

    def next(self) -> Quarter:
        """The quarter after this one."""
        return Quarter(self.year + 1, 1) if self.q == 4 else Quarter(self.year, self.q + 1)


class HolidayCalendar(Protocol):
    """Which days are working days (statutory holidays off, 调休 weekend days on)."""

    def is_working_day(self, day: date) -> bool:
        """True on a working day."""
        ...


def _chinese_is_workday(day: date) -> bool:
    import chinese_calendar  # imported on first use: nothing loads at import time

    return bool(chinese_calendar.is_workday(day))


@dataclass
class ChineseHolidays:
    """The production calendar: chinesecalendar's days, or Monday to Friday (with one warning
    per year) for a year the installed package does not cover yet (`NotImplementedError`).
    `lookup` is chinesecalendar's `is_workday`; tests may pass another."""

    lookup: Callable[[date], bool] = _chinese_is_workday
    warned: set[int] = field(default_factory=set)

    def is_working_day(self, day: date) -> bool:
        """True on a working day by the statutory calendar (weekdays only for a year it lacks)."""
        try:
            return bool(self.lookup(day))
        except NotImplementedError:
            if day.year not in self.warned:
                self.warned.add(day.year)
                logger.warning(
                    "chinese_calendar has no holidays for %d: due dates that year skip weekends "
                    "only (upgrade chinesecalendar when the State Council publishes them)",
                    day.year,
                )
            return day.weekday() < 5


@dataclass(frozen=True)
class TableHolidays:
    """A fixed table of exceptions: `days[d]` is False on a holiday and True on a 调休 workday;
    any other day is a working day from Monday to Friday."""

    days: Mapping[date, bool]

    @classmethod
    def from_csv(cls, path: Path) -> TableHolidays:
        """Read `date,kind,name` rows (kind `holiday` or `workday`)."""
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        bad = [row["kind"] for row in rows if row["kind"] not in ("holiday", "workday")]
        if bad:
            raise ValueError(f"{path}: kind is holiday or workday, not {bad[0]!r}")
        return cls({date.fromisoformat(row["date"]): row["kind"] == "workday" for row in rows})

    def is_working_day(self, day: date) -> bool:
        """True on a listed workday, or on an unlisted Monday to Friday."""
        return self.days.get(day, day.weekday() < 5)


# The production calendar, shared by every caller that does not pass its own (one warning per
# uncovered year per process).
CHINESE_HOLIDAYS = ChineseHolidays()


def next_working_day(day: date, calendar: HolidayCalendar) -> date:
    """`day` itself when it is a working day, else the first working day after it."""
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def due_date(
    quarter: Quarter,
    *,
    days: int = DEFAULT_DUE_DAYS,
    overrides: Mapping[str, date] | None = None,
    calendar: HolidayCalendar = CHINESE_HOLIDAYS,
) -> date:
    """The day a quarter's summary is due: an override for the quarter, else `days` after its
    end moved forward to the next working day of `calendar`."""
    if overrides and str(quarter) in overrides:
        return overrides[str(quarter)]
    return next_working_day(quarter.end + timedelta(days=days), calendar)


# The city compiles its own summary once the districts' are in: it is due this many days after
# theirs (moved forward to a working day), and moves with an override of theirs.
CITY_AFTER_DAYS = 10


def summary_due(
    districts_due: date, *, city: bool, calendar: HolidayCalendar = CHINESE_HOLIDAYS
) -> date:
    """When a unit's summary is due: the districts' due date, or for the city CITY_AFTER_DAYS
    later (the next working day from there)."""
    if not city:
        return districts_due
    return next_working_day(districts_due + timedelta(days=CITY_AFTER_DAYS), calendar)


def quarter_label(quarter: Quarter) -> str:
    """'2026年第一季度'."""
    return texts.t("report.period", year=quarter.year, n=texts.t("report.numerals")[quarter.q - 1])


def report_title(unit_name: str, quarter: Quarter) -> str:
    """'朝阳区妇联2026年第一季度妇情汇总'."""
    return texts.t("report.title", unit=unit_name, period=quarter_label(quarter))
