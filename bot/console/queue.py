"""The request queue behind the console's pages: list, detail, assign, change status.

Every function takes the staff member and reads or acts only on requests filed with one of her
units (`Staff.unit_ids`, part of each query): a request of another district is "not found".
Assigning and status changes tell the requester through her channel the way the chat's 受理
and 办结 do (`bot.flows.progress.tell_requester`), and each adds an event noting the staff
member ("（控制台：<username>）"). These run in a worker thread (the database calls block).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import texts
from bot.actions import place_text, unit_label
from bot.console.auth import Staff, local_time
from bot.flows import progress
from bot.nlp import mask_pii
from storage import repo
from storage.db import Database
from storage.models import OPEN_STATUSES, HelpRequest, OrgUnit, User

PAGE_SIZE = 20
# Target status → the statuses a request may be moved from in the console.
CONSOLE_MOVES: dict[str, tuple[str, ...]] = {
    "assigned": ("new",),
    "in_progress": ("new", "assigned"),
    "resolved": OPEN_STATUSES,
    "cancelled": OPEN_STATUSES,
}
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


@dataclass(frozen=True)
class Row:
    """One line of the queue."""

    code: str
    status: str
    categories: str
    crisis: bool
    place: str
    need: str
    assignee: str
    created: str


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


@dataclass(frozen=True)
class Outcome:
    """What an action did: the message to flash, and whether it was refused."""

    ok: bool
    message: str


def queue_page(db: Database, staff: Staff, filters: Filters, tz: ZoneInfo) -> Page:
    """The queue page: her units' requests matching the filters, newest first."""
    with db.read() as session:
        rows, total = repo.queue_requests(
            session,
            unit_ids=staff.unit_ids,
            status=filters.status,
            category=filters.category,
            district=filters.district,
            urgent=filters.urgent,
            code=filters.q,
            limit=PAGE_SIZE,
            offset=(filters.page - 1) * PAGE_SIZE,
        )
        districts = [u.name for u in repo.district_units(session)] if staff.is_city else []
        return Page(
            rows=[
                Row(
                    code=r.code,
                    status=r.status,
                    categories=texts.category_labels(r.categories),
                    crisis=r.crisis,
                    place=place_text(r.district, r.street, r.community),
                    need=mask_pii(r.need),
                    assignee=(cadre.name or "") if cadre else "",
                    created=local_time(r.created_at, tz),
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


def _assignable(session: Session, staff: Staff, unit: OrgUnit) -> list[tuple[User, OrgUnit]]:
    """The cadres of the request's unit and below, and of its parents within her scope."""
    ids = set(repo.units_below(session, unit=unit))
    ids |= {u.id for u in repo.ancestors(session, unit=unit) if u.id in staff.unit_ids}
    return repo.queue_cadres(session, unit_ids=sorted(i for i in ids if i is not None))


def request_detail(db: Database, staff: Staff, code: str, tz: ZoneInfo) -> Detail | None:
    """One of her units' requests with its history and the cadres it may go to; else None."""
    with db.read() as session:
        request = repo.request_in_units(session, code=code, unit_ids=staff.unit_ids)
        if request is None:
            return None
        unit = repo.get_unit(session, unit_id=request.unit_id)
        assert unit is not None
        assignee = repo.get_user(session, user_id=request.assigned_to or 0)
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
            for user, where in _assignable(session, staff, unit)
        ]
        return Detail(
            code=request.code,
            status=request.status,
            categories=texts.category_labels(request.categories),
            crisis=request.crisis,
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
            moves=[s for s, sources in CONSOLE_MOVES.items() if request.status in sources],
        )


def _by(staff: Staff, note: str | None) -> str:
    return (note or "") + texts.t("console.by", username=staff.username)


def _refused(request: HelpRequest, target: str) -> Outcome:
    return Outcome(
        False,
        texts.t(
            "console.bad_move",
            code=request.code,
            status=texts.t(f"status.{request.status}"),
            to=texts.t(f"status.{target}"),
        ),
    )


def assign(
    db: Database, staff: Staff, code: str, cadre_id: int, note: str | None, now: datetime
) -> Outcome | None:
    """Assign one of her units' requests to a cadre of its unit and tell the requester."""
    with db.transaction() as session:
        request = repo.request_in_units(session, code=code, unit_ids=staff.unit_ids)
        if request is None:
            return None
        if request.status not in OPEN_STATUSES:
            return _refused(request, "assigned")
        unit = repo.get_unit(session, unit_id=request.unit_id)
        assert unit is not None
        found = [(u, w) for u, w in _assignable(session, staff, unit) if u.id == cadre_id]
        if not found:
            return Outcome(False, texts.t("console.bad_cadre"))
        cadre, where = found[0]
        name = cadre.name or texts.t("who.staff")
        first = request.assigned_to is None
        what = texts.t("console.assign_note", name=name)
        repo.assign_request(
            session,
            request=request,
            cadre=cadre,
            note=_by(staff, f"{what}：{mask_pii(note)}" if note else what),
            now=now,
        )
        told = progress.tell_requester(
            session,
            request=request,
            command="take",
            note=None,
            unit=where,
            name=cadre.name,
            now=now,
            key=None if first else f"request:{request.code}:take:{cadre.id}:{now.isoformat()}",
        )
        message = texts.t("console.assigned", code=request.code, name=name)
        return Outcome(True, message + (texts.t("console.told") if told else ""))


def change_status(
    db: Database, staff: Staff, code: str, target: str, note: str | None, now: datetime
) -> Outcome | None:
    """Move one of her units' requests to `target` with a note (a resolve needs one) and tell
    the requester (a resolve also asks her to rate it, as in chat)."""
    with db.transaction() as session:
        request = repo.request_in_units(session, code=code, unit_ids=staff.unit_ids)
        if request is None:
            return None
        if target not in CONSOLE_MOVES or request.status not in CONSOLE_MOVES[target]:
            return _refused(request, target if target in CONSOLE_MOVES else request.status)
        if target == "resolved" and not note:
            return Outcome(False, texts.t("console.need_note"))
        stored = mask_pii(note) if note else note  # the push tells her the note as typed
        repo.set_status(
            session, request=request, status=target, actor=None, note=_by(staff, stored), now=now
        )
        if target == "resolved":
            request.resolution = stored
            session.add(request)
        told = _tell(session, staff, request, target, note, now)
        message = texts.t("console.moved", code=request.code, status=texts.t(f"status.{target}"))
        return Outcome(True, message + (texts.t("console.told") if told else ""))


def _tell(
    session: Session,
    staff: Staff,
    request: HelpRequest,
    target: str,
    note: str | None,
    now: datetime,
) -> bool:
    if target == "resolved":
        told = progress.tell_requester(
            session, request=request, command="resolve", note=note, unit=None, name=None, now=now
        )
        progress.remember_rating(session, request=request, now=now)
        return told
    if target == "assigned":
        assignee = repo.get_user(session, user_id=request.assigned_to or 0)
        unit_id = assignee.unit_id if assignee and assignee.unit_id else staff.unit_id
        return progress.tell_requester(
            session,
            request=request,
            command="take",
            note=None,
            unit=repo.get_unit(session, unit_id=unit_id),
            name=assignee.name if assignee else None,
            now=now,
        )
    if request.requester_id is None:
        return False
    key = "console.tell_in_progress" if target == "in_progress" else "console.tell_cancelled"
    text = texts.t(
        key,
        code=request.code,
        note=texts.t("console.tell_note", note=note) if note else "",
    )
    row = repo.enqueue(
        session,
        user_id=request.requester_id,
        text=text,
        now=now,
        key=f"request:{request.code}:{target}",
    )
    return row is not None
