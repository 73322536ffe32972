"""统一考核 in the console: each unit's quarter — accepted and resolved on time, median times,
satisfaction, reopenings, hand-offs answered in time — ranked best first (`GET
/console/assessment?quarter=2026Q1`, `&format=csv|xlsx` for the file). The rule is
`bot.domain.assessment`; city staff see every unit, a district's staff their own units."""

from __future__ import annotations

import asyncio
from datetime import datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from bot import texts
from bot.console.auth import Staff, render
from bot.console.overview.listing import ListFormat, column_name, list_file, local_today
from bot.console.overview.quarters import parse_quarter, quarter_picker
from bot.console.overview.scope import StaffDep, scope_of
from bot.domain import assessment
from bot.domain.figures import AssessmentFigures
from bot.domain.org import unit_label
from bot.domain.quarters import Quarter
from bot.http import Services, services
from bot.reporting.text import assessment_items
from storage import repo

router = APIRouter(prefix="/console", include_in_schema=False)
COLUMNS = (
    "rank",
    "unit",
    "requests",
    "accepted_on_time",
    "resolved_on_time",
    "median_accept_hours",
    "median_resolve_days",
    "satisfaction",
    "reopened",
    "handoffs",
    "handoffs_in_time",
)


def assessment_rows(svc: Services, staff: Staff, quarter: Quarter) -> list[dict[str, Any]]:
    """The quarter's rows for the units in her scope, ranked, as shown (shares in percent)."""
    tz = svc.engine.tz
    since = datetime.combine(quarter.start, time(0), tzinfo=tz)
    until = datetime.combine(quarter.next().start, time(0), tzinfo=tz)
    scope = scope_of(staff)
    with svc.db.read() as session:
        requests, handoffs = assessment.gather(session, since=since, until=until, unit_ids=scope)
        rows = assessment.assess(
            requests,
            handoffs,
            now=svc.engine.clock(),
            answer_within=svc.engine.limits.answer_within,
        )
        names = {}
        for row in rows:
            unit = repo.get_unit(session, unit_id=row.unit_id)
            names[row.unit_id] = unit_label(unit) if unit else str(row.unit_id)
    return [
        {
            "rank": rank,
            "unit": names[row.unit_id],
            **{name: shown for name, _label, shown in assessment_items(AssessmentFigures.of(row))},
        }
        for rank, row in enumerate(rows, start=1)
    ]


@router.get("/assessment", response_model=None)
async def assessment_page(
    request: Request,
    staff: StaffDep,
    quarter: Annotated[str | None, Query(max_length=8)] = None,
    format: ListFormat | None = None,
) -> Response:
    """The units' assessment for a quarter (default: this one), or its CSV/XLSX file."""
    svc = services(request)
    current = Quarter.of(local_today(svc))
    chosen = parse_quarter(quarter) if quarter else current
    rows = await asyncio.to_thread(assessment_rows, svc, staff, chosen)
    if format is not None:
        named = [{column_name(k): row[k] for k in COLUMNS} for row in rows]
        stem = texts.t("console.assessment.file", quarter=str(chosen))
        return list_file(named, [column_name(k) for k in COLUMNS], format, stem)
    return render(
        request,
        "assessment.html",
        staff,
        rows=rows,
        columns=COLUMNS,
        quarter=str(chosen),
        picker=quarter_picker(current),
    )
