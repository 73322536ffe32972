"""Org units and invites in the console: districts and their 街道/乡镇 with cadre counts, the
cadres, the invite codes, and a form that creates one for a unit in scope."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from sqlmodel import Session

from bot import texts
from bot.console.auth import Staff, redirect, render
from bot.console.overview.listing import parse_id
from bot.console.overview.scope import (
    CSRF,
    UNIT_LEVELS,
    StaffDep,
    district_path,
    in_scope,
    scope_of,
    tree_order,
)
from bot.http import services
from storage import repo
from storage.orgtree import CITY, UnitPath

router = APIRouter(prefix="/console", include_in_schema=False)


def org_data(session: Session, staff: Staff) -> dict[str, Any]:
    """Districts and their 街道/乡镇 with cadre counts (a unit counts the cadres bound to it and
    below it), the cadres, and the invites, within the staff member's scope."""
    scope = scope_of(staff)
    units = tree_order(repo.units_in(session, unit_ids=scope, levels=UNIT_LEVELS))
    cadres = repo.cadres_in(session, unit_ids=scope)
    counts: Counter[str] = Counter()
    for row in cadres:
        for ancestor in UnitPath.parse(row.unit.path).lineage():
            counts[ancestor.path] += 1
    districts: dict[str, dict[str, Any]] = {}
    for unit in units:
        entry = {
            "unit": unit,
            "label": unit.path.removeprefix(CITY + "/"),
            "cadres": counts[unit.path],
        }
        if unit.level == "district":
            districts[unit.path] = {**entry, "children": []}
        elif district_path(unit) in districts:
            districts[district_path(unit)]["children"].append(entry)
    return {
        "districts": list(districts.values()),
        "cadres": cadres,
        "invites": repo.invites_in(session, unit_ids=scope),
        "invite_units": [
            (u.id, u.path.removeprefix(CITY + "/"))
            for u in repo.units_in(session, unit_ids=scope, levels=("city",))
        ]
        + [(u.id, u.path.removeprefix(CITY + "/")) for u in units],
    }


@router.get("/org")
async def org(request: Request, staff: StaffDep) -> Response:
    """Org units with their cadre counts, the cadres, and the invite codes with a form."""
    svc = services(request)

    def build() -> dict[str, Any]:
        with svc.db.read() as session:
            return org_data(session, staff)

    return render(request, "org.html", staff, **await asyncio.to_thread(build))


@router.post("/org/invites", dependencies=CSRF)
async def create_invite(
    request: Request,
    staff: StaffDep,
    unit: Annotated[str, Form(max_length=12)] = "",
    name: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Create an invite code binding a cadre called `name` to a unit in scope; shows the code."""
    svc = services(request)
    unit_id, person = parse_id(unit), name.strip()

    def create() -> str | None:
        with svc.db.transaction() as session:
            found = repo.get_unit(session, unit_id=unit_id) if unit_id else None
            if found is None or not in_scope(staff, found.id) or not person:
                return None
            invite = repo.create_invite(session, unit=found, name=person, now=svc.engine.clock())
            label = found.path.removeprefix(CITY + "/")
            return texts.t("console.invite.created", unit=label, name=person, code=invite.code)

    message = await asyncio.to_thread(create)
    if message is None:
        return redirect(
            request, "/console/org", message=texts.t("console.invite.bad_unit"), kind="error"
        )
    return redirect(request, "/console/org", message=message)
