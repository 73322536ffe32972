"""The quarterly summaries in the staff API (`/api/v1/reports`, bearer `FUQING_ADMIN_TOKEN`).

- `GET /api/v1/reports/{quarter}[?unit=朝阳区][&format=xlsx|csv|docx]`: every district-level
  unit (or one) with its due date, status and figures, as JSON or as a file;
- `POST /api/v1/reports/{quarter}/{unit}/review`: accept a submitted summary, or return it with
  a comment (its cadres are told);
- `PUT /api/v1/reports/{quarter}/due-date`: override the quarter's due date (null removes it).
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from bot import texts
from bot.errors import ApiError
from bot.http import Services, bearer_guard, services
from bot.nlp import mask_pii
from bot.outbox import quiet_until
from bot.reporting.export import MEDIA_TYPES, file_name, render
from bot.reporting.figures import quarter_overview
from bot.reporting.text import report_title
from scheduler.calendar import Quarter, due_date, report_status
from storage import repo
from storage.models import OrgUnit

router = APIRouter(
    prefix="/api/v1/reports",
    tags=["reports"],
    dependencies=[Depends(bearer_guard("admin_token"))],
)
Format = Literal["json", "xlsx", "csv", "docx"]


class ReviewIn(BaseModel):
    """Accept a submitted summary, or return it (open again) with a comment."""

    accept: bool
    comment: str | None = Field(default=None, max_length=1000)


class ReviewOut(BaseModel):
    """The summary after review: `review` is the stored status, `status` the shown one."""

    unit: str
    quarter: str
    review: str
    status: str
    review_comment: str | None
    notified: int


class DueDateIn(BaseModel):
    """A quarter's due date override; null removes it."""

    due_date: date | None
    note: str | None = Field(default=None, max_length=255)


class DueDateOut(BaseModel):
    """The effective due date of the quarter and whether it is overridden."""

    quarter: str
    due_date: str
    overridden: bool
    note: str | None


def parse_quarter(text: str) -> Quarter:
    """The quarter in a path ("2026Q1"), else a 422 JSON error."""
    try:
        return Quarter.parse(text)
    except ValueError as problem:
        raise ApiError(422, "invalid_quarter", str(problem)) from None


def district(session: Session, name: str) -> OrgUnit:
    """The district-level unit called `name`, else a 404 JSON error."""
    unit = repo.find_district(session, name=name)
    if unit is None:
        raise ApiError(404, "unknown_unit", f"no district-level unit {name!r}")
    return unit


def overview(svc: Services, session: Session, quarter: Quarter, unit: str | None) -> dict[str, Any]:
    """The quarter's overview of every district-level unit, or of `unit` only."""
    tz = ZoneInfo(svc.settings.timezone)
    units = [district(session, unit)] if unit else repo.district_units(session)
    return quarter_overview(
        session,
        quarter=quarter,
        units=units,
        nlp=svc.nlp,
        tz=tz,
        due_days=svc.settings.report_due_days,
        today=svc.engine.clock().astimezone(tz).date(),
    )


def attachment(name: str) -> str:
    """A Content-Disposition value for a (Chinese) file name: ASCII fallback + RFC 5987."""
    fallback = "".join(ch if ch.isascii() and ch not in '"\\' else "_" for ch in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


@router.get("/{quarter}", response_model=None)
async def get_reports(
    request: Request,
    quarter: str,
    unit: Annotated[str | None, Query(max_length=64)] = None,
    fmt: Annotated[Format, Query(alias="format")] = "json",
) -> dict[str, Any] | Response:
    """Every district-level unit's due date, status and figures (`?unit=` for one); with
    `?format=xlsx|csv|docx` the file (docx needs `unit`)."""
    svc = services(request)
    parsed = parse_quarter(quarter)
    if fmt == "docx" and not unit:
        raise ApiError(422, "unit_required", "a DOCX summary is made for one unit: add ?unit=")

    def build() -> dict[str, Any]:
        with svc.db.read() as session:
            return overview(svc, session, parsed, unit)

    found = await asyncio.to_thread(build)
    if fmt == "json":
        return found
    unit_name = found["units"][0]["unit"] if unit else None
    content = await asyncio.to_thread(render, found, fmt=fmt, unit=unit_name)
    return Response(
        content,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": attachment(file_name(str(parsed), unit_name, fmt))},
    )


@router.post("/{quarter}/{unit}/review", response_model=ReviewOut)
async def review(request: Request, quarter: str, unit: str, body: ReviewIn) -> ReviewOut:
    """Accept a submitted summary, or return it with a comment and tell the unit's cadres;
    409 when the summary is not submitted."""
    svc = services(request)
    parsed = parse_quarter(quarter)
    return await asyncio.to_thread(apply_review, svc, parsed, unit, body, svc.engine.clock())


def apply_review(
    svc: Services, quarter: Quarter, unit: str, body: ReviewIn, now: datetime
) -> ReviewOut:
    """Review `unit`'s summary of `quarter` in one transaction (the API and the console);
    ApiError 404 for an unknown unit, 409 when the summary is not submitted."""
    tz = ZoneInfo(svc.settings.timezone)
    with svc.db.transaction() as session:
        found = district(session, unit)
        report = repo.reports_of_quarter(session, quarter=str(quarter)).get(found.id or 0)
        if report is None or report.status != "submitted":
            state = report.status if report is not None else "open"
            raise ApiError(409, "not_submitted", f"the summary is {state}, not submitted")
        comment = mask_pii(body.comment) if body.comment else body.comment
        repo.review_report(session, report=report, accept=body.accept, comment=comment, now=now)
        notified = 0 if body.accept else tell_returned(session, found, quarter, body, now, tz)
        due = due_date(
            quarter,
            days=svc.settings.report_due_days,
            overrides=repo.due_date_overrides(session),
        )
        return ReviewOut(
            unit=found.name,
            quarter=str(quarter),
            review=report.status,
            status=report_status(stored=report.status, due=due, today=now.astimezone(tz).date()),
            review_comment=report.review_comment,
            notified=notified,
        )


def tell_returned(
    session: Session, unit: OrgUnit, quarter: Quarter, body: ReviewIn, now: datetime, tz: ZoneInfo
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
        comment=(body.comment or "").strip() or texts.t("report.returned_default"),
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


@router.put("/{quarter}/due-date", response_model=DueDateOut)
async def set_due_date(request: Request, quarter: str, body: DueDateIn) -> DueDateOut:
    """Override the quarter's due date (null removes the override); the effective date."""
    svc = services(request)
    parsed = parse_quarter(quarter)
    return await asyncio.to_thread(apply_due_date, svc, parsed, body, svc.engine.clock())


def apply_due_date(svc: Services, quarter: Quarter, body: DueDateIn, now: datetime) -> DueDateOut:
    """Set or remove `quarter`'s due date override in one transaction (the API and the
    console); the effective date."""
    with svc.db.transaction() as session:
        repo.set_due_date(session, quarter=str(quarter), due=body.due_date, note=body.note, now=now)
        session.flush()
        overrides = repo.due_date_overrides(session)
        due = due_date(quarter, days=svc.settings.report_due_days, overrides=overrides)
        return DueDateOut(
            quarter=str(quarter),
            due_date=due.isoformat(),
            overridden=str(quarter) in overrides,
            note=body.note if body.due_date is not None else None,
        )
