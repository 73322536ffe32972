"""The console's dashboard: requests by category, district and status, visits per week (SVG
charts), the headline numbers, and last quarter's summaries with the overdue ones."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from sqlmodel import Session

from bot import texts
from bot.console import charts
from bot.console.auth import render
from bot.console.overview.listing import code_label, local_zone
from bot.console.overview.quarters import quarter_rows
from bot.console.overview.scope import StaffDep, districts_in, scope_of
from bot.domain.quarters import Quarter
from bot.http import services
from storage import repo
from storage.models import REQUEST_STATUSES, OrgUnit

router = APIRouter(prefix="/console", include_in_schema=False)

WEEKS = 12
STALE_AFTER = timedelta(hours=24)


def weekly_visits(session: Session, *, scope: repo.Scope, today: date) -> list[tuple[str, int]]:
    """Visits per week (weeks from Monday) over the last `WEEKS` weeks, as ('03-16', n)."""
    first = today - timedelta(days=today.weekday(), weeks=WEEKS - 1)
    weeks: Counter[date] = Counter()
    for day, n in repo.visits_per_day(session, unit_ids=scope, start=first, end=today).items():
        weeks[day - timedelta(days=day.weekday())] += n
    starts = [first + timedelta(weeks=w) for w in range(WEEKS)]
    return [(d.strftime("%m-%d"), weeks[d]) for d in starts]


def dashboard_data(
    session: Session,
    *,
    scope: repo.Scope,
    districts: Sequence[OrgUnit],
    now: datetime,
    tz: ZoneInfo,
    due_days: int,
) -> dict[str, Any]:
    """The dashboard within `scope`: its four SVG charts and the headline numbers."""
    today = now.astimezone(tz).date()
    by_primary = repo.count_requests_by(session, field="primary", unit_ids=scope)
    by_district = repo.count_requests_by(session, field="district", unit_ids=scope)
    by_status = repo.count_requests_by(session, field="status", unit_ids=scope)
    known = list(texts.CATEGORY_LABELS)
    categories = known + sorted(str(c) for c in by_primary if c not in known)
    districts_bars = sorted(
        ((name or texts.t("console.no_district"), n) for name, n in by_district.items()),
        key=lambda pair: (-pair[1], pair[0]),
    )
    weeks = weekly_visits(session, scope=scope, today=today)
    last = Quarter.of(today).previous()
    summaries = quarter_rows(session, quarter=last, units=districts, due_days=due_days, today=today)
    return {
        "headline": repo.request_headline(
            session, unit_ids=scope, now=now, stale_after=STALE_AFTER
        ),
        "visits_total": sum(n for _, n in weeks),
        "corrections": repo.count_corrections(session),
        "weeks": WEEKS,
        "summary_quarter": str(last),
        "summaries": summaries,
        "overdue": [row["unit"] for row in summaries if row["late"]],
        "charts": [
            (title, chart(title, bars, ident=ident))
            for title, bars, ident, chart in (
                (
                    texts.t("console.chart.by_category"),
                    [(texts.CATEGORY_LABELS.get(c, c), by_primary.get(c, 0)) for c in categories],
                    "by-category",
                    charts.bar_chart,
                ),
                (
                    texts.t("console.chart.by_district"),
                    districts_bars,
                    "by-district",
                    charts.bar_chart,
                ),
                (
                    texts.t("console.chart.by_status"),
                    [(code_label("status", s), by_status.get(s, 0)) for s in REQUEST_STATUSES],
                    "by-status",
                    charts.bar_chart,
                ),
                (
                    texts.t("console.chart.visits_weekly", weeks=WEEKS),
                    weeks,
                    "visits-weekly",
                    charts.column_chart,
                ),
            )
        ],
    }


@router.get("")
async def dashboard(request: Request, staff: StaffDep) -> Response:
    """The dashboard: requests by category, district and status, visits per week, headlines."""
    svc = services(request)

    def build() -> dict[str, Any]:
        with svc.db.read() as session:
            return dashboard_data(
                session,
                scope=scope_of(staff),
                districts=districts_in(session, staff),
                now=svc.engine.clock(),
                tz=local_zone(svc),
                due_days=svc.settings.report_due_days,
            )

    return render(request, "dashboard.html", staff, **await asyncio.to_thread(build))
