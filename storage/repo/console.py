"""Reads and writes behind the console's pages: dashboard counts, the visit diary, the org page
(units, cadres, invites) and the outbox.

Every function takes `unit_ids`: the org units a staff member may see (a district's staff: the
district and every unit below it), or None for the city's staff, who see every unit. The scope
is part of each query, so a row of another district never leaves the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import Session, col, select

from storage.models import (
    OPEN_STATUSES,
    HelpRequest,
    Identity,
    Invite,
    OrgUnit,
    Outbox,
    User,
    Visit,
)
from storage.orgtree import UnitPath
from storage.repo._common import stored

Scope = Sequence[int] | None  # the unit ids a staff member sees; None: every unit
RequestField = Literal["primary", "district", "status"]
RETRYABLE = ("dead", "pending")


def _within(column: Any, unit_ids: Scope) -> ColumnElement[bool] | None:
    """`column IN unit_ids`, or None (no condition) for the whole city."""
    if unit_ids is None:
        return None
    return col(column).in_(list(unit_ids))


def _scoped(query: Any, column: Any, unit_ids: Scope) -> Any:
    condition = _within(column, unit_ids)
    return query if condition is None else query.where(condition)


# ----------------------------------------------------------------------------- dashboard


@dataclass(frozen=True, slots=True)
class RequestHeadline:
    """The dashboard's headline numbers about help requests."""

    total: int
    open: int
    urgent_open: int
    unassigned_stale: int  # new (nobody took it) for longer than the threshold


def count_requests_by(
    session: Session, *, field: RequestField, unit_ids: Scope
) -> dict[str | None, int]:
    """How many help requests there are per main category, district or status."""
    column = {
        "primary": HelpRequest.primary,
        "district": HelpRequest.district,
        "status": HelpRequest.status,
    }[field]
    query = _scoped(select(column, func.count()).group_by(column), HelpRequest.unit_id, unit_ids)
    return {key: int(n) for key, n in session.exec(query).all()}


def request_headline(
    session: Session, *, unit_ids: Scope, now: datetime, stale_after: timedelta
) -> RequestHeadline:
    """Total, open, urgent open, and new requests nobody took within `stale_after`."""

    def count(*conditions: Any) -> int:
        query = select(func.count()).select_from(HelpRequest)
        query = _scoped(query, HelpRequest.unit_id, unit_ids)
        return int(session.exec(query.where(*conditions)).one())

    is_open = col(HelpRequest.status).in_(OPEN_STATUSES)
    return RequestHeadline(
        total=count(),
        open=count(is_open),
        urgent_open=count(is_open, col(HelpRequest.crisis).is_(True)),
        unassigned_stale=count(
            HelpRequest.status == "new", col(HelpRequest.created_at) < stored(now - stale_after)
        ),
    )


def visits_per_day(session: Session, *, unit_ids: Scope, start: date, end: date) -> dict[date, int]:
    """How many visits are dated each day from `start` to `end` (inclusive)."""
    query = _scoped(
        select(col(Visit.date), func.count())
        .where(col(Visit.date) >= start, col(Visit.date) <= end)
        .group_by(col(Visit.date)),
        Visit.unit_id,
        unit_ids,
    )
    return {day: int(n) for day, n in session.exec(query).all()}


# ----------------------------------------------------------------------------- visit diary


@dataclass(frozen=True, slots=True)
class VisitRow:
    """A diary entry with its cadre and the unit it was filed with."""

    visit: Visit
    cadre: User
    unit: OrgUnit


def _unit_and_below(path: str) -> ColumnElement[bool]:
    return or_(col(OrgUnit.path) == path, col(OrgUnit.path).startswith(path + "/", autoescape=True))


def diary(
    session: Session,
    *,
    unit_ids: Scope,
    cadre_id: int | None = None,
    unit_path: str | None = None,
    start: date | None = None,
    end: date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[VisitRow], int]:
    """Visits in scope, newest first, filtered by cadre, unit (full path: it and the units below
    it) and date range; one page of them and how many match in all."""
    query = (
        select(Visit, User, OrgUnit)
        .join(User, col(User.id) == col(Visit.cadre_id))
        .join(OrgUnit, col(OrgUnit.id) == col(Visit.unit_id))
    )
    query = _scoped(query, Visit.unit_id, unit_ids)
    if cadre_id is not None:
        query = query.where(Visit.cadre_id == cadre_id)
    if unit_path:
        query = query.where(_unit_and_below(unit_path))
    if start is not None:
        query = query.where(col(Visit.date) >= start)
    if end is not None:
        query = query.where(col(Visit.date) <= end)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(Visit.date).desc(), col(Visit.id).desc()).offset(offset).limit(limit)
    ).all()
    return [VisitRow(visit=v, cadre=u, unit=o) for v, u, o in rows], int(total)


# ----------------------------------------------------------------------------- org units, cadres


@dataclass(frozen=True, slots=True)
class CadreRow:
    """A cadre, the unit she is bound to, and the channel she last wrote from."""

    user: User
    unit: OrgUnit
    channel: str | None

    @property
    def unit_name(self) -> str:
        """Her unit below the city, '朝阳区/双井街道'."""
        return UnitPath.parse(self.unit.path).below_city


def units_in(session: Session, *, unit_ids: Scope, levels: Sequence[str]) -> list[OrgUnit]:
    """The units in scope at these levels, in tree order (by id: as seeded)."""
    query = _scoped(
        select(OrgUnit).where(col(OrgUnit.level).in_(list(levels))), OrgUnit.id, unit_ids
    )
    return list(session.exec(query.order_by(col(OrgUnit.id))).all())


def cadres_in(session: Session, *, unit_ids: Scope) -> list[CadreRow]:
    """The (not deleted) cadres bound to units in scope, by unit path then name."""
    query = _scoped(
        select(User, OrgUnit)
        .join(OrgUnit, col(OrgUnit.id) == col(User.unit_id))
        .where(User.role == "cadre", col(User.deleted_at).is_(None)),
        User.unit_id,
        unit_ids,
    ).order_by(col(OrgUnit.path), col(User.id))
    # Names are encrypted (storage/crypto.py): sorted here, not in SQL.
    pairs = sorted(
        session.exec(query).all(), key=lambda p: (p[1].path, p[0].name or "", p[0].id or 0)
    )
    channels: dict[int, str] = {}
    ids = [u.id for u, _ in pairs if u.id is not None]
    if ids:
        identities = session.exec(
            select(Identity)
            .where(col(Identity.user_id).in_(ids), col(Identity.active).is_(True))
            .order_by(col(Identity.last_seen_at))
        ).all()
        channels = {i.user_id: i.channel for i in identities}  # the latest one wins
    return [CadreRow(user=u, unit=o, channel=channels.get(u.id or 0)) for u, o in pairs]


@dataclass(frozen=True, slots=True)
class InviteRow:
    """An invite, the unit it binds to, and who used it (if anyone)."""

    invite: Invite
    unit: OrgUnit
    used_by: User | None


def invites_in(session: Session, *, unit_ids: Scope, limit: int = 200) -> list[InviteRow]:
    """Invites of units in scope: unused first, then newest first."""
    query = _scoped(
        select(Invite, OrgUnit).join(OrgUnit, col(OrgUnit.id) == col(Invite.unit_id)),
        Invite.unit_id,
        unit_ids,
    ).order_by(col(Invite.used_at).is_not(None), col(Invite.id).desc())
    pairs = list(session.exec(query.limit(limit)).all())
    user_ids = [i.used_by for i, _ in pairs if i.used_by is not None]
    users = (
        {u.id: u for u in session.exec(select(User).where(col(User.id).in_(user_ids))).all()}
        if user_ids
        else {}
    )
    return [
        InviteRow(invite=i, unit=o, used_by=users.get(i.used_by) if i.used_by else None)
        for i, o in pairs
    ]


# ----------------------------------------------------------------------------- outbox


@dataclass(frozen=True, slots=True)
class PushRow:
    """An outbox row and its recipient."""

    push: Outbox
    user: User


def _outbox_query(unit_ids: Scope) -> Any:
    query = select(Outbox, User).join(User, col(User.id) == col(Outbox.user_id))
    return _scoped(query, User.unit_id, unit_ids)


def pushes(
    session: Session, *, unit_ids: Scope, status: str | None, limit: int = 50, offset: int = 0
) -> tuple[list[PushRow], int]:
    """Outbox rows whose recipient is in scope (a district's staff: cadres bound there), newest
    first, filtered by status; one page and how many match."""
    query = _outbox_query(unit_ids)
    if status:
        query = query.where(Outbox.status == status)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(Outbox.id).desc()).offset(offset).limit(limit)).all()
    return [PushRow(push=o, user=u) for o, u in rows], int(total)


def push_counts(session: Session, *, unit_ids: Scope) -> dict[str, int]:
    """How many outbox rows in scope there are per status."""
    query = (
        select(Outbox.status, func.count())
        .join(User, col(User.id) == col(Outbox.user_id))
        .group_by(Outbox.status)
    )
    return {s: int(n) for s, n in session.exec(_scoped(query, User.unit_id, unit_ids)).all()}


def push_in_scope(session: Session, *, push_id: int, unit_ids: Scope) -> Outbox | None:
    """The outbox row with this id if its recipient is in scope."""
    row = session.exec(_outbox_query(unit_ids).where(Outbox.id == push_id)).first()
    return row[0] if row is not None else None


def requeue_push(session: Session, *, push: Outbox, now: datetime) -> bool:
    """Set a dead or pending push back to pending, due `now` (the attempts are kept); False
    when it is being sent or already sent."""
    if push.status not in RETRYABLE:
        return False
    push.status = "pending"
    push.due_at = stored(now)
    push.claimed_at = None
    session.add(push)
    return True
