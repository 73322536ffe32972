"""Org units and places as people read them: a unit's label from its path (parsed by
`UnitPath`), a place from its names."""

from __future__ import annotations

from bot import texts
from storage.models import OrgUnit
from storage.orgtree import UnitPath


def unit_label(unit: OrgUnit) -> str:
    """The unit's federation as people name it: its names below the city + `unit.label`
    (the city: `unit.city`)."""
    path = UnitPath.parse(unit.path)
    return texts.t("unit.city") if path.is_city else texts.t("unit.label", unit=path.name)


def place_text(district: str | None, street: str | None, community: str | None) -> str:
    """The place's names run together, district first (`place.unknown` when none is known)."""
    return "".join(p for p in (district, street, community) if p) or texts.t("place.unknown")
