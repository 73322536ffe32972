"""Whom an overview page shows: the staff member's scope (city staff see every unit, a
district's staff their district), the dependencies every page takes, and units in tree order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, HTTPException
from sqlmodel import Session

from bot.console.auth import Staff, check_csrf, current_staff
from storage import repo
from storage.models import OrgUnit
from storage.orgtree import UnitPath

UNIT_LEVELS = ("district", "street", "town", "township", "area")  # districts and 街道/乡镇
StaffDep = Annotated[Staff, Depends(current_staff)]
CSRF = [Depends(check_csrf)]


def scope_of(staff: Staff) -> repo.Scope:
    """The unit ids the staff member sees; None for city staff (every unit)."""
    return None if staff.is_city else staff.unit_ids


def in_scope(staff: Staff, unit_id: int | None) -> bool:
    """True when the unit is one the staff member sees."""
    return staff.is_city or (unit_id is not None and unit_id in staff.unit_ids)


def require_city(staff: Staff) -> None:
    """A 403 unless the staff member is the city's."""
    if not staff.is_city:
        raise HTTPException(403, "city staff only")


def district_path(unit: OrgUnit) -> str:
    """The path of the district the unit is in (or is)."""
    return UnitPath.parse(unit.path).prefix(2).path


def tree_order(units: Sequence[OrgUnit]) -> list[OrgUnit]:
    """Units grouped under their district: each district (in id order) before its units."""
    rank = {u.path: u.id or 0 for u in units if u.level == "district"}
    return sorted(
        units, key=lambda u: (rank.get(district_path(u), 0), u.level != "district", u.id or 0)
    )


def districts_in(session: Session, staff: Staff) -> list[OrgUnit]:
    """The district-level units the staff member sees, in tree order."""
    return [u for u in repo.district_units(session) if in_scope(staff, u.id)]
