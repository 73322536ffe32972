"""Staff scoping on every staff endpoint: each GET page and export of the console, walked with its
path parameters filled from data, never shows a district's staff another district's marker; every
`/api/v1` staff route needs the admin token, which is city level and sees every district."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from docx import Document
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from openpyxl import load_workbook
from sqlmodel import func, select

from bot.config import Settings
from bot.engine import Engine
from bot.headers import CONSOLE_CSP
from bot.nlp import NLP
from storage import repo
from storage.db import Database
from storage.models import HelpRequest, Invite, Outbox
from tests.conftest import ADMIN, API, Clock, served
from tests.console.sessions import logged_in, make_staff
from tests.factories import help_request
from tests.reporting.dataset import at, build, unit

MARKER = "海淀秘密标记"  # in 海淀区's request, visit and push only
OTHER_CADRE = "海淀干部"  # the 海淀区 cadre of the dataset
STATIC = "console.css"
# Query strings tried on each console GET route (besides none): filters asking for 海淀区 and
# every export format.
QUERIES: dict[str, tuple[str, ...]] = {
    "/console/requests": ("district=海淀区", "q=海淀", "status=new"),
    "/console/visits": ("unit=海淀区", f"cadre={OTHER_CADRE}", "format=csv", "format=xlsx",
                        "unit=海淀区&format=csv", "unit=海淀区&format=xlsx"),
    "/console/export/visits": ("format=csv", "format=xlsx", "unit=海淀区&format=csv",
                               f"cadre={OTHER_CADRE}&format=xlsx"),
    "/console/export/requests": ("format=csv", "format=xlsx", "district=海淀区&format=csv",
                                 "district=海淀区&format=xlsx"),
    "/console/quarters": ("quarter=2026Q1",),
    "/console/quarters/{quarter}/{unit}/export": ("format=xlsx", "format=docx"),
    "/console/outbox": ("status=dead", "status=pending"),
    "/console/login": ("next=/console/requests",),
}  # fmt: skip


@dataclass
class Walk:
    """The app, a client of it, and the values to fill path parameters with."""

    app: FastAPI
    http: httpx.AsyncClient
    fill: dict[str, list[str]]
    database: Database
    ids: dict[str, int]  # 海淀区's unit, cadre, request, push and 转人工 thread
    thread: str  # the 转人工 thread's code


@pytest.fixture
async def walk(
    settings: Settings, database: Database, nlp: NLP, engine: Engine, clock: Clock
) -> AsyncIterator[Walk]:
    """The app on the reporting dataset plus 海淀区 rows carrying MARKER, with a city account
    (`city`) and a 朝阳区 account (`chaoyang`)."""
    clock.now = at(2026, 4, 12)
    with database.transaction() as session:
        data = build(session)
        haidian = unit(session, "海淀区")
        request = help_request(
            session,
            place="海淀区",
            need=f"{MARKER}：想找工作",
            requester_id=data.other_cadre.id,
            now=at(2026, 3, 3),
        )
        repo.create_visit(
            session,
            cadre_id=data.other_cadre.id or 0,
            unit_id=haidian.id or 0,
            on=date(2026, 3, 3),
            district="海淀区",
            street=None,
            community=None,
            visit_form="一对一访谈",
            whom=MARKER,
            people=1,
            focus=[],
            notes=f"{MARKER}的走访记录",
            primary="jobs",
            categories=["jobs"],
            help_request_id=None,
            now=at(2026, 3, 3),
        )
        pushed = repo.enqueue(
            session, user_id=data.other_cadre.id or 0, text=f"{MARKER}提醒", now=at(2026, 4, 11)
        )
        assert pushed is not None
        pushed.status = "dead"
        session.add(pushed)
        session.flush()
        thread = repo.create_thread(
            session,
            user_id=data.other_cadre.id or 0,
            unit_id=haidian.id or 0,
            channel="api",
            now=at(2026, 4, 11),
        )
        repo.add_message(
            session, thread=thread, author="resident", text=f"{MARKER}：转人工", now=at(2026, 4, 11)
        )
        codes = [request.code, thread.code]
        own = repo.list_help_requests(session, district="朝阳区", limit=1, offset=0)
        codes += [r.code for r, _cadre in own]
        push_ids = [str(pushed.id)]
        ids = {
            "unit": haidian.id or 0,
            "cadre": data.other_cadre.id or 0,
            "request": request.id or 0,
            "push": pushed.id or 0,
            "thread": thread.id or 0,
        }
        thread_code = thread.code
    make_staff(database, "city", "北京市")
    make_staff(database, "chaoyang", "朝阳区")
    quiet = settings.model_copy(update={"rate_ip_per_minute": 0, "rate_user_per_minute": 0})
    fill = {
        "code": codes,
        "quarter": ["2026Q1"],
        "unit": ["海淀区", "朝阳区"],
        "name": [STATIC],
        "push_id": push_ids,
    }
    async with served(quiet, engine) as app:
        yield Walk(
            app=app.app, http=app.http, fill=fill, database=database, ids=ids, thread=thread_code
        )


def routes(app: FastAPI, prefix: str, method: str) -> list[str]:
    """The paths of the app's `method` routes under `prefix` (included routers flattened)."""
    return sorted(
        {
            str(context.path)
            for context in iter_route_contexts(app.routes)
            if str(context.path).startswith(prefix)
            and method in (getattr(context.original_route, "methods", None) or ())
        }
    )


def get_routes(app: FastAPI, prefix: str) -> list[str]:
    """The paths of the app's GET routes under `prefix`."""
    return routes(app, prefix, "GET")


def urls(path: str, fill: dict[str, list[str]]) -> list[str]:
    """`path` with its parameters filled in every combination, plus QUERIES' query strings."""
    names = re.findall(r"\{(\w+)\}", path)
    found = []
    for values in itertools.product(*(fill[name] for name in names)):
        url = path
        for name, value in zip(names, values, strict=True):
            url = url.replace("{" + name + "}", value)
        found += [url] + [f"{url}?{query}" for query in QUERIES.get(path, ())]
    return found


def readable(response: httpx.Response) -> str:
    """A response's text: HTML/CSV as is, XLSX cells and DOCX paragraphs and tables extracted."""
    kind = response.headers.get("content-type", "")
    if "spreadsheetml" in kind:
        book = load_workbook(io.BytesIO(response.content), read_only=True)
        return "\n".join(
            str(cell)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
            if cell is not None
        )
    if "wordprocessingml" in kind:
        document = Document(io.BytesIO(response.content))
        cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
        return "\n".join([p.text for p in document.paragraphs] + cells)
    if "csv" in kind:
        return "\n".join(",".join(row) for row in csv.reader(io.StringIO(response.text)))
    return response.text


async def visit_all(walk: Walk) -> dict[str, str]:
    """GET every console URL as the logged-in account; each answer's readable text by URL."""
    seen: dict[str, str] = {}
    for path in get_routes(walk.app, "/console"):
        for url in urls(path, walk.fill):
            response = await walk.http.get(url)
            assert response.status_code < 500, (url, response.status_code)
            seen[url] = readable(response)
    return seen


async def test_every_console_get_route_is_walked(walk: Walk) -> None:
    """Each console GET route has its path parameters in the walk's data (a new route with a new
    parameter must be added here)."""
    paths = get_routes(walk.app, "/console")
    assert len(paths) > 10  # 13 today
    for path in paths:
        assert urls(path, walk.fill), path


async def test_district_staff_never_see_another_district(walk: Walk) -> None:
    """A 朝阳区 account walks every console page and export: the 海淀区 markers never appear,
    though the same walk as city staff finds them (so the walk reaches the data)."""
    await logged_in(walk.http, "city")
    as_city = await visit_all(walk)
    shown_to_city = [url for url, text in as_city.items() if MARKER in text]
    assert any(u.startswith("/console/requests/") for u in shown_to_city), shown_to_city
    assert any("format=xlsx" in u for u in shown_to_city), shown_to_city
    assert any(OTHER_CADRE in text for text in as_city.values())

    walk.http.cookies.clear()
    await logged_in(walk.http, "chaoyang")
    as_district = await visit_all(walk)
    leaks = [url for url, text in as_district.items() if MARKER in text or OTHER_CADRE in text]
    assert leaks == []
    assert len(as_district) == len(as_city) > 40


JSON_ROUTES = ("/console/urgent",)  # polled by bot/console/static/urgent.js


async def test_console_pages_need_a_login(walk: Walk) -> None:
    """Without a session every console page but the login form and static files redirects to
    the login form, and shows no data; the JSON the pages' script polls answers 401."""
    paths = get_routes(walk.app, "/console")
    assert len(paths) > 10  # 13 today
    for path in paths:
        if path in ("/console/login", "/console/static/{name}"):
            continue
        for url in urls(path, walk.fill):
            response = await walk.http.get(url)
            if path in JSON_ROUTES:
                assert response.status_code == 401, url
                assert response.json() == {"error": "login_required"}
                continue
            assert response.status_code == 303, url
            assert response.headers["location"].startswith("/console/login"), url
            assert MARKER not in response.text


def staff_api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every `/api/v1` route but the messages channel's."""
    return sorted(
        (method, path)
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        for path in routes(app, "/api/v1/", method)
        if not path.startswith("/api/v1/messages")
    )


async def test_every_staff_api_route_needs_the_admin_token(walk: Walk) -> None:
    """No token, a wrong one, or the resident API's token: 401 on every staff API route."""
    routes = staff_api_routes(walk.app)
    assert len(routes) >= 8, routes
    for method, path in routes:
        url = urls(path, {**walk.fill, "point_id": ["1"]})[0]
        for headers in ({}, {"Authorization": "Bearer wrong"}, API):
            response = await walk.http.request(method, url, headers=headers, json={})
            assert response.status_code == 401, (method, url, headers)
            assert MARKER not in response.text


async def test_admin_token_is_city_level(walk: Walk) -> None:
    """The admin token is the city's: its lists cover every district, 海淀区's marker included
    (documented in docs/operations.md; district staff use the console)."""
    requests = await walk.http.get("/api/v1/help-requests", headers=ADMIN)
    visits = await walk.http.get("/api/v1/visits", headers=ADMIN, params={"limit": 500})
    outbox = await walk.http.get("/api/v1/outbox", headers=ADMIN)
    assert {r["district"] for r in requests.json()} >= {"朝阳区", "海淀区"}
    assert {v["district"] for v in visits.json()} >= {"朝阳区", "海淀区"}
    assert any(MARKER in p["text"] for p in outbox.json())


def actions(walk: Walk) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each console POST route (but login and logout): a URL and a form aimed at 海淀区."""
    code = walk.fill["code"][0]
    return {
        "/console/requests/{code}/assign": (
            f"/console/requests/{code}/assign",
            {"cadre_id": str(walk.ids["cadre"]), "note": "x"},
        ),
        "/console/requests/{code}/status": (
            f"/console/requests/{code}/status",
            {"status": "resolved", "note": "x"},
        ),
        "/console/quarters/{quarter}/{unit}/review": (
            "/console/quarters/2026Q1/海淀区/review",
            {"action": "accept"},
        ),
        "/console/quarters/{quarter}/{unit}/submit": (
            "/console/quarters/2026Q1/北京市/submit",
            {"remark": "x"},
        ),
        "/console/quarters/{quarter}/due-date": (
            "/console/quarters/2026Q1/due-date",
            {"due": "2026-05-01", "back": "海淀区"},
        ),
        "/console/org/invites": (
            "/console/org/invites",
            {"unit": str(walk.ids["unit"]), "name": "x"},
        ),
        "/console/outbox/{push_id}/retry": (f"/console/outbox/{walk.ids['push']}/retry", {}),
        "/console/requests/{code}/labels": (
            f"/console/requests/{code}/labels",
            {"primary": "health", "crisis": "1"},
        ),
        "/console/api/requests/{code}/labels": (  # JSON, the token in X-CSRF-Token
            f"/console/api/requests/{code}/labels",
            {"crisis": True},
        ),
        "/console/inbox/{code}/reply": (f"/console/inbox/{walk.thread}/reply", {"text": "x"}),
        "/console/inbox/{code}/end": (f"/console/inbox/{walk.thread}/end", {}),
        "/console/api/inbox/{code}/reply": (
            f"/console/api/inbox/{walk.thread}/reply",
            {"text": "x"},
        ),
        "/console/api/inbox/{code}/end": (f"/console/api/inbox/{walk.thread}/end", {}),
        "/console/requests/{code}/take": (f"/console/requests/{code}/take", {"text": "x"}),
        "/console/api/requests/{code}/take": (
            f"/console/api/requests/{code}/take",
            {"text": "x"},
        ),
    }


def _invites(walk: Walk) -> int:
    with walk.database.read() as session:
        count: int = session.exec(
            select(func.count()).select_from(Invite).where(Invite.unit_id == walk.ids["unit"])
        ).one()
        return count


async def test_district_staff_cannot_act_on_another_district(walk: Walk) -> None:
    """Every console action, posted by a 朝阳区 account at 海淀区's request, push, unit and
    report, is refused and changes nothing."""
    planned = actions(walk)
    posted = [
        p
        for p in routes(walk.app, "/console", "POST")
        if p not in ("/console/login", "/console/logout")
    ]
    assert sorted(planned) == posted  # a new action must be added to `actions`
    invites_before = _invites(walk)
    csrf = await logged_in(walk.http, "chaoyang")
    for url, form in planned.values():
        if url.startswith("/console/api/"):
            response = await walk.http.post(url, json=form, headers={"X-CSRF-Token": csrf})
        else:
            response = await walk.http.post(url, data={**form, "csrf_token": csrf})
        assert response.status_code in (303, 403, 404), (url, response.status_code)
    with walk.database.read() as session:
        request = session.get(HelpRequest, walk.ids["request"])
        push = session.get(Outbox, walk.ids["push"])
        assert request is not None and push is not None
        assert (request.status, request.assigned_to) == ("new", None)
        assert (request.categories, request.crisis) == (["jobs"], False)
        assert push.status == "dead"
        thread = repo.thread_by_code(session, code=walk.thread)
        assert thread is not None and thread.status == "waiting"
        assert len(repo.thread_messages(session, thread=thread)) == 1
    assert _invites(walk) == invites_before


# An inline style or script (a <script src=…> of the console's own static files is allowed).
INLINE = re.compile(r"<style|<script(?![^>]*\ssrc=)|\sstyle=|\son[a-z]+=", re.IGNORECASE)


async def test_every_console_page_has_nothing_its_policy_forbids(walk: Walk) -> None:
    """Every HTML answer of the console (walked as the city's staff) carries the console's
    Content-Security-Policy and holds no inline style or script and no event attribute."""
    await logged_in(walk.http, "city")
    pages = 0
    for path in get_routes(walk.app, "/console"):
        for url in urls(path, walk.fill):
            response = await walk.http.get(url)
            assert response.headers["content-security-policy"] == CONSOLE_CSP, url
            if response.headers.get("content-type", "").startswith("text/html"):
                pages += 1
                assert not INLINE.search(response.text), (url, INLINE.search(response.text))
    assert pages > 10
