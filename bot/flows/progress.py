"""查询进度: a resident sees her requests; a cadre sees her unit's open requests and acts on them.

Unlike the slot-filling flows this one holds no dialogue state: every step is one command, so
it needs no machine. `查询进度` lists; a cadre's `受理 <编号>` takes a request and
`办结 <编号> <说明>` resolves it (the requester is told through her channel either way); a
resident's `撤销 <编号>` withdraws her own open request; `详情 <编号>` shows one.
Diagram: progress.mmd (the commands and the statuses they move a request between).

Satisfaction (受益程度): the push telling a woman her request is resolved asks her to rate it,
and `rate` = the code goes into her dialogue session. Her next message, if it reads as a rating
(满意 / 基本满意 / 不满意, or 1/2/3 when no flow is asking her something, optional words after
it), is recorded by `rate`; anything else is handled as usual and the engine asks once more.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session

from bot import texts
from bot.actions import Effects, unit_label
from bot.messages import Outgoing
from bot.nlp import mask_pii
from storage import repo
from storage.models import OPEN_STATUSES, HelpRequest, OrgUnit

# (command, allowed from statuses, to status): what progress.mmd draws.
MOVES = (
    ("take", ("new",), "assigned"),
    ("resolve", ("new", "assigned", "in_progress"), "resolved"),
    ("withdraw", ("new", "assigned", "in_progress"), "cancelled"),
)
# What a rating answer may start with → the stored rating (longest words first).
RATING_WORDS = (
    ("非常满意", "satisfied"),
    ("很满意", "satisfied"),
    ("基本满意", "basic"),
    ("比较满意", "basic"),
    ("还算满意", "basic"),
    ("还行", "basic"),
    ("不太满意", "unsatisfied"),
    ("不满意", "unsatisfied"),
    ("满意", "satisfied"),
)
RATING_NUMBERS = {"1": "satisfied", "2": "basic", "3": "unsatisfied"}
RATING_CHOICES = ("满意", "基本满意", "不满意")
_SEPARATORS = " \t\n,，。.、:：;；!！~～"
_NUMBER_RATING = re.compile(r"^([123１２３])(?:$|[\s,，。.、:：;；!！])")


def _line(fx: Effects, request: HelpRequest) -> str:
    created = repo.as_utc(request.created_at).astimezone(fx.tz).date().isoformat()
    urgent = texts.t("urgent.mark") if request.crisis else ""
    return urgent + texts.t(
        "progress.line",
        code=request.code,
        status=texts.t(f"status.{request.status}"),
        categories=texts.category_labels(request.categories),
        date=created,
    )


def list_requests(fx: Effects) -> list[Outgoing]:
    """Her own requests (resident), or her unit's open ones (cadre)."""
    if fx.user.role == "cadre" and fx.user.unit_id:
        unit = repo.get_unit(fx.session, unit_id=fx.user.unit_id)
        assert unit is not None
        ids = repo.units_below(fx.session, unit=unit)
        rows = repo.open_requests_in(fx.session, unit_ids=ids)
        if not rows:
            return [Outgoing(texts.t("progress.unit_none", unit=unit_label(unit)))]
        lines = [texts.t("progress.unit", unit=unit_label(unit))]
        lines += [_line(fx, r) for r in rows]
        lines.append(texts.t("progress.cadre_hint"))
        return [Outgoing("\n".join(lines))]
    rows = repo.requests_of(fx.session, requester_id=fx.user.id or 0)
    if not rows:
        return [Outgoing(texts.t("progress.none"))]
    lines = [texts.t("progress.mine"), *(_line(fx, r) for r in rows)]
    if any(r.status in OPEN_STATUSES for r in rows):
        lines.append(texts.t("progress.resident_hint"))
    return [Outgoing("\n".join(lines))]


def act(fx: Effects, command: str, code: str | None, note: str | None) -> list[Outgoing]:
    """Apply 受理 / 办结 / 撤销 / 详情 to the request with `code`.

    A request that is neither hers nor her unit's is answered exactly as a code that does not
    exist: nobody learns that another unit's (or another woman's) code exists."""
    if not code:
        return [Outgoing(texts.t("progress.need_code"))]
    request = repo.request_by_code(fx.session, code=code)
    is_requester = (
        request is not None
        and request.requester_id is not None
        and request.requester_id == fx.user.id
    )
    in_my_units = request is not None and fx.user.role == "cadre" and _in_my_units(fx, request)
    if request is None or not (is_requester or in_my_units):
        return [Outgoing(texts.t("progress.not_found", code=code))]
    if command in ("take", "resolve"):
        if fx.user.role != "cadre":
            return [Outgoing(texts.t("progress.cadre_only"))]
        if not in_my_units:  # her own request, filed with another unit
            return [Outgoing(texts.t("progress.not_yours", code=request.code))]
    if command == "detail":
        return [Outgoing(f"{_line(fx, request)}\n{request.need}")]
    allowed, target = next((a, t) for c, a, t in MOVES if c == command)
    if request.status not in allowed:
        status = texts.t(f"status.{request.status}")
        return [Outgoing(texts.t("progress.closed", code=request.code, status=status))]
    if command == "resolve" and not note:
        return [Outgoing(texts.t("progress.need_note"))]
    # Stored with phone and ID numbers masked; the push tells her the note as typed.
    stored = mask_pii(note) if note else note
    repo.set_status(
        fx.session, request=request, status=target, actor=fx.user, note=stored, now=fx.now
    )
    if command == "withdraw":
        return [Outgoing(texts.t("progress.cancelled", code=request.code))]
    _tell_requester(fx, request, command, note)
    if command == "resolve":
        ask_rating(fx, request)
    done_key = "progress.taken" if command == "take" else "progress.resolved"
    return [Outgoing(texts.t(done_key, code=request.code))]


def _in_my_units(fx: Effects, request: HelpRequest) -> bool:
    unit = repo.get_unit(fx.session, unit_id=fx.user.unit_id or 0)
    return unit is not None and request.unit_id in repo.units_below(fx.session, unit=unit)


def _tell_requester(fx: Effects, request: HelpRequest, command: str, note: str | None) -> None:
    unit = repo.get_unit(fx.session, unit_id=fx.user.unit_id or 0)
    tell_requester(
        fx.session,
        request=request,
        command=command,
        note=note,
        unit=unit,
        name=fx.user.name,
        now=fx.now,
        rate=request.requester_id != fx.user.id,
    )


def tell_requester(
    session: Session,
    *,
    request: HelpRequest,
    command: str,
    note: str | None,
    unit: OrgUnit | None,
    name: str | None,
    now: datetime,
    rate: bool = True,
    key: str | None = None,
) -> bool:
    """Queue the push telling the requester that `unit`'s `name` took her request (`take`,
    受理) or that it is resolved (`resolve`, 办结; with `rate`, the push asks her to rate it).

    The console's assignments and status changes tell her through this too. False: nobody to
    tell (filed on a visit, no channel), or `key` (default `request:<code>:<command>`) was used.
    """
    if request.requester_id is None:
        return False
    if command == "take":
        text = texts.t(
            "progress.tell_taken",
            code=request.code,
            unit=unit_label(unit) if unit else "",
            name=name or texts.t("who.staff"),
        )
    else:
        text = texts.t("progress.tell_resolved", code=request.code, note=note or "")
        if rate:
            text += "\n" + texts.t("rate.ask")
    row = repo.enqueue(
        session,
        user_id=request.requester_id,
        text=text,
        now=now,
        key=key or f"request:{request.code}:{command}",
    )
    return row is not None


# ----------------------------------------------------------------------------- satisfaction


def ask_rating(fx: Effects, request: HelpRequest) -> None:
    """Mark her dialogue as waiting for her rating of `request` (not when she resolved it)."""
    if request.requester_id == fx.user.id:
        return
    remember_rating(fx.session, request=request, now=fx.now)


def remember_rating(session: Session, *, request: HelpRequest, now: datetime) -> None:
    """Mark the requester's dialogue as waiting for her rating of `request`."""
    if request.requester_id is None:
        return
    repo.expect_rating(session, user_id=request.requester_id, code=request.code, now=now)


def parse_rating(text: str, *, numbers: bool) -> tuple[str, str | None] | None:
    """('satisfied' | 'basic' | 'unsatisfied', the words after it) when `text` is a rating.

    `numbers`: a bare 1/2/3 counts too (not while a flow's question is waiting for an answer).
    """
    answer = text.strip()
    rating = None
    rest = ""
    for word, value in RATING_WORDS:
        if answer.startswith(word) and not answer[len(word) :].startswith("度"):
            rating, rest = value, answer[len(word) :]
            break
    if rating is None and numbers:
        match = _NUMBER_RATING.match(answer)
        if match:
            digit = match.group(1).translate(str.maketrans("１２３", "123"))
            rating, rest = RATING_NUMBERS[digit], answer[1:]
    if rating is None:
        return None
    note = rest.strip(_SEPARATORS)
    return rating, note or None


def rate(fx: Effects, code: str, rating: str, note: str | None) -> list[Outgoing] | None:
    """Record her rating of her resolved request `code`; None when it is not hers to rate."""
    request = repo.request_by_code(fx.session, code=code)
    if request is None or request.requester_id != fx.user.id or request.status != "resolved":
        return None
    request.rating = rating
    request.rating_note = note
    request.rated_at = repo.as_utc(fx.now)
    label = texts.t(f"rate.{rating}")
    repo.add_event(
        fx.session,
        request=request,
        kind="rated",
        actor_id=fx.user.id,
        note=f"{label}：{note}" if note else label,
        now=fx.now,
    )
    key = "rate.thanks_unsatisfied" if rating == "unsatisfied" else "rate.thanks"
    return [Outgoing(texts.t(key, rating=label))]


def rating_reminder(code: str) -> Outgoing:
    """The one extra ask when her answer to the rating question was about something else."""
    return Outgoing(texts.t("rate.again", code=code), RATING_CHOICES)
