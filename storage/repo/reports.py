"""Quarterly reports (their status and submitted figures) and due-date overrides."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.models import OrgUnit, QuarterlyReport, ReportDueDate
from storage.repo._common import stored


def district_units(session: Session) -> list[OrgUnit]:
    """The district-level units (children of the city), in tree order."""
    city = session.exec(select(OrgUnit).where(col(OrgUnit.parent_id).is_(None))).first()
    if city is None:
        return []
    return list(
        session.exec(
            select(OrgUnit).where(OrgUnit.parent_id == city.id).order_by(col(OrgUnit.id))
        ).all()
    )


def report_for(session: Session, *, unit_id: int, quarter: str, now: datetime) -> QuarterlyReport:
    """The unit's report for the quarter, created open if there is none yet."""
    report = session.exec(
        select(QuarterlyReport).where(
            QuarterlyReport.unit_id == unit_id, QuarterlyReport.quarter == quarter
        )
    ).first()
    if report is None:
        report = QuarterlyReport(
            unit_id=unit_id, quarter=quarter, status="open", updated_at=stored(now)
        )
        session.add(report)
        session.flush()
    return report


def reports_of_quarter(session: Session, *, quarter: str) -> dict[int, QuarterlyReport]:
    """Existing reports of a quarter by unit id (units without a row are open)."""
    rows = session.exec(select(QuarterlyReport).where(QuarterlyReport.quarter == quarter)).all()
    return {r.unit_id: r for r in rows}


def reports_of_quarters(
    session: Session, *, quarters: Sequence[str]
) -> dict[tuple[int, str], QuarterlyReport]:
    """Existing reports of several quarters by (unit id, quarter)."""
    rows = session.exec(
        select(QuarterlyReport).where(col(QuarterlyReport.quarter).in_(list(quarters)))
    ).all()
    return {(r.unit_id, r.quarter): r for r in rows}


def submit_report(
    session: Session,
    *,
    report: QuarterlyReport,
    figures: dict[str, Any],
    remark: str | None,
    by: int | None,
    now: datetime,
) -> None:
    """Mark a report submitted with its figures (a returned report may be submitted again)."""
    report.status = "submitted"
    report.figures = figures
    report.remark = remark
    report.submitted_at = stored(now)
    report.submitted_by = by
    report.updated_at = stored(now)
    session.add(report)


def review_report(
    session: Session, *, report: QuarterlyReport, accept: bool, comment: str | None, now: datetime
) -> None:
    """City staff accept a submitted report or return it (open again) with a comment."""
    report.status = "accepted" if accept else "returned"
    report.review_comment = comment
    report.reviewed_at = stored(now)
    report.updated_at = stored(now)
    session.add(report)


def due_date_overrides(session: Session) -> dict[str, date]:
    """Every overridden due date by quarter."""
    return {row.quarter: row.due_date for row in session.exec(select(ReportDueDate)).all()}


def set_due_date(
    session: Session, *, quarter: str, due: date | None, note: str | None, now: datetime
) -> None:
    """Override a quarter's due date (None removes the override)."""
    row = session.get(ReportDueDate, quarter)
    if due is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = ReportDueDate(quarter=quarter, due_date=due, note=note, updated_at=stored(now))
    row.due_date, row.note, row.updated_at = due, note, stored(now)
    session.add(row)
