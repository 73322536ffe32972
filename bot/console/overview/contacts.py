"""Contact points in the console (联系点): which leaders and cadres hold which points and paired
households, and which were visited this quarter — per unit and per level, the unvisited ones
first to hand (`GET /console/contacts?quarter=2026Q1&unvisited=1`, `&format=csv|xlsx`).

The rule of "visited" is `bot.domain.contacts.visited_by`, the same as the quarterly
summary's coverage. City staff see every holder (the city's leaders included), a district's
staff the holders bound in their district.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from bot import texts
from bot.console.auth import Staff, render
from bot.console.overview.listing import ListFormat, column_name, list_file, local_today
from bot.console.overview.quarters import parse_quarter, quarter_picker
from bot.console.overview.scope import StaffDep
from bot.domain import contacts
from bot.domain.org import unit_label
from bot.domain.quarters import Quarter
from bot.http import Services, services
from bot.reporting.export import kind_label, ratio
from bot.reporting.text import percent

router = APIRouter(prefix="/console", include_in_schema=False)
COLUMNS = ("holder", "holder_unit", "kind", "point", "point_community", "visited", "last_visit")
LEVELS = ("city", "district", "street", "community")


def _rows(svc: Services, staff: Staff, quarter: Quarter) -> list[contacts.PointCoverage]:
    with svc.db.read() as session:  # her units: the whole tree for city staff
        return contacts.coverage(
            session, unit_ids=list(staff.unit_ids), start=quarter.start, end=quarter.end
        )


def record(row: contacts.PointCoverage) -> dict[str, object]:
    """One point as a list row with Chinese column names."""
    point = row.point
    return {
        column_name("holder"): row.holder.name or "—",
        column_name("holder_unit"): unit_label(row.unit),
        column_name("kind"): kind_label(point.kind),
        column_name("point"): point.name,
        column_name("point_community"): point.community or "",
        column_name("visited"): texts.t("console.yes" if row.visited else "console.no"),
        column_name("last_visit"): row.last,
    }


def _level(path: str) -> str:
    """The level of a unit by its path's depth (a town counts as a street)."""
    return LEVELS[min(path.count("/"), len(LEVELS) - 1)]


def summary(rows: list[contacts.PointCoverage]) -> list[dict[str, Any]]:
    """Held and visited per level of the holder's unit (the city's leaders, districts,
    streets, communities) and kind, with the share."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        key = (_level(row.unit.path), row.point.kind)
        counts[key][0] += 1
        counts[key][1] += row.visited
    out = []
    for level in LEVELS:
        for kind in contacts.KINDS:
            held, visited = counts.get((level, kind), [0, 0])
            if held:
                out.append(
                    {
                        "level": texts.t(f"console.contacts.level.{level}"),
                        "kind": kind_label(kind),
                        "held": held,
                        "visited": visited,
                        "share": percent(ratio(visited, held)),
                    }
                )
    return out


@router.get("/contacts", response_model=None)
async def contacts_page(
    request: Request,
    staff: StaffDep,
    quarter: Annotated[str | None, Query(max_length=8)] = None,
    unvisited: Annotated[bool, Query()] = False,
    format: ListFormat | None = None,
) -> Response:
    """The contact points in scope for a quarter (default: this one): coverage per level and
    kind, then each point (only the unvisited with `unvisited=1`), or the list as a file."""
    svc = services(request)
    current = Quarter.of(local_today(svc))
    chosen = parse_quarter(quarter) if quarter else current
    rows = await asyncio.to_thread(_rows, svc, staff, chosen)
    shown = [r for r in rows if not (unvisited and r.visited)]
    if format is not None:
        stem = texts.t("console.contacts.file", quarter=str(chosen))
        records = [record(r) for r in shown]
        return list_file(records, [column_name(k) for k in COLUMNS], format, stem)
    return render(
        request,
        "contacts.html",
        staff,
        quarter=str(chosen),
        picker=quarter_picker(current),
        unvisited=unvisited,
        summary=summary(rows),
        total=len(rows),
        visited=sum(r.visited for r in rows),
        rows=[record(r) for r in shown],
        columns=[column_name(k) for k in COLUMNS],
    )
