"""Routing: the responsible unit is the nearest one up the tree with a cadre (one rule)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import pytest

from bot.domain.routing import nearest_with_cadres, responsible_unit
from storage import repo
from storage.db import Database
from tests.factories import bind_cadre

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("chain", "cadres", "expected"),
    [
        ([4, 3, 2, 1], {4: [40], 2: [20]}, (4, [40])),  # her own unit has a cadre
        ([4, 3, 2, 1], {2: [20, 21], 1: [10]}, (2, [20, 21])),  # the district, not the city
        ([4, 3, 2, 1], {1: [10]}, (1, [10])),  # only the city
        ([4, 3, 2, 1], {}, (1, [])),  # nobody anywhere: the city, nobody to tell
        ([4, 3, 2, 1], {3: []}, (1, [])),  # an empty list is no cadre
        ([], {1: [10]}, (None, [])),  # no chain at all
    ],
)
def test_nearest_with_cadres(
    chain: Sequence[int], cadres: Mapping[int, list[int]], expected: tuple[int | None, list[int]]
) -> None:
    """The first unit of the chain with cadres answers, else the last one with nobody."""
    assert nearest_with_cadres(chain, cadres) == expected


def test_responsible_unit_walks_up_to_a_cadre(database: Database) -> None:
    """With no cadre at the street, its district's cadre is responsible; with none, the city."""
    with database.transaction() as session:
        street = repo.unit_by_path(session, path="朝阳区/双井街道")
        assert street is not None
        unit, cadres = responsible_unit(session, unit=street)
        assert (unit.level, cadres) == ("city", [])
        cadre = bind_cadre(session, place="朝阳区", name="李四", now=NOW)
        unit, cadres = responsible_unit(session, unit=street)
        assert unit.path == "北京市/朝阳区"
        assert [c.id for c in cadres] == [cadre.id]
        street_cadre = bind_cadre(session, place="朝阳区/双井街道", name="张三", now=NOW)
        unit, cadres = responsible_unit(session, unit=street)
        assert (unit.id, [c.id for c in cadres]) == (street.id, [street_cadre.id])


def test_deleted_cadres_do_not_answer(database: Database) -> None:
    """A cadre whose account was deleted no longer makes her unit the responsible one."""
    with database.transaction() as session:
        street = repo.unit_by_path(session, path="朝阳区/双井街道")
        assert street is not None
        cadre = bind_cadre(session, place="朝阳区/双井街道", name="张三", now=NOW)
        cadre.deleted_at = NOW
        session.add(cadre)
        session.flush()
        unit, cadres = responsible_unit(session, unit=street)
        assert (unit.level, cadres) == ("city", [])
