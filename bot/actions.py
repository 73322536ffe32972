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
from bot.domain import routing
from bot.domain.org import place_text as place_text
from bot.domain.org import unit_label as unit_label
from bot.messages import Outgoing
from bot.nlp import NLP, mask_pii
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


def notify_cadres(fx: Effects, *, cadres: list[User], text: str, urgent: bool, key: str) -> int:
    """Queue one push per cadre; return how many were queued."""
    queued = 0
    for cadre in cadres:
        if cadre.id == fx.user.id:
            continue
        row = repo.enqueue(
            fx.session,
            user_id=cadre.id or 0,
            text=text,
            now=fx.now,
            key=f"{key}:{cadre.id}",
            urgent=urgent,
        )
        queued += row is not None
    return queued


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
    """File a request at its place's unit; tell the nearest cadres up the tree (`attention`:
    需关注, after a safety check she answered 安全: the cadres' notice is marked)."""
    place_unit = repo.unit_for_place(
        fx.session, district=district, street=street, community=community
    )
    unit, cadres = routing.responsible_unit(fx.session, unit=place_unit)
    categories = categories or ["other"]
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
    notify_cadres(fx, cadres=cadres, text=note, urgent=crisis, key=f"request:{request.code}:new")
    return request, unit


def hand_over(fx: Effects, *, slots: dict[str, object], channel: str) -> list[Outgoing]:
    """转人工: tell the responsible cadres, with the recent transcript and the slots so far."""
    unit = _home_unit(fx, slots)
    _responsible, cadres = routing.responsible_unit(fx.session, unit=unit)
    transcript = "\n".join(
        f"· {m.text}" for m in repo.recent_inbound(fx.session, user_id=fx.user.id or 0)
    )
    filled = "；".join(f"{k}={v}" for k, v in slots.items() if v not in (None, "", [], {}))
    text = texts.t(
        "human.notify",
        who=_who(fx.user),
        channel=channel,
        transcript=transcript,
        slots=mask_pii(filled),
    )
    notify_cadres(
        fx, cadres=cadres, text=text, urgent=False, key=f"human:{fx.user.id}:{fx.now.isoformat()}"
    )
    return [Outgoing(texts.t("human.started"))]


def forward_to_human(fx: Effects, *, slots: dict[str, object], text: str) -> None:
    """While handed over, pass each message on to the responsible cadres."""
    unit = _home_unit(fx, slots)
    _responsible, cadres = routing.responsible_unit(fx.session, unit=unit)
    notify_cadres(
        fx,
        cadres=cadres,
        text=texts.t("human.notify_message", who=_who(fx.user), text=mask_pii(text)),
        urgent=False,
        key=f"human-msg:{fx.user.id}:{fx.now.isoformat()}",
    )


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
    district = slots.get("district")
    return repo.unit_for_place(fx.session, district=str(district) if district else None)


def _who(user: User) -> str:
    return user.name or texts.t("who.resident", id=user.id)
