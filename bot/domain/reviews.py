"""The city's review of a district's quarterly summary, and the quarter's due-date override.

A summary is open (no row yet, or `open`), `submitted` by the district's cadre, then either
`accepted` or `returned` (open again, with a comment) by city staff; only a submitted summary is
reviewed. Returning it tells each cadre of the unit (an outbox row per cadre and return round).
The status shown beside a summary adds `overdue`: not submitted after its due date.
Callers: the staff API (`bot.console.reports_api`) and the console page
(`bot.console.overview.quarters`); both translate the exceptions here at their edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import texts
from bot.domain.errors import Conflict, Forbidden, NotFound
from bot.domain.quarters import (
    CHINESE_HOLIDAYS,
    HolidayCalendar,
    Quarter,
    due_date,
    report_title,
)
from bot.domain.quiet_hours import quiet_until
from bot.nlp import mask_pii
from storage import repo
from storage.models import OrgUnit

SUBMITTED_STATUSES = ("submitted", "accepted")


class UnknownUnit(NotFound):
    """No district-level unit has this name (or alias, or path below the city)."""

    code = "unknown_unit"


class NotSubmitted(Conflict):
    """Only a submitted summary is reviewed; `review` is its stored status, `status` the shown."""

    code = "not_submitted"


def report_status(*, stored: str | None, due: date, today: date) -> str:
    """The status of a unit's summary: 'submitted' or 'accepted' as stored; otherwise (none
    yet, open or returned) 'overdue' after the due date and 'open' until then."""
    if stored in SUBMITTED_STATUSES:
        return stored
    return "overdue" if today > due else "open"


def shown_status(*, stored: str | None, due: date, today: date) -> str:
    """The status a person is shown: 'returned' for a returned summary, else `report_status`."""
    return (
        "returned" if stored == "returned" else report_status(stored=stored, due=due, today=today)
    )


def district(session: Session, *, name: str, quarter: Quarter | None = None) -> OrgUnit:
    """The district-level unit called `name`; UnknownUnit otherwise (naming `quarter`)."""
    unit = repo.find_district(session, name=name)
    if unit is None:
        raise UnknownUnit("console.quarter.not_found", unit=name, quarter=str(quarter or ""))
    return unit


def summary_unit(session: Session, *, name: str, quarter: Quarter | None = None) -> OrgUnit:
    """The unit whose summary is asked for: a district-level unit or the city (北京市, 全市);
    UnknownUnit otherwise."""
    unit = repo.find_summary_unit(session, name=name)
    if unit is None:
        raise UnknownUnit("console.quarter.not_found", unit=name, quarter=str(quarter or ""))
    return unit


class AlreadySubmitted(Conflict):
    """The city's summary of this quarter is in already."""

    code = "already_submitted"


def submit_city(
    session: Session,
    *,
    quarter: Quarter,
    figures: dict[str, object],
    remark: str | None,
    now: datetime,
) -> OrgUnit:
    """City staff submit the city's own summary for `quarter` with the figures they saw and
    their remark (phones and ID numbers masked); AlreadySubmitted once it is in. Nobody reviews
    it here: it goes up to the city's 组织部 outside the system."""
    city = repo.city_unit(session)
    report = repo.report_for(session, unit_id=city.id or 0, quarter=str(quarter), now=now)
    if report.status in SUBMITTED_STATUSES:
        raise AlreadySubmitted("console.quarter.city_already", quarter=str(quarter))
    repo.submit_report(
        session,
        report=report,
        figures=figures,
        remark=mask_pii(remark) if remark else None,
        by=None,
        now=now,
    )
    return city


@dataclass(frozen=True)
class Review:
    """A summary after review: `review` is the stored status, `status` the shown one,
    `notified` how many cadres were told of a return."""

    unit: str
    quarter: str
    review: str
    status: str
    review_comment: str | None
    notified: int


def review(
    session: Session,
    *,
    unit: str,
    quarter: Quarter,
    accept: bool,
    comment: str | None,
    by_city: bool,
    now: datetime,
    tz: ZoneInfo,
    due_days: int,
    calendar: HolidayCalendar = CHINESE_HOLIDAYS,
) -> Review:
    """City staff (`by_city`) accept `unit`'s submitted summary of `quarter`, or return it with
    `comment` (phone and ID numbers masked) and tell its cadres. Raises Forbidden for anyone
    else, UnknownUnit, or NotSubmitted when the summary is not submitted."""
    if not by_city:
        raise Forbidden("review.city_only")
    found = district(session, name=unit, quarter=quarter)
    report = repo.reports_of_quarter(session, quarter=str(quarter)).get(found.id or 0)
    due = due_date(
        quarter, days=due_days, overrides=repo.due_date_overrides(session), calendar=calendar
    )
    today = now.astimezone(tz).date()
    if report is None or report.status != "submitted":
        stored = report.status if report is not None else "open"
        raise NotSubmitted(
            "console.review.not_submitted",
            unit=found.name,
            quarter=str(quarter),
            review=stored,
            status=shown_status(stored=stored, due=due, today=today),
        )
    masked = mask_pii(comment) if comment else comment
    repo.review_report(session, report=report, accept=accept, comment=masked, now=now)
    notified = 0 if accept else tell_returned(session, found, quarter, comment, now=now, tz=tz)
    return Review(
        unit=found.name,
        quarter=str(quarter),
        review=report.status,
        status=report_status(stored=report.status, due=due, today=today),
        review_comment=report.review_comment,
        notified=notified,
    )


def tell_returned(
    session: Session,
    unit: OrgUnit,
    quarter: Quarter,
    comment: str | None,
    *,
    now: datetime,
    tz: ZoneInfo,
) -> int:
    """Queue the return notice to each cadre of the unit, under the key
    `report-returned:<unit>:<quarter>:<n>:<cadre id>` (n: the how-many-th return); the count."""
    prefix = f"report-returned:{unit.name}:{quarter}:"
    rounds = [
        int(part)
        for key in repo.keys_with_prefix(session, prefix=prefix)
        if (part := key[len(prefix) :].split(":", 1)[0]).isdecimal()
    ]
    n = max(rounds, default=0) + 1
    text = texts.t(
        "report.returned_push",
        title=report_title(unit.name, quarter),
        comment=(comment or "").strip() or texts.t("report.returned_default"),
    )
    queued = 0
    for cadre in repo.cadres_of(session, unit_id=unit.id or 0):
        row = repo.enqueue(
            session,
            user_id=cadre.id or 0,
            text=text,
            now=now,
            key=f"{prefix}{n}:{cadre.id}",
            due_at=quiet_until(now, tz),
        )
        queued += row is not None
    return queued


@dataclass(frozen=True)
class DueDate:
    """A quarter's effective due date, whether it is overridden, and the override's note."""

    quarter: str
    due_date: date
    overridden: bool
    note: str | None


def override_due_date(
    session: Session,
    *,
    quarter: Quarter,
    due: date | None,
    note: str | None,
    now: datetime,
    due_days: int,
    calendar: HolidayCalendar = CHINESE_HOLIDAYS,
) -> DueDate:
    """Set `quarter`'s due date to `due`, or (None) remove the override; the effective date."""
    repo.set_due_date(session, quarter=str(quarter), due=due, note=note, now=now)
    session.flush()
    overrides = repo.due_date_overrides(session)
    return DueDate(
        quarter=str(quarter),
        due_date=due_date(quarter, days=due_days, overrides=overrides, calendar=calendar),
        overridden=str(quarter) in overrides,
        note=note if due is not None else None,
    )


@dataclass(frozen=True)
class OpenQuarter:
    """A quarter whose summary a district may submit: its due date and whether it is late."""

    quarter: Quarter
    due: date
    late: bool


def open_quarters(
    session: Session,
    *,
    unit: OrgUnit,
    today: date,
    due_days: int,
    calendar: HolidayCalendar = CHINESE_HOLIDAYS,
) -> list[OpenQuarter]:
    """The previous and the current quarter, unless the unit's summary of it is submitted or
    accepted (a returned one is open again), oldest first."""
    current = Quarter.of(today)
    candidates = (current.previous(), current)
    overrides = repo.due_date_overrides(session)
    reports = repo.reports_of_quarters(session, quarters=[str(q) for q in candidates])
    found = []
    for quarter in candidates:
        report = reports.get((unit.id or 0, str(quarter)))
        if report is not None and report.status in SUBMITTED_STATUSES:
            continue
        due = due_date(quarter, days=due_days, overrides=overrides, calendar=calendar)
        found.append(OpenQuarter(quarter=quarter, due=due, late=today > due))
    return found


def nearest_due(open_: list[OpenQuarter], *, today: date) -> OpenQuarter:
    """The open quarter whose due date is nearest to `today` (the earlier one on a tie)."""
    return min(open_, key=lambda entry: abs((entry.due - today).days))
