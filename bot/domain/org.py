"""Org units as people read them: a unit's label from its path (parsed by `UnitPath`)."""

from __future__ import annotations

from bot import texts
from storage.models import OrgUnit
from storage.orgtree import UnitPath


def unit_label(unit: OrgUnit) -> str:
    """The unit's federation as people name it: its names below the city + `unit.label`
    (the city: `unit.city`)."""
    path = UnitPath.parse(unit.path)
    return texts.t("unit.city") if path.is_city else texts.t("unit.label", unit=path.name)
