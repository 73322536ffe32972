"""The visit diary (走访日志): cadres' visits in scope, newest first, filtered by cadre, unit and
dates, paged; and its CSV/XLSX export with phone and ID numbers masked."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response

from bot import texts
from bot.console.auth import Staff, render
from bot.console.overview import listing
from bot.console.overview.listing import (
    EXPORT_LIMIT,
    ListFormat,
    column_name,
    given,
    list_file,
    local_today,
    pager,
    parse_day,
    parse_id,
)
from bot.console.overview.scope import UNIT_LEVELS, StaffDep, scope_of, tree_order
from bot.http import Services, services
from bot.nlp import NLP
from bot.nlp.names import pseudonym, redact
from storage import repo
from storage.orgtree import CITY

router = APIRouter(prefix="/console", include_in_schema=False)


# The columns of `visit_record`, in its order: the export's header even when nothing matched.
VISIT_COLUMNS = (
    "date",
    "cadre",
    "unit",
    "form",
    "district",
    "street",
    "community",
    "whom",
    "people",
    "focus",
    "categories",
    "notes",
)


def visit_record(row: repo.VisitRow, nlp: NLP) -> dict[str, object]:
    """A diary entry as a list row: whom as a pseudonym, the notes with phone and ID numbers
    masked and residents' names as surname + 某 (the cadre's own name kept;
    `bot.nlp.names`)."""
    visit = row.visit
    keep = [row.cadre.name] if row.cadre.name else []
    return {
        column_name("date"): visit.date,
        column_name("cadre"): row.cadre.name or "",
        column_name("unit"): row.unit.path.removeprefix(CITY + "/"),
        column_name("form"): visit.visit_form or texts.t("visit.other_form"),
        column_name("district"): visit.district or "",
        column_name("street"): visit.street or "",
        column_name("community"): visit.community or "",
        column_name("whom"): pseudonym(visit.whom),
        column_name("people"): visit.people,
        column_name("focus"): "、".join(visit.focus),
        column_name("categories"): texts.category_labels(visit.categories),
        column_name("notes"): redact(visit.notes, nlp.person_names, keep=keep),
    }


def diary_filters(
    cadre: str | None, unit: str | None, start: str | None, end: str | None
) -> dict[str, Any]:
    """The diary query's filters from the page's parameters (unit: a path below the city)."""
    path = unit.strip().strip("/") if unit else ""
    return {
        "cadre_id": parse_id(cadre),
        "unit_path": f"{CITY}/{path}" if path and path != CITY else None,
        "start": parse_day(start),
        "end": parse_day(end),
    }


def visit_export(svc: Services, staff: Staff, filters: dict[str, Any], fmt: str) -> Response:
    """The diary rows in scope matching `filters` as a CSV or XLSX file."""
    with svc.db.read() as session:
        rows, _total = repo.diary(session, unit_ids=scope_of(staff), limit=EXPORT_LIMIT, **filters)
    records = [visit_record(r, svc.nlp) for r in rows]
    return list_file(
        records,
        [column_name(k) for k in VISIT_COLUMNS],
        fmt,
        f"visits-{local_today(svc).isoformat()}",
    )


DiaryParam = Annotated[str | None, Query(max_length=128)]


@router.get("/visits")
async def visits(
    request: Request,
    staff: StaffDep,
    cadre: DiaryParam = None,
    unit: DiaryParam = None,
    start: DiaryParam = None,
    end: DiaryParam = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    fmt: Annotated[ListFormat | None, Query(alias="format")] = None,
) -> Response:
    """The visit diary, newest first, by cadre, unit and dates; `?format=csv|xlsx` exports."""
    svc = services(request)
    filters = diary_filters(cadre, unit, start, end)
    if fmt is not None:
        return await asyncio.to_thread(visit_export, svc, staff, filters, fmt)
    scope = scope_of(staff)

    def build() -> dict[str, Any]:
        with svc.db.read() as session:
            rows, total = repo.diary(
                session,
                unit_ids=scope,
                limit=listing.PAGE_SIZE,
                offset=(page - 1) * listing.PAGE_SIZE,
                **filters,
            )
            return {
                "rows": [visit_record(r, svc.nlp) for r in rows],
                "total": total,
                "cadres": repo.cadres_in(session, unit_ids=scope),
                "units": [
                    u.path.removeprefix(CITY + "/")
                    for u in tree_order(repo.units_in(session, unit_ids=scope, levels=UNIT_LEVELS))
                ],
            }

    context = await asyncio.to_thread(build)
    params = {"cadre": cadre, "unit": unit, "start": start, "end": end}
    return render(
        request,
        "visits.html",
        staff,
        **context,
        filters=params,
        columns=[column_name(k) for k in ("date", "cadre", "unit", "form", "whom", "people")],
        pager=pager("/console/visits", params, page, context["total"]),
        export_query=urlencode(given(params)),
    )


@router.get("/export/visits")
async def export_visits(
    request: Request,
    staff: StaffDep,
    fmt: Annotated[ListFormat, Query(alias="format")] = "csv",
    cadre: DiaryParam = None,
    unit: DiaryParam = None,
    start: DiaryParam = None,
    end: DiaryParam = None,
) -> Response:
    """The visit diary (the page's filters) as CSV or XLSX."""
    filters = diary_filters(cadre, unit, start, end)
    return await asyncio.to_thread(visit_export, services(request), staff, filters, fmt)
