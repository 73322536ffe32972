"""The console's inbox of hand-offs (bot/console/inbox.py): staff see her conversation and answer
her; she gets the answers on her channel; scope, refusals and the end, on both databases."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from storage import repo
from storage.db import Database
from tests.conftest import Chat
from tests.console.sessions import logged_in, make_staff, post_json

CODE = re.compile(r"会话编号 (H[0-9A-Z]{5})")


@pytest.fixture
def thread(chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database) -> str:
    """A woman in 朝阳区 asked for a person (朝阳区 has a cadre); staff of 朝阳区, 海淀区 and
    the city exist. The thread's code."""
    cadre("朝阳区")
    for name, unit in (("chaoyang", "朝阳区"), ("haidian", "海淀区"), ("city", "北京市")):
        make_staff(database, name, unit)
    woman = chat()
    woman.say("我在朝阳区，想找份工作，电话13811112222")
    found = CODE.search(woman.say("转人工"))
    assert found
    return found.group(1)


async def reply(client: httpx.AsyncClient, token: str, code: str, text: str) -> httpx.Response:
    """POST a JSON reply with the session's CSRF token."""
    return await post_json(client, token, f"/console/api/inbox/{code}/reply", {"text": text})


async def test_staff_answer_her_and_she_answers_back(
    client: httpx.AsyncClient, chat: Callable[..., Chat], thread: str, database: Database
) -> None:
    """The inbox lists the waiting thread; its page shows her words (phone masked); a reply by
    JSON and one by the form reach her; her answer shows in the thread; 结束会话 ends it and
    tells her."""
    woman = chat()
    token = await logged_in(client, "chaoyang")
    inbox = await client.get("/console/inbox")
    assert inbox.status_code == 200 and thread in inbox.text and "等待回复" in inbox.text
    page = (await client.get(f"/console/inbox/{thread}")).text
    assert "想找份工作" in page and "138****2222" in page and "13811112222" not in page
    answer = await reply(client, token, thread.lower(), "您好，我是朝阳区妇联的，您想找什么工作？")
    assert answer.status_code == 200 and answer.json()["status"] == "answered"
    assert "您想找什么工作" in woman.pushed()[0]
    woman.run([("做保洁就行", "已转给工作人员")])
    got = (await client.get(f"/console/api/inbox/{thread}")).json()
    assert [m["author"] for m in got["messages"]] == ["resident", "staff", "resident"]
    assert got["messages"][1]["name"] == "chaoyang" and got["messages"][2]["text"] == "做保洁就行"
    form = await client.post(
        f"/console/inbox/{thread}/reply", data={"text": "好的，我帮您问问", "csrf_token": token}
    )
    assert form.status_code == 303 and form.headers["location"] == f"/console/inbox/{thread}"
    assert "我帮您问问" in woman.pushed()[0]
    ended = await client.post(f"/console/api/inbox/{thread}/end", headers={"X-CSRF-Token": token})
    assert ended.status_code == 200 and ended.json()["status"] == "closed"
    assert "由我继续为您服务" in woman.pushed()[0]
    assert "请说说您遇到的困难" in woman.say("我要求助")
    late = await reply(client, token, thread, "还在吗")
    assert (late.status_code, late.json()["error"]) == (409, "closed")
    closed_page = (await client.get("/console/inbox")).text
    assert "最近结束的会话" in closed_page and thread in closed_page


@pytest.mark.parametrize(
    ("text", "status", "error"),
    [("", 422, "empty_reply"), ("   ", 422, "empty_reply"), ("长" * 1001, 422, "long_reply")],
)
async def test_bad_replies_get_clear_answers(
    client: httpx.AsyncClient,
    chat: Callable[..., Chat],
    thread: str,
    text: str,
    status: int,
    error: str,
) -> None:
    """An empty or too long reply: a 4xx naming the problem; nothing reaches her."""
    token = await logged_in(client, "chaoyang")
    answer = await reply(client, token, thread, text)
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert answer.json()["message"]
    assert chat().pushed() == []


async def test_staff_see_only_their_units_threads(
    client: httpx.AsyncClient, chat: Callable[..., Chat], thread: str, database: Database
) -> None:
    """海淀区's staff do not see 朝阳区's thread (404, like a code that does not exist); the
    city's staff do, and may answer."""
    token = await logged_in(client, "haidian")
    assert thread not in (await client.get("/console/inbox")).text
    assert (await client.get(f"/console/api/inbox/{thread}")).status_code == 404
    assert (await reply(client, token, thread, "您好")).status_code == 404
    page = await client.get(f"/console/inbox/{thread}", follow_redirects=True)
    assert str(page.url).endswith("/console/inbox") and "没有找到会话" in page.text
    assert chat().pushed() == []
    await client.post("/console/logout", data={"csrf_token": token})
    city = await logged_in(client, "city")
    assert (await reply(client, city, thread, "市妇联值班，您好")).status_code == 200
    with database.read() as session:
        found = repo.thread_by_code(session, code=thread)
        assert found is not None and found.answered_at is not None


async def test_the_inbox_needs_a_login(client: httpx.AsyncClient, thread: str) -> None:
    """Without a session: the pages go to the login form, the JSON answers 401/403."""
    page = await client.get("/console/inbox")
    assert page.status_code == 303 and "/console/login" in page.headers["location"]
    api = await client.get(f"/console/api/inbox/{thread}")
    assert api.status_code in (303, 401)
    post = await client.post(f"/console/api/inbox/{thread}/reply", json={"text": "x"})
    assert post.status_code in (401, 403)
