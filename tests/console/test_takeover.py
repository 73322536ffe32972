"""接管 (bot/domain/handoff.py `take_over`, bot/console/inbox.py): staff open the conversation
with a woman from her request's page; she is handed over at once and hears who talks to her;
the navigation counts the hand-offs nobody answered; refusals are clear. Both databases."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from storage import repo
from storage.db import Database
from tests.conftest import Chat
from tests.console.sessions import logged_in, make_staff, post_json

FILE = [
    ("我要求助", "困难"),
    ("想找一份离家近的保洁工作", "区"),
    ("朝阳区双井街道", "联系"),
    ("1", "核对"),
]


def _file(woman: Chat) -> str:
    woman.run(FILE)
    found = re.search(r"编号 ([A-Z0-9]{6})", woman.say("确认"))
    assert found
    return found.group(1)


async def take(client: httpx.AsyncClient, token: str, code: str, text: str) -> httpx.Response:
    """POST 接管 as JSON with the session's CSRF token."""
    return await post_json(client, token, f"/console/api/requests/{code}/take", {"text": text})


async def test_staff_take_over_from_her_request(
    client: httpx.AsyncClient, chat: Callable[..., Chat], database: Database
) -> None:
    """朝阳区's staff open her request, write to her (接管并发送): she gets the message in chat
    while she was filling another form, her answer goes into the thread (not to the bot), a
    second 接管 from the request's page is a reply in the same thread, and 结束会话 gives her
    back to the bot. The thread is with 朝阳区 and marked as taken over."""
    make_staff(database, "chaoyang", "朝阳区")
    woman = chat()
    code = _file(woman)
    woman.run([("我要求助", "请说说您遇到的困难")])  # a new form, half filled
    token = await logged_in(client, "chaoyang")
    page = (await client.get(f"/console/requests/{code}")).text
    assert "接管对话" in page and f"/console/requests/{code}/take" in page
    form = await client.post(
        f"/console/requests/{code}/take",
        data={"text": "您好，我是朝阳区妇联的，想问问您想找哪一带的保洁活？", "csrf_token": token},
    )
    assert form.status_code == 303
    thread = form.headers["location"].rsplit("/", 1)[1]
    assert re.fullmatch(r"H[0-9A-Z]{5}", thread)
    told = woman.pushed()
    assert len(told) == 1 and "朝阳区妇联工作人员" in told[0] and "哪一带的保洁活" in told[0]
    assert "菜单" in told[0]
    woman.run([("双井附近就行", "已转给工作人员")])
    got = (await client.get(f"/console/api/inbox/{thread}")).json()
    assert got["status"] == "answered" and got["unit"] == "朝阳区妇联"
    assert [m["author"] for m in got["messages"]] == ["bot", "staff", "resident"]
    assert "chaoyang接管了对话" in got["messages"][0]["text"]
    assert got["messages"][2]["text"] == "双井附近就行"
    detail = (await client.get(f"/console/requests/{code}")).text
    assert f"她正在转人工会话 {thread} 中" in detail
    again = await take(client, token, code, "好的，我这就帮您问")
    assert again.status_code == 200 and again.json()["code"] == thread
    assert "这就帮您问" in woman.pushed()[0]
    with database.read() as session:
        found = repo.thread_by_code(session, code=thread)
        assert found is not None and found.taken_by == "chaoyang"
    ended = await client.post(f"/console/api/inbox/{thread}/end", headers={"X-CSRF-Token": token})
    assert ended.status_code == 200
    assert "由我继续为您服务" in woman.pushed()[0]
    woman.run([("我要求助", "请说说您遇到的困难")])


async def test_take_over_refusals_are_clear(
    client: httpx.AsyncClient,
    chat: Callable[..., Chat],
    cadre: Callable[..., Chat],
    database: Database,
) -> None:
    """Another district's request: 404; an empty message: 422; she already talks to 朝阳区
    (转人工): 海淀区... cannot see it, the city's staff answer in her thread; she erased her
    data: 422 not_reachable. Nothing reaches her from a refusal."""
    cadre("朝阳区")
    make_staff(database, "haidian", "海淀区")
    make_staff(database, "shuangjing", "朝阳区/双井街道")
    woman = chat()
    code = _file(woman)
    token = await logged_in(client, "haidian")
    answer = await take(client, token, code, "您好")
    assert (answer.status_code, answer.json()["error"]) == (404, "not_found")
    form = await client.post(
        f"/console/requests/{code}/take", data={"text": "您好", "csrf_token": token}
    )
    assert form.status_code == 303 and form.headers["location"] == f"/console/requests/{code}"
    await client.post("/console/logout", data={"csrf_token": token})
    client.cookies.clear()
    token = await logged_in(client, "shuangjing")
    empty = await take(client, token, code, "  ")
    assert (empty.status_code, empty.json()["error"]) == (422, "empty_reply")
    assert woman.pushed() == []
    woman.say("转人工")  # her thread goes to 朝阳区 (its cadre), above 双井's staff
    busy = await take(client, token, code, "您好")
    assert (busy.status_code, busy.json()["error"]) == (409, "busy_elsewhere")
    assert "朝阳区妇联" in busy.json()["message"]
    woman.say("菜单")  # she goes back to the bot: her thread closes
    woman.run([("删除我的信息", "确认删除"), ("确认删除", "已删除")])
    gone = await take(client, token, code, "您好")
    assert (gone.status_code, gone.json()["error"]) == (422, "not_reachable")


async def test_the_navigation_counts_unanswered_hand_offs(
    client: httpx.AsyncClient,
    chat: Callable[..., Chat],
    cadre: Callable[..., Chat],
    database: Database,
) -> None:
    """转人工 in the navigation carries the count of hand-offs nobody has answered in her units;
    /console/urgent gives it for the badge's polling; a reply takes it away."""
    cadre("朝阳区")
    make_staff(database, "chaoyang", "朝阳区")
    make_staff(database, "haidian", "海淀区")
    token = await logged_in(client, "chaoyang")
    assert (await client.get("/console/urgent")).json() == {"count": 0, "handoffs": 0}
    woman = chat()
    woman.say("我在朝阳区，想找份工作")
    found = re.search(r"会话编号 (H[0-9A-Z]{5})", woman.say("转人工"))
    assert found
    assert (await client.get("/console/urgent")).json()["handoffs"] == 1
    page = (await client.get("/console/requests")).text
    assert re.search(r'id="inbox-badge"[^>]*>1</span>', page)
    answer = await post_json(
        client, token, f"/console/api/inbox/{found.group(1)}/reply", {"text": "您好"}
    )
    assert answer.status_code == 200
    assert (await client.get("/console/urgent")).json()["handoffs"] == 0
    assert re.search(r'id="inbox-badge"[^>]*hidden', (await client.get("/console")).text)
    await client.post("/console/logout", data={"csrf_token": token})
    client.cookies.clear()
    await logged_in(client, "haidian")
    woman.say("菜单")
    chat("resident-2").say("转人工")  # no place: the city's thread, not 海淀区's
    assert (await client.get("/console/urgent")).json()["handoffs"] == 0
