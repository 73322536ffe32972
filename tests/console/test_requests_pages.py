"""The console's request queue (`bot/console/pages.py`, `bot/console/queue.py`): filters, the
request page, assigning and status changes that tell the requester, and district scoping."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlmodel import col, select

from bot.engine import Engine
from storage import repo
from storage.db import Database
from storage.models import HelpRequest, HelpRequestEvent, Outbox
from tests.conftest import Clock
from tests.console.sessions import T0, bind_cadre, file_request, logged_in, make_staff


def codes_on(html: str) -> set[str]:
    """The request codes the queue page links to."""
    return set(re.findall(r'href="/console/requests/([A-Z0-9]{6})"', html))


def request_row(database: Database, code: str) -> HelpRequest:
    """The request as stored."""
    with database.read() as session:
        found = repo.request_by_code(session, code=code)
        assert found is not None
        return found


def events_of(database: Database, code: str) -> list[HelpRequestEvent]:
    """A request's events, oldest first."""
    with database.read() as session:
        found = repo.request_by_code(session, code=code)
        assert found is not None
        return list(
            session.exec(
                select(HelpRequestEvent)
                .where(HelpRequestEvent.request_id == found.id)
                .order_by(col(HelpRequestEvent.id))
            ).all()
        )


@pytest.fixture
def two_districts(database: Database) -> dict[str, str]:
    """Requests in 朝阳区 (one urgent, one health) and one in 海淀区; staff of both and the city."""
    codes = {
        "cy_jobs": file_request(database, "朝阳区", "双井街道", at=T0),
        "cy_urgent": file_request(
            database,
            "朝阳区",
            requester="woman-2",
            crisis=True,
            categories=("rights",),
            need="他又打我了",
            at=T0 + timedelta(hours=1),
        ),
        "cy_health": file_request(
            database,
            "朝阳区",
            requester=None,
            categories=("health", "relief"),
            need="孩子生病没钱治",
            at=T0 + timedelta(hours=2),
        ),
        "hd": file_request(database, "海淀区", requester="woman-3", at=T0 + timedelta(hours=3)),
    }
    make_staff(database, "chaoyang", "朝阳区")
    make_staff(database, "haidian", "海淀区")
    make_staff(database, "city", "北京市")
    return codes


async def test_district_staff_see_only_their_district(
    client: httpx.AsyncClient, two_districts: dict[str, str]
) -> None:
    """朝阳区's staff list 朝阳区's requests, the unaccepted urgent one pinned first, then newest
    first, and never 海淀区's."""
    await logged_in(client, "chaoyang")
    page = (await client.get("/console/requests")).text
    assert codes_on(page) == {two_districts[k] for k in ("cy_jobs", "cy_urgent", "cy_health")}
    order = [page.index(two_districts[k]) for k in ("cy_urgent", "cy_health", "cy_jobs")]
    assert order == sorted(order)
    assert "共 3 条" in page
    # A district filter from a district's staff is ignored: her scope stays her district.
    filtered = await client.get("/console/requests?district=海淀区")
    assert filtered.status_code == 200
    assert codes_on(filtered.text) == {
        two_districts[k] for k in ("cy_jobs", "cy_urgent", "cy_health")
    }


async def test_city_staff_see_every_district_and_filter(
    client: httpx.AsyncClient, two_districts: dict[str, str]
) -> None:
    """The city's staff see all requests and filter by district, status, category, urgency and code."""
    await logged_in(client, "city")

    async def codes(query: str) -> set[str]:
        answer = await client.get(f"/console/requests?{query}")
        assert answer.status_code == 200
        return codes_on(answer.text)

    assert await codes("") == set(two_districts.values())
    assert await codes("district=海淀区") == {two_districts["hd"]}
    assert await codes("urgent=1") == {two_districts["cy_urgent"]}
    assert await codes("category=relief") == {two_districts["cy_health"]}
    assert await codes(f"q={two_districts['hd'].lower()[:4]}") >= {two_districts["hd"]}
    assert await codes("status=resolved") == set()
    assert await codes("status=bogus") == set(
        two_districts.values()
    )  # an unknown filter is ignored
    assert "海淀区" in (await client.get("/console/requests")).text


async def test_queue_pages_twenty_at_a_time(client: httpx.AsyncClient, database: Database) -> None:
    """25 requests make two pages; the filters are kept in the page links."""
    made = [
        file_request(database, "朝阳区", requester=None, at=T0 + timedelta(minutes=i))
        for i in range(25)
    ]
    make_staff(database, "chaoyang", "朝阳区")
    await logged_in(client, "chaoyang")
    first = (await client.get("/console/requests?status=new")).text
    assert codes_on(first) == set(made[5:]) and "第 1 / 2 页" in first
    assert 'href="/console/requests?status=new&amp;page=2"' in first
    second = (await client.get("/console/requests?status=new&page=2")).text
    assert codes_on(second) == set(made[:5])


async def test_request_page_shows_history_masked_and_in_beijing_time(
    client: httpx.AsyncClient, database: Database
) -> None:
    """The page shows the need and contact with phones masked, the place, and the history."""
    code = file_request(
        database, "朝阳区", "双井街道", need="请打13812345678联系我", phone="13812345678"
    )
    make_staff(database, "chaoyang", "朝阳区")
    await logged_in(client, "chaoyang")
    page = (await client.get(f"/console/requests/{code.lower()}")).text
    assert "13812345678" not in page
    assert "138****5678" in page
    assert "朝阳区双井街道" in page
    assert "2026-03-18 10:00" in page and "提交求助" in page and "求助人" in page


async def test_other_districts_request_is_not_found(
    client: httpx.AsyncClient, database: Database, two_districts: dict[str, str]
) -> None:
    """Opening or acting on another district's request by URL answers 404 and changes nothing."""
    token = await logged_in(client, "haidian")
    code = two_districts["cy_jobs"]
    assert (await client.get(f"/console/requests/{code}")).status_code == 404
    cadre = bind_cadre(database, "朝阳区", "张干部", "cadre-cy")
    assign = await client.post(
        f"/console/requests/{code}/assign", data={"csrf_token": token, "cadre_id": str(cadre)}
    )
    status = await client.post(
        f"/console/requests/{code}/status",
        data={"csrf_token": token, "status": "resolved", "note": "已处理"},
    )
    assert assign.status_code == 404 and status.status_code == 404
    stored = request_row(database, code)
    assert stored.status == "new" and stored.assigned_to is None
    assert [e.kind for e in events_of(database, code)] == ["created"]


async def test_assign_tells_the_requester(
    client: httpx.AsyncClient, database: Database, engine: Engine, clock: Clock
) -> None:
    """Assigning to a cadre of the unit tells the woman as 受理 does and logs who did it."""
    code = file_request(database, "朝阳区", "双井街道")
    cadre = bind_cadre(database, "朝阳区/双井街道", "张干部", "cadre-sj")
    other = bind_cadre(database, "海淀区", "李干部", "cadre-hd")
    make_staff(database, "chaoyang", "朝阳区")
    token = await logged_in(client, "chaoyang")
    page = (await client.get(f"/console/requests/{code}")).text
    assert f'value="{cadre}"' in page and "张干部（朝阳区双井街道妇联）" in page
    assert f'value="{other}"' not in page
    refused = await client.post(
        f"/console/requests/{code}/assign", data={"csrf_token": token, "cadre_id": str(other)}
    )
    assert refused.status_code == 303 and request_row(database, code).assigned_to is None
    done = await client.post(
        f"/console/requests/{code}/assign",
        data={"csrf_token": token, "cadre_id": str(cadre), "note": "请今天联系"},
    )
    assert done.status_code == 303 and done.headers["location"] == f"/console/requests/{code}"
    stored = request_row(database, code)
    assert stored.status == "assigned" and stored.assigned_to == cadre
    last = events_of(database, code)[-1]
    assert last.kind == "assigned" and last.note == "指派给张干部：请今天联系（控制台：chaoyang）"
    pushed = [o.text for o in engine.pull(channel="api", user="woman-1")]
    assert pushed == [f"您的求助 {code} 已由朝阳区双井街道妇联的张干部受理，会尽快联系您。"]
    shown = (await client.get(f"/console/requests/{code}")).text
    assert "已把" in shown and "已通知求助人" in shown and "控制台：chaoyang" in shown


async def test_resolve_needs_a_note_then_tells_and_asks_for_a_rating(
    client: httpx.AsyncClient, database: Database, engine: Engine, clock: Clock
) -> None:
    """A resolve without a note is refused; with one she is told and asked to rate, as in chat."""
    code = file_request(database, "朝阳区", "双井街道")
    make_staff(database, "chaoyang", "朝阳区")
    token = await logged_in(client, "chaoyang")
    refused = await client.post(
        f"/console/requests/{code}/status", data={"csrf_token": token, "status": "resolved"}
    )
    assert refused.status_code == 303
    assert "办结要写办结说明" in (await client.get(f"/console/requests/{code}")).text
    assert request_row(database, code).status == "new"
    assert engine.pull(channel="api", user="woman-1") == []
    done = await client.post(
        f"/console/requests/{code}/status",
        data={"csrf_token": token, "status": "resolved", "note": "已介绍到社区保洁岗位"},
    )
    assert done.status_code == 303
    stored = request_row(database, code)
    assert stored.status == "resolved" and stored.resolution == "已介绍到社区保洁岗位"
    [pushed] = [o.text for o in engine.pull(channel="api", user="woman-1")]
    assert pushed.startswith(f"您的求助 {code} 已办结：已介绍到社区保洁岗位。")
    assert "满意" in pushed
    with database.read() as session:
        dialogue = repo.load_dialogue(session, user_id=stored.requester_id or 0, now=clock())
        assert dialogue.data.get("rate") == code
    assert events_of(database, code)[-1].note == "已介绍到社区保洁岗位（控制台：chaoyang）"
    again = await client.post(
        f"/console/requests/{code}/status",
        data={"csrf_token": token, "status": "cancelled", "note": "x"},
    )
    assert again.status_code == 303 and request_row(database, code).status == "resolved"


async def test_staff_notes_are_stored_with_phone_numbers_masked(
    client: httpx.AsyncClient, database: Database, engine: Engine
) -> None:
    """An assignment's and a resolve's notes keep phone numbers masked in the history and the
    resolution; the push to her tells the resolve's note as typed."""
    code = file_request(database, "朝阳区", "双井街道")
    cadre = bind_cadre(database, "朝阳区/双井街道", "张干部", "cadre-sj")
    make_staff(database, "chaoyang", "朝阳区")
    token = await logged_in(client, "chaoyang")
    for action, data in (
        ("assign", {"cadre_id": str(cadre), "note": "她的电话13800138000"}),
        ("status", {"status": "resolved", "note": "已联系13800138000"}),
    ):
        answer = await client.post(
            f"/console/requests/{code}/{action}", data={"csrf_token": token, **data}
        )
        assert answer.status_code == 303
    assert request_row(database, code).resolution == "已联系138****8000"
    assert [e.note for e in events_of(database, code)[1:]] == [
        "指派给张干部：她的电话138****8000（控制台：chaoyang）",
        "已联系138****8000（控制台：chaoyang）",
    ]
    pushed = [o.text for o in engine.pull(channel="api", user="woman-1")]
    assert any("已联系13800138000" in text for text in pushed)


async def test_in_progress_and_cancel_tell_her_with_the_note(
    client: httpx.AsyncClient, database: Database, engine: Engine
) -> None:
    """Moving to 办理中 and then 已撤销 tells her each time, with the staff's note."""
    code = file_request(database, "朝阳区")
    make_staff(database, "chaoyang", "朝阳区")
    token = await logged_in(client, "chaoyang")
    for status, note in (("in_progress", "已联系社区"), ("cancelled", "本人已找到工作")):
        answer = await client.post(
            f"/console/requests/{code}/status",
            data={"csrf_token": token, "status": status, "note": note},
        )
        assert answer.status_code == 303
    pushed = [o.text for o in engine.pull(channel="api", user="woman-1")]
    assert pushed == [
        f"您的求助 {code} 正在办理中：已联系社区。",
        f"您的求助 {code} 已撤销：本人已找到工作。如还有困难，随时告诉我。",
    ]
    assert [e.kind for e in events_of(database, code)] == ["created", "in_progress", "cancelled"]


async def test_actions_need_the_csrf_token(client: httpx.AsyncClient, database: Database) -> None:
    """A status change without the session's CSRF token is refused with 403 and changes nothing."""
    code = file_request(database, "朝阳区")
    make_staff(database, "chaoyang", "朝阳区")
    await logged_in(client, "chaoyang")
    for data in ({}, {"csrf_token": "forged"}):
        answer = await client.post(
            f"/console/requests/{code}/status",
            data={**data, "status": "resolved", "note": "已处理"},
        )
        assert answer.status_code == 403
    assert request_row(database, code).status == "new"


async def test_visit_request_without_requester_tells_nobody(
    client: httpx.AsyncClient, database: Database
) -> None:
    """A request filed on a visit has nobody to tell: the change is made, no push is queued."""
    code = file_request(database, "朝阳区", requester=None)
    make_staff(database, "chaoyang", "朝阳区")
    token = await logged_in(client, "chaoyang")
    await client.post(
        f"/console/requests/{code}/status",
        data={"csrf_token": token, "status": "resolved", "note": "已上门"},
    )
    assert request_row(database, code).status == "resolved"
    with database.read() as session:
        assert session.exec(select(Outbox)).all() == []


async def test_logged_out_actions_go_to_login(
    client: httpx.AsyncClient, database: Database
) -> None:
    """Without a session a request page redirects to the login form, remembering it."""
    code = file_request(database, "朝阳区")
    answer = await client.get(f"/console/requests/{code}")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/console/login?next=/console/requests/{code}"
