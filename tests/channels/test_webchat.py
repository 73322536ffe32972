"""The web chat channel: page and assets, cookie identity, CSRF guard, limits, a whole help
request with a pushed status change, and the SSE stream."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlmodel import func, select

from bot import texts
from bot.channels import webchat
from bot.config import Settings
from bot.engine import Engine
from bot.messages import Outgoing
from storage.db import Database
from storage.models import Identity, User
from tests.channels.conftest import escalated, responders
from tests.conftest import ADMIN, API, Clock, long_text, served
from tests.fakes.nlp import RecordingNLP

WEB = {"X-Requested-With": "fuqing"}
HELP_REQUEST = ("我要求助", "想找一份离家近的保洁工作", "朝阳区双井街道", "1")

Say = Callable[[str], Awaitable[list[dict[str, object]]]]


def web_identities(database: Database) -> list[str]:
    """The external ids of the `web` channel's identities."""
    with database.read() as session:
        rows = session.exec(select(Identity).where(Identity.channel == "web")).all()
        return sorted(row.external_id for row in rows)


def sayer(client: httpx.AsyncClient) -> Say:
    """A function that posts one message through the web chat and returns its replies (it
    opens the page first when the client has no identity cookie, as a browser does)."""

    async def say(text: str) -> list[dict[str, object]]:
        if webchat.COOKIE not in client.cookies:
            await client.get("/chat")
        response = await client.post("/chat/api/messages", headers=WEB, json={"text": text})
        assert response.status_code == 200, response.text
        replies: list[dict[str, object]] = response.json()["replies"]
        return replies

    return say


async def test_page_sets_a_signed_http_only_cookie(client: httpx.AsyncClient) -> None:
    """GET /chat serves the page with its welcome and menu, and sets the identity cookie."""
    page = await client.get("/chat")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "妇情通" in page.text and "{{" not in page.text
    assert "我要求助" in page.text and "查询进度" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{webchat.COOKIE}=")
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "path=/chat" in lowered
    assert "max-age" not in lowered and "expires" not in lowered  # the browser session only
    assert "https://" not in page.text and "http://" not in page.text  # no external requests


@pytest.mark.parametrize("env", ["test", "production"])
async def test_the_cookie_is_secure_in_production_whatever_the_scheme(
    settings: Settings, engine: Engine, env: str
) -> None:
    """In production the identity cookie is Secure even when the app sees http (TLS ends at
    the proxy); elsewhere not over http. Always HttpOnly and SameSite=Lax."""
    secrets = {"secret_key": "k" * 32, "api_token": "a" * 32, "admin_token": "b" * 32}
    async with served(settings.model_copy(update={"env": env, **secrets}), engine) as app:
        page = await app.http.get("/chat")
        app.http.cookies.clear()
        refused = await app.http.post("/chat/api/messages", headers=WEB, json={"text": "你好"})
    for cookie in (page.headers["set-cookie"], refused.headers["set-cookie"]):
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert ("Secure" in cookie) == (env == "production")


async def test_static_assets(client: httpx.AsyncClient) -> None:
    """The stylesheet and script are served with their media types; nothing else is."""
    css = await client.get("/chat/static/chat.css")
    js = await client.get("/chat/static/chat.js")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "max-age" in js.headers["cache-control"]
    assert "://" not in js.text and "://" not in css.text  # no external requests
    cached = await client.get("/chat/static/chat.js", headers={"If-None-Match": js.headers["etag"]})
    assert cached.status_code == 304 and not cached.content
    for path in ("/chat/static/index.html", "/chat/static/..%2Fwebchat.py", "/chat/static/x.js"):
        assert (await client.get(path)).status_code == 404, path


async def test_cookie_identity_is_kept(client: httpx.AsyncClient, database: Database) -> None:
    """Messages from the same cookie are one user: the greeting comes only once."""
    await client.get("/chat")
    say = sayer(client)
    first = await say("你好")
    second = await say("你好")
    assert "隐私说明" in str(first[0]["text"])
    assert all("隐私说明" not in str(r["text"]) for r in second)
    assert second[-1]["choices"] == ["我要求助", "查询进度", "转人工"]
    assert len(web_identities(database)) == 1


async def test_without_a_cookie_a_message_is_refused_with_one(
    client: httpx.AsyncClient, database: Database
) -> None:
    """A message without the page's cookie is refused (403 `no_identity`) and stores nothing,
    but the answer sets a cookie: sent again, it is answered as hers."""
    response = await client.post("/chat/api/messages", headers=WEB, json={"text": "你好"})
    assert response.status_code == 403 and response.json()["error"] == "no_identity"
    assert webchat.COOKIE in response.cookies and web_identities(database) == []
    again = await client.post("/chat/api/messages", headers=WEB, json={"text": "你好"})
    assert again.status_code == 200 and "隐私说明" in again.json()["replies"][0]["text"]
    assert len(web_identities(database)) == 1


async def test_a_burst_of_cookieless_messages_makes_no_residents(
    client: httpx.AsyncClient, database: Database
) -> None:
    """50 messages from a client that keeps no cookies: 50 refusals, not a single user row."""
    with database.read() as session:
        before = session.exec(select(func.count()).select_from(User)).one()
    for _ in range(50):
        client.cookies.clear()
        answer = await client.post("/chat/api/messages", headers=WEB, json={"text": "你好"})
        assert answer.status_code == 403 and answer.json()["error"] == "no_identity"
    with database.read() as session:
        assert session.exec(select(func.count()).select_from(User)).one() == before
    assert web_identities(database) == []


async def test_tampered_cookie_gets_a_new_identity(
    client: httpx.AsyncClient, database: Database
) -> None:
    """A cookie whose signature does not match is ignored: refused with a fresh id's cookie,
    with which she is a newcomer."""
    await client.get("/chat")
    await sayer(client)("你好")
    [original] = web_identities(database)
    signed = client.cookies[webchat.COOKIE]
    forged = webchat._serializer(Settings(secret_key="other")).dumps(original)
    for bad in (signed[:-2] + ("AA" if not signed.endswith("AA") else "BB"), forged, "junk"):
        client.cookies.clear()
        client.cookies.set(webchat.COOKIE, bad, domain="test", path="/chat")
        refused = await client.post("/chat/api/messages", headers=WEB, json={"text": "你好"})
        assert refused.status_code == 403 and refused.cookies[webchat.COOKIE] != bad
        response = await client.post("/chat/api/messages", headers=WEB, json={"text": "你好"})
        assert response.status_code == 200
        assert "隐私说明" in response.json()["replies"][0]["text"]  # a newcomer's greeting
    assert len(web_identities(database)) == 4


async def test_requests_without_the_header_are_refused(client: httpx.AsyncClient) -> None:
    """No `X-Requested-With: fuqing` (a cross-site form) → 403; the stream wants EventSource."""
    posted = await client.post("/chat/api/messages", json={"text": "你好"})
    form = await client.post(
        "/chat/api/messages",
        data={"text": "你好"},
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    pending = await client.get("/chat/api/pending")
    navigated = await client.get("/chat/api/events", headers={"Accept": "text/html"})
    cross = await client.get(
        "/chat/api/events",
        headers={"Accept": "text/event-stream", "Sec-Fetch-Site": "cross-site"},
    )
    codes = [r.status_code for r in (posted, form, pending, navigated, cross)]
    assert codes == [403] * 5
    assert posted.json()["error"] == "forbidden"


async def test_limits(client: httpx.AsyncClient) -> None:
    """Body over 16 KB → 413; bad JSON → 400; bad fields → 422 (a long text is cut, below)."""
    await client.get("/chat")
    big = await client.post(
        "/chat/api/messages",
        headers={**WEB, "Content-Type": "application/json"},
        content=b'{"text": "' + b"a" * 17_000 + b'"}',
    )
    assert big.status_code == 413 and big.json()["error"] == "body_too_large"
    bad = await client.post(
        "/chat/api/messages",
        headers={**WEB, "Content-Type": "application/json"},
        content=b"{not json",
    )
    missing = await client.post("/chat/api/messages", headers=WEB, json={})
    bad_id = await client.post(
        "/chat/api/messages", headers=WEB, json={"text": "你好", "msg_id": "a b"}
    )
    assert [bad.status_code, missing.status_code, bad_id.status_code] == [400, 422, 422]
    ok = await client.post("/chat/api/messages", headers=WEB, json={"text": "字" * 2000})
    assert ok.status_code == 200


async def test_a_long_text_is_cut_and_she_is_told(settings: Settings, engine: Engine) -> None:
    """A text over 2,000 characters is answered, not refused: its first 2,000 are read and the
    first reply says so."""
    text = long_text(2001)
    engine.nlp = recording = RecordingNLP(engine.nlp)
    async with served(settings, engine) as app:
        await app.http.get("/chat")
        response = await app.http.post("/chat/api/messages", headers=WEB, json={"text": text})
    assert response.status_code == 200
    replies = [r["text"] for r in response.json()["replies"]]
    assert replies[0] == texts.t("text.cut", length=2001, read=2000, rest=1)
    assert recording.texts[0] == text[:2000]


async def test_message_ids_are_scoped_to_her(client: httpx.AsyncClient) -> None:
    """A retried msg_id gets the first reply; another user's same msg_id is a new message."""
    body = {"text": "你好", "msg_id": "m1"}
    await client.get("/chat")
    first = await client.post("/chat/api/messages", headers=WEB, json=body)
    again = await client.post("/chat/api/messages", headers=WEB, json=body)
    assert first.json() == again.json()
    client.cookies.clear()
    await client.get("/chat")
    other = await client.post(
        "/chat/api/messages", headers=WEB, json={"text": "我要求助", "msg_id": "m1"}
    )
    assert other.json() != first.json()
    assert "困难" in other.json()["replies"][-1]["text"]


async def test_crisis_replies_are_urgent(client: httpx.AsyncClient) -> None:
    """A crisis message gets the hotlines first, marked urgent for the page to highlight."""
    await sayer(client)("你好")
    replies = await sayer(client)("他打我，我很害怕")
    assert replies[0]["urgent"] is True and "110" in str(replies[0]["text"])
    assert all(r["urgent"] is False for r in replies[1:])


async def test_help_request_and_a_pushed_status_change(client: httpx.AsyncClient) -> None:
    """A whole help request in the web chat; the cadre takes it; her page pulls the news."""
    await client.get("/chat")
    say = sayer(client)
    for text in HELP_REQUEST:
        await say(text)
    [filed] = await say("确认")
    assert "已提交" in str(filed["text"])
    [item] = (await client.get("/api/v1/help-requests", headers=ADMIN)).json()
    assert item["district"] == "朝阳区" and item["status"] == "new"

    nothing = await client.get("/chat/api/pending", headers=WEB)
    assert nothing.status_code == 200 and nothing.json() == {"replies": []}

    invite = await client.post(
        "/api/v1/invites", headers=ADMIN, json={"unit": "朝阳区/双井街道", "name": "张三"}
    )
    code = invite.json()["code"]
    for text in (f"绑定 {code}", "确认", f"受理 {item['code']}"):
        cadre = await client.post(
            "/api/v1/messages", headers=API, json={"user": "c1", "text": text}
        )
        assert cadre.status_code == 200
    assert "已受理" in cadre.json()["replies"][0]["text"]

    pushed = (await client.get("/chat/api/pending", headers=WEB)).json()["replies"]
    assert any("受理" in p["text"] and item["code"] in p["text"] for p in pushed)
    assert (await client.get("/chat/api/pending", headers=WEB)).json() == {"replies": []}


async def test_event_stream_endpoint(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GET /chat/api/events answers text/event-stream with her pushes as `data:` events."""
    monkeypatch.setattr(webchat, "STREAM_SECONDS", 0.0)  # one round, then the stream ends
    await client.get("/chat")
    for text in (*HELP_REQUEST, "确认"):
        await sayer(client)(text)
    [item] = (await client.get("/api/v1/help-requests", headers=ADMIN)).json()
    invite = await client.post(
        "/api/v1/invites", headers=ADMIN, json={"unit": "朝阳区/双井街道", "name": "张三"}
    )
    for text in (f"绑定 {invite.json()['code']}", "确认", f"受理 {item['code']}"):
        await client.post("/api/v1/messages", headers=API, json={"user": "c1", "text": text})
    stream = await client.get(
        "/chat/api/events",
        headers={"Accept": "text/event-stream", "Sec-Fetch-Site": "same-origin"},
    )
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    blocks = [b for b in stream.text.split("\n\n") if b]
    assert blocks[0] == f"retry: {webchat.RETRY_MS}"
    events = [json.loads(b.removeprefix("data: ")) for b in blocks if b.startswith("data: ")]
    assert any(item["code"] in e["text"] and e["urgent"] is False for e in events), blocks


async def test_event_stream_pulls_beats_and_stops() -> None:
    """The stream sends pulled pushes, a heartbeat when idle, and stops on disconnect."""
    now = [0.0]
    rounds: list[list[Outgoing]] = [[Outgoing("已受理", urgent=False)], [], [], []]
    gone = [False, False, False, True]

    async def pull() -> list[Outgoing]:
        return rounds.pop(0)

    async def disconnected() -> bool:
        return gone.pop(0)

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    chunks = [
        chunk
        async for chunk in webchat.event_stream(
            pull, disconnected, poll=10.0, heartbeat=15.0, clock=lambda: now[0], sleep=sleep
        )
    ]
    assert chunks == [
        f"retry: {webchat.RETRY_MS}\n\n",
        'data: {"text": "已受理", "urgent": false}\n\n',
        ": keep-alive\n\n",
    ]
    assert rounds == [[]]  # the fourth round never pulled: she had gone


async def test_event_stream_ends_after_its_lifetime() -> None:
    """A stream closes after `lifetime` (EventSource reconnects), so none lives forever."""
    now = [0.0]

    async def pull() -> list[Outgoing]:
        return []

    async def connected() -> bool:
        return False

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    chunks = [
        chunk
        async for chunk in webchat.event_stream(
            pull,
            connected,
            poll=1.0,
            heartbeat=15.0,
            lifetime=60.0,
            clock=lambda: now[0],
            sleep=sleep,
        )
    ]
    assert chunks.count(": keep-alive\n\n") == 3 and len(chunks) == 4


async def test_crisis_over_the_web_chat_is_escalated(
    client: httpx.AsyncClient, database: Database
) -> None:
    """A crisis in the web chat: hotlines first, the urgent case stored and pushed at once."""
    users = responders(database, Clock())
    replies = await sayer(client)("我在朝阳区双井街道，他拿着刀说要砍死我")
    assert replies[0]["urgent"] is True and "110" in str(replies[0]["text"])
    escalated(database, users)


# ----------------------------------------------------------------------------- quick exit


async def test_the_page_offers_a_quick_exit_to_a_neutral_page(client: httpx.AsyncClient) -> None:
    """The chat page has its 快速离开 button and names the neutral page it opens."""
    page = (await client.get("/chat")).text
    assert 'id="exit"' in page and ">快速离开</button>" in page
    assert f'data-exit="{webchat.EXIT_PATH}"' in page and not webchat.EXIT_PATH.startswith("/chat")


async def test_the_neutral_page_says_nothing_of_us_and_deletes_the_identity(
    client: httpx.AsyncClient,
) -> None:
    """The neutral page names neither the federation nor the chat, runs no script, is never
    cached, and its answer deletes the identity cookie; the next visit to /chat is a new person."""
    await client.get("/chat")
    before = client.cookies[webchat.COOKIE]
    page = await client.get(webchat.EXIT_PATH)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for word in ("妇", "妇联", "妇情通", "求助", "chat", "fuqing", "<script"):
        assert word not in page.text, word
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "style-src 'sha256-" in policy
    assert page.headers["cache-control"] == "no-store"
    deleted = page.headers["set-cookie"].lower()
    assert deleted.startswith(f'{webchat.COOKIE}=""') and "max-age=0" in deleted
    assert "path=/chat" in deleted
    assert webchat.COOKIE not in client.cookies
    await client.get("/chat")
    assert client.cookies[webchat.COOKIE] != before


async def test_another_site_cannot_end_her_conversation(client: httpx.AsyncClient) -> None:
    """Sent to the neutral page by another site (Sec-Fetch-Site: cross-site), her cookie stays."""
    await client.get("/chat")
    page = await client.get(webchat.EXIT_PATH, headers={"Sec-Fetch-Site": "cross-site"})
    assert page.status_code == 200 and "set-cookie" not in page.headers
    assert webchat.COOKIE in client.cookies


async def test_the_identity_holds_within_the_session_and_lapses_when_idle(
    client: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each message signs the identity again, so she continues while she writes; an identity
    signed longer than IDENTITY_SECONDS ago is no longer hers (a new one is made)."""
    say = sayer(client)
    await say("你好")
    answer = await client.post("/chat/api/messages", headers=WEB, json={"text": "你好"})
    assert answer.headers["set-cookie"].startswith(f"{webchat.COOKIE}=")  # renewed
    user = webchat.new_user_id()
    fresh = webchat._serializer(settings).dumps(user)
    assert webchat.read_identity(settings, fresh) == user
    import itsdangerous.timed

    real = itsdangerous.timed.time.time
    monkeypatch.setattr(
        itsdangerous.timed.time, "time", lambda: real() - webchat.IDENTITY_SECONDS - 60
    )
    stale = webchat._serializer(settings).dumps(user)
    monkeypatch.undo()
    assert webchat.read_identity(settings, stale) is None
