"""限时办结: the deadlines a request gets when it is filed, counted in working days.

- Accept (受理) within `accept_days` working days (1), or the category's own number
  (`FUQING_ACCEPT_DAYS`, e.g. `rights=1,jobs=2`): by the end of that working day after the day
  it was filed; an urgent one within `urgent_accept_minutes` (30), day or night, whatever its
  category.
- Resolve (办结) within `resolve_days` working days (15), or the category's own number
  (`FUQING_RESOLVE_DAYS`, e.g. `rights=10,relief=10`): by the end of that working day.
- A reopened request (her 不满意, or staff reopening it) gets a fresh resolve deadline.
- A hand-off (转人工) is answered in time within `answer_minutes` (10,
  `FUQING_HANDOFF_ANSWER_MINUTES`): the scheduler tells her honestly after that, and the
  assessment counts the share answered in time.

Working days come from the statutory holiday calendar (`bot.domain.quarters`, 调休 weekend days
count); "the end of a day" is 23:59:59 local time; deadlines are stored in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import texts
from bot.config import Settings
from bot.domain.quarters import CHINESE_HOLIDAYS, HolidayCalendar
from bot.domain.quiet_hours import SHANGHAI
from storage.models import OPEN_STATUSES, HelpRequest

CATEGORIES = ("jobs", "health", "knowledge", "relief", "rights", "other")
_END_OF_DAY = time(23, 59, 59)


def per_category(text: str, setting: str) -> dict[str, int]:
    """`rights=10,relief=10` as {category: working days}; ValueError naming `setting` for an
    unknown category or a number below 1."""
    found: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, days = part.partition("=")
        name = name.strip()
        if not sep or name not in CATEGORIES or not days.strip().isdigit():
            raise ValueError(f"{setting} is category=days, not {part!r}")
        if int(days) < 1:
            raise ValueError(f"{setting}: {name} needs at least one working day")
        found[name] = int(days)
    return found


@dataclass(frozen=True)
class Limits:
    """How long a unit has to accept, resolve and answer a hand-off, and the calendar they
    count on."""

    accept_days: int = 1
    urgent_accept_minutes: int = 30
    resolve_days: int = 15
    per_category: Mapping[str, int] = field(default_factory=dict)  # resolve days
    accept_per_category: Mapping[str, int] = field(default_factory=dict)
    answer_minutes: int = 10
    tz: ZoneInfo = SHANGHAI
    calendar: HolidayCalendar = field(default_factory=lambda: CHINESE_HOLIDAYS, compare=False)

    @classmethod
    def parse(
        cls,
        resolve: str,
        *,
        accept: str = "",
        answer_minutes: int = 10,
        tz: ZoneInfo = SHANGHAI,
        calendar: HolidayCalendar = CHINESE_HOLIDAYS,
    ) -> Limits:
        """`resolve` and `accept` are `rights=10,relief=10` (FUQING_RESOLVE_DAYS,
        FUQING_ACCEPT_DAYS); ValueError for an unknown category or a number below 1."""
        return cls(
            per_category=per_category(resolve, "FUQING_RESOLVE_DAYS"),
            accept_per_category=per_category(accept, "FUQING_ACCEPT_DAYS"),
            answer_minutes=answer_minutes,
            tz=tz,
            calendar=calendar,
        )

    @classmethod
    def of(cls, settings: Settings, tz: ZoneInfo | None = None) -> Limits:
        """The limits the settings configure (FUQING_RESOLVE_DAYS, FUQING_ACCEPT_DAYS,
        FUQING_HANDOFF_ANSWER_MINUTES), in `tz` (default: FUQING_TIMEZONE)."""
        return cls.parse(
            settings.resolve_days,
            accept=settings.accept_days,
            answer_minutes=settings.handoff_answer_minutes,
            tz=tz or ZoneInfo(settings.timezone),
        )

    @property
    def answer_within(self) -> timedelta:
        """How soon a person should answer a hand-off."""
        return timedelta(minutes=self.answer_minutes)

    def resolve_days_for(self, primary: str) -> int:
        """Working days to resolve a request of `primary`."""
        return self.per_category.get(primary, self.resolve_days)

    def accept_days_for(self, primary: str) -> int:
        """Working days to accept a (not urgent) request of `primary`."""
        return self.accept_per_category.get(primary, self.accept_days)

    def end_of_working_day(self, start: datetime, days: int) -> datetime:
        """The end (23:59:59 local) of the `days`-th working day after `start`'s local day."""
        day = start.astimezone(self.tz).date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.calendar.is_working_day(day):
                counted += 1
        return datetime.combine(day, _END_OF_DAY, tzinfo=self.tz).astimezone(start.tzinfo)

    def accept_due(self, filed: datetime, *, urgent: bool, primary: str = "") -> datetime:
        """When a request (of `primary`) filed at `filed` must be accepted."""
        if urgent:
            return filed + timedelta(minutes=self.urgent_accept_minutes)
        return self.end_of_working_day(filed, self.accept_days_for(primary))

    def resolve_due(self, since: datetime, *, primary: str) -> datetime:
        """When a request of `primary` filed (or reopened) at `since` must be resolved."""
        return self.end_of_working_day(since, self.resolve_days_for(primary))


@dataclass(frozen=True)
class Due:
    """A request's two deadlines."""

    accept: datetime
    resolve: datetime


def for_new(filed: datetime, *, urgent: bool, primary: str, limits: Limits) -> Due:
    """The deadlines of a request filed at `filed`."""
    return Due(
        limits.accept_due(filed, urgent=urgent, primary=primary),
        limits.resolve_due(filed, primary=primary),
    )


DEFAULT_LIMITS = Limits()


def day_label(at: datetime, tz: ZoneInfo = SHANGHAI) -> str:
    """'12月5日': the local day of `at`, as people write it."""
    local = at.astimezone(tz)
    return texts.t("day.label", month=local.month, day=local.day)


def missed(request: HelpRequest, now: datetime) -> tuple[str, datetime] | None:
    """The deadline an open request has missed at `now` — ('accept', its deadline) while it
    waits to be accepted, else ('resolve', its deadline) — or None (closed, or in time). The
    one rule behind 超期 in chat, the console, the API and 督办."""
    if request.status not in OPEN_STATUSES:
        return None
    if request.status == "new" and overdue(request.accept_due, now):
        assert request.accept_due is not None
        return "accept", _aware(request.accept_due)
    if overdue(request.resolve_due, now):
        assert request.resolve_due is not None
        return "resolve", _aware(request.resolve_due)
    return None


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def overdue(due: datetime | None, now: datetime) -> bool:
    """True when `due` has passed (stored deadlines may come back naive UTC from SQLite)."""
    return due is not None and _aware(due) < now
