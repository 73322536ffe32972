"""The staff REST API (`/api/v1`, bearer `FUQING_ADMIN_TOKEN`): requests, visits, invites.

The shapes are the contract in DESIGN.md "Web console and REST API"; times are shown in the
federation's time zone.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from bot.domain import deadlines
from bot.errors import ApiError
from bot.http import bearer_guard, services
from bot.nlp import mask_pii
from bot.nlp.categories import Category
from storage import repo

router = APIRouter(
    prefix="/api/v1", tags=["staff"], dependencies=[Depends(bearer_guard("admin_token"))]
)
Status = Literal["new", "assigned", "in_progress", "resolved", "cancelled"]


class HelpRequestOut(BaseModel):
    """A help request as the staff see it."""

    id: int
    code: str
    status: str
    primary: str
    categories: list[str]
    crisis: bool
    district: str | None
    street: str | None
    community: str | None
    created_at: str
    assigned_to: str | None
    # 限时办结 (Beijing time, ISO 8601): accept by, resolve by, accepted at; how often it was
    # reopened; 督办: 0 none, 1 reported to the district, 2 to the city
    accept_due: str | None = None
    resolve_due: str | None = None
    accepted_at: str | None = None
    overdue: bool = False
    reopened: int = 0
    supervised: int = 0


class VisitOut(BaseModel):
    """A diary entry."""

    id: int
    date: str
    district: str | None
    street: str | None
    community: str | None
    visit_form: str | None
    focus: list[str]
    categories: list[str]
    cadre: str | None


INVITE_NAME_MAX = 64  # a cadre's name on an invite (also `fuqing invite`)


class InviteIn(BaseModel):
    """Create an invite for a cadre of `unit` ("朝阳区/双井街道")."""

    unit: str = Field(min_length=2, max_length=128)
    name: str = Field(min_length=1, max_length=INVITE_NAME_MAX)


class InviteOut(BaseModel):
    """The code the cadre sends as `绑定 <code>`."""

    code: str


def _local(at: datetime, tz: ZoneInfo) -> str:
    return repo.as_utc(at).astimezone(tz).isoformat(timespec="seconds")


@router.get("/help-requests", response_model=list[HelpRequestOut])
async def list_help_requests(
    request: Request,
    status: Status | None = None,
    category: Category | None = None,
    district: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[HelpRequestOut]:
    """Help requests, newest first, filtered by status, category and district."""
    svc = services(request)
    tz = ZoneInfo(svc.settings.timezone)
    now = svc.engine.clock()

    def query() -> list[HelpRequestOut]:
        with svc.db.read() as session:
            rows = repo.list_help_requests(
                session,
                status=status,
                category=category,
                district=district,
                limit=limit,
                offset=offset,
            )
            return [
                HelpRequestOut(
                    id=r.id or 0,
                    code=r.code,
                    status=r.status,
                    primary=r.primary,
                    categories=r.categories,
                    crisis=r.crisis,
                    district=r.district,
                    street=r.street,
                    community=r.community,
                    created_at=_local(r.created_at, tz),
                    assigned_to=cadre.name if cadre else None,
                    accept_due=_local(r.accept_due, tz) if r.accept_due else None,
                    resolve_due=_local(r.resolve_due, tz) if r.resolve_due else None,
                    accepted_at=_local(r.accepted_at, tz) if r.accepted_at else None,
                    overdue=deadlines.missed(r, now) is not None,
                    reopened=r.reopened,
                    supervised=r.supervised,
                )
                for r, cadre in rows
            ]

    return await asyncio.to_thread(query)


@router.get("/visits", response_model=list[VisitOut])
async def list_visits(
    request: Request,
    district: Annotated[str | None, Query(max_length=32)] = None,
    cadre: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[VisitOut]:
    """The visit diary, latest first, filtered by district and cadre name."""
    svc = services(request)

    def query() -> list[VisitOut]:
        with svc.db.read() as session:
            rows = repo.list_visits(
                session, district=district, cadre=cadre, limit=limit, offset=offset
            )
            return [
                VisitOut(
                    id=v.id or 0,
                    date=v.date.isoformat(),
                    district=v.district,
                    street=v.street,
                    community=v.community,
                    visit_form=v.visit_form,
                    focus=v.focus,
                    categories=v.categories,
                    cadre=user.name,
                )
                for v, user in rows
            ]

    return await asyncio.to_thread(query)


@router.post("/invites", response_model=InviteOut)
async def create_invite(request: Request, body: InviteIn) -> InviteOut:
    """Create an invite code binding a cadre called `name` to `unit`."""
    svc = services(request)
    clock = svc.engine.clock

    def create() -> InviteOut:
        with svc.db.transaction() as session:
            unit = repo.unit_by_path(session, path=body.unit)
            if unit is None:
                raise ApiError(422, "unknown_unit", f"no org unit {body.unit!r}")
            invite = repo.create_invite(session, unit=unit, name=body.name, now=clock())
            return InviteOut(code=invite.code)

    return await asyncio.to_thread(create)


class OutboxOut(BaseModel):
    """A push (reminder, status change, alert) and its delivery state."""

    id: int
    key: str | None
    user_id: int
    channel: str
    text: str
    urgent: bool
    status: str
    attempts: int
    last_error: str | None
    due_at: str
    created_at: str
    sent_at: str | None


OutboxStatus = Literal["pending", "sending", "sent", "dead"]


@router.get("/outbox", response_model=list[OutboxOut])
async def list_outbox(
    request: Request,
    status: OutboxStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[OutboxOut]:
    """Reminders and other pushes, newest first, with their delivery state (phones masked)."""
    svc = services(request)
    tz = ZoneInfo(svc.settings.timezone)

    def query() -> list[OutboxOut]:
        with svc.db.read() as session:
            return [
                OutboxOut(
                    id=row.id or 0,
                    key=row.key,
                    user_id=row.user_id,
                    channel=row.channel,
                    text=mask_pii(row.text),
                    urgent=row.urgent,
                    status=row.status,
                    attempts=row.attempts,
                    last_error=row.last_error,
                    due_at=_local(row.due_at, tz),
                    created_at=_local(row.created_at, tz),
                    sent_at=_local(row.sent_at, tz) if row.sent_at else None,
                )
                for row in repo.list_outbox(session, status=status, limit=limit)
            ]

    return await asyncio.to_thread(query)
