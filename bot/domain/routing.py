"""Routing: which unit answers for a place — the nearest unit up the tree with a cadre bound.

`nearest_with_cadres` is the rule on plain data (a chain of unit ids, nearest first, and the
cadres bound to each), so the scheduler applies it to its in-memory tree; `responsible_unit`
applies it to the stored tree (`UnitPath` gives a unit's ancestors, `storage.repo.ancestors`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TypeVar

from sqlmodel import Session

from storage import repo
from storage.models import OrgUnit, User

Cadre = TypeVar("Cadre")


def nearest_with_cadres(
    chain: Sequence[int], cadres: Mapping[int, Sequence[Cadre]]
) -> tuple[int | None, list[Cadre]]:
    """The first unit of `chain` (the unit, then its parents) that has cadres, and its cadres;
    the last unit (the city) with none when no unit has any (None for an empty chain)."""
    for unit_id in chain:
        found = cadres.get(unit_id)
        if found:
            return unit_id, list(found)
    return (chain[-1] if chain else None), []


def responsible_unit(session: Session, *, unit: OrgUnit) -> tuple[OrgUnit, list[User]]:
    """The unit answering for `unit` (it or the nearest one above with a cadre) and its cadres;
    the city with no cadres when nobody is bound anywhere up the tree."""
    chain = repo.ancestors(session, unit=unit)
    ids = [u.id or 0 for u in chain]
    found, cadres = nearest_with_cadres(ids, repo.cadres_by_unit(session, unit_ids=ids))
    return next(u for u in chain if u.id == found), cadres


def responders(session: Session, *, unit: OrgUnit) -> list[int]:
    """The chat users who answer for `unit`: the cadres of it or of the nearest unit above with
    one; the city's duty staff (their linked chat users) when nobody is bound on the way up."""
    _unit, cadres = responsible_unit(session, unit=unit)
    return [c.id or 0 for c in cadres] or repo.duty_user_ids(session)


def tell(
    session: Session,
    *,
    user_ids: list[int],
    text: str,
    key: str,
    now: datetime,
    skip: int | None = None,
    urgent: bool = False,
) -> int:
    """Queue `text` to each of `user_ids` but `skip` (the one acting), once per `key`; how many
    were queued."""
    queued = 0
    for user_id in user_ids:
        if user_id == skip:
            continue
        row = repo.enqueue(
            session, user_id=user_id, text=text, now=now, key=f"{key}:{user_id}", urgent=urgent
        )
        queued += row is not None
    return queued
