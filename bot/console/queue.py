"""The request queue behind the console's pages: list, detail, assign, change status.

Every function takes the staff member and reads or acts only on requests filed with one of her
units (`Staff.unit_ids`, part of each query): a request of another district is "not found".
Assigning and status changes are the lifecycle's moves (bot/domain/requests.py) made as the
staff member: the requester is told as in chat, and each event notes the staff member
("（控制台：<username>）"). These run in a worker thread (the database calls block).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import texts
from bot.console.auth import Staff, local_time
from bot.domain import deadlines, requests, urgency
from bot.domain.errors import Conflict, Invalid, NotFound
from bot.domain.org import place_text, unit_label
from bot.nlp import mask_pii
from storage import repo
from storage.db import Database
from storage.models import OPEN_STATUSES, HelpRequest, User

PAGE_SIZE = 20
MAX_NOTE = 500
# The console's mark at the end of a note (`console.by`), read back to show who acted.
_BY = re.compile(
    re.escape(texts.TEXTS["console.by"]).replace(re.escape("{username}"), "(.+?)") + "$"
)


@dataclass(frozen=True)
class Filters:
    """The queue's filters (already validated) and page."""

    status: str | None = None
    category: str | None = None
    district: str | None = None
    urgent: bool = False
    q: str | None = None
    page: int = 1
    overdue: bool = False  # 超期督办: only the open ones past a deadline


@dataclass(frozen=True)
class Row:
    """One line of the queue."""

    code: str
    status: str
    categories: str
    crisis: bool
    waiting: bool  # urgent and nobody has accepted it yet: pinned at the top, marked
    attention: bool  # 需关注: filed after she answered 安全 to a safety check
    place: str
    need: str
    assignee: str
    created: str
    due: str = ""  # 限时办结: the day it is due to be resolved (open requests)
    overdue: bool = False  # past a deadline (to accept or to resolve) now
    supervised: int = 0  # 督办: 1 reported to the district, 2 to the city


@dataclass(frozen=True)
class Page:
    """A page of the queue and where it is."""

    rows: list[Row]
    total: int
    page: int
    districts: list[str]  # the district filter's choices (city staff only)


@dataclass(frozen=True)
class Event:
    """One step of a request's history, as shown."""

    at: str
    kind: str
    actor: str
    note: str


@dataclass(frozen=True)
class Detail:
    """One request as its page shows it (phones masked)."""

    code: str
    status: str
    categories: str
    crisis: bool
    attention: bool  # 需关注: filed after she answered 安全 to a safety check
    place: str
    unit: str
    need: str
    contact: str
    source: str
    assignee: str
    assigned_to: int | None
    created: str
    resolution: str | None
    rating: str | None
    events: list[Event]
    cadres: list[tuple[int, str]]  # (user id, "张干部（朝阳区双井街道妇联）")
    moves: list[str]  # the statuses it may be moved to now
    primary: str = ""
    category_codes: tuple[str, ...] = ()
    relabel: bool = False  # its labels may be corrected (not once her words are erased)
    accept_due: str = ""  # 限时办结: accept by, resolve by (Beijing time), and if past either
    resolve_due: str = ""
    overdue: bool = False
    reopened: int = 0
    supervised: int = 0
    reachable: bool = False  # she can be written to in chat (接管)
    thread: str | None = None  # her hand-off thread not closed yet


@dataclass(frozen=True)
class Outcome:
    """What an action did: the message to flash, and whether it was refused."""

    ok: bool
    message: str


def queue_page(db: Database, staff: Staff, filters: Filters, tz: ZoneInfo, now: datetime) -> Page:
    """The queue page: her units' requests matching the filters (`overdue`: 超期督办, those past
    a deadline `now`), the urgent ones nobody has accepted first (bot/domain/urgency.py), then
    newest first."""
    with db.read() as session:
        rows, total = repo.queue_requests(
            session,
            unit_ids=staff.unit_ids,
            status=filters.status,
            category=filters.category,
            district=filters.district,
            urgent=filters.urgent,
            code=filters.q,
            pinned=urgency.WAITING,
            limit=PAGE_SIZE,
            offset=(filters.page - 1) * PAGE_SIZE,
            overdue_at=now if filters.overdue else None,
        )
        districts = [u.name for u in repo.district_units(session)] if staff.is_city else []
        return Page(
            rows=[
                Row(
                    code=r.code,
                    status=r.status,
                    categories=texts.category_labels(r.categories),
                    crisis=r.crisis,
                    waiting=urgency.is_waiting(r),
                    attention=r.attention,
                    place=place_text(r.district, r.street, r.community),
                    need=mask_pii(r.need),
                    assignee=(cadre.name or "") if cadre else "",
                    created=local_time(r.created_at, tz),
                    due=_due_day(r, tz),
                    overdue=deadlines.missed(r, now) is not None,
                    supervised=r.supervised,
                )
                for r, cadre in rows
            ],
            total=total,
            page=filters.page,
            districts=districts,
        )


def _actor(user: User | None, request: HelpRequest, note: str | None) -> tuple[str, str]:
    """(who acted, the note without the console marker)."""
    text = note or ""
    if user is None:
        found = _BY.search(text)
        if found:
            return texts.t("console.actor.console", username=found.group(1)), text[: found.start()]
        return texts.t("console.actor.system"), text
    if user.id == request.requester_id:
        return texts.t("console.actor.requester"), text
    return user.name or texts.t("who.resident", id=user.id), text


def _due_day(request: HelpRequest, tz: ZoneInfo) -> str:
    """'12月5日': the day an open request is due to be resolved ('' otherwise)."""
    if request.status not in OPEN_STATUSES or request.resolve_due is None:
        return ""
    return deadlines.day_label(repo.as_utc(request.resolve_due), tz)


def request_detail(
    db: Database, staff: Staff, code: str, tz: ZoneInfo, now: datetime
) -> Detail | None:
    """One of her units' requests with its history and the cadres it may go to; else None."""
    with db.read() as session:
        request = repo.request_in_units(session, code=code, unit_ids=staff.unit_ids)
        if request is None:
            return None
        unit = repo.get_unit(session, unit_id=request.unit_id)
        assert unit is not None
        assignee = repo.get_user(session, user_id=request.assigned_to or 0)
        her = repo.get_user(session, user_id=request.requester_id or 0)
        reachable = her is not None and her.deleted_at is None
        thread = repo.open_thread_of(session, user_id=her.id or 0) if reachable and her else None
        events = []
        for event, user in repo.request_events(session, request_id=request.id or 0):
            actor, note = _actor(user, request, event.note)
            kind = f"console.event.{event.kind}"
            events.append(
                Event(
                    at=local_time(event.at, tz),
                    kind=texts.t(kind) if texts.has(kind) else event.kind,
                    actor=actor,
                    note=mask_pii(note),
                )
            )
        if request.contact == "phone" and request.phone:
            contact = texts.t("contact.phone", phone=mask_pii(request.phone))
        elif request.contact == "visit":
            contact = texts.t("console.contact.visit")
        else:
            contact = texts.t("contact.chat")
        cadres = [
            (user.id or 0, f"{user.name or texts.t('who.staff')}（{unit_label(where)}）")
            for user, where in requests.assignable(session, unit=unit, scope=staff.unit_ids)
        ]
        return Detail(
            code=request.code,
            status=request.status,
            categories=texts.category_labels(request.categories),
            crisis=request.crisis,
            attention=request.attention,
            place=place_text(request.district, request.street, request.community),
            unit=unit_label(unit),
            need=mask_pii(request.need),
            contact=contact,
            source=request.source,
            assignee=(assignee.name or "") if assignee else "",
            assigned_to=request.assigned_to,
            created=local_time(request.created_at, tz),
            resolution=mask_pii(request.resolution) if request.resolution else None,
            rating=texts.t(f"rate.{request.rating}") if request.rating else None,
            events=events,
            cadres=cadres,
            moves=requests.targets(request.status, "staff"),
            primary=request.primary,
            category_codes=tuple(request.categories),
            relabel=request.need != texts.t("delete.placeholder"),
            accept_due=local_time(request.accept_due, tz),
            resolve_due=local_time(request.resolve_due, tz),
            overdue=deadlines.missed(request, now) is not None,
            reopened=request.reopened,
            supervised=request.supervised,
            reachable=reachable,
            thread=thread.code if thread is not None else None,
        )


def _actor_of(staff: Staff) -> requests.Actor:
    """The staff member as the lifecycle's actor."""
    return requests.Actor.console(
        username=staff.username, unit_id=staff.unit_id, unit_ids=staff.unit_ids
    )


def _refused(error: Conflict, target: str) -> Outcome:
    state = str(error.fields.get("state", ""))
    return Outcome(
        False,
        texts.t(
            "console.bad_move",
            code=error.fields.get("code", ""),
            status=texts.t(f"status.{state}"),
            to=texts.t(f"status.{target if target in requests.MOVE_INTO else state}"),
        ),
    )


def assign(
    db: Database, staff: Staff, code: str, cadre_id: int, note: str | None, now: datetime
) -> Outcome | None:
    """Assign one of her units' requests to a cadre of its unit and tell the requester."""
    with db.transaction() as session:
        try:
            moved = requests.move(
                session,
                code=code,
                actor=_actor_of(staff),
                move="assign",
                note=note,
                now=now,
                cadre_id=cadre_id,
            )
        except NotFound:
            return None
        except Conflict as error:
            return _refused(error, "assigned")
        except Invalid:
            return Outcome(False, texts.t("console.bad_cadre"))
        assert moved.assignee is not None
        name = moved.assignee.name or texts.t("who.staff")
        message = texts.t("console.assigned", code=moved.request.code, name=name)
        return Outcome(True, message + (texts.t("console.told") if moved.told else ""))


def change_status(
    db: Database, staff: Staff, code: str, target: str, note: str | None, now: datetime
) -> Outcome | None:
    """Move one of her units' requests to `target` with a note (a resolve needs one) and tell
    the requester (a resolve also asks her to rate it, as in chat)."""
    with db.transaction() as session:
        try:
            moved = requests.move_to(
                session,
                code=code,
                actor=_actor_of(staff),
                target=target,  # no move leads there: refused as a Conflict
                note=note,
                now=now,
            )
        except NotFound:
            return None
        except Conflict as error:
            return _refused(error, target)
        except Invalid:
            return Outcome(False, texts.t("console.need_note"))
        message = texts.t(
            "console.moved", code=moved.request.code, status=texts.t(f"status.{target}")
        )
        return Outcome(True, message + (texts.t("console.told") if moved.told else ""))
