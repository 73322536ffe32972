"""The quarterly summaries in the staff API (`/api/v1/reports`, bearer `FUQING_ADMIN_TOKEN`).

- `GET /api/v1/reports/{quarter}[?unit=朝阳区][&format=xlsx|csv|docx]`: every district-level
  unit (or one) with its due date, status and figures, as JSON or as a file;
- `POST /api/v1/reports/{quarter}/{unit}/review`: accept a submitted summary, or return it with
  a comment (its cadres are told): `bot.domain.reviews.review`;
- `PUT /api/v1/reports/{quarter}/due-date`: override the quarter's due date (null removes it).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from bot import texts
from bot.domain import reviews
from bot.domain.errors import DomainError
from bot.domain.figures import QuarterOverview
from bot.domain.quarters import Quarter
from bot.domain.reviews import NotSubmitted, UnknownUnit
from bot.errors import ApiError
from bot.http import Services, bearer_guard, services
from bot.reporting.export import MEDIA_TYPES
from bot.reporting.figures import quarter_overview
from bot.reporting.files import file_name, render
from storage import repo

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


def overview(
    svc: Services, session: Session, quarter: Quarter, unit: str | None
) -> QuarterOverview:
    """The quarter's overview of every district-level unit, or of `unit` only (a 404 JSON
    error for an unknown unit)."""
    tz = ZoneInfo(svc.settings.timezone)
    try:
        units = [reviews.summary_unit(session, name=unit)] if unit else repo.district_units(session)
    except DomainError as error:
        raise api_error(error) from None
    return quarter_overview(
        session,
        quarter=quarter,
        units=units,
        nlp=svc.nlp,
        tz=tz,
        due_days=svc.settings.report_due_days,
        now=svc.engine.clock(),
        answer_within=svc.engine.limits.answer_within,
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

    def build() -> QuarterOverview:
        with svc.db.read() as session:
            return overview(svc, session, parsed, unit)

    found = await asyncio.to_thread(build)
    if fmt == "json":
        return found.to_json()
    unit_name = found.units[0].unit if unit else None
    content = await asyncio.to_thread(
        render, found, fmt=fmt, unit=unit_name, now=svc.engine.clock()
    )
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
    now = svc.engine.clock()

    def apply() -> ReviewOut:
        with svc.db.transaction() as session:
            done = reviews.review(
                session,
                unit=unit,
                quarter=parsed,
                accept=body.accept,
                comment=body.comment,
                by_city=True,  # the admin token is the city's
                now=now,
                tz=ZoneInfo(svc.settings.timezone),
                due_days=svc.settings.report_due_days,
            )
            return ReviewOut(**asdict(done))

    try:
        return await asyncio.to_thread(apply)
    except DomainError as error:
        raise api_error(error) from None


def api_error(error: DomainError) -> ApiError:
    """The staff API's answer to a refused review: its status, code and an English message."""
    if isinstance(error, UnknownUnit):
        return ApiError(
            error.status, error.code, f"no district-level unit {error.fields['unit']!r}"
        )
    if isinstance(error, NotSubmitted):
        message = f"the summary is {error.fields['review']}, not submitted"
        return ApiError(error.status, error.code, message)
    return ApiError(error.status, error.code, texts.t(error.key, **error.fields))


@router.put("/{quarter}/due-date", response_model=DueDateOut)
async def set_due_date(request: Request, quarter: str, body: DueDateIn) -> DueDateOut:
    """Override the quarter's due date (null removes the override); the effective date."""
    svc = services(request)
    parsed = parse_quarter(quarter)
    return await asyncio.to_thread(apply_due_date, svc, parsed, body, svc.engine.clock())


def apply_due_date(svc: Services, quarter: Quarter, body: DueDateIn, now: datetime) -> DueDateOut:
    """Set or remove `quarter`'s due date override in one transaction; the effective date."""
    with svc.db.transaction() as session:
        done = reviews.override_due_date(
            session,
            quarter=quarter,
            due=body.due_date,
            note=body.note,
            now=now,
            due_days=svc.settings.report_due_days,
        )
    return DueDateOut(
        quarter=done.quarter,
        due_date=done.due_date.isoformat(),
        overridden=done.overridden,
        note=done.note,
    )
