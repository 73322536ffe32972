"""Correcting a request's categories and crisis flag in the console, and the model's figure.

- `POST /console/requests/{code}/labels`: the request page's form (主要类别, other categories,
  紧急), answered with a redirect and a notice;
- `POST /console/api/requests/{code}/labels`: the same as JSON (`{"categories": [...],
  "crisis": true}`, either may be left out), with the session cookie and the `X-CSRF-Token`
  header: 200 with the request's labels, 404 outside her units, 422 for no, unknown or
  conflicting categories or nothing changed, 409 once her words are erased;
- `GET /console/nlp` and `GET /console/api/nlp/corrections`: how the model did on the latest
  100 corrections, as filed and as the loaded model reads them now.

The rule is `bot.domain.labels`; these only translate. The page and the figure are for every
staff member; the figure counts every unit's corrections (one model reads them all) and shows
no text.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from pydantic import BaseModel, Field

from bot import texts
from bot.console.auth import Staff, check_csrf, current_staff, redirect, render
from bot.domain import labels
from bot.domain.errors import DomainError, NotFound
from bot.domain.requests import Actor
from bot.errors import ApiError
from bot.http import services
from bot.nlp import NLP
from storage.db import Database

log = logging.getLogger(__name__)
router = APIRouter(prefix="/console", include_in_schema=False)
StaffDep = Annotated[Staff, Depends(current_staff)]
CSRF = [Depends(check_csrf)]
# Each refusal's HTTP status and error code (the message is the console's Chinese text).
_ANSWERS: dict[str, tuple[int, str]] = {
    "progress.not_found": (404, "not_found"),
    "labels.unknown": (422, "unknown_category"),
    "labels.empty": (422, "no_category"),
    "labels.other_alone": (422, "other_alone"),
    "labels.unchanged": (422, "unchanged"),
    "labels.staff_only": (403, "forbidden"),
    "labels.erased": (409, "erased"),
}


class LabelsIn(BaseModel):
    """New labels of a request: categories (TAXONOMY codes, the primary first) and/or crisis."""

    categories: list[Annotated[str, Field(max_length=16)]] | None = Field(
        default=None, max_length=6
    )
    crisis: bool | None = None


class LabelsOut(BaseModel):
    """The request's labels after the correction, and the stored example's id."""

    code: str
    primary: str
    categories: list[str]
    crisis: bool
    correction_id: int


class AgreementOut(BaseModel):
    """How often a reading agreed with staff: shares of `n` corrections (null without any)."""

    n: int
    primary: float | None
    crisis: float | None


class FiguresOut(BaseModel):
    """`filed`: the model's reading the requests were filed with; `now`: the loaded model's."""

    filed: AgreementOut
    now: AgreementOut


def _correct(db: Database, staff: Staff, code: str, body: LabelsIn, now: datetime) -> LabelsOut:
    actor = Actor.console(username=staff.username, unit_id=staff.unit_id, unit_ids=staff.unit_ids)
    with db.transaction() as session:
        done = labels.correct(
            session,
            code=code,
            actor=actor,
            staff_id=staff.id,
            categories=body.categories,
            crisis=body.crisis,
            now=now,
        )
        request = done.request
        out = LabelsOut(
            code=request.code,
            primary=request.primary,
            categories=list(request.categories),
            crisis=request.crisis,
            correction_id=done.correction.id or 0,
        )
    log.info("request %s relabelled by console user %s", out.code, staff.username)
    return out


async def _run(request: Request, staff: Staff, code: str, body: LabelsIn) -> LabelsOut:
    svc = services(request)
    return await asyncio.to_thread(_correct, svc.db, staff, code, body, svc.engine.clock())


def _refusal(error: DomainError) -> tuple[int, str, str]:
    status, code = _ANSWERS.get(error.key, (error.status, error.code))
    return status, code, texts.t(error.key, **error.fields)


@router.post("/api/requests/{code}/labels", dependencies=CSRF)
async def correct_labels_api(
    request: Request, staff: StaffDep, code: str, body: LabelsIn
) -> LabelsOut:
    """Correct a request's categories and/or crisis flag (JSON); stored as a labelled example."""
    try:
        return await _run(request, staff, code, body)
    except DomainError as error:
        status, error_code, message = _refusal(error)
        raise ApiError(status, error_code, message) from None


@router.post("/requests/{code}/labels", dependencies=CSRF)
async def correct_labels_form(
    request: Request,
    staff: StaffDep,
    code: str,
    primary: Annotated[str, Form(max_length=16)] = "",
    categories: Annotated[list[str] | None, Form(max_length=16)] = None,
    crisis: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """The request page's form: 主要类别 first, then the other categories ticked, and 紧急."""
    chosen = [primary] if primary else []
    chosen += [c for c in categories or [] if c != primary]
    body = LabelsIn(categories=chosen, crisis=bool(crisis))
    target = f"/console/requests/{code.upper()}"
    try:
        done = await _run(request, staff, code, body)
    except NotFound:
        target = "/console/requests"
        return redirect(request, target, message=texts.t("console.not_found", code=code.upper()))
    except DomainError as error:
        return redirect(request, target, message=_refusal(error)[2], kind="error")
    return redirect(request, target, message=texts.t("labels.saved", code=done.code))


def _figures(request: Request) -> FiguresOut:
    svc = services(request)
    nlp: NLP = svc.nlp

    def read(text: str, day: date) -> tuple[str | None, bool]:
        found = nlp.analyze(text, day)
        return found.primary, found.crisis

    with svc.db.read() as session:
        got = labels.figures(session, read=read)
    assert got.now is not None
    return FiguresOut(filed=_agreement(got.stored), now=_agreement(got.now))


def _agreement(found: labels.Agreement) -> AgreementOut:
    return AgreementOut(n=found.n, primary=found.primary, crisis=found.crisis)


@router.get("/api/nlp/corrections")
async def corrections_figures(request: Request, staff: StaffDep) -> FiguresOut:
    """Agreement of the model with staff on the latest 100 corrections (filed, and now)."""
    return await asyncio.to_thread(_figures, request)


@router.get("/nlp")
async def nlp_page(request: Request, staff: StaffDep) -> Response:
    """The page of the same figures, with what they mean."""
    figures = await asyncio.to_thread(_figures, request)
    return render(request, "nlp.html", staff, figures=figures, recent=labels.RECENT)
