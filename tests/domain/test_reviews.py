"""`bot.domain.reviews`: who may review a quarterly summary, in which states, with which
effects; the status shown; the due-date override; the quarters open for submission. Due dates
come from the fixed holiday table, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from bot.domain import reviews
from bot.domain.errors import Forbidden
from bot.domain.quarters import Quarter, TableHolidays
from bot.domain.reviews import NotSubmitted, UnknownUnit, report_status, shown_status
from storage import repo
from storage.db import Database
from storage.models import OrgUnit
from tests.factories import bind_cadre

TZ = ZoneInfo("Asia/Shanghai")
Q1 = Quarter(2026, 1)  # due 2026-04-10 (a Friday) with the default 10 days
NOW = datetime(2026, 4, 12, 2, tzinfo=UTC)  # 10:00 in Shanghai, two days overdue


def _chaoyang(session: Session) -> OrgUnit:
    unit = repo.unit_by_path(session, path="朝阳区")
    assert unit is not None
    return unit


def _with_summary(session: Session, status: str | None) -> OrgUnit:
    """朝阳区 with two cadres and its 2026Q1 summary in `status` (None: no row)."""
    bind_cadre(session, place="朝阳区", name="李主任", now=NOW)
    bind_cadre(session, place="朝阳区", name="王部长", now=NOW)
    unit = _chaoyang(session)
    if status is not None:
        report = repo.report_for(session, unit_id=unit.id or 0, quarter=str(Q1), now=NOW)
        if status != "open":
            repo.submit_report(session, report=report, figures={}, remark=None, by=None, now=NOW)
        if status in ("accepted", "returned"):
            repo.review_report(
                session, report=report, accept=status == "accepted", comment=None, now=NOW
            )
    return unit


def _review(
    session: Session,
    holidays: TableHolidays,
    *,
    accept: bool,
    comment: str | None = None,
    unit: str = "朝阳区",
    by_city: bool = True,
) -> reviews.Review:
    return reviews.review(
        session,
        unit=unit,
        quarter=Q1,
        accept=accept,
        comment=comment,
        by_city=by_city,
        now=NOW,
        tz=TZ,
        due_days=10,
        calendar=holidays,
    )


def test_accepting_a_submitted_summary(database: Database, holidays: TableHolidays) -> None:
    """City staff accept a submitted summary: stored accepted, nobody told."""
    with database.transaction() as session:
        _with_summary(session, "submitted")
        done = _review(session, holidays, accept=True)
        assert done == reviews.Review(
            unit="朝阳区",
            quarter="2026Q1",
            review="accepted",
            status="accepted",
            review_comment=None,
            notified=0,
        )
        assert repo.keys_with_prefix(session, prefix="report-returned:") == []


def test_returning_tells_each_cadre_and_masks_the_comment(
    database: Database, holidays: TableHolidays
) -> None:
    """A return opens the summary again (shown overdue after the due date), stores the comment
    with the phone number masked, and queues one notice per cadre and round."""
    with database.transaction() as session:
        unit = _with_summary(session, "submitted")
        done = _review(session, holidays, accept=False, comment="请核对，电话13812345678")
        assert (done.review, done.status, done.notified) == ("returned", "overdue", 2)
        assert done.review_comment is not None and "13812345678" not in done.review_comment
        report = repo.reports_of_quarter(session, quarter="2026Q1")[unit.id or 0]
        repo.submit_report(session, report=report, figures={}, remark=None, by=None, now=NOW)
        _review(session, holidays, accept=False)
        keys = repo.keys_with_prefix(session, prefix="report-returned:朝阳区:2026Q1:")
    assert sorted(k.split(":")[3] for k in keys) == ["1", "1", "2", "2"]


@pytest.mark.parametrize(
    ("status", "review", "shown"),
    [
        (None, "open", "overdue"),
        ("open", "open", "overdue"),
        ("accepted", "accepted", "accepted"),
        ("returned", "returned", "returned"),
    ],
)
def test_only_a_submitted_summary_is_reviewed(
    database: Database, holidays: TableHolidays, status: str | None, review: str, shown: str
) -> None:
    """Anything but a submitted summary is NotSubmitted (409, not_submitted), naming its
    stored and its shown status."""
    with database.transaction() as session:
        _with_summary(session, status)
        with pytest.raises(NotSubmitted) as refused:
            _review(session, holidays, accept=True)
    assert (refused.value.status, refused.value.code) == (409, "not_submitted")
    assert (refused.value.fields["review"], refused.value.fields["status"]) == (review, shown)
    assert refused.value.key == "console.review.not_submitted"


def test_an_unknown_unit(database: Database, holidays: TableHolidays) -> None:
    """A unit that is not district-level is UnknownUnit (404, unknown_unit)."""
    with database.transaction() as session, pytest.raises(UnknownUnit) as refused:
        _review(session, holidays, accept=True, unit="火星区")
    assert (refused.value.status, refused.value.code) == (404, "unknown_unit")
    assert refused.value.fields == {"unit": "火星区", "quarter": "2026Q1"}


def test_only_the_city_reviews(database: Database, holidays: TableHolidays) -> None:
    """A reviewer who is not the city's is Forbidden, and the summary stays submitted."""
    with database.transaction() as session:
        unit = _with_summary(session, "submitted")
        with pytest.raises(Forbidden):
            _review(session, holidays, accept=True, by_city=False)
        assert (
            repo.reports_of_quarter(session, quarter="2026Q1")[unit.id or 0].status == "submitted"
        )


def test_overriding_and_clearing_the_due_date(database: Database, holidays: TableHolidays) -> None:
    """An override replaces the computed date (even on a holiday); clearing it restores the
    calendar's date and drops the note."""
    with database.transaction() as session:
        set_ = reviews.override_due_date(
            session,
            quarter=Q1,
            due=date(2026, 4, 5),
            note="清明",
            now=NOW,
            due_days=10,
            calendar=holidays,
        )
        assert set_ == reviews.DueDate("2026Q1", date(2026, 4, 5), True, "清明")
        cleared = reviews.override_due_date(
            session, quarter=Q1, due=None, note="清明", now=NOW, due_days=10, calendar=holidays
        )
        assert cleared == reviews.DueDate("2026Q1", date(2026, 4, 10), False, None)


def test_open_quarters_and_the_nearest_due(database: Database, holidays: TableHolidays) -> None:
    """On 2026-03-18 2025Q4 (due 2026-01-12, late) and 2026Q1 (due 2026-04-10) are open, and
    2026Q1 is nearest; once 2026Q1 is submitted only 2025Q4 is left."""
    today = date(2026, 3, 18)
    with database.transaction() as session:
        unit = _chaoyang(session)
        found = reviews.open_quarters(
            session, unit=unit, today=today, due_days=10, calendar=holidays
        )
        assert [(str(e.quarter), e.due, e.late) for e in found] == [
            ("2025Q4", date(2026, 1, 12), True),
            ("2026Q1", date(2026, 4, 10), False),
        ]
        assert reviews.nearest_due(found, today=today).quarter == Q1
        report = repo.report_for(session, unit_id=unit.id or 0, quarter="2026Q1", now=NOW)
        repo.submit_report(session, report=report, figures={}, remark=None, by=None, now=NOW)
        left = reviews.open_quarters(
            session, unit=unit, today=today, due_days=10, calendar=holidays
        )
        assert [str(e.quarter) for e in left] == ["2025Q4"]


@pytest.mark.parametrize(
    ("stored", "today", "expected", "shown"),
    [
        (None, date(2026, 4, 10), "open", "open"),
        (None, date(2026, 4, 11), "overdue", "overdue"),
        ("open", date(2026, 4, 11), "overdue", "overdue"),
        ("returned", date(2026, 4, 1), "open", "returned"),
        ("returned", date(2026, 4, 20), "overdue", "returned"),
        ("submitted", date(2026, 4, 20), "submitted", "submitted"),
        ("accepted", date(2026, 4, 20), "accepted", "accepted"),
    ],
)
def test_report_status(stored: str | None, today: date, expected: str, shown: str) -> None:
    """Submitted and accepted stay; anything else is open until the due date, then overdue;
    a person is shown 'returned' for a returned summary."""
    due = date(2026, 4, 10)
    assert report_status(stored=stored, due=due, today=today) == expected
    assert shown_status(stored=stored, due=due, today=today) == shown
