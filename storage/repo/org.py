"""Org units: the 市 → 区 → 街道/乡镇 → 社区/村 tree and its cadres (who is responsible where is
the rule of bot/domain/routing.py)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_
from sqlmodel import Session, col, select

from storage.models import OrgUnit, User
from storage.orgtree import CITY, SEPARATOR, UnitPath, UnitRow


def seed_org_tree(session: Session, *, units: Sequence[UnitRow]) -> int:
    """Seed the city, its districts and 街道/乡镇 if the tree is empty; return the count."""
    if session.exec(select(OrgUnit.id).limit(1)).first() is not None:
        return 0
    city = OrgUnit(name=CITY, level="city", aliases=["北京"], path=CITY)
    session.add(city)
    session.flush()
    districts: dict[str, OrgUnit] = {}
    for row in units:
        if row.kind == "district":
            unit = OrgUnit(
                parent_id=city.id,
                name=row.name,
                level="district",
                aliases=list(row.aliases),
                path=f"{CITY}/{row.name}",
            )
            districts[row.name] = unit
            session.add(unit)
    session.flush()
    for row in units:
        if row.kind != "district":
            parent = districts[row.district]
            session.add(
                OrgUnit(
                    parent_id=parent.id,
                    name=row.name,
                    level=row.kind,
                    aliases=list(row.aliases),
                    path=f"{parent.path}/{row.name}",
                )
            )
    session.flush()
    return 1 + len(units)


def all_units(session: Session) -> list[OrgUnit]:
    """Return every org unit, parents before children."""
    return list(session.exec(select(OrgUnit).order_by(col(OrgUnit.id))).all())


def get_unit(session: Session, *, unit_id: int) -> OrgUnit | None:
    """Return one unit by id."""
    return session.get(OrgUnit, unit_id)


def city_unit(session: Session) -> OrgUnit:
    """Return the root (city) unit."""
    unit = session.exec(select(OrgUnit).where(col(OrgUnit.parent_id).is_(None))).first()
    if unit is None:
        raise LookupError("the org tree is empty: run `fuqing db upgrade`")
    return unit


def unit_by_path(session: Session, *, path: str) -> OrgUnit | None:
    """Find a unit by its path below the city ("朝阳区/双井街道") or its full path."""
    path = path.strip().strip("/")
    full = path if path.startswith(CITY) else f"{CITY}/{path}" if path else CITY
    return session.exec(select(OrgUnit).where(OrgUnit.path == full)).first()


def unit_for_place(
    session: Session,
    *,
    district: str | None,
    street: str | None = None,
    community: str | None = None,
    create_community: bool = False,
) -> OrgUnit:
    """Return the most specific unit naming this place (community, street, district or city).

    A community is only in the tree once something was filed there; `create_community` adds it
    under its street. One query: a unit's path is its parent's path, '/', its name.
    """
    names: list[str] = []
    for name in (district, street, community):
        if not name:
            break
        names.append(name)
    paths = [CITY] + [CITY + "/" + "/".join(names[: depth + 1]) for depth in range(len(names))]
    found = {u.path: u for u in session.exec(select(OrgUnit).where(col(OrgUnit.path).in_(paths)))}
    if CITY not in found:
        raise LookupError("the org tree is empty: run `fuqing db upgrade`")
    unit = found[CITY]
    for path, name in zip(paths[1:], names, strict=True):
        child = found.get(path)
        if child is None and name == community and create_community and unit.level != "district":
            child = OrgUnit(
                parent_id=unit.id,
                name=name,
                level="community",
                aliases=[],
                path=f"{unit.path}/{name}",
            )
            session.add(child)
            session.flush()
        if child is None:
            break
        unit = child
    return unit


def communities_in(
    session: Session, *, district: str | None, street: str | None = None
) -> list[tuple[str, str, str]]:
    """The 社区/村 of the tree in a district or a 街道/乡镇 (the whole city for None), each as
    (district, street, name), in the order they were added."""
    prefix = SEPARATOR.join(p for p in (CITY, district, street if district else None) if p)
    query = (
        select(OrgUnit)
        .where(OrgUnit.level == "community", col(OrgUnit.path).startswith(prefix + SEPARATOR))
        .order_by(col(OrgUnit.id))
    )
    found = []
    for unit in session.exec(query):
        path = UnitPath.parse(unit.path)
        found.append((path.district or "", path.street or "", unit.name))
    return found


def ancestors(session: Session, *, unit: OrgUnit) -> list[OrgUnit]:
    """Return the unit and its parents up to the city, nearest first (one query: the parents'
    paths are the prefixes of the unit's path)."""
    paths = [p.path for p in UnitPath.parse(unit.path).ancestors()]
    if not paths:
        return [unit]
    by_path = {u.path: u for u in session.exec(select(OrgUnit).where(col(OrgUnit.path).in_(paths)))}
    return [unit] + [by_path[path] for path in paths if path in by_path]


def unit_contains(session: Session, *, outer: OrgUnit, inner: OrgUnit) -> bool:
    """True when `inner` is `outer` or lies below it."""
    return any(u.id == outer.id for u in ancestors(session, unit=inner))


def cadres_of(session: Session, *, unit_id: int) -> list[User]:
    """Return the cadres bound to exactly this unit."""
    return cadres_by_unit(session, unit_ids=[unit_id]).get(unit_id, [])


def cadres_by_unit(session: Session, *, unit_ids: Sequence[int]) -> dict[int, list[User]]:
    """The active cadres bound to each of `unit_ids` (units without any are left out), by id."""
    found: dict[int, list[User]] = {}
    for user in session.exec(
        select(User)
        .where(
            col(User.unit_id).in_(unit_ids), User.role == "cadre", col(User.deleted_at).is_(None)
        )
        .order_by(col(User.id))
    ):
        found.setdefault(user.unit_id or 0, []).append(user)
    return found


def units_below(session: Session, *, unit: OrgUnit) -> list[int]:
    """Return the ids of the unit and every unit below it."""
    prefix = unit.path + "/"
    rows = session.exec(
        select(OrgUnit.id).where(
            or_(col(OrgUnit.id) == unit.id, col(OrgUnit.path).startswith(prefix))
        )
    ).all()
    return [r for r in rows if r is not None]


def children_of(session: Session, *, unit: OrgUnit) -> list[OrgUnit]:
    """The units directly below `unit`, in the tree's order (by id)."""
    return list(
        session.exec(
            select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(col(OrgUnit.id))
        ).all()
    )


def district_of(session: Session, *, unit: OrgUnit) -> OrgUnit:
    """The district-level unit `unit` is in (itself for a district; the city for the city)."""
    chain = ancestors(session, unit=unit)
    return next((u for u in chain if u.level == "district"), chain[-1] if chain else unit)
