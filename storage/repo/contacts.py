"""Contact points (联系点) and paired households (结对户) of leaders and departments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import ContactPoint, Visit
from storage.repo._common import stored

# How many points of each kind one holder keeps (联系基层工作制度).
QUOTA = {"district": 1, "street": 2, "community": 4, "household": 6}


def add_contact_point(
    session: Session,
    *,
    holder_id: int,
    kind: str,
    name: str,
    unit_id: int | None,
    community: str | None,
    now: datetime,
) -> ContactPoint:
    """Register one point for a holder (the same point twice is returned as it is)."""
    existing = session.exec(
        select(ContactPoint).where(
            ContactPoint.holder_id == holder_id,
            ContactPoint.kind == kind,
            ContactPoint.name == name,
        )
    ).first()
    if existing is not None:
        return existing
    point = ContactPoint(
        holder_id=holder_id,
        kind=kind,
        name=name,
        unit_id=unit_id,
        community=community,
        created_at=stored(now),
    )
    session.add(point)
    session.flush()
    return point


def contact_points(session: Session, *, holder_id: int | None = None) -> list[ContactPoint]:
    """The points of one holder, or of everyone, in the order registered."""
    query = select(ContactPoint)
    if holder_id is not None:
        query = query.where(ContactPoint.holder_id == holder_id)
    return list(session.exec(query.order_by(col(ContactPoint.id))).all())


def contact_point(session: Session, *, point_id: int) -> ContactPoint | None:
    """One point by id."""
    return session.get(ContactPoint, point_id)


def count_by_kind(session: Session, *, holder_id: int) -> dict[str, int]:
    """How many points of each kind a holder has."""
    rows = session.exec(
        select(ContactPoint.kind, func.count())
        .where(ContactPoint.holder_id == holder_id)
        .group_by(ContactPoint.kind)
    ).all()
    return {kind: int(n) for kind, n in rows}


def remove_contact_point(session: Session, *, point: ContactPoint) -> None:
    """Delete a point."""
    session.delete(point)


def last_visit_on(session: Session, *, point: ContactPoint) -> date | None:
    """The holder's latest visit to the point: within its unit, or naming the household."""
    query = select(func.max(Visit.date)).where(Visit.cadre_id == point.holder_id)
    if point.kind == "household":
        query = query.where(col(Visit.whom).contains(point.name))
        if point.community:
            query = query.where(Visit.community == point.community)
    elif point.kind == "district":
        query = query.where(Visit.district == point.name)
    elif point.kind == "street":
        query = query.where(Visit.street == point.name)
    else:
        query = query.where(Visit.community == point.name)
    found = session.exec(query).first()
    return found
