"""Reads behind the quarterly summary: a unit subtree's visits, requests and contact points
over a period, in a handful of queries per unit (the figures are computed in Python)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from storage.models import OPEN_STATUSES, ContactPoint, HelpRequest, OrgUnit, Outbox, User, Visit
from storage.repo._common import stored
from storage.repo.reports import district_units


def visits_in(session: Session, *, unit_ids: Sequence[int], start: date, end: date) -> list[Visit]:
    """Visits filed with any of these units dated `start`..`end` (inclusive), by date."""
    return list(
        session.exec(
            select(Visit)
            .where(
                col(Visit.unit_id).in_(list(unit_ids)),
                col(Visit.date) >= start,
                col(Visit.date) <= end,
            )
            .order_by(col(Visit.date), col(Visit.id))
        ).all()
    )


def requests_touching(
    session: Session, *, unit_ids: Sequence[int], since: datetime, until: datetime
) -> list[HelpRequest]:
    """Requests of these units filed before `until` that were filed, resolved or still open
    (or cancelled) from `since` on: everything a summary of [since, until) can count."""
    since_, until_ = stored(since), stored(until)
    return list(
        session.exec(
            select(HelpRequest).where(
                col(HelpRequest.unit_id).in_(list(unit_ids)),
                col(HelpRequest.created_at) < until_,
                or_(
                    col(HelpRequest.created_at) >= since_,
                    col(HelpRequest.status).in_(OPEN_STATUSES),
                    col(HelpRequest.resolved_at) >= since_,
                    and_(
                        col(HelpRequest.status) == "cancelled",
                        col(HelpRequest.updated_at) >= since_,
                    ),
                ),
            )
        ).all()
    )


def contact_points_of_cadres(session: Session, *, unit_ids: Sequence[int]) -> list[ContactPoint]:
    """Contact points held by the (not deleted) cadres bound to any of these units."""
    return list(
        session.exec(
            select(ContactPoint)
            .join(User, col(User.id) == col(ContactPoint.holder_id))
            .where(
                col(User.unit_id).in_(list(unit_ids)),
                User.role == "cadre",
                col(User.deleted_at).is_(None),
            )
            .order_by(col(ContactPoint.id))
        ).all()
    )


def visits_by_cadres(
    session: Session, *, cadre_ids: Sequence[int], start: date, end: date
) -> list[Visit]:
    """Visits of these cadres dated `start`..`end` (inclusive), wherever they were filed."""
    if not cadre_ids:
        return []
    return list(
        session.exec(
            select(Visit).where(
                col(Visit.cadre_id).in_(list(cadre_ids)),
                col(Visit.date) >= start,
                col(Visit.date) <= end,
            )
        ).all()
    )


def find_district(session: Session, *, name: str) -> OrgUnit | None:
    """The district-level unit called `name` (its name, an alias, or its path below the city)."""
    wanted = name.strip().strip("/")
    for unit in district_units(session):
        if wanted in (unit.name, unit.path, *unit.aliases) or unit.path.endswith("/" + wanted):
            return unit
    return None


CITY_WORDS = ("全市", "市妇联")


def find_summary_unit(session: Session, *, name: str) -> OrgUnit | None:
    """The unit a quarterly summary is made for: a district-level unit (`find_district`), or the
    city itself (its name or path, 全市, 市妇联)."""
    wanted = name.strip().strip("/")
    city = session.exec(select(OrgUnit).where(col(OrgUnit.parent_id).is_(None))).first()
    if city is not None and wanted in (city.name, city.path, *city.aliases, *CITY_WORDS):
        return city
    return find_district(session, name=name)


def keys_with_prefix(session: Session, *, prefix: str) -> list[str]:
    """The outbox business keys that start with `prefix`."""
    rows = session.exec(
        select(Outbox.key).where(col(Outbox.key).startswith(prefix, autoescape=True))
    ).all()
    return [key for key in rows if key is not None]
