"""The org tree's paths and seed data: Beijing's 16 districts and their 街道/乡镇.

`UnitPath` is the one place a unit's path ("北京市/朝阳区/双井街道") is taken apart: its levels,
its ancestors, its district, its name without the city. The rows come from
`storage/data/beijing_units.csv` (source and update notes in `storage/data/README.md`). This
module only reads the file; `storage.repo.seed_org_tree` writes the units.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

CITY = "北京市"
DATA_FILE = Path(__file__).parent / "data" / "beijing_units.csv"


SEPARATOR = "/"


@dataclass(frozen=True)
class UnitPath:
    """A unit's place in the tree, parsed once: 北京市 / 区 / 街道或乡镇 / 社区或村."""

    parts: tuple[str, ...]

    @classmethod
    def parse(cls, path: str) -> UnitPath:
        """'北京市/朝阳区/双井街道' → its parts (empty segments dropped)."""
        return cls(tuple(p for p in path.split(SEPARATOR) if p))

    @property
    def path(self) -> str:
        """The stored form, '北京市/朝阳区/双井街道'."""
        return SEPARATOR.join(self.parts)

    @property
    def depth(self) -> int:
        """1 for the city, 2 for a district, 3 for a 街道/乡镇, 4 for a 社区/村."""
        return len(self.parts)

    @property
    def is_city(self) -> bool:
        """True for the city itself."""
        return self.depth <= 1

    @property
    def is_district(self) -> bool:
        """True for a district-level unit (it submits the quarterly summary)."""
        return self.depth == 2

    @property
    def district(self) -> str | None:
        """The district's name ('朝阳区'), None for the city."""
        return self.parts[1] if self.depth > 1 else None

    @property
    def street(self) -> str | None:
        """The 街道/乡镇's name, None above that level."""
        return self.parts[2] if self.depth > 2 else None

    @property
    def community(self) -> str | None:
        """The 社区/村's name, None above that level."""
        return self.parts[3] if self.depth > 3 else None

    @property
    def below_city(self) -> str:
        """The path without the city: '朝阳区/双井街道' ('' for the city)."""
        return SEPARATOR.join(self.parts[1:])

    @property
    def name(self) -> str:
        """The names below the city run together: '朝阳区双井街道' ('' for the city)."""
        return "".join(self.parts[1:])

    def prefix(self, depth: int) -> UnitPath:
        """The ancestor at `depth` (1: the city), or this path when it is not deeper."""
        return UnitPath(self.parts[:depth])

    def ancestors(self) -> list[UnitPath]:
        """The strict ancestors, nearest first (the city last)."""
        return [self.prefix(d) for d in range(self.depth - 1, 0, -1)]

    def lineage(self) -> list[UnitPath]:
        """Every ancestor from the district down to this path ('北京市/朝阳区', …)."""
        return [self.prefix(d) for d in range(2, self.depth + 1)]


@dataclass(frozen=True)
class UnitRow:
    """One district or 街道/乡镇 row of the seed file."""

    district: str
    name: str
    kind: str  # district | street | town | township | area
    aliases: tuple[str, ...]


def load_units(path: Path = DATA_FILE) -> list[UnitRow]:
    """Read the seed file (comment lines start with '#'), districts first in file order."""
    with path.open(encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip() and not line.startswith("#")]
    rows = [
        UnitRow(
            district=rec["district"].strip(),
            name=rec["name"].strip(),
            kind=rec["kind"].strip(),
            aliases=tuple(a.strip() for a in (rec.get("aliases") or "").split("|") if a.strip()),
        )
        for rec in csv.DictReader(lines)
    ]
    return [r for r in rows if r.kind == "district"] + [r for r in rows if r.kind != "district"]
