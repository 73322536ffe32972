"""The console's pages: login and logout, the request queue and a request's page (with its
actions), the count of urgent cases the navigation polls, and the console's static files. The
other pages have their own routers and use `bot.console.auth` the same way."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse

from bot import texts
from bot.console import queue, throttle
from bot.console.auth import (
    STATIC,
    LoginRequired,
    Staff,
    check_csrf,
    current_staff,
    end_session,
    redirect,
    render,
    safe_next,
    start_session,
    verify_login,
    waiting,
)
from bot.console.overview.listing import pager
from bot.http import services
from storage.models import REQUEST_STATUSES

log = logging.getLogger(__name__)
router = APIRouter(tags=["console"], include_in_schema=False)
CurrentStaff = Annotated[Staff, Depends(current_staff)]
Note = Annotated[str, Form(max_length=queue.MAX_NOTE)]


@router.get("/console/static/{name}")
async def static_file(name: str) -> FileResponse:
    """A file of bot/console/static (no sub-directories, nothing outside it)."""
    path = (STATIC / name).resolve()
    if path.parent != STATIC.resolve() or not path.is_file():
        raise HTTPException(404, "no such file")
    return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})


@router.get("/console/urgent")
async def urgent_count(request: Request) -> JSONResponse:
    """`{"count": n, "handoffs": m}`: the urgent cases in her units nobody has accepted yet and
    the hand-offs nobody has answered (the navigation's badges poll it); 401 `login_required`
    without a live session."""
    headers = {"Cache-Control": "no-store"}
    try:
        await current_staff(request)
    except LoginRequired:
        return JSONResponse({"error": "login_required"}, status_code=401, headers=headers)
    found = waiting(request)
    return JSONResponse({"count": found.urgent, "handoffs": found.handoffs}, headers=headers)


# ----------------------------------------------------------------------------- login


@router.get("/console/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    """The login form (a logged-in staff member goes straight on)."""
    try:
        await current_staff(request)
    except HTTPException:
        return render(request, "login.html", None, next=safe_next(next), error=None, username="")
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/console/login", dependencies=[Depends(check_csrf)])
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=512)] = "",
) -> Response:
    """Check the credentials: on success a session and a 303 to `next`; else the form again
    (401), or while the username is throttled a 429 with Retry-After saying when to try."""
    svc = services(request)
    result = await asyncio.to_thread(
        verify_login,
        svc.db,
        username=username,
        password=password,
        now=svc.engine.clock(),
        secret=svc.settings.secret_key,
    )
    if result.staff_id is not None:
        response = RedirectResponse(safe_next(next), status_code=303)
        start_session(request, response, result)
        return response
    client = request.client.host if request.client else "-"
    who = throttle.masked(username.strip())
    if result.retry_after:
        log.warning(
            "console login refused: user %s from %s must wait %d s (%d failures in a row)",
            who,
            client,
            result.retry_after,
            result.failures,
        )
        error = texts.t("console.login_locked", wait=_wait_text(result.retry_after))
    else:
        log.warning(
            "console login failed: user %s from %s (%d failures in a row)",
            who,
            client,
            result.failures,
        )
        error = texts.t("console.login_failed")
    page = render(request, "login.html", None, next=safe_next(next), error=error, username=username)
    page.status_code = 429 if result.retry_after else 401
    if result.retry_after:
        page.headers["Retry-After"] = str(result.retry_after)
    return page


def _wait_text(seconds: int) -> str:
    """'30 秒', '15 分钟': how long to wait, in words."""
    if seconds < 60:
        return texts.t("console.wait_seconds", n=seconds)
    return texts.t("console.wait_minutes", n=-(-seconds // 60))


@router.post("/console/logout", dependencies=[Depends(check_csrf)])
async def logout(request: Request) -> Response:
    """End the session (void server side) and go back to the login form."""
    response = redirect(request, "/console/login", message=texts.t("console.logged_out"))
    await end_session(request, response)
    return response


# ----------------------------------------------------------------------------- the queue


def _tz(request: Request) -> ZoneInfo:
    return ZoneInfo(services(request).settings.timezone)


@router.get("/console/requests")
async def requests_page(
    request: Request,
    staff: CurrentStaff,
    status: Annotated[str | None, Query(max_length=16)] = None,
    category: Annotated[str | None, Query(max_length=16)] = None,
    district: Annotated[str | None, Query(max_length=32)] = None,
    urgent: Annotated[str | None, Query(max_length=4)] = None,
    q: Annotated[str | None, Query(max_length=16)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    overdue: Annotated[str | None, Query(max_length=4)] = None,
) -> Response:
    """The request queue of her units: filters, urgent cases nobody accepted first, then
    newest first, paged."""
    filters = queue.Filters(
        status=status if status in REQUEST_STATUSES else None,
        category=category if category in texts.CATEGORY_LABELS else None,
        district=(district or None) if staff.is_city else None,
        urgent=bool(urgent),
        q=(q or "").strip() or None,
        page=page,
        overdue=bool(overdue),
    )
    svc = services(request)
    result = await asyncio.to_thread(
        queue.queue_page, svc.db, staff, filters, _tz(request), svc.engine.clock()
    )
    kept = {
        "status": filters.status,
        "category": filters.category,
        "district": filters.district,
        "urgent": "1" if filters.urgent else None,
        "q": filters.q,
        "overdue": "1" if filters.overdue else None,
    }
    return render(
        request,
        "requests.html",
        staff,
        result=result,
        filters=filters,
        statuses=REQUEST_STATUSES,
        categories=texts.CATEGORY_LABELS,
        pager=pager("/console/requests", kept, result.page, result.total, size=queue.PAGE_SIZE),
    )


def _not_found(request: Request, staff: Staff, code: str) -> Response:
    page = render(
        request,
        "request_detail.html",
        staff,
        detail=None,
        message=texts.t("console.not_found", code=code.upper()),
    )
    page.status_code = 404
    return page


@router.get("/console/requests/{code}")
async def request_page(request: Request, staff: CurrentStaff, code: str) -> Response:
    """One request of her units: the need, place, contact (masked), history and actions."""
    db = services(request).db
    clock = services(request).engine.clock
    detail = await asyncio.to_thread(queue.request_detail, db, staff, code, _tz(request), clock())
    if detail is None:
        return _not_found(request, staff, code)
    return render(
        request,
        "request_detail.html",
        staff,
        detail=detail,
        message=None,
        moves=detail.moves,
        categories=texts.CATEGORY_LABELS,
    )


def _after(request: Request, staff: Staff, code: str, outcome: queue.Outcome | None) -> Response:
    if outcome is None:
        return _not_found(request, staff, code)
    if outcome.ok:
        services(request).channels.dispatcher.kick()
    return redirect(
        request,
        f"/console/requests/{code.upper()}",
        message=outcome.message,
        kind="ok" if outcome.ok else "error",
    )


@router.post("/console/requests/{code}/assign", dependencies=[Depends(check_csrf)])
async def assign_request(
    request: Request,
    staff: CurrentStaff,
    code: str,
    cadre_id: Annotated[int, Form()],
    note: Note = "",
) -> Response:
    """Assign the request to a cadre of its unit; the requester is told."""
    svc = services(request)
    outcome = await asyncio.to_thread(
        queue.assign, svc.db, staff, code, cadre_id, note.strip() or None, svc.engine.clock()
    )
    return _after(request, staff, code, outcome)


@router.post("/console/requests/{code}/status", dependencies=[Depends(check_csrf)])
async def change_status(
    request: Request,
    staff: CurrentStaff,
    code: str,
    status: Annotated[str, Form(max_length=16)],
    note: Note = "",
) -> Response:
    """Move the request to another status with a note (a resolve needs one); she is told."""
    svc = services(request)
    outcome = await asyncio.to_thread(
        queue.change_status, svc.db, staff, code, status, note.strip() or None, svc.engine.clock()
    )
    return _after(request, staff, code, outcome)
