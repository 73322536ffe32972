"""The quarterly summaries (每季度汇总) in the console: each district's status for a quarter, one
district's compiled figures with its XLSX/DOCX files, and the city staff's review and due-date
override (`bot.domain.reviews`, as the staff API calls them)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response
from sqlmodel import Session

from bot import texts
from bot.console import charts
from bot.console.auth import Staff, redirect, render
from bot.console.overview.listing import code_label, download, local_today, parse_day
from bot.console.overview.scope import CSRF, StaffDep, districts_in, in_scope, require_city
from bot.console.reports_api import overview
from bot.domain import reviews
from bot.domain.errors import Forbidden, NotFound
from bot.domain.figures import QuarterOverview
from bot.domain.quarters import Quarter, due_date, summary_due
from bot.domain.reviews import NotSubmitted, report_status, shown_status
from bot.http import Services, services
from bot.reporting.export import common_rows, figure_lines
from bot.reporting.files import file_name
from bot.reporting.files import render as render_file
from storage import repo
from storage.models import OrgUnit

router = APIRouter(prefix="/console", include_in_schema=False)

QUARTERS_SHOWN = 8  # the quarter picker: this quarter and the seven before it


def quarter_rows(
    session: Session, *, quarter: Quarter, units: Sequence[OrgUnit], due_days: int, today: date
) -> list[dict[str, Any]]:
    """Each unit's summary status for `quarter`, without figures: the due date, the status
    shown (submitted, accepted, returned, overdue, open), whether it is late, when submitted."""
    districts_due = due_date(quarter, days=due_days, overrides=repo.due_date_overrides(session))
    reports = repo.reports_of_quarter(session, quarter=str(quarter))
    rows = []
    for unit in units:
        due = summary_due(districts_due, city=unit.parent_id is None)
        report = reports.get(unit.id or 0)
        raw = report.status if report is not None else "open"
        rows.append(
            {
                "unit": unit.name,
                "due": due.isoformat(),
                "status": shown_status(stored=raw, due=due, today=today),
                "late": report_status(stored=raw, due=due, today=today) == "overdue",
                "submitted_at": report.submitted_at if report is not None else None,
            }
        )
    return rows


def parse_quarter(text: str) -> Quarter:
    """The quarter in a path or query ("2026Q1"), else a 404."""
    try:
        return Quarter.parse(text)
    except ValueError:
        raise HTTPException(404, "no such quarter") from None


def quarter_picker(current: Quarter) -> list[str]:
    """The quarter picker's choices: `current` and the quarters before it, newest first."""
    picker = [current]
    while len(picker) < QUARTERS_SHOWN:
        picker.append(picker[-1].previous())
    return [str(q) for q in picker]


def unit_page(quarter: Quarter, unit: str) -> str:
    """The URL of a district's summary page."""
    return f"/console/quarters/{quarter}/{quote(unit)}"


@router.get("/quarters")
async def quarters(
    request: Request, staff: StaffDep, quarter: Annotated[str | None, Query(max_length=8)] = None
) -> Response:
    """The summary status of each district in scope for a chosen quarter (default: this one
    and the one before)."""
    svc = services(request)
    today = local_today(svc)
    current = Quarter.of(today)
    chosen = [parse_quarter(quarter)] if quarter else [current, current.previous()]

    def build() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            units = districts_in(session, staff)
            if staff.is_city:  # the city's own summary first
                units = [repo.city_unit(session), *units]
            due_days = svc.settings.report_due_days
            sections = []
            for q in chosen:
                rows = quarter_rows(session, quarter=q, units=units, due_days=due_days, today=today)
                for row in rows:
                    row["url"] = unit_page(q, row["unit"])
                due = due_date(q, days=due_days, overrides=repo.due_date_overrides(session))
                sections.append({"quarter": str(q), "due": due.isoformat(), "rows": rows})
            return sections

    return render(
        request,
        "quarters.html",
        staff,
        sections=await asyncio.to_thread(build),
        picker=quarter_picker(current),
        chosen=str(chosen[0]) if quarter else "",
        due_days=svc.settings.report_due_days,
    )


def unit_overview(
    svc: Services, staff: Staff, quarter: Quarter, unit: str
) -> QuarterOverview | None:
    """The API's `quarter_overview` of one district in scope, or of the city for city staff;
    None for any other unit or one out of scope."""
    with svc.db.read() as session:
        found = repo.find_summary_unit(session, name=unit)
        if found is None or not in_scope(staff, found.id):
            return None
        return overview(svc, session, quarter, found.name)


@router.get("/quarters/{quarter}/{unit}")
async def quarter_unit(request: Request, staff: StaffDep, quarter: str, unit: str) -> Response:
    """One district's compiled figures for the quarter, with the review buttons and the due
    date form (city staff) and the XLSX and DOCX downloads."""
    svc = services(request)
    parsed = parse_quarter(quarter)
    found = await asyncio.to_thread(unit_overview, svc, staff, parsed, unit)
    if found is None:
        message = texts.t("console.quarter.not_found", unit=unit, quarter=str(parsed))
        page = render(
            request, "quarter_unit.html", staff, quarter=str(parsed), entry=None, message=message
        )
        page.status_code = 404
        return page
    entry = found.units[0]
    figures = entry.figures
    sections: dict[str, list[tuple[object, ...]]] = {}
    for section, *line in figure_lines(figures):
        sections.setdefault(section, []).append(tuple(line))
    return render(
        request,
        "quarter_unit.html",
        staff,
        quarter=str(parsed),
        entry=entry,
        status="returned" if entry.review == "returned" else entry.status,
        sections=sections,
        examples=figures.examples,
        common=common_rows(figures),
        needs_chart=charts.bar_chart(
            texts.t("report.section.needs"),
            [(n.label, n.total) for n in figures.needs],
            ident="needs",
        ),
        base=unit_page(parsed, entry.unit),
        city=entry.unit == staff.unit_path.split("/")[0] and staff.is_city,
    )


@router.get("/quarters/{quarter}/{unit}/export")
async def quarter_unit_file(
    request: Request,
    staff: StaffDep,
    quarter: str,
    unit: str,
    fmt: Annotated[Literal["xlsx", "docx"], Query(alias="format")] = "xlsx",
) -> Response:
    """One district's quarterly summary as the API's XLSX or DOCX file."""
    svc = services(request)
    parsed = parse_quarter(quarter)
    found = await asyncio.to_thread(unit_overview, svc, staff, parsed, unit)
    if found is None:
        raise HTTPException(404, "no such unit")
    name = found.units[0].unit
    content = await asyncio.to_thread(
        render_file, found, fmt=fmt, unit=name, now=svc.engine.clock()
    )
    return download(content, fmt, file_name(str(parsed), name, fmt))


@router.post("/quarters/{quarter}/{unit}/review", dependencies=CSRF)
async def review_unit(
    request: Request,
    staff: StaffDep,
    quarter: str,
    unit: str,
    action: Annotated[Literal["accept", "return"], Form()],
    comment: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """City staff accept or return a submitted summary: the API's review (a return is told to
    the unit's cadres)."""
    require_city(staff)
    svc = services(request)
    parsed = parse_quarter(quarter)
    names = {"unit": unit, "quarter": str(parsed)}
    now = svc.engine.clock()

    def apply() -> reviews.Review:
        with svc.db.transaction() as session:
            return reviews.review(
                session,
                unit=unit,
                quarter=parsed,
                accept=action == "accept",
                comment=comment.strip() or None,
                by_city=staff.is_city,
                now=now,
                tz=ZoneInfo(svc.settings.timezone),
                due_days=svc.settings.report_due_days,
            )

    try:
        out = await asyncio.to_thread(apply)
    except NotSubmitted as refused:
        state = code_label("report.status", str(refused.fields["status"]))
        message = texts.t(refused.key, **{**names, "status": state})
        return redirect(request, unit_page(parsed, unit), message=message, kind="error")
    except NotFound:
        raise HTTPException(404, "no such unit") from None
    except Forbidden:
        raise HTTPException(403, "city staff only") from None
    key = "console.review.accepted" if action == "accept" else "console.review.returned"
    message = texts.t(key, n=out.notified, **names)
    return redirect(request, unit_page(parsed, out.unit), message=message)


@router.post("/quarters/{quarter}/{unit}/submit", dependencies=CSRF)
async def submit_city(
    request: Request,
    staff: StaffDep,
    quarter: str,
    unit: str,
    remark: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """City staff submit the city's own summary: the figures as compiled now, with a remark."""
    require_city(staff)
    svc = services(request)
    parsed = parse_quarter(quarter)
    found = await asyncio.to_thread(unit_overview, svc, staff, parsed, unit)
    if found is None or found.units[0].unit != staff.unit_path.split("/")[0]:
        raise HTTPException(404, "only the city's own summary is submitted here")
    figures = found.units[0].figures.to_json()
    now = svc.engine.clock()

    def apply() -> None:
        with svc.db.transaction() as session:
            reviews.submit_city(
                session, quarter=parsed, figures=figures, remark=remark.strip() or None, now=now
            )

    target = unit_page(parsed, found.units[0].unit)
    try:
        await asyncio.to_thread(apply)
    except reviews.AlreadySubmitted as refused:
        message = texts.t(refused.key, **refused.fields)
        return redirect(request, target, message=message, kind="error")
    logging.getLogger(__name__).info(
        "city summary %s submitted by console user %s", parsed, staff.username
    )
    message = texts.t("console.quarter.city_submitted", quarter=str(parsed))
    return redirect(request, target, message=message)


@router.post("/quarters/{quarter}/due-date", dependencies=CSRF)
async def override_due_date(
    request: Request,
    staff: StaffDep,
    quarter: str,
    due: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=255)] = "",
    back: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """City staff set the quarter's due date, or (empty) remove the override: the API's PUT.
    `back`: the district whose page to return to (else the quarter's status page)."""
    require_city(staff)
    svc = services(request)
    parsed = parse_quarter(quarter)
    day = parse_day(due)
    if due.strip() and day is None:
        raise HTTPException(422, "the due date must read YYYY-MM-DD")
    now = svc.engine.clock()

    def apply() -> reviews.DueDate:
        with svc.db.transaction() as session:
            return reviews.override_due_date(
                session,
                quarter=parsed,
                due=day,
                note=note.strip() or None,
                now=now,
                due_days=svc.settings.report_due_days,
            )

    out = await asyncio.to_thread(apply)
    key = "console.due.set" if day else "console.due.cleared"
    url = unit_page(parsed, back) if back else f"/console/quarters?quarter={parsed}"
    message = texts.t(key, quarter=str(parsed), due=out.due_date.isoformat())
    return redirect(request, url, message=message)
