"""Batch reads for the reminder rules (scheduler/rules.py): a few queries per tick, light rows.

A tick over hundreds of units, tens of thousands of requests and thousands of pairs must take well
under a second, so nothing here runs a query per request, unit or pair: each function is one
query, and the rules join the rows in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, func, or_, union
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.models import (
    OPEN_STATUSES,
    ContactPoint,
    HelpRequest,
    OrgUnit,
    Outbox,
    StaffAccount,
    User,
    Visit,
)
from storage.repo._common import as_utc, stored

POINT_KINDS = ("district", "street", "community")  # contact points that are places, not pairs


@dataclass(frozen=True, slots=True)
class UnitNode:
    """One org unit without its aliases: enough to walk the tree."""

    id: int
    parent_id: int | None
    name: str
    level: str


@dataclass(frozen=True, slots=True)
class OpenRequest:
    """The columns of an open help request that its reminders need."""

    id: int
    code: str
    unit_id: int
    status: str
    assigned_to: int | None
    crisis: bool
    categories: list[str]
    district: str | None
    street: str | None
    community: str | None
    created_at: datetime  # aware UTC
    danger_kind: str | None = None  # an urgent case's kind (bot.domain.urgent.DangerKind)


@dataclass(frozen=True, slots=True)
class HeldPoint:
    """A contact point or paired household of a holder who is still an active user."""

    id: int
    holder_id: int
    kind: str
    name: str
    unit_id: int | None
    community: str | None
    created_at: datetime  # aware UTC


def unit_nodes(session: Session) -> dict[int, UnitNode]:
    """Every org unit by id (id, parent, name and level only)."""
    rows = session.exec(
        select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.name, OrgUnit.level).order_by(col(OrgUnit.id))
    ).all()
    return {
        uid: UnitNode(id=uid, parent_id=parent, name=name, level=level)
        for uid, parent, name, level in rows
        if uid is not None
    }


def cadre_ids_by_unit(
    session: Session, *, unit_ids: Sequence[int] | None = None
) -> dict[int, list[int]]:
    """The ids of the active cadres bound to each unit (all units, or these), ascending."""
    query = select(User.id, User.unit_id).where(
        User.role == "cadre", col(User.deleted_at).is_(None), col(User.unit_id).is_not(None)
    )
    if unit_ids is not None:
        query = query.where(col(User.unit_id).in_(list(unit_ids)))
    found: dict[int, list[int]] = defaultdict(list)
    for user_id, unit_id in session.exec(query.order_by(col(User.id))).all():
        if user_id is not None and unit_id is not None:
            found[unit_id].append(user_id)
    return dict(found)


def open_requests_created_in(
    session: Session, *, windows: Sequence[tuple[datetime, datetime]]
) -> list[OpenRequest]:
    """The open requests (new, assigned, in progress) created within any of the windows
    `(after, until]`, oldest first."""
    if not windows:
        return []
    created = col(HelpRequest.created_at)
    return _open_requests(
        session,
        col(HelpRequest.status).in_(OPEN_STATUSES),
        or_(*(and_(created > stored(a), created <= stored(b)) for a, b in windows)),
    )


def unaccepted_urgent(
    session: Session, *, created_before: datetime, statuses: Sequence[str]
) -> list[OpenRequest]:
    """The urgent (crisis) requests in one of `statuses` (nobody has accepted them:
    `bot.domain.urgency.WAITING`) created at or before `created_before`, oldest first: the
    urgent chases' requests."""
    return _open_requests(
        session,
        col(HelpRequest.status).in_(list(statuses)),
        col(HelpRequest.crisis).is_(True),
        col(HelpRequest.created_at) <= stored(created_before),
    )


def duty_user_ids(session: Session) -> list[int]:
    """The chat users linked to the active staff accounts on duty, ascending."""
    query = select(StaffAccount.user_id).where(
        col(StaffAccount.active).is_(True),
        col(StaffAccount.on_duty).is_(True),
        col(StaffAccount.user_id).is_not(None),
    )
    return sorted({uid for uid in session.exec(query).all() if uid is not None})


def _open_requests(session: Session, *conditions: ColumnElement[bool]) -> list[OpenRequest]:
    created = col(HelpRequest.created_at)
    # More columns than sqlmodel's typed select() takes: SQLAlchemy's select, run by execute().
    query = (
        sa_select(
            col(HelpRequest.id),
            col(HelpRequest.code),
            col(HelpRequest.unit_id),
            col(HelpRequest.status),
            col(HelpRequest.assigned_to),
            col(HelpRequest.crisis),
            col(HelpRequest.categories),
            col(HelpRequest.district),
            col(HelpRequest.street),
            col(HelpRequest.community),
            created,
            col(HelpRequest.danger_kind),
        )
        .where(*conditions)
        .order_by(created, col(HelpRequest.id))
    )
    return [
        OpenRequest(
            id=rid,
            code=code,
            unit_id=unit_id,
            status=status,
            assigned_to=assigned_to,
            crisis=crisis,
            categories=list(categories or []),
            district=district,
            street=street,
            community=community,
            created_at=as_utc(created_at),
            danger_kind=kind,
        )
        for (
            rid,
            code,
            unit_id,
            status,
            assigned_to,
            crisis,
            categories,
            district,
            street,
            community,
            created_at,
            kind,
        ) in session.execute(query).all()
        if rid is not None
    ]


def held_points(session: Session, *, kinds: Sequence[str]) -> list[HeldPoint]:
    """The contact points of these kinds whose holder is an active user, in registration order."""
    return _held(session, col(ContactPoint.kind).in_(list(kinds)))


def _held(session: Session, *conditions: ColumnElement[bool]) -> list[HeldPoint]:
    query = (
        sa_select(
            col(ContactPoint.id),
            col(ContactPoint.holder_id),
            col(ContactPoint.kind),
            col(ContactPoint.name),
            col(ContactPoint.unit_id),
            col(ContactPoint.community),
            col(ContactPoint.created_at),
        )
        .join(User, col(User.id) == col(ContactPoint.holder_id))
        .where(col(User.deleted_at).is_(None), *conditions)
        .order_by(col(ContactPoint.id))
    )
    return [
        HeldPoint(
            id=pid,
            holder_id=holder,
            kind=kind,
            name=name,
            unit_id=unit_id,
            community=community,
            created_at=as_utc(created_at),
        )
        for pid, holder, kind, name, unit_id, community, created_at in session.execute(query).all()
        if pid is not None
    ]


def last_pair_visits(session: Session) -> dict[int, date]:
    """The latest visit to each paired household by its holder, by point id, in one grouped
    query: a visit of the holder naming the pseudonym (and in the pair's community, when it has
    one), as `last_visit_on` matches them. Pairs never visited are absent."""
    query = (
        select(ContactPoint.id, func.max(Visit.date))
        .join(
            Visit,
            and_(
                col(Visit.cadre_id) == col(ContactPoint.holder_id),
                or_(
                    col(ContactPoint.community).is_(None),
                    col(Visit.community) == col(ContactPoint.community),
                ),
                col(Visit.whom).contains(col(ContactPoint.name)),  # last: the dearest test
            ),
        )
        .where(ContactPoint.kind == "household")
        .group_by(col(ContactPoint.id))
    )
    return {
        pid: last for pid, last in session.exec(query).all() if pid is not None and last is not None
    }


def unvisited_points(session: Session, *, since: date, registered_by: datetime) -> list[HeldPoint]:
    """The district, street and community contact points registered by `registered_by`, of
    active holders, that their holder has not visited on or after `since` (no visit of hers
    whose district, street or community is the point's name), in registration order."""
    # The visit's names are wrapped (coalesce) and its holder id offset (+ 0) so that SQLite
    # scans this quarter's visits once per kind and probes the unique (holder_id, kind, name)
    # index, instead of probing each point's visits (several times faster with many points).
    places = (
        ("district", col(Visit.district)),
        ("street", col(Visit.street)),
        ("community", col(Visit.community)),
    )
    parts = [
        select(ContactPoint.id)
        .join(
            Visit,
            and_(
                col(ContactPoint.holder_id) == col(Visit.cadre_id) + 0,
                col(ContactPoint.kind) == kind,
                col(ContactPoint.name) == func.coalesce(column, ""),
            ),
        )
        .where(col(Visit.date) >= since)
        for kind, column in places
    ]
    return _held(
        session,
        col(ContactPoint.kind).in_(POINT_KINDS),
        col(ContactPoint.created_at) <= stored(registered_by),
        col(ContactPoint.id).not_in(union(*parts)),
    )


def existing_outbox_keys(session: Session, *, keys: Sequence[str], chunk: int = 500) -> set[str]:
    """Those of `keys` already in the outbox (a tick skips them before enqueueing the rest)."""
    found: set[str] = set()
    unique = list(dict.fromkeys(keys))
    for at in range(0, len(unique), chunk):
        part = unique[at : at + chunk]
        rows = session.exec(select(Outbox.key).where(col(Outbox.key).in_(part))).all()
        found.update(key for key in rows if key is not None)
    return found
