"""查询进度: a resident sees her requests; a cadre sees her unit's open requests and acts on them.

Unlike the slot-filling flows this one holds no dialogue state: every step is one command, so
it needs no machine of its own. `查询进度` lists; a cadre's `受理 <编号>` takes a request and
`办结 <编号> <说明>` resolves it; a resident's `撤销 <编号>` withdraws her own open request;
`详情 <编号>` shows one. The moves, who may make them and their effects (the requester told,
her rating asked) are the lifecycle's: bot/domain/requests.py, drawn in requests.mmd there.

Satisfaction (受益程度): the push telling a woman her request is resolved asks her to rate it,
and `rate` = the code goes into her dialogue session. Her next message, if it reads as a rating
(满意 / 基本满意 / 不满意, or 1/2/3 when no flow is asking her something, optional words after
it), is recorded by `rate` (the lifecycle's `rate` move); anything else is handled as usual and
the engine asks once more.
"""

from __future__ import annotations

import re

from bot import texts
from bot.actions import Effects, unit_label
from bot.domain import deadlines, requests
from bot.domain.errors import DomainError
from bot.messages import Outgoing
from bot.nlp.words import words
from storage import repo
from storage.models import OPEN_STATUSES, HelpRequest

# What a rating answer may start with → the stored rating (longest words first).
RATINGS = ("satisfied", "basic", "unsatisfied")
RATING_WORDS = tuple(
    sorted(
        ((word, rating) for rating in RATINGS for word in words("ratings", rating)),
        key=lambda pair: -len(pair[0]),
    )
)
NOT_BEFORE = words("ratings", "not_before")  # 满意度 is no rating
RATING_NUMBERS = {"1": "satisfied", "2": "basic", "3": "unsatisfied"}
RATING_CHOICES = tuple(texts.t(f"rate.{rating}") for rating in RATINGS)
_SEPARATORS = " \t\n,，。.、:：;；!！~～"
_NUMBER_RATING = re.compile(r"^([123１２３])(?:$|[\s,，。.、:：;；!！])")


def _line(fx: Effects, request: HelpRequest, *, mine: bool = False) -> str:
    """One request: code, status, categories (and for her own, the unit that has it), date."""
    created = repo.as_utc(request.created_at).astimezone(fx.tz).date().isoformat()
    urgent = texts.t("urgent.mark") if request.crisis else ""
    fields = {
        "code": request.code,
        "status": texts.t(f"status.{request.status}"),
        "categories": texts.category_labels(request.categories),
        "date": created,
    }
    due = ""
    if request.status in OPEN_STATUSES and request.resolve_due is not None:
        when = deadlines.day_label(repo.as_utc(request.resolve_due), fx.tz)
        late = deadlines.overdue(request.resolve_due, fx.now)
        due = texts.t("progress.overdue" if late else "progress.due", when=when)
    if mine:
        unit = repo.get_unit(fx.session, unit_id=request.unit_id)
        line = texts.t("progress.line_mine", unit=unit_label(unit) if unit else "", **fields)
        return urgent + line + due
    return urgent + texts.t("progress.line", **fields) + due


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
    lines = [texts.t("progress.mine"), *(_line(fx, r, mine=True) for r in rows)]
    if any(r.status in OPEN_STATUSES for r in rows):
        lines.append(texts.t("progress.resident_hint"))
    return [Outgoing("\n".join(lines))]


def who_to_call(fx: Effects) -> list[Outgoing]:
    """ "该给谁打电话": the hotlines, and the federation that has her latest open request (or
    how to reach one: tell the bot, or 转人工)."""
    rows = [r for r in repo.requests_of(fx.session, requester_id=fx.user.id or 0)]
    open_rows = [r for r in rows if r.status in OPEN_STATUSES]
    lines = [texts.t("intent.call")]
    if open_rows:
        latest = open_rows[0]
        unit = repo.get_unit(fx.session, unit_id=latest.unit_id)
        lines.append(
            texts.t("intent.call_unit", code=latest.code, unit=unit_label(unit) if unit else "")
        )
    else:
        lines.append(texts.t("intent.call_none"))
    return [Outgoing("\n".join(lines))]


def act(fx: Effects, command: str, code: str | None, note: str | None) -> list[Outgoing]:
    """Apply 受理 / 办结 / 撤销 / 详情 to the request with `code` (the lifecycle's take, resolve
    and withdraw moves); a refusal is answered with its text.

    A request that is neither hers nor her unit's is answered exactly as a code that does not
    exist: nobody learns that another unit's (or another woman's) code exists."""
    if not code:
        return [Outgoing(texts.t("progress.need_code"))]
    actor = requests.Actor.chat(fx.user)
    try:
        if command == "detail":
            request, _roles = requests.visible(fx.session, code=code, actor=actor)
            return [Outgoing(f"{_line(fx, request)}\n{request.need}")]
        moved = requests.move(
            fx.session, code=code, actor=actor, move=command, note=note, now=fx.now
        )
    except DomainError as error:
        return [Outgoing(texts.t(error.key, **error.fields))]
    done_key = {"take": "progress.taken", "resolve": "progress.resolved"}
    key = done_key.get(command, "progress.cancelled")
    return [Outgoing(texts.t(key, code=moved.request.code))]


# ----------------------------------------------------------------------------- satisfaction


def parse_rating(text: str, *, numbers: bool) -> tuple[str, str | None] | None:
    """('satisfied' | 'basic' | 'unsatisfied', the words after it) when `text` is a rating.

    `numbers`: a bare 1/2/3 counts too (not while a flow's question is waiting for an answer).
    """
    answer = text.strip()
    rating = None
    rest = ""
    for word, value in RATING_WORDS:
        if answer.startswith(word) and not answer[len(word) :].startswith(NOT_BEFORE):
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
    try:
        moved = requests.rate(
            fx.session,
            code=code,
            actor=requests.Actor.chat(fx.user),
            rating=rating,
            note=note,
            now=fx.now,
            limits=fx.limits,
        )
    except DomainError:
        return None
    if rating != "unsatisfied":
        return [Outgoing(texts.t("rate.thanks", rating=texts.t(f"rate.{rating}")))]
    request = moved.request  # reopened (回访): who has it now, and by when
    unit = repo.get_unit(fx.session, unit_id=request.unit_id)
    when = deadlines.day_label(repo.as_utc(request.resolve_due or fx.now), fx.tz)
    text = texts.t(
        "rate.thanks_unsatisfied",
        code=request.code,
        unit=unit_label(unit) if unit else "",
        when=when,
    )
    return [Outgoing(text)]


def rating_reminder(code: str) -> Outgoing:
    """The one extra ask when her answer to the rating question was about something else."""
    return Outgoing(texts.t("rate.again", code=code), RATING_CHOICES)
