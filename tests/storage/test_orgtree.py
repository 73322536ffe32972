"""The org tree's seed file (`storage.orgtree`) and its seeding (`repo.seed_org_tree`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select

from storage import repo
from storage.db import Database
from storage.models import OrgUnit
from storage.orgtree import CITY, UnitPath, UnitRow, load_units


def test_load_units_puts_districts_first(tmp_path: Path) -> None:
    """Comment lines are skipped, aliases split on '|', and districts come before their units."""
    seed = tmp_path / "units.csv"
    seed.write_text(
        "# a comment\n"
        "district,name,kind,aliases\n"
        "朝阳区,南磨房乡,township,南磨房|南磨房地区\n"
        "朝阳区,朝阳区,district,朝阳\n",
        encoding="utf-8",
    )
    assert load_units(seed) == [
        UnitRow(district="朝阳区", name="朝阳区", kind="district", aliases=("朝阳",)),
        UnitRow(
            district="朝阳区", name="南磨房乡", kind="township", aliases=("南磨房", "南磨房地区")
        ),
    ]


def test_seed_file_has_16_districts(seed_units: list[UnitRow]) -> None:
    """The real seed file names Beijing's 16 districts, and every unit lies in one of them."""
    districts = {row.name for row in seed_units if row.kind == "district"}
    assert len(districts) == 16
    assert {row.district for row in seed_units} == districts


def test_seed_creates_city_districts_and_units(
    database: Database, seed_units: list[UnitRow]
) -> None:
    """The seed creates the city, its 16 districts under it, and each unit under its district."""
    with database.read() as session:
        units = repo.all_units(session)
        city = repo.city_unit(session)
        by_id = {unit.id: unit for unit in units}
    assert len(units) == 1 + len(seed_units)
    assert (city.name, city.level, city.path) == (CITY, "city", CITY)
    districts = [unit for unit in units if unit.level == "district"]
    assert len(districts) == 16
    assert all(unit.parent_id == city.id for unit in districts)
    for unit in units:
        if unit.level not in ("city", "district"):
            parent = by_id[unit.parent_id]
            assert parent.level == "district"
            assert unit.path == f"{parent.path}/{unit.name}"


def test_township_keeps_its_area_alias(database: Database) -> None:
    """A 乡 merged with its 地区 office keeps the 地区 name as an alias."""
    with database.read() as session:
        unit = repo.unit_by_path(session, path="朝阳区/南磨房乡")
    assert unit is not None
    assert unit.level == "township"
    assert "南磨房地区" in unit.aliases


def test_seeding_twice_adds_nothing(database: Database, seed_units: list[UnitRow]) -> None:
    """Seeding a tree that is already there adds no unit."""
    with database.transaction() as session:
        assert repo.seed_org_tree(session, units=seed_units) == 0
    with database.read() as session:
        count = len(session.exec(select(col(OrgUnit.id))).all())
    assert count == 1 + len(seed_units)


@pytest.mark.parametrize(
    ("path", "depth", "district", "street", "community", "name"),
    [
        ("北京市", 1, None, None, None, ""),
        ("北京市/朝阳区", 2, "朝阳区", None, None, "朝阳区"),
        ("北京市/朝阳区/双井街道", 3, "朝阳区", "双井街道", None, "朝阳区双井街道"),
        (
            "北京市/朝阳区/双井街道/九龙社区",
            4,
            "朝阳区",
            "双井街道",
            "九龙社区",
            "朝阳区双井街道九龙社区",
        ),
    ],
)
def test_unit_path_levels(
    path: str,
    depth: int,
    district: str | None,
    street: str | None,
    community: str | None,
    name: str,
) -> None:
    """One parse gives the depth, each level's name and the name below the city."""
    parsed = UnitPath.parse(path)
    assert (parsed.depth, parsed.district, parsed.street, parsed.community) == (
        depth,
        district,
        street,
        community,
    )
    assert parsed.name == name and parsed.path == path
    assert parsed.is_city == (depth == 1) and parsed.is_district == (depth == 2)


def test_unit_path_ancestors_and_lineage() -> None:
    """Ancestors run nearest first up to the city; the lineage runs from the district down."""
    path = UnitPath.parse("北京市/朝阳区/双井街道/九龙社区")
    assert [a.path for a in path.ancestors()] == [
        "北京市/朝阳区/双井街道",
        "北京市/朝阳区",
        "北京市",
    ]
    assert [a.path for a in path.lineage()] == [
        "北京市/朝阳区",
        "北京市/朝阳区/双井街道",
        "北京市/朝阳区/双井街道/九龙社区",
    ]
    assert path.below_city == "朝阳区/双井街道/九龙社区" and path.prefix(2).path == "北京市/朝阳区"
