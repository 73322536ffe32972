"""The console's inbox of hand-offs (转人工): staff read a woman's conversation and answer her.

- `GET /console/inbox`: the open threads of her units (waiting first, the longest waiting
  first), then the latest closed ones;
- `GET /console/inbox/{code}`: one thread — her messages (stored with phone and ID numbers
  masked), the replies, the unit that answers, her open requests — with the reply form and
  结束会话; the page refreshes its messages every few seconds (`inbox.js`, from the JSON below);
- `POST /console/inbox/{code}/reply` and `/end`: the forms (a redirect with a notice);
- `POST /console/requests/{code}/take` (接管, from a request's page, with her first message):
  a thread with her opens, she is handed over, and the page goes to the thread; as JSON
  `POST /console/api/requests/{code}/take` (`{"text": "…"}`), answering the thread;
- `GET /console/api/inbox`, `GET /console/api/inbox/{code}`, `POST /console/api/inbox/{code}/reply`
  (`{"text": "…"}`) and `POST /console/api/inbox/{code}/end`: the same as JSON, with the
  session cookie and the `X-CSRF-Token` header on POSTs: 404 outside her units, 409 once the
  thread is closed (or, for 接管, she talks to another unit), 422 for an empty or too long reply
  or a request nobody can be written to about.

The rules are `bot.domain.handoff`'s; these only translate. A reply reaches her on her own
channel through the outbox.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from pydantic import BaseModel, Field

from bot import texts
from bot.console.auth import Staff, check_csrf, current_staff, local_time, redirect, render
from bot.domain import handoff
from bot.domain.errors import DomainError, NotFound
from bot.domain.org import unit_label
from bot.errors import ApiError
from bot.http import services
from storage import repo
from storage.db import Database

log = logging.getLogger(__name__)
router = APIRouter(prefix="/console", include_in_schema=False)
StaffDep = Annotated[Staff, Depends(current_staff)]
CSRF = [Depends(check_csrf)]
Reply = Annotated[str, Form(max_length=handoff.MAX_REPLY * 2)]
_ANSWERS: dict[str, tuple[int, str]] = {
    "handoff.not_found": (404, "not_found"),
    "handoff.not_yours": (404, "not_found"),
    "handoff.closed": (409, "closed"),
    "handoff.empty_reply": (422, "empty_reply"),
    "handoff.long_reply": (422, "long_reply"),
    "handoff.no_request": (404, "not_found"),
    "handoff.empty_take": (422, "empty_reply"),
    "handoff.no_requester": (422, "not_reachable"),
    "handoff.busy_elsewhere": (409, "busy_elsewhere"),
}


class MessageOut(BaseModel):
    """One message of a thread: who wrote it (resident | staff | cadre | bot), when (Beijing
    time), the text."""

    author: str
    name: str | None
    at: str
    text: str


class ThreadOut(BaseModel):
    """A thread as the inbox shows it."""

    code: str
    status: str
    unit: str
    channel: str
    opened: str
    answered: str | None
    waiting_minutes: int | None  # waiting for a first reply: for how long (None once answered)
    messages: list[MessageOut] = Field(default_factory=list)
    requests: list[str] = Field(default_factory=list)


class InboxOut(BaseModel):
    """Her units' open threads (waiting first) and the latest closed ones."""

    open: list[ThreadOut]
    closed: list[ThreadOut]


class ReplyIn(BaseModel):
    """A reply to her."""

    text: str = Field(max_length=handoff.MAX_REPLY * 2)


def _person(staff: Staff) -> handoff.Person:
    return handoff.Person.console(
        username=staff.username, unit_ids=staff.unit_ids, unit_id=staff.unit_id
    )


def _thread_out(
    row: repo.ThreadRow | handoff.ThreadView, now: datetime, request: Request
) -> ThreadOut:
    tz = services(request).engine.tz
    thread = row.thread
    waiting = None
    if thread.status == "waiting":
        waiting = int((now - repo.as_utc(thread.opened_at)).total_seconds() // 60)
    out = ThreadOut(
        code=thread.code,
        status=thread.status,
        unit=unit_label(row.unit),
        channel=thread.channel,
        opened=local_time(thread.opened_at, tz),
        answered=local_time(thread.answered_at, tz) or None,
        waiting_minutes=waiting,
    )
    if isinstance(row, handoff.ThreadView):
        out.messages = [
            MessageOut(author=m.author, name=m.name, at=local_time(m.at, tz), text=m.text)
            for m in row.messages
        ]
        out.requests = row.requests
    return out


def _inbox(db: Database, staff: Staff, request: Request, now: datetime) -> InboxOut:
    scope = None if staff.is_city else staff.unit_ids
    with db.read() as session:
        opened = repo.threads_in(session, unit_ids=scope)
        closed = repo.threads_in(session, unit_ids=scope, closed=True, limit=20)
        return InboxOut(
            open=[_thread_out(r, now, request) for r in opened],
            closed=[_thread_out(r, now, request) for r in closed],
        )


def _view(db: Database, staff: Staff, code: str, request: Request, now: datetime) -> ThreadOut:
    with db.read() as session:
        found = handoff.view(session, code=code, person=_person(staff))
        return _thread_out(found, now, request)


def _act(db: Database, staff: Staff, code: str, move: str, text: str, now: datetime) -> str:
    """`move` (reply, end, or take: `code` is then a request's) as `staff`; the thread's code."""
    person = _person(staff)
    with db.transaction() as session:
        if move == "reply":
            thread = handoff.reply(session, code=code, person=person, text=text, now=now)
        elif move == "take":
            thread = handoff.take_over(
                session, request_code=code, person=person, text=text, now=now
            )
        else:
            thread = handoff.end(session, code=code, person=person, now=now)
        done = thread.code
    log.info("hand-off %s: %s by console user %s", done, move, staff.username)
    return done


def _refusal(error: DomainError) -> tuple[int, str, str]:
    status, code = _ANSWERS.get(error.key, (error.status, error.code))
    return status, code, texts.t(error.key, **error.fields)


async def _run_act(request: Request, staff: Staff, code: str, move: str, text: str) -> str:
    svc = services(request)
    return await asyncio.to_thread(_act, svc.db, staff, code, move, text, svc.engine.clock())


# ----------------------------------------------------------------------------- JSON


@router.get("/api/inbox")
async def inbox_api(request: Request, staff: StaffDep) -> InboxOut:
    """Her units' open threads and the latest closed ones."""
    svc = services(request)
    return await asyncio.to_thread(_inbox, svc.db, staff, request, svc.engine.clock())


@router.get("/api/inbox/{code}")
async def thread_api(request: Request, staff: StaffDep, code: str) -> ThreadOut:
    """One thread with its messages (404 outside her units)."""
    svc = services(request)
    try:
        return await asyncio.to_thread(_view, svc.db, staff, code, request, svc.engine.clock())
    except DomainError as error:
        status, error_code, message = _refusal(error)
        raise ApiError(status, error_code, message) from None


async def _api_act(request: Request, staff: Staff, code: str, move: str, text: str) -> ThreadOut:
    try:
        done = await _run_act(request, staff, code, move, text)
    except DomainError as error:
        status, error_code, message = _refusal(error)
        raise ApiError(status, error_code, message) from None
    return await thread_api(request, staff, done)


@router.post("/api/inbox/{code}/reply", dependencies=CSRF)
async def reply_api(request: Request, staff: StaffDep, code: str, body: ReplyIn) -> ThreadOut:
    """Reply to her; the thread as it is now."""
    return await _api_act(request, staff, code, "reply", body.text)


@router.post("/api/inbox/{code}/end", dependencies=CSRF)
async def end_api(request: Request, staff: StaffDep, code: str) -> ThreadOut:
    """结束会话: the bot takes over again and she is told."""
    return await _api_act(request, staff, code, "end", "")


@router.post("/api/requests/{code}/take", dependencies=CSRF)
async def take_api(request: Request, staff: StaffDep, code: str, body: ReplyIn) -> ThreadOut:
    """接管: talk to the woman of request `code` now; the thread as it is."""
    return await _api_act(request, staff, code, "take", body.text)


# ----------------------------------------------------------------------------- pages


@router.get("/inbox")
async def inbox_page(request: Request, staff: StaffDep) -> Response:
    """The inbox: open threads (waiting first), then the latest closed."""
    svc = services(request)
    inbox = await asyncio.to_thread(_inbox, svc.db, staff, request, svc.engine.clock())
    return render(request, "inbox.html", staff, inbox=inbox)


@router.get("/inbox/{code}")
async def thread_page(request: Request, staff: StaffDep, code: str) -> Response:
    """One thread, the reply form and 结束会话."""
    svc = services(request)
    try:
        thread = await asyncio.to_thread(_view, svc.db, staff, code, request, svc.engine.clock())
    except NotFound:
        return redirect(
            request, "/console/inbox", message=texts.t("handoff.not_found", code=code.upper())
        )
    return render(request, "inbox_thread.html", staff, thread=thread)


_DONE = {
    "reply": "console.inbox.replied",
    "end": "console.inbox.ended",
    "take": "console.inbox.taken",
}


async def _form_act(request: Request, staff: Staff, code: str, move: str, text: str) -> Response:
    back = f"/console/requests/{code.upper()}" if move == "take" else "/console/inbox"
    target = back if move == "take" else f"/console/inbox/{code.upper()}"
    try:
        done = await _run_act(request, staff, code, move, text)
    except NotFound as error:
        return redirect(request, back, message=_refusal(error)[2], kind="error")
    except DomainError as error:
        return redirect(request, target, message=_refusal(error)[2], kind="error")
    message = texts.t(_DONE[move], code=done)
    return redirect(request, f"/console/inbox/{done}", message=message)


@router.post("/inbox/{code}/reply", dependencies=CSRF)
async def reply_form(request: Request, staff: StaffDep, code: str, text: Reply = "") -> Response:
    """The reply form."""
    return await _form_act(request, staff, code, "reply", text)


@router.post("/inbox/{code}/end", dependencies=CSRF)
async def end_form(request: Request, staff: StaffDep, code: str) -> Response:
    """The 结束会话 button."""
    return await _form_act(request, staff, code, "end", "")


@router.post("/requests/{code}/take", dependencies=CSRF)
async def take_form(request: Request, staff: StaffDep, code: str, text: Reply = "") -> Response:
    """The 接管并发送 form of a request's page."""
    return await _form_act(request, staff, code, "take", text)
