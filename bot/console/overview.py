"""The console's overview pages: dashboard, visit diary, quarterly summaries, org and invites,
outbox; and the CSV/XLSX exports of the request and visit lists.

Every page is scoped: city staff see every unit, a district's staff their district only. The
scope goes into each query (`storage.repo.console`); a detail page of a unit out of scope is a
404. Writes (review, due date, invite, retry) are POSTs checked for the CSRF token that answer
with a redirect and a notice. The review and the due-date override run the staff API's own
functions (`bot.console.reports_api`); the quarterly files are the API's files.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, Response
from sqlmodel import Session

from bot import texts
from bot.console import charts
from bot.console.auth import Staff, check_csrf, current_staff, local_time, redirect, render
from bot.console.reports_api import (
    DueDateIn,
    ReviewIn,
    apply_due_date,
    apply_review,
    attachment,
    overview,
)
from bot.errors import ApiError
from bot.http import Services, services
from bot.nlp import mask_pii
from bot.reporting.export import MEDIA_TYPES, figure_lines, file_name, to_csv, to_xlsx
from bot.reporting.export import render as render_file
from scheduler.calendar import Quarter, due_date, report_status
from storage import repo
from storage.models import REQUEST_STATUSES, HelpRequest, OrgUnit, Outbox, User
from storage.orgtree import CITY

router = APIRouter(prefix="/console", include_in_schema=False)

PAGE_SIZE = 50
EXPORT_LIMIT = 20_000
WEEKS = 12
STALE_AFTER = timedelta(hours=24)
QUARTERS_SHOWN = 8  # the quarter picker: this quarter and the seven before it
UNIT_LEVELS = ("district", "street", "town", "township", "area")  # districts and 街道/乡镇
PUSH_STATUSES = ("pending", "sending", "sent", "dead")
ListFormat = Literal["csv", "xlsx"]
StaffDep = Annotated[Staff, Depends(current_staff)]
CSRF = [Depends(check_csrf)]


# ----------------------------------------------------------------------------- shared helpers


def scope_of(staff: Staff) -> repo.Scope:
    """The unit ids the staff member sees; None for city staff (every unit)."""
    return None if staff.is_city else staff.unit_ids


def in_scope(staff: Staff, unit_id: int | None) -> bool:
    """True when the unit is one the staff member sees."""
    return staff.is_city or (unit_id is not None and unit_id in staff.unit_ids)


def _tz(svc: Services) -> ZoneInfo:
    return ZoneInfo(svc.settings.timezone)


def _today(svc: Services) -> date:
    return svc.engine.clock().astimezone(_tz(svc)).date()


def parse_day(text: str | None) -> date | None:
    """A YYYY-MM-DD date from a form or a query, None when empty or not a date."""
    try:
        return date.fromisoformat(text.strip()) if text and text.strip() else None
    except ValueError:
        return None


def parse_id(text: str | None) -> int | None:
    """A positive id from a form or a query, None otherwise."""
    return int(text) if text and text.strip().isdigit() else None


def _label(prefix: str, code: str) -> str:
    return texts.t(f"{prefix}.{code}") if texts.has(f"{prefix}.{code}") else code


def _col(key: str) -> str:
    return texts.t("console.col." + key)


def _present(params: Mapping[str, str | None]) -> dict[str, str]:
    return {k: v for k, v in params.items() if v}


def pager(path: str, params: Mapping[str, str | None], page: int, total: int) -> dict[str, Any]:
    """A list's pager: the page, the page count, the total and the previous/next URLs."""
    pages = max(1, -(-total // PAGE_SIZE))
    kept = _present(params)

    def url(n: int) -> str:
        return f"{path}?{urlencode({**kept, 'page': n})}"

    return {
        "page": page,
        "pages": pages,
        "total": total,
        "prev": url(page - 1) if page > 1 else None,
        "next": url(page + 1) if page < pages else None,
    }


def download(content: bytes, fmt: str, name: str) -> Response:
    """A file download named `name` (Chinese names kept through RFC 5987)."""
    return Response(
        content, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": attachment(name)}
    )


def list_file(rows: Sequence[Mapping[str, object]], fmt: str, stem: str) -> Response:
    """A list as a CSV (UTF-8 with a BOM) or XLSX download named `<stem>.<fmt>`."""
    return download(to_csv(rows) if fmt == "csv" else to_xlsx(rows), fmt, f"{stem}.{fmt}")


def _require_city(staff: Staff) -> None:
    if not staff.is_city:
        raise HTTPException(403, "city staff only")


def _district_path(unit: OrgUnit) -> str:
    return "/".join(unit.path.split("/")[:2])


def tree_order(units: Sequence[OrgUnit]) -> list[OrgUnit]:
    """Units grouped under their district: each district (in id order) before its units."""
    rank = {u.path: u.id or 0 for u in units if u.level == "district"}
    return sorted(
        units, key=lambda u: (rank.get(_district_path(u), 0), u.level != "district", u.id or 0)
    )


def districts_in(session: Session, staff: Staff) -> list[OrgUnit]:
    """The district-level units the staff member sees, in tree order."""
    return [u for u in repo.district_units(session) if in_scope(staff, u.id)]


# ----------------------------------------------------------------------------- dashboard


def quarter_rows(
    session: Session, *, quarter: Quarter, units: Sequence[OrgUnit], due_days: int, today: date
) -> list[dict[str, Any]]:
    """Each unit's summary status for `quarter`, without figures: the due date, the status
    shown (submitted, accepted, returned, overdue, open), whether it is late, when submitted."""
    due = due_date(quarter, days=due_days, overrides=repo.due_date_overrides(session))
    reports = repo.reports_of_quarter(session, quarter=str(quarter))
    rows = []
    for unit in units:
        report = reports.get(unit.id or 0)
        raw = report.status if report is not None else "open"
        shown = report_status(stored=raw, due=due, today=today)
        rows.append(
            {
                "unit": unit.name,
                "due": due.isoformat(),
                "status": "returned" if raw == "returned" else shown,
                "late": shown == "overdue",
                "submitted_at": report.submitted_at if report is not None else None,
            }
        )
    return rows


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
                    [(_label("status", s), by_status.get(s, 0)) for s in REQUEST_STATUSES],
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
                tz=_tz(svc),
                due_days=svc.settings.report_due_days,
            )

    return render(request, "dashboard.html", staff, **await asyncio.to_thread(build))


# ----------------------------------------------------------------------------- visit diary


def visit_record(row: repo.VisitRow) -> dict[str, object]:
    """A diary entry as a list row (whom and notes with phone and ID numbers masked)."""
    visit = row.visit
    return {
        _col("date"): visit.date.isoformat(),
        _col("cadre"): row.cadre.name or "",
        _col("unit"): row.unit.path.removeprefix(CITY + "/"),
        _col("form"): visit.visit_form or texts.t("visit.other_form"),
        _col("district"): visit.district or "",
        _col("street"): visit.street or "",
        _col("community"): visit.community or "",
        _col("whom"): mask_pii(visit.whom),
        _col("people"): visit.people,
        _col("focus"): "、".join(visit.focus),
        _col("categories"): texts.category_labels(visit.categories),
        _col("notes"): mask_pii(visit.notes),
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
    records = [visit_record(r) for r in rows]
    return list_file(records, fmt, f"visits-{_today(svc).isoformat()}")


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
                session, unit_ids=scope, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, **filters
            )
            return {
                "rows": [visit_record(r) for r in rows],
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
        columns=[_col(k) for k in ("date", "cadre", "unit", "form", "whom", "people")],
        pager=pager("/console/visits", params, page, context["total"]),
        export_query=urlencode(_present(params)),
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


# ----------------------------------------------------------------------------- request export


def request_record(request: HelpRequest, assignee: User | None, tz: ZoneInfo) -> dict[str, object]:
    """A help request as a list row (the phone and the need's phone/ID numbers masked)."""
    return {
        _col("code"): request.code,
        _col("status"): _label("status", request.status),
        _col("primary"): texts.CATEGORY_LABELS.get(request.primary, request.primary),
        _col("categories"): texts.category_labels(request.categories),
        _col("crisis"): texts.t("console.yes" if request.crisis else "console.no"),
        _col("district"): request.district or "",
        _col("street"): request.street or "",
        _col("community"): request.community or "",
        _col("need"): mask_pii(request.need),
        _col("contact"): _label("console.contact", request.contact),
        _col("phone"): mask_pii(request.phone) if request.phone else "",
        _col("assignee"): (assignee.name or "") if assignee is not None else "",
        _col("created"): local_time(request.created_at, tz),
        _col("resolved"): local_time(request.resolved_at, tz),
    }


@router.get("/export/requests")
async def export_requests(
    request: Request,
    staff: StaffDep,
    fmt: Annotated[ListFormat, Query(alias="format")] = "csv",
    status: Annotated[str | None, Query(max_length=16)] = None,
    category: Annotated[str | None, Query(max_length=16)] = None,
    district: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """The help requests in scope (the queue's filters: status, category, district) as CSV or
    XLSX, newest first, phones masked."""
    svc = services(request)
    tz = _tz(svc)

    def build() -> Response:
        with svc.db.read() as session:
            rows = repo.list_help_requests(
                session,
                status=status if status in REQUEST_STATUSES else None,
                category=category if category in texts.CATEGORY_LABELS else None,
                district=district or None,
                unit_ids=scope_of(staff),
                limit=EXPORT_LIMIT,
            )
            records = [request_record(r, who, tz) for r, who in rows]
        return list_file(records, fmt, f"requests-{_today(svc).isoformat()}")

    return await asyncio.to_thread(build)


# ----------------------------------------------------------------------------- quarters


def parse_quarter(text: str) -> Quarter:
    """The quarter in a path or query ("2026Q1"), else a 404."""
    try:
        return Quarter.parse(text)
    except ValueError:
        raise HTTPException(404, "no such quarter") from None


def unit_page(quarter: Quarter, unit: str) -> str:
    """The URL of a district's summary page."""
    return f"/console/quarters/{quarter}/{quote(unit)}"


@router.get("/quarters")
async def quarters(
    request: Request, staff: StaffDep, quarter: Annotated[str | None, Query(max_length=8)] = None
) -> Response:
    """The summary status of each district in scope for a chosen quarter (default: this one
    and the one before)."""
    svc = services(request)
    today = _today(svc)
    current = Quarter.of(today)
    chosen = [parse_quarter(quarter)] if quarter else [current, current.previous()]

    def build() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            units = districts_in(session, staff)
            due_days = svc.settings.report_due_days
            sections = []
            for q in chosen:
                rows = quarter_rows(session, quarter=q, units=units, due_days=due_days, today=today)
                for row in rows:
                    row["url"] = unit_page(q, row["unit"])
                due = due_date(q, days=due_days, overrides=repo.due_date_overrides(session))
                sections.append({"quarter": str(q), "due": due.isoformat(), "rows": rows})
            return sections

    picker = [current]
    while len(picker) < QUARTERS_SHOWN:
        picker.append(picker[-1].previous())
    return render(
        request,
        "quarters.html",
        staff,
        sections=await asyncio.to_thread(build),
        picker=[str(q) for q in picker],
        chosen=str(chosen[0]) if quarter else "",
        due_days=svc.settings.report_due_days,
    )


def unit_overview(
    svc: Services, staff: Staff, quarter: Quarter, unit: str
) -> dict[str, Any] | None:
    """The API's `quarter_overview` of one district in scope; None for a unit that is not a
    district or is out of scope."""
    with svc.db.read() as session:
        found = repo.find_district(session, name=unit)
        if found is None or not in_scope(staff, found.id):
            return None
        return overview(svc, session, quarter, found.name)


@router.get("/quarters/{quarter}/{unit}")
async def quarter_unit(request: Request, staff: StaffDep, quarter: str, unit: str) -> Response:
    """One district's compiled figures for the quarter, with the review buttons and the due
    date form (city staff) and the XLSX and DOCX downloads."""
    svc = services(request)
    parsed = parse_quarter(quarter)
    found = await asyncio.to_thread(unit_overview, svc, staff, parsed, unit)
    if found is None:
        message = texts.t("console.quarter.not_found", unit=unit, quarter=str(parsed))
        page = render(
            request, "quarter_unit.html", staff, quarter=str(parsed), entry=None, message=message
        )
        page.status_code = 404
        return page
    entry = found["units"][0]
    figures = entry["figures"]
    sections: dict[str, list[tuple[object, ...]]] = {}
    for section, *line in figure_lines(figures):
        sections.setdefault(section, []).append(tuple(line))
    return render(
        request,
        "quarter_unit.html",
        staff,
        quarter=str(parsed),
        entry=entry,
        status=_shown_status(entry),
        sections=sections,
        examples=figures["examples"],
        needs_chart=charts.bar_chart(
            texts.t("report.section.needs"),
            [(n["label"], n["total"]) for n in figures["needs"]],
            ident="needs",
        ),
        base=unit_page(parsed, entry["unit"]),
    )


def _shown_status(entry: Mapping[str, Any]) -> str:
    return "returned" if entry["review"] == "returned" else str(entry["status"])


@router.get("/quarters/{quarter}/{unit}/export")
async def quarter_unit_file(
    request: Request,
    staff: StaffDep,
    quarter: str,
    unit: str,
    fmt: Annotated[Literal["xlsx", "docx"], Query(alias="format")] = "xlsx",
) -> Response:
    """One district's quarterly summary as the API's XLSX or DOCX file."""
    svc = services(request)
    parsed = parse_quarter(quarter)
    found = await asyncio.to_thread(unit_overview, svc, staff, parsed, unit)
    if found is None:
        raise HTTPException(404, "no such unit")
    name = found["units"][0]["unit"]
    content = await asyncio.to_thread(render_file, found, fmt=fmt, unit=name)
    return download(content, fmt, file_name(str(parsed), name, fmt))


@router.post("/quarters/{quarter}/{unit}/review", dependencies=CSRF)
async def review_unit(
    request: Request,
    staff: StaffDep,
    quarter: str,
    unit: str,
    action: Annotated[Literal["accept", "return"], Form()],
    comment: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """City staff accept or return a submitted summary: the API's review (a return is told to
    the unit's cadres)."""
    _require_city(staff)
    svc = services(request)
    parsed = parse_quarter(quarter)
    body = ReviewIn(accept=action == "accept", comment=comment.strip() or None)
    names = {"unit": unit, "quarter": str(parsed)}
    try:
        out = await asyncio.to_thread(apply_review, svc, parsed, unit, body, svc.engine.clock())
    except ApiError as problem:
        if problem.status != 409:
            raise HTTPException(404, "no such unit") from None
        with svc.db.read() as session:
            rows = quarter_rows(
                session,
                quarter=parsed,
                units=[u for u in districts_in(session, staff) if u.name == unit],
                due_days=svc.settings.report_due_days,
                today=_today(svc),
            )
        state = _label("report.status", rows[0]["status"]) if rows else ""
        message = texts.t("console.review.not_submitted", status=state, **names)
        return redirect(request, unit_page(parsed, unit), message=message, kind="error")
    key = "console.review.accepted" if body.accept else "console.review.returned"
    message = texts.t(key, n=out.notified, **names)
    return redirect(request, unit_page(parsed, out.unit), message=message)


@router.post("/quarters/{quarter}/due-date", dependencies=CSRF)
async def override_due_date(
    request: Request,
    staff: StaffDep,
    quarter: str,
    due: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=255)] = "",
    back: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """City staff set the quarter's due date, or (empty) remove the override: the API's PUT.
    `back`: the district whose page to return to (else the quarter's status page)."""
    _require_city(staff)
    svc = services(request)
    parsed = parse_quarter(quarter)
    day = parse_day(due)
    if due.strip() and day is None:
        raise HTTPException(422, "the due date must read YYYY-MM-DD")
    body = DueDateIn(due_date=day, note=note.strip() or None)
    out = await asyncio.to_thread(apply_due_date, svc, parsed, body, svc.engine.clock())
    key = "console.due.set" if day else "console.due.cleared"
    url = unit_page(parsed, back) if back else f"/console/quarters?quarter={parsed}"
    return redirect(request, url, message=texts.t(key, quarter=str(parsed), due=out.due_date))


# ----------------------------------------------------------------------------- org and invites


def org_data(session: Session, staff: Staff) -> dict[str, Any]:
    """Districts and their 街道/乡镇 with cadre counts (a unit counts the cadres bound to it and
    below it), the cadres, and the invites, within the staff member's scope."""
    scope = scope_of(staff)
    units = tree_order(repo.units_in(session, unit_ids=scope, levels=UNIT_LEVELS))
    cadres = repo.cadres_in(session, unit_ids=scope)
    counts: Counter[str] = Counter()
    for row in cadres:
        parts = row.unit.path.split("/")
        for depth in range(2, len(parts) + 1):
            counts["/".join(parts[:depth])] += 1
    districts: dict[str, dict[str, Any]] = {}
    for unit in units:
        entry = {
            "unit": unit,
            "label": unit.path.removeprefix(CITY + "/"),
            "cadres": counts[unit.path],
        }
        if unit.level == "district":
            districts[unit.path] = {**entry, "children": []}
        elif _district_path(unit) in districts:
            districts[_district_path(unit)]["children"].append(entry)
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


# ----------------------------------------------------------------------------- outbox


@router.get("/outbox")
async def outbox(
    request: Request,
    staff: StaffDep,
    status: Annotated[str | None, Query(max_length=16)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Pushes and their delivery state, newest first, by status; dead letters stand out and
    can be retried. A district's staff see the pushes to cadres bound within the district."""
    svc = services(request)
    chosen = status if status in PUSH_STATUSES else None
    scope = scope_of(staff)

    def build() -> dict[str, Any]:
        with svc.db.read() as session:
            rows, total = repo.pushes(
                session,
                unit_ids=scope,
                status=chosen,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
            )
            return {
                "rows": [
                    (r.push, r.user, mask_pii(r.push.text), mask_pii(r.push.last_error or ""))
                    for r in rows
                ],
                "total": total,
                "counts": repo.push_counts(session, unit_ids=scope),
            }

    context = await asyncio.to_thread(build)
    return render(
        request,
        "outbox.html",
        staff,
        **context,
        status=chosen or "",
        statuses=[(s, _label("console.push", s)) for s in PUSH_STATUSES],
        pager=pager("/console/outbox", {"status": chosen}, page, context["total"]),
    )


@router.post("/outbox/{push_id}/retry", dependencies=CSRF)
async def retry_push(
    request: Request,
    staff: StaffDep,
    push_id: int,
    status: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Set a dead or pending push back to pending, due now, and hand it to the dispatcher;
    the notice says whether it went out."""
    svc = services(request)
    scope = scope_of(staff)
    back = f"/console/outbox?{urlencode({'status': status})}" if status else "/console/outbox"

    def requeue() -> tuple[str | None, int]:
        with svc.db.transaction() as session:
            push = repo.push_in_scope(session, push_id=push_id, unit_ids=scope)
            if push is None:
                raise HTTPException(404, "no such push")
            done = repo.requeue_push(session, push=push, now=svc.engine.clock())
            return (None if done else push.status), push.attempts

    refused, attempts = await asyncio.to_thread(requeue)
    if refused is not None:
        state = _label("console.push", refused)
        message = texts.t("console.retry.refused", id=push_id, status=state)
        return redirect(request, back, message=message, kind="error")
    await svc.channels.dispatcher.deliver([push_id])

    def outcome() -> Outbox | None:
        with svc.db.read() as session:
            return repo.push_in_scope(session, push_id=push_id, unit_ids=scope)

    push = await asyncio.to_thread(outcome)
    if push is not None and push.status == "sent":
        return redirect(request, back, message=texts.t("console.retry.sent", id=push_id))
    if push is None or push.attempts == attempts:  # not tried: quiet hours hold it till 08:00
        return redirect(request, back, message=texts.t("console.retry.waiting", id=push_id))
    error = mask_pii(push.last_error or push.status)
    message = texts.t("console.retry.failed", id=push_id, error=error)
    return redirect(request, back, message=message, kind="error")
