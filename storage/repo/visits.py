"""Visits: the cadres' visit diary (妇情日记)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlmodel import Session, col, select

from storage.models import User, Visit
from storage.repo._common import stored


def create_visit(
    session: Session,
    *,
    cadre_id: int,
    unit_id: int,
    on: date,
    district: str | None,
    street: str | None,
    community: str | None,
    visit_form: str | None,
    whom: str,
    people: int,
    focus: Sequence[str],
    notes: str,
    primary: str | None,
    categories: Sequence[str],
    help_request_id: int | None,
    now: datetime,
) -> Visit:
    """File one visit in the diary."""
    visit = Visit(
        cadre_id=cadre_id,
        unit_id=unit_id,
        date=on,
        district=district,
        street=street,
        community=community,
        visit_form=visit_form,
        whom=whom,
        people=people,
        focus=list(focus),
        notes=notes,
        primary=primary,
        categories=list(categories),
        help_request_id=help_request_id,
        created_at=stored(now),
    )
    session.add(visit)
    session.flush()
    return visit


def list_visits(
    session: Session,
    *,
    district: str | None = None,
    cadre: str | None = None,
    unit_ids: Sequence[int] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[tuple[Visit, User]]:
    """Return visits matching the filters with their cadre, latest visit date first."""
    query = select(Visit, User).join(User, col(User.id) == col(Visit.cadre_id))
    if district:
        query = query.where(Visit.district == district)
    if cadre:  # names are encrypted (storage/crypto.py): matched here, not in SQL
        cadres = session.exec(select(User).where(col(User.id).in_(select(Visit.cadre_id)))).all()
        query = query.where(col(Visit.cadre_id).in_([u.id for u in cadres if u.name == cadre]))
    if unit_ids is not None:
        query = query.where(col(Visit.unit_id).in_(list(unit_ids)))
    query = query.order_by(col(Visit.date).desc(), col(Visit.id).desc()).offset(offset).limit(limit)
    return [(row[0], row[1]) for row in session.exec(query).all()]
