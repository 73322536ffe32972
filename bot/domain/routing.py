"""Routing: which unit answers for a place — the nearest unit up the tree with a cadre bound.

`nearest_with_cadres` is the rule on plain data (a chain of unit ids, nearest first, and the
cadres bound to each), so the scheduler applies it to its in-memory tree; `responsible_unit`
applies it to the stored tree (`UnitPath` gives a unit's ancestors, `storage.repo.ancestors`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
