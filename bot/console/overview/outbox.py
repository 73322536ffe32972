"""The outbox page: pushes and their delivery state, newest first, by status; a dead or
pending push can be retried now (a district's staff see pushes to cadres bound within it)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response

from bot import texts
from bot.console.auth import redirect, render
from bot.console.overview import listing
from bot.console.overview.listing import code_label, pager
from bot.console.overview.scope import CSRF, StaffDep, scope_of
from bot.http import services
from bot.nlp import mask_pii
from storage import repo
from storage.models import Outbox

router = APIRouter(prefix="/console", include_in_schema=False)

PUSH_STATUSES = ("pending", "sending", "sent", "dead")


@router.get("/outbox")
async def outbox(
    request: Request,
    staff: StaffDep,
    status: Annotated[str | None, Query(max_length=16)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Pushes and their delivery state, newest first, by status; dead letters stand out and
    can be retried. A district's staff see the pushes to cadres bound within the district."""
    svc = services(request)
    chosen = status if status in PUSH_STATUSES else None
    scope = scope_of(staff)

    def build() -> dict[str, Any]:
        with svc.db.read() as session:
            rows, total = repo.pushes(
                session,
                unit_ids=scope,
                status=chosen,
                limit=listing.PAGE_SIZE,
                offset=(page - 1) * listing.PAGE_SIZE,
            )
            return {
                "rows": [
                    (r.push, r.user, mask_pii(r.push.text), mask_pii(r.push.last_error or ""))
                    for r in rows
                ],
                "total": total,
                "counts": repo.push_counts(session, unit_ids=scope),
            }

    context = await asyncio.to_thread(build)
    return render(
        request,
        "outbox.html",
        staff,
        **context,
        status=chosen or "",
        statuses=[(s, code_label("console.push", s)) for s in PUSH_STATUSES],
        pager=pager("/console/outbox", {"status": chosen}, page, context["total"]),
    )


@router.post("/outbox/{push_id}/retry", dependencies=CSRF)
async def retry_push(
    request: Request,
    staff: StaffDep,
    push_id: int,
    status: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Set a dead or pending push back to pending, due now, and hand it to the dispatcher;
    the notice says whether it went out."""
    svc = services(request)
    scope = scope_of(staff)
    back = f"/console/outbox?{urlencode({'status': status})}" if status else "/console/outbox"

    def requeue() -> tuple[str | None, int]:
        with svc.db.transaction() as session:
            push = repo.push_in_scope(session, push_id=push_id, unit_ids=scope)
            if push is None:
                raise HTTPException(404, "no such push")
            done = repo.requeue_push(session, push=push, now=svc.engine.clock())
            return (None if done else push.status), push.attempts

    refused, attempts = await asyncio.to_thread(requeue)
    if refused is not None:
        state = code_label("console.push", refused)
        message = texts.t("console.retry.refused", id=push_id, status=state)
        return redirect(request, back, message=message, kind="error")
    await svc.channels.dispatcher.deliver([push_id])

    def outcome() -> Outbox | None:
        with svc.db.read() as session:
            return repo.push_in_scope(session, push_id=push_id, unit_ids=scope)

    push = await asyncio.to_thread(outcome)
    if push is not None and push.status == "sent":
        return redirect(request, back, message=texts.t("console.retry.sent", id=push_id))
    if push is None or push.attempts == attempts:  # not tried: quiet hours hold it till 08:00
        return redirect(request, back, message=texts.t("console.retry.waiting", id=push_id))
    error = mask_pii(push.last_error or push.status)
    message = texts.t("console.retry.failed", id=push_id, error=error)
    return redirect(request, back, message=message, kind="error")
