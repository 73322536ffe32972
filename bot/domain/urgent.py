"""Urgent cases: a crisis message opens one at once, inside that message's transaction.

No form and no consent step come first (个人信息保护法 Art. 13(1)(4): necessary to protect a
person's life; docs/TAXONOMY.md "Crisis"). The case is a help request (`crisis` set, status
`new`, the lifecycle of `bot.domain.requests`) holding her words, the channel and address she
wrote from, any place or phone the message names, and the kind of danger. It is pushed at once —
urgent, so quiet hours do not hold it — to the cadres of the responsible unit (the routing rule)
and to the chat users linked to the staff accounts on duty; every duty account also sees it in
the console (pinned and counted while waiting: `bot.domain.urgency`). `Opened.reached` says
whom it reached, so that what she is told is true. Her phone and anything she adds go to the
same case and on to the same people. The chases of unaccepted cases (in `urgency.WAITING`) are
scheduler/rules.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session

from bot import texts
from bot.domain import deadlines, routing
from bot.domain.org import place_text, unit_label
from bot.nlp import Analysis, mask_pii
from bot.nlp.words import table
from storage import repo
from storage.models import OPEN_STATUSES, HelpRequest, OrgUnit


class DangerKind(StrEnum):
    """Who is in danger, and how (stored in `help_requests.danger_kind`)."""

    VIOLENCE = "violence"  # violence to her (the default)
    CHILD = "child"  # a child hurt
    OTHER = "other"  # another person hurt
    SELF_HARM = "self_harm"  # suicide or self-harm
    HELD = "held"  # locked in, held, followed, sold or trafficked


class Reached(StrEnum):
    """Whom an urgent case reached."""

    BOTH = "both"  # the unit's cadres and the city's duty staff
    UNIT = "unit"  # the unit's cadres only
    DUTY = "duty"  # the city's duty staff only
    NONE = "none"  # nobody: the federation follows up (never "已通知")


# words.toml [urgent.kinds], checked in this order after self-harm
_KIND_ORDER = (DangerKind.HELD, DangerKind.CHILD, DangerKind.OTHER)


def danger_kind(analysis: Analysis) -> DangerKind:
    """The kind of danger a crisis message tells: self-harm from the analysis, else held, a
    child or another person by the words of [urgent.kinds], else violence to her."""
    if analysis.self_harm:
        return DangerKind.SELF_HARM
    words = table("urgent.kinds")
    text = analysis.text
    for kind in _KIND_ORDER:
        if any(word in text for word in words[kind.value]):
            return kind
    return DangerKind.VIOLENCE


@dataclass(frozen=True)
class Opened:
    """An urgent case just opened: the request, the responsible unit and whom it reached."""

    request: HelpRequest
    unit: OrgUnit
    cadres_told: int  # pushes queued to the responsible unit's cadres
    duty_accounts: int  # staff accounts on duty (each sees it in the console)

    @property
    def reached(self) -> Reached:
        """Whom the case reached (what she may be told)."""
        if self.cadres_told and self.duty_accounts:
            return Reached.BOTH
        if self.cadres_told:
            return Reached.UNIT
        return Reached.DUTY if self.duty_accounts else Reached.NONE

    @property
    def unit_label(self) -> str:
        """The responsible unit's name as she reads it (e.g. 朝阳区双井街道妇联)."""
        return unit_label(self.unit)


def open_case(
    session: Session,
    *,
    user_id: int,
    analysis: Analysis,
    channel: str,
    address: str,
    now: datetime,
    limits: deadlines.Limits = deadlines.DEFAULT_LIMITS,
) -> Opened:
    """Open the urgent case of this crisis message and push it to the unit's cadres and the
    duty staff at once (urgent pushes: quiet hours do not hold them)."""
    place_unit = repo.unit_for_place(
        session, district=analysis.district, street=analysis.street, community=analysis.community
    )
    unit, cadres = routing.responsible_unit(session, unit=place_unit)
    phone = analysis.phones[0] if analysis.phones else None
    categories = list(analysis.categories) or ["other"]
    primary = analysis.primary or categories[0]
    due = deadlines.for_new(now, urgent=True, primary=primary, limits=limits)
    request = repo.create_help_request(
        session,
        unit_id=place_unit.id or 0,
        need=analysis.text,
        primary=primary,
        categories=categories,
        crisis=True,
        district=analysis.district,
        street=analysis.street,
        community=analysis.community,
        contact="phone" if phone else "chat",
        phone=phone,
        requester_id=user_id,
        created_by=user_id,
        source="chat",
        now=now,
        danger_kind=danger_kind(analysis).value,
        channel=channel,
        address=address,
        accept_due=due.accept,
        resolve_due=due.resolve,
    )
    text = _notice(request)
    told = 0
    for cadre in cadres:
        if cadre.id != user_id:
            told += _push(session, cadre.id or 0, text, key=f"request:{request.code}:new", now=now)
    duty = repo.duty_staff(session)
    for staff in duty:
        if staff.user_id is not None and staff.user_id != user_id:
            _push(session, staff.user_id, text, key=f"request:{request.code}:duty", now=now)
    return Opened(request=request, unit=unit, cadres_told=told, duty_accounts=len(duty))


def open_case_of(session: Session, *, code: str, user_id: int) -> HelpRequest | None:
    """Her urgent case `code` while it is open (None once closed, erased or not hers)."""
    request = repo.request_by_code(session, code=code)
    if request is None or request.requester_id != user_id or not request.crisis:
        return None
    return request if request.status in OPEN_STATUSES else None


def add_phone(session: Session, *, request: HelpRequest, phone: str, now: datetime) -> None:
    """She left a phone: it goes on the case (encrypted, as every phone) and to its people."""
    repo.update_request(
        session,
        request=request,
        kind="phone",
        note=texts.t("urgent.event.phone"),
        actor_id=request.requester_id,
        now=now,
        phone=phone,
    )
    text = texts.t("urgent.notify_phone", code=request.code, phone=phone)
    _tell(session, request, text, key=f"request:{request.code}:phone:{now.isoformat()}", now=now)


def add_words(session: Session, *, request: HelpRequest, text: str, now: datetime) -> None:
    """She wrote more: her words are added to the case and passed on to its people."""
    repo.update_request(
        session,
        request=request,
        kind="added",
        note=texts.t("urgent.event.added"),
        actor_id=request.requester_id,
        now=now,
        need=f"{request.need}\n{text}",
    )
    note = texts.t("urgent.notify_more", code=request.code, text=mask_pii(text))
    _tell(session, request, note, key=f"request:{request.code}:more:{now.isoformat()}", now=now)


def recipients(session: Session, *, request: HelpRequest) -> list[int]:
    """The chat users an urgent case goes to: the responsible unit's cadres, then the users
    linked to the duty accounts (no one twice, never the requester)."""
    unit = repo.get_unit(session, unit_id=request.unit_id)
    cadres = routing.responsible_unit(session, unit=unit)[1] if unit is not None else []
    ids = [c.id or 0 for c in cadres]
    ids += [s.user_id for s in repo.duty_staff(session) if s.user_id is not None]
    return [uid for uid in dict.fromkeys(ids) if uid != request.requester_id]


def kind_label(kind: str | None) -> str:
    """The danger kind as the cadres read it."""
    return texts.t(f"urgent.kind.{kind or DangerKind.VIOLENCE.value}")


def _notice(request: HelpRequest) -> str:
    contact = (
        texts.t("contact.phone", phone=request.phone)
        if request.phone
        else texts.t("urgent.contact.address", channel=request.channel or "")
    )
    return texts.t(
        "urgent.notify",
        code=request.code,
        kind=kind_label(request.danger_kind),
        place=place_text(request.district, request.street, request.community),
        need=request.need,
        contact=contact,
    )


def _tell(session: Session, request: HelpRequest, text: str, *, key: str, now: datetime) -> None:
    for user_id in recipients(session, request=request):
        _push(session, user_id, text, key=key, now=now)


def _push(session: Session, user_id: int, text: str, *, key: str, now: datetime) -> int:
    """Queue one urgent push; 1 when queued (0: she has no channel, or it was queued before)."""
    row = repo.enqueue(
        session, user_id=user_id, text=text, now=now, key=f"{key}:{user_id}", urgent=True
    )
    return int(row is not None)


# ----------------------------------------------------------------------------- chases


@dataclass(frozen=True)
class ChaseTimes:
    """When an unaccepted urgent case is chased (FUQING_URGENT_*_MINUTES)."""

    first: timedelta = timedelta(minutes=10)  # to the responsible unit's cadres
    escalate: timedelta = timedelta(minutes=30)  # also to the district and the duty staff
    every: timedelta = timedelta(minutes=30)  # again, until someone accepts

    @classmethod
    def of_minutes(cls, first: int, escalate: int, every: int) -> ChaseTimes:
        """The times from the settings' minutes."""
        return cls(timedelta(minutes=first), timedelta(minutes=escalate), timedelta(minutes=every))


def chase_stage(age: timedelta, times: ChaseTimes) -> tuple[int, bool] | None:
    """The chase due for a case unaccepted for `age`: (its moment in minutes, whether it goes
    beyond the unit), the latest one reached; None before the first. A scheduler down for a
    while sends the current stage once, not every stage it missed."""
    if age < times.first:
        return None
    if age < times.escalate:
        return int(times.first.total_seconds() // 60), False
    repeats = (age - times.escalate) // times.every
    return int((times.escalate + repeats * times.every).total_seconds() // 60), True
