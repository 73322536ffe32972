"""What the engine does when a flow completes or a command acts: file, notify, bind, erase.

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
from bot.flows.base import FlowRun
from bot.messages import Outgoing
from bot.nlp import NLP, mask_pii
from storage import repo
from storage.models import HelpRequest, OrgUnit, User
from storage.orgtree import UnitPath


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
) -> tuple[HelpRequest, OrgUnit]:
    """File a request at its place's unit; tell the nearest cadres up the tree."""
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
    notify_cadres(fx, cadres=cadres, text=note, urgent=crisis, key=f"request:{request.code}:new")
    return request, unit


def file_help_request(fx: Effects, run: FlowRun) -> list[Outgoing]:
    """The help flow was confirmed: record consent, file the request, tell her the code."""
    slots = run.slots
    need = str(slots["need"])
    place = slots.get("street") or {}
    crisis = bool(run.meta.get("crisis")) or fx.nlp.analyze(need, fx.ref).crisis
    repo.set_consent(fx.session, user=fx.user, now=fx.now)
    phone = slots.get("phone") if slots.get("contact") == "phone" else None
    if phone:
        fx.user.phone = str(phone)
    request, unit = open_request(
        fx,
        need=need,
        categories=list(slots.get("categories") or []),
        crisis=crisis,
        district=slots.get("district"),
        street=place.get("street"),
        community=place.get("community"),
        contact=str(slots.get("contact") or "chat"),
        phone=phone,
        requester=fx.user,
        source="chat",
    )
    key = "help.filed_urgent" if crisis else "help.filed"
    return [Outgoing(texts.t(key, code=request.code, unit=unit_label(unit)), urgent=crisis)]


def file_visit(fx: Effects, run: FlowRun) -> list[Outgoing]:
    """The visit flow was confirmed: file the visit (tagged), and a request if asked."""
    slots = run.slots
    place = slots["place"]
    analysis = fx.nlp.analyze(str(slots["notes"]), fx.ref)
    notes = mask_pii(str(slots["notes"]))  # stored with phone and ID numbers masked
    whom = slots["whom"]
    request_code = None
    replies = []
    request_id = None
    if slots.get("open_help"):
        request, unit = open_request(
            fx,
            need=notes,
            categories=list(analysis.categories),
            crisis=analysis.crisis,
            district=place.get("district"),
            street=place.get("street"),
            community=place.get("community"),
            contact="visit",
            phone=None,
            requester=None,
            source="visit",
        )
        request_code, request_id = request.code, request.id
        replies.append(texts.t("visit.filed_help", code=request_code, unit=unit_label(unit)))
    repo.create_visit(
        fx.session,
        cadre_id=fx.user.id or 0,
        unit_id=fx.user.unit_id or 0,
        on=date.fromisoformat(str(slots["date"])),
        district=place.get("district"),
        street=place.get("street"),
        community=place.get("community"),
        visit_form=slots.get("form") or None,
        whom=str(whom["name"]),
        people=int(whom["people"]),
        focus=list(slots.get("focus") or []),
        notes=notes,
        primary=analysis.primary,
        categories=list(analysis.categories),
        help_request_id=request_id,
        now=fx.now,
    )
    filed = texts.t(
        "visit.filed",
        date=slots["date"],
        place=place_text(place.get("district"), place.get("street"), place.get("community")),
        form=slots.get("form") or texts.t("visit.other_form"),
    )
    return [Outgoing("\n".join([filed, *replies]))]


def bind_cadre(fx: Effects, run: FlowRun) -> list[Outgoing]:
    """The onboarding flow was confirmed: redeem the invite (if still unused) and bind her."""
    code = str(run.slots["code"]["code"])
    invite = repo.find_invite(fx.session, code=code)
    if invite is None or invite.used_at is not None:
        return [Outgoing(texts.t("bind.code_used"))]
    unit = repo.redeem_invite(fx.session, invite=invite, user=fx.user, now=fx.now)
    return [Outgoing(texts.t("bind.done", unit=unit_label(unit), name=invite.name))]


def submit_quarterly(fx: Effects, run: FlowRun) -> list[Outgoing]:
    """The quarterly flow was confirmed (提交): store the figures she saw and her remark.

    Submitting stops the quarter's reminders (the scheduler skips submitted reports); a returned
    report is submitted again the same way.
    """
    entry = run.slots["quarter"]
    quarter = str(entry["quarter"])
    unit = repo.get_unit(fx.session, unit_id=fx.user.unit_id or 0)
    if fx.user.role != "cadre" or unit is None or not UnitPath.parse(unit.path).is_district:
        return [Outgoing(texts.t("quarterly.district_only"))]
    report = repo.report_for(fx.session, unit_id=unit.id or 0, quarter=quarter, now=fx.now)
    name = UnitPath.parse(unit.path).name
    if report.status in ("submitted", "accepted"):
        status = texts.t(f"quarterly.status.{report.status}")
        return [Outgoing(texts.t("quarterly.already", unit=name, quarter=quarter, status=status))]
    remark = run.slots.get("remark")
    repo.submit_report(
        fx.session,
        report=report,
        figures=dict(entry["figures"]),
        remark=mask_pii(str(remark)) if remark else None,
        by=fx.user.id,
        now=fx.now,
    )
    return [Outgoing(texts.t("quarterly.submitted", unit=name, quarter=quarter))]


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
