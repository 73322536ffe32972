"""Org units and places as people read them: a unit's label from its path (parsed by
`UnitPath`), a place from its names."""

from __future__ import annotations

from sqlmodel import Session

from bot import texts
from storage import repo
from storage.models import OrgUnit, User
from storage.orgtree import UnitPath


def unit_label(unit: OrgUnit) -> str:
    """The unit's federation as people name it: its names below the city + `unit.label`
    (the city: `unit.city`)."""
    path = UnitPath.parse(unit.path)
    return texts.t("unit.city") if path.is_city else texts.t("unit.label", unit=path.name)


def place_text(district: str | None, street: str | None, community: str | None) -> str:
    """The place's names run together, district first (`place.unknown` when none is known)."""
    return "".join(p for p in (district, street, community) if p) or texts.t("place.unknown")


def cadre_over(session: Session, *, user: User, unit_id: int) -> bool:
    """True when `user` is a cadre of unit `unit_id` or of a unit above it."""
    if user.role != "cadre" or not user.unit_id:
        return False
    unit = repo.get_unit(session, unit_id=user.unit_id)
    return unit is not None and unit_id in repo.units_below(session, unit=unit)
