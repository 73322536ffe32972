"""查询进度: a resident sees her requests; a cadre sees her unit's open requests and acts on them.

Unlike the slot-filling flows this one holds no dialogue state: every step is one command, so
it needs no machine. `查询进度` lists; a cadre's `受理 <编号>` takes a request and
`办结 <编号> <说明>` resolves it (the requester is told through her channel either way); a
resident's `撤销 <编号>` withdraws her own open request; `详情 <编号>` shows one.
Diagram: progress.mmd (the commands and the statuses they move a request between).
"""

from __future__ import annotations

from bot import texts
from bot.actions import Effects, unit_label
from bot.messages import Outgoing
from storage import repo
from storage.models import OPEN_STATUSES, HelpRequest

# (command, allowed from statuses, to status): what progress.mmd draws.
MOVES = (
    ("take", ("new",), "assigned"),
    ("resolve", ("new", "assigned", "in_progress"), "resolved"),
    ("withdraw", ("new", "assigned", "in_progress"), "cancelled"),
)


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
    """Apply 受理 / 办结 / 撤销 / 详情 to the request with `code`."""
    if not code:
        return [Outgoing(texts.t("progress.need_code"))]
    request = repo.request_by_code(fx.session, code=code)
    if request is None:
        return [Outgoing(texts.t("progress.not_found", code=code))]
    is_requester = request.requester_id is not None and request.requester_id == fx.user.id
    if command in ("take", "resolve"):
        if fx.user.role != "cadre":
            return [Outgoing(texts.t("progress.cadre_only"))]
        if not _in_my_units(fx, request):
            return [Outgoing(texts.t("progress.not_yours", code=request.code))]
    elif not is_requester and not (fx.user.role == "cadre" and _in_my_units(fx, request)):
        return [Outgoing(texts.t("progress.not_found", code=code))]
    if command == "detail":
        return [Outgoing(f"{_line(fx, request)}\n{request.need}")]
    allowed, target = next((a, t) for c, a, t in MOVES if c == command)
    if request.status not in allowed:
        status = texts.t(f"status.{request.status}")
        return [Outgoing(texts.t("progress.closed", code=request.code, status=status))]
    if command == "resolve" and not note:
        return [Outgoing(texts.t("progress.need_note"))]
    repo.set_status(
        fx.session, request=request, status=target, actor=fx.user, note=note, now=fx.now
    )
    if command == "withdraw":
        return [Outgoing(texts.t("progress.cancelled", code=request.code))]
    _tell_requester(fx, request, command, note)
    done_key = "progress.taken" if command == "take" else "progress.resolved"
    return [Outgoing(texts.t(done_key, code=request.code))]


def _in_my_units(fx: Effects, request: HelpRequest) -> bool:
    unit = repo.get_unit(fx.session, unit_id=fx.user.unit_id or 0)
    return unit is not None and request.unit_id in repo.units_below(fx.session, unit=unit)


def _tell_requester(fx: Effects, request: HelpRequest, command: str, note: str | None) -> None:
    if request.requester_id is None:
        return
    unit = repo.get_unit(fx.session, unit_id=fx.user.unit_id or 0)
    if command == "take":
        text = texts.t(
            "progress.tell_taken",
            code=request.code,
            unit=unit_label(unit) if unit else "",
            name=fx.user.name or texts.t("who.staff"),
        )
    else:
        text = texts.t("progress.tell_resolved", code=request.code, note=note or "")
    repo.enqueue(
        fx.session,
        user_id=request.requester_id,
        text=text,
        now=fx.now,
        key=f"request:{request.code}:{command}",
    )
