"""The seed data of the org tree: Beijing's 16 districts and their 街道/乡镇.

The rows come from `storage/data/beijing_units.csv` (source and update notes in
`storage/data/README.md`). This module only reads the file; `storage.repo.seed_org_tree` writes
the units.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

CITY = "北京市"
DATA_FILE = Path(__file__).parent / "data" / "beijing_units.csv"


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
