"""The NLP gazetteer from the org tree in the database."""

from __future__ import annotations

from sqlmodel import Session

from bot.nlp import PlaceUnit
from storage import repo
from storage.orgtree import UnitPath


def place_units(session: Session) -> list[PlaceUnit]:
    """Every district and 街道/乡镇 of the tree as gazetteer entries."""
    found = []
    for unit in repo.all_units(session):
        path = UnitPath.parse(unit.path)
        if unit.level == "district":
            found.append(
                PlaceUnit(
                    district=unit.name, name=unit.name, kind="district", aliases=tuple(unit.aliases)
                )
            )
        elif path.depth == 3 and path.district and unit.level != "community":
            found.append(
                PlaceUnit(
                    district=path.district,
                    name=unit.name,
                    kind=unit.level,
                    aliases=tuple(unit.aliases),
                )
            )
    return found
