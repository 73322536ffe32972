"""Quarters and the due dates of their summaries (pure: no database, no clock).

A quarter's summary is due a number of days after it ends, moved to the next working day by the
statutory calendar (chinese_calendar: 调休 workdays count as working, statutory holidays do not).
For a year the calendar does not cover yet, only weekends are skipped, and one warning per year
is logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar

logger = logging.getLogger("scheduler.calendar")

# The years a quarter may name; a quarter's neighbours (for comparisons and due dates) must be
# dates too, so 0001Q1 and 9999Q4 are refused with the rest, as 400s, not 500s.
FIRST_YEAR, LAST_YEAR = 2000, 2100
_QUARTER = re.compile(r"(\d{4})Q([1-4])", re.IGNORECASE)

# Years chinese_calendar does not cover that were already warned about in this process.
_warned_years: set[int] = set()

SUBMITTED_STATUSES = ("submitted", "accepted")


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


def is_working_day(day: date) -> bool:
    """True on a working day: chinese_calendar's, or Monday to Friday for a year it lacks."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            logger.warning(
                "chinese_calendar has no holidays for %d: due dates that year skip weekends only "
                "(upgrade chinesecalendar when the State Council publishes them)",
                day.year,
            )
        return day.weekday() < 5


def due_date(
    quarter: Quarter, *, days: int = 10, overrides: Mapping[str, date] | None = None
) -> date:
    """The day a quarter's summary is due: an override for the quarter, else `days` after its
    end moved forward to the next working day."""
    if overrides and str(quarter) in overrides:
        return overrides[str(quarter)]
    day = quarter.end + timedelta(days=days)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def report_status(*, stored: str | None, due: date, today: date) -> str:
    """The status shown for a unit's summary: 'submitted' or 'accepted' as stored; otherwise
    (none yet, open or returned) 'overdue' after the due date and 'open' until then."""
    if stored in SUBMITTED_STATUSES:
        return stored
    return "overdue" if today > due else "open"
