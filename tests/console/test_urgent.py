"""Urgent cases nobody has accepted (bot/domain/urgency.py) in the console: pinned at the top of
the queue and marked, counted in the navigation of every page within the staff member's units,
and the JSON count the pages' script polls (`GET /console/urgent`, login required)."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from storage.db import Database
from tests.console.sessions import (
    T0,
    bind_cadre,
    file_request,
    logged_in,
    make_staff,
    take_request,
)

PAGES = (
    "/console",
    "/console/requests",
    "/console/visits",
    "/console/quarters",
    "/console/org",
    "/console/outbox",
)
BADGE = re.compile(r'<a id="urgent-badge"[^>]*>([^<]*)</a>')


def badge(html: str) -> str | None:
    """The navigation's urgent badge text, or None when it is hidden (or absent)."""
    found = BADGE.search(html)
    if found is None or " hidden>" in found.group(0):
        return None
    return found.group(1)


def codes_in_order(html: str) -> list[str]:
    """The request codes the queue lists, top to bottom."""
    return re.findall(r'<td class="code"><a href="/console/requests/([A-Z0-9]{6})"', html)


@pytest.fixture
def cases(database: Database) -> dict[str, str]:
    """In 朝阳区: an old unaccepted urgent case, an urgent case already taken, two ordinary
    newer ones; in 海淀区: one unaccepted urgent case. Staff of both districts and the city."""
    codes = {
        "cy_waiting": file_request(
            database, "朝阳区", "双井街道", crisis=True, need="他拿刀威胁我", at=T0
        ),
        "cy_taken": file_request(
            database,
            "朝阳区",
            "劲松街道",
            requester="woman-2",
            crisis=True,
            need="丈夫喝酒后动手",
            at=T0 + timedelta(hours=1),
        ),
        "cy_jobs": file_request(
            database, "朝阳区", "双井街道", requester="woman-3", at=T0 + timedelta(hours=2)
        ),
        "cy_health": file_request(
            database,
            "朝阳区",
            requester=None,
            categories=("health",),
            need="孩子生病没钱治",
            at=T0 + timedelta(hours=3),
        ),
        "hd_waiting": file_request(
            database,
            "海淀区",
            "中关村街道",
            requester="woman-4",
            crisis=True,
            need="被关在家里不让出门",
            at=T0 + timedelta(hours=4),
        ),
    }
    cadre = bind_cadre(database, "朝阳区/劲松街道", "张秀英", "cadre-js")
    take_request(database, codes["cy_taken"], cadre)
    make_staff(database, "chaoyang", "朝阳区")
    make_staff(database, "haidian", "海淀区")
    make_staff(database, "city", "北京市")
    make_staff(database, "shunyi", "顺义区")
    return codes


async def test_unaccepted_urgent_cases_are_pinned_first_and_marked(
    client: httpx.AsyncClient, cases: dict[str, str]
) -> None:
    """The queue lists the unaccepted urgent case first though it is the oldest, marked and
    highlighted; a taken urgent case keeps its place by date with the plain 紧急 mark."""
    await logged_in(client, "chaoyang")
    page = (await client.get("/console/requests")).text
    assert codes_in_order(page) == [
        cases[k] for k in ("cy_waiting", "cy_health", "cy_jobs", "cy_taken")
    ]
    rows = re.findall(
        r'<tr( class="waiting")?>\s*<td class="code"><a href="/console/requests/(\w+)">'
        r"\w+</a>(.*?)</td>",
        page,
        re.S,
    )
    marks = {code: (bool(waiting), cell) for waiting, code, cell in rows}
    assert marks[cases["cy_waiting"]] == (True, ' <span class="badge urgent">紧急·待受理</span>')
    assert marks[cases["cy_taken"]] == (False, ' <span class="badge urgent">紧急</span>')
    assert marks[cases["cy_jobs"]] == (False, "")
    assert "紧急且尚无人受理的求助排在最前" in page


async def test_pinned_first_within_filters_and_for_the_city(
    client: httpx.AsyncClient, cases: dict[str, str]
) -> None:
    """Filters keep the pinning: the city's queue puts both districts' unaccepted urgent cases
    (newest first among them) above everything, and the 只看紧急 filter does too."""
    await logged_in(client, "city")
    everything = codes_in_order((await client.get("/console/requests")).text)
    assert everything[:2] == [cases["hd_waiting"], cases["cy_waiting"]]
    urgent = codes_in_order((await client.get("/console/requests?urgent=1")).text)
    assert urgent == [cases["hd_waiting"], cases["cy_waiting"], cases["cy_taken"]]


@pytest.mark.parametrize(
    ("username", "shown"), [("chaoyang", "紧急 1"), ("haidian", "紧急 1"), ("city", "紧急 2")]
)
async def test_every_page_shows_the_count_of_her_units(
    client: httpx.AsyncClient, cases: dict[str, str], username: str, shown: str
) -> None:
    """Every page's navigation counts the unaccepted urgent cases of her units only (a taken one
    is not counted); the badge links to the queue."""
    await logged_in(client, username)
    for path in PAGES:
        page = await client.get(path)
        assert page.status_code == 200, path
        assert badge(page.text) == shown, path
        assert re.search(r'<a id="urgent-badge"[^>]*href="/console/requests"', page.text)
    own = cases["hd_waiting" if username == "haidian" else "cy_taken"]
    assert badge((await client.get(f"/console/requests/{own}")).text) == shown


async def test_no_urgent_case_shows_no_badge(
    client: httpx.AsyncClient, cases: dict[str, str]
) -> None:
    """顺义区 has no urgent case: the badge is there for the script, but hidden; its JSON is 0."""
    await logged_in(client, "shunyi")
    for path in PAGES:
        page = (await client.get(path)).text
        assert BADGE.search(page) is not None and badge(page) is None, path
    assert (await client.get("/console/urgent")).json() == {"count": 0, "handoffs": 0}


async def test_the_count_endpoint_is_scoped_and_follows_acceptance(
    client: httpx.AsyncClient, database: Database, cases: dict[str, str]
) -> None:
    """`GET /console/urgent` answers her units' count as JSON, never cached; once the case is
    taken the count drops, and the page's badge with it."""
    await logged_in(client, "chaoyang")
    answer = await client.get("/console/urgent")
    assert answer.status_code == 200 and answer.json() == {"count": 1, "handoffs": 0}
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-type"].startswith("application/json")
    cadre = bind_cadre(database, "朝阳区/双井街道", "李桂兰", "cadre-sj")
    take_request(database, cases["cy_waiting"], cadre)
    assert (await client.get("/console/urgent")).json() == {"count": 0, "handoffs": 0}
    assert badge((await client.get("/console/requests")).text) is None
    client.cookies.clear()
    await logged_in(client, "city")
    assert (await client.get("/console/urgent")).json() == {"count": 1, "handoffs": 0}  # 海淀区's


async def test_the_count_endpoint_needs_a_login(
    client: httpx.AsyncClient, cases: dict[str, str]
) -> None:
    """Without a session, or after logging out, the count is a 401 with no number in it."""
    anonymous = await client.get("/console/urgent")
    assert anonymous.status_code == 401 and anonymous.json() == {"error": "login_required"}
    csrf = await logged_in(client, "city")
    assert (await client.get("/console/urgent")).status_code == 200
    stale = dict(client.cookies)
    await client.post("/console/logout", data={"csrf_token": csrf})
    client.cookies.clear()
    for name, value in stale.items():  # the old cookie, voided server side by the logout
        client.cookies.set(name, value, path="/console")
    after = await client.get("/console/urgent")
    assert after.status_code == 401 and "count" not in after.json()


async def test_the_script_is_served_to_logged_in_pages(
    client: httpx.AsyncClient, cases: dict[str, str]
) -> None:
    """Logged-in pages load /console/static/urgent.js (named by its content); the login form
    has neither the script nor the badge."""
    login = (await client.get("/console/login")).text
    assert "urgent.js" not in login and "urgent-badge" not in login
    await logged_in(client, "city")
    page = (await client.get("/console")).text
    found = re.search(r'<script src="(/console/static/urgent\.js)\?v=[0-9a-f]{12}" defer>', page)
    assert found is not None
    script = await client.get(found.group(1))
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
