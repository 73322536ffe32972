"""The side effects the flows and commands share: open a request, notify, hand over, erase.

Everything here runs inside the message's one transaction and talks to the database only
through `storage.repo`. Pushes to other people (the unit's cadres, a requester) become outbox
rows, delivered by their channel (pulled by the API and the terminal now; sent by the
scheduler's dispatcher later).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import texts
from bot.domain import deadlines, handoff, routing
from bot.domain.errors import DomainError
from bot.domain.org import place_text as place_text
from bot.domain.org import unit_label as unit_label
from bot.messages import Outgoing
from bot.nlp import NLP
from storage import repo
from storage.models import HelpRequest, OrgUnit, User


@dataclass
class Effects:
    """The context of one message's side effects."""

    session: Session
    user: User
    now: datetime
    ref: date
    nlp: NLP
    tz: ZoneInfo
    limits: deadlines.Limits = deadlines.DEFAULT_LIMITS  # 限时办结 (FUQING_RESOLVE_DAYS)


def notify_cadres(fx: Effects, *, cadres: list[User], text: str, urgent: bool, key: str) -> int:
    """Queue one push per cadre (not to the one acting); return how many were queued."""
    return routing.tell(
        fx.session,
        user_ids=[c.id or 0 for c in cadres],
        text=text,
        key=key,
        now=fx.now,
        skip=fx.user.id,
        urgent=urgent,
    )


def open_request(
    fx: Effects,
    *,
    need: str,
    categories: list[str],
    crisis: bool,
    district: str | None,
    street: str | None,
    community: str | None,
    contact: str,
    phone: str | None,
    requester: User | None,
    source: str,
    attention: bool = False,
) -> tuple[HelpRequest, OrgUnit]:
    """File a request at its place's unit; tell the nearest cadres up the tree — the city's
    duty staff when nobody is bound on her path (`attention`: 需关注, after a safety check she
    answered 安全: the cadres' notice is marked)."""
    place_unit = repo.unit_for_place(
        fx.session, district=district, street=street, community=community
    )
    unit, cadres = routing.responsible_unit(fx.session, unit=place_unit)
    categories = categories or ["other"]
    due = deadlines.for_new(fx.now, urgent=crisis, primary=categories[0], limits=fx.limits)
    request = repo.create_help_request(
        fx.session,
        unit_id=place_unit.id or 0,
        need=need,
        primary=categories[0],
        categories=categories,
        crisis=crisis,
        district=district,
        street=street,
        community=community,
        contact=contact,
        phone=phone,
        requester_id=requester.id if requester else None,
        created_by=fx.user.id,
        source=source,
        now=fx.now,
        attention=attention,
        accept_due=due.accept,
        resolve_due=due.resolve,
    )
    contact_text = (
        texts.t("contact.phone", phone=phone)
        if contact == "phone" and phone
        else texts.t("contact.chat")
    )
    note = texts.t(
        "help.notify_urgent" if crisis else "help.notify",
        code=request.code,
        categories=texts.category_labels(categories),
        place=place_text(district, street, community),
        need=need,
        contact=contact_text,
    )
    if attention:
        note = texts.t("attention.mark") + note
    if cadres:
        notify_cadres(
            fx, cadres=cadres, text=note, urgent=crisis, key=f"request:{request.code}:new"
        )
    else:  # nobody bound anywhere on her path: the city's duty staff own it
        routing.tell(
            fx.session,
            user_ids=routing.responders(fx.session, unit=unit),
            text=texts.t("help.notify_duty") + note,
            key=f"request:{request.code}:new",
            now=fx.now,
            urgent=crisis,
        )
    return request, unit


def hand_over(
    fx: Effects,
    *,
    slots: dict[str, object],
    channel: str,
    office: handoff.OfficeHours,
    said: list[str] | None = None,
) -> list[Outgoing]:
    """转人工: her thread with the unit answering for her (its cadres get `said`, her last
    messages, as the transcript)."""
    filled = "；".join(f"{k}={v}" for k, v in slots.items() if v not in (None, "", [], {}))
    opened = handoff.open_thread(
        fx.session,
        user=fx.user,
        place=_home_unit(fx, slots),
        channel=channel,
        slots=filled,
        said=said or [],
        now=fx.now,
        office=office,
    )
    return [Outgoing(opened.reply)]


def forward_to_human(
    fx: Effects, *, slots: dict[str, object], text: str, channel: str, office: handoff.OfficeHours
) -> None:
    """While handed over, her message goes into her thread (one is opened if she has none)."""
    if handoff.her_message(fx.session, user=fx.user, text=text, now=fx.now) is None:
        hand_over(fx, slots=slots, channel=channel, office=office)
        handoff.her_message(fx.session, user=fx.user, text=text, now=fx.now)


def end_hand_over(fx: Effects) -> None:
    """She went back to the bot: her thread closes."""
    handoff.end_hers(fx.session, user=fx.user, now=fx.now)


def handoff_help(fx: Effects) -> list[Outgoing]:
    """帮助 while handed over: who she is talking to, the hotlines, how to go back."""
    thread = repo.open_thread_of(fx.session, user_id=fx.user.id or 0)
    unit = repo.get_unit(fx.session, unit_id=thread.unit_id) if thread is not None else None
    return [
        Outgoing(
            texts.t(
                "handoff.help",
                unit=unit_label(unit) if unit is not None else texts.t("who.staff"),
                code=thread.code if thread is not None else "",
            )
        )
    ]


def answer_thread(fx: Effects, *, move: str, code: str | None, note: str | None) -> list[Outgoing]:
    """A cadre in chat: `回复 <编号> <文字>` / `结束会话 <编号>` on a hand-off thread."""
    if code is None:
        return [Outgoing(texts.t("handoff.need_code"))]
    person = handoff.Person.chat(fx.user)
    try:
        if move == "reply":
            thread = handoff.reply(
                fx.session, code=code, person=person, text=note or "", now=fx.now
            )
            return [Outgoing(texts.t("handoff.replied", code=thread.code))]
        thread = handoff.end(fx.session, code=code, person=person, now=fx.now)
        return [Outgoing(texts.t("handoff.ended_ack", code=thread.code))]
    except DomainError as error:
        return [Outgoing(texts.t(error.key, **error.fields))]


def erase_resident(fx: Effects) -> list[Outgoing]:
    """删除我的信息: remove her personal data from every table, keep anonymous counts."""
    if fx.user.role == "cadre":
        return [Outgoing(texts.t("delete.cadre"))]
    repo.erase_resident(
        fx.session,
        user=fx.user,
        placeholder=texts.t("delete.placeholder"),
        note=texts.t("delete.event"),
        now=fx.now,
    )
    return [Outgoing(texts.t("delete.done"))]


def _home_unit(fx: Effects, slots: dict[str, object]) -> OrgUnit:
    if fx.user.role == "cadre" and fx.user.unit_id:
        unit = repo.get_unit(fx.session, unit_id=fx.user.unit_id)
        if unit is not None:
            return unit

    place: dict[str, object] = dict(slots)
    street = slots.get("street")
    if isinstance(street, dict):  # the help flow's street slot: {"street": …, "community": …}
        place.update(street)

    def slot(name: str) -> str | None:
        value = place.get(name)
        return str(value) if value else None

    return repo.unit_for_place(
        fx.session, district=slot("district"), street=slot("street"), community=slot("community")
    )
