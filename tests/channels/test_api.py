"""The JSON API channel: auth, limits, errors, and a whole conversation."""

from __future__ import annotations

import httpx
import pytest

from bot import texts
from bot.config import Settings
from bot.engine import Engine
from storage.db import Database
from tests.channels.conftest import escalated, responders
from tests.conftest import ADMIN, API, Clock, long_text, served
from tests.fakes.nlp import RecordingNLP


async def test_message_needs_the_api_token(client: httpx.AsyncClient) -> None:
    """No token or a wrong one → 401 with a JSON error."""
    body = {"user": "u1", "text": "你好"}
    missing = await client.post("/api/v1/messages", json=body)
    wrong = await client.post("/api/v1/messages", json=body, headers={"Authorization": "Bearer x"})
    admin = await client.post("/api/v1/messages", json=body, headers=ADMIN)
    assert [missing.status_code, wrong.status_code, admin.status_code] == [401, 401, 401]
    assert missing.json()["error"] == "unauthorized"


async def test_limits(client: httpx.AsyncClient) -> None:
    """A body over 16 KB → 413; a user over 64 characters → 422 (a long text is cut, below)."""
    big = await client.post(
        "/api/v1/messages",
        headers={**API, "Content-Type": "application/json"},
        content=b'{"user": "u1", "text": "' + b"a" * 17_000 + b'"}',
    )
    assert big.status_code == 413 and big.json()["error"] == "body_too_large"
    long_user = await client.post(
        "/api/v1/messages", headers=API, json={"user": "u" * 65, "text": "你好"}
    )
    assert long_user.status_code == 422 and long_user.json()["error"] == "invalid_message"


async def test_a_long_text_is_cut_and_she_is_told(settings: Settings, engine: Engine) -> None:
    """A text over FUQING_MAX_TEXT_CHARS is answered, not refused: its first 2,000 characters
    are read, and the first reply says how much was read and to send the rest again."""
    text = long_text(2600)
    engine.nlp = recording = RecordingNLP(engine.nlp)
    async with served(settings, engine) as app:
        response = await app.http.post(
            "/api/v1/messages", headers=API, json={"user": "u1", "text": text}
        )
    assert response.status_code == 200
    replies = [r["text"] for r in response.json()["replies"]]
    assert replies[0] == texts.t("text.cut", length=2600, read=2000, rest=600)
    assert recording.texts[0] == text[:2000]
    assert len(replies) > 1  # and the part read is answered as usual


async def test_the_user_limit_comes_from_the_settings(settings: Settings, engine: Engine) -> None:
    """FUQING_MAX_USER_CHARS bounds the user id of both routes, and the schema says so."""
    narrow = settings.model_copy(update={"max_user_chars": 8})
    async with served(narrow, engine) as app:
        ok = await app.http.post(
            "/api/v1/messages", headers=API, json={"user": "u" * 8, "text": "你好"}
        )
        over = await app.http.post(
            "/api/v1/messages", headers=API, json={"user": "u" * 9, "text": "你好"}
        )
        pulled = await app.http.get("/api/v1/messages/" + "u" * 9, headers=API)
        schema = (await app.http.get("/openapi.json")).json()
    assert [ok.status_code, over.status_code, pulled.status_code] == [200, 422, 422]
    body = schema["paths"]["/api/v1/messages"]["post"]["requestBody"]
    fields = body["content"]["application/json"]["schema"]["properties"]
    assert fields["user"]["maxLength"] == 8
    assert "maxLength" not in fields["text"] and "2000" in fields["text"]["description"]
    [user] = schema["paths"]["/api/v1/messages/{user}"]["get"]["parameters"]
    assert user["schema"]["maxLength"] == 8


async def test_bad_json_and_missing_fields(client: httpx.AsyncClient) -> None:
    """Malformed JSON → 400; missing fields → 422."""
    bad = await client.post(
        "/api/v1/messages",
        headers={**API, "Content-Type": "application/json"},
        content=b"{not json",
    )
    missing = await client.post("/api/v1/messages", headers=API, json={"user": "u1"})
    assert bad.status_code == 400 and missing.status_code == 422


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/api/v1/messages", API), ("/chat/api/messages", {"X-Requested-With": "fuqing"})],
    ids=["json-api", "web-chat"],
)
async def test_a_deeply_nested_body_is_400_without_a_traceback(
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    path: str,
    headers: dict[str, str],
) -> None:
    """JSON nested 8,000 deep (within the 16 KB cap; Python's parser gives up at ~1,000) is a
    400 `invalid_json` on the JSON API and the web chat, with no RecursionError traceback."""
    response = await client.post(
        path,
        headers={**headers, "Content-Type": "application/json"},
        content=b"[" * 8000 + b"]" * 8000,
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_json"
    assert "RecursionError" not in caplog.text and "Traceback" not in caplog.text


async def test_empty_text_gets_a_friendly_reply(client: httpx.AsyncClient) -> None:
    """Whitespace text is answered, not refused."""
    reply = await client.post("/api/v1/messages", headers=API, json={"user": "u1", "text": "  "})
    assert reply.status_code == 200
    assert "文字" in reply.json()["replies"][-1]["text"]


async def test_conversation_and_staff_views(client: httpx.AsyncClient) -> None:
    """A help request through the API shows in GET /help-requests; status pushes are pulled."""

    async def say(user: str, text: str) -> list[dict[str, object]]:
        response = await client.post(
            "/api/v1/messages", headers=API, json={"user": user, "text": text}
        )
        assert response.status_code == 200, response.text
        replies: list[dict[str, object]] = response.json()["replies"]
        return replies

    first = await say("w1", "你好")
    assert first[-1]["choices"] == ["我要求助", "查询进度", "转人工"]
    for text in ("我要求助", "想找一份离家近的保洁工作", "朝阳区双井街道", "1"):
        await say("w1", text)
    filed = await say("w1", "确认")
    assert "已提交" in str(filed[0]["text"])

    listed = await client.get("/api/v1/help-requests", headers=ADMIN)
    assert listed.status_code == 200
    [item] = listed.json()
    assert set(item) == {
        "id",
        "code",
        "status",
        "primary",
        "categories",
        "crisis",
        "district",
        "street",
        "community",
        "created_at",
        "assigned_to",
        "accept_due",
        "resolve_due",
        "accepted_at",
        "overdue",
        "reopened",
        "supervised",
    }
    assert item["status"] == "new" and item["district"] == "朝阳区" and item["primary"] == "jobs"
    assert item["created_at"].endswith("+08:00")

    invite = await client.post(
        "/api/v1/invites", headers=ADMIN, json={"unit": "朝阳区/双井街道", "name": "张三"}
    )
    code = invite.json()["code"]
    await say("c1", f"绑定 {code}")
    await say("c1", "确认")
    taken = await say("c1", f"受理 {item['code']}")
    assert "已受理" in str(taken[0]["text"])
    pushed = (await client.get("/api/v1/messages/w1", headers=API)).json()["replies"]
    assert any("受理" in str(p["text"]) for p in pushed)
    assert (await client.get("/api/v1/messages/w1", headers=API)).json()["replies"] == []

    assigned = await client.get(
        "/api/v1/help-requests?status=assigned&category=jobs&district=朝阳区", headers=ADMIN
    )
    assert [r["assigned_to"] for r in assigned.json()] == ["张三"]
    none = await client.get("/api/v1/help-requests?category=health", headers=ADMIN)
    assert none.json() == []


async def test_staff_api_auth_and_validation(client: httpx.AsyncClient) -> None:
    """Staff endpoints need the admin token; bad filters and unknown units are 422."""
    assert (await client.get("/api/v1/help-requests", headers=API)).status_code == 401
    assert (await client.get("/api/v1/visits")).status_code == 401
    bad = await client.get("/api/v1/help-requests?status=lost", headers=ADMIN)
    assert bad.status_code == 422
    unknown = await client.post(
        "/api/v1/invites", headers=ADMIN, json={"unit": "火星区", "name": "x"}
    )
    assert unknown.status_code == 422 and unknown.json()["error"] == "unknown_unit"


async def test_visits_listing(client: httpx.AsyncClient) -> None:
    """A visit filed through the API appears in GET /visits with the contract's fields."""
    invite = await client.post(
        "/api/v1/invites", headers=ADMIN, json={"unit": "朝阳区/双井街道", "name": "王五"}
    )
    code = invite.json()["code"]
    for text in (
        f"绑定 {code}",
        "确认",
        "走访记录",
        "昨天",
        "九龙社区",
        "是",  # 九龙社区 is a new community in the test tree
        "实地考察",
        "王某 1人",
        "1",
        "单亲妈妈，房租拖了两个月没交，想申请临时救助",
        "否",
        "确认",
    ):
        response = await client.post(
            "/api/v1/messages", headers=API, json={"user": "c2", "text": text}
        )
        assert response.status_code == 200
    visits = (await client.get("/api/v1/visits?cadre=王五", headers=ADMIN)).json()
    [visit] = visits
    assert set(visit) == {
        "id",
        "date",
        "district",
        "street",
        "community",
        "visit_form",
        "focus",
        "categories",
        "cadre",
    }
    assert visit["visit_form"] == "实地考察" and visit["cadre"] == "王五"
    assert (await client.get("/api/v1/visits?district=海淀区", headers=ADMIN)).json() == []


async def test_outbox_listing(client: httpx.AsyncClient) -> None:
    """GET /outbox lists pushes with their state, filtered by status; it needs the admin token."""
    invite = await client.post(
        "/api/v1/invites", headers=ADMIN, json={"unit": "朝阳区/双井街道", "name": "赵六"}
    )
    code = invite.json()["code"]
    for text in (f"绑定 {code}", "确认"):
        await client.post("/api/v1/messages", headers=API, json={"user": "c9", "text": text})
    for text in (
        "我要求助",
        "想找一份离家近的保洁工作，电话13800138000",
        "对",
        "朝阳区双井街道",
        "确认",
    ):
        await client.post("/api/v1/messages", headers=API, json={"user": "w9", "text": text})
    listed = await client.get("/api/v1/outbox", headers=ADMIN)
    assert listed.status_code == 200
    [alert] = listed.json()
    assert alert["key"].startswith("request:") and alert["channel"] == "api"
    assert alert["status"] == "pending" and "138****8000" in alert["text"]
    await client.get("/api/v1/messages/c9", headers=API)  # the cadre pulls it
    assert (await client.get("/api/v1/outbox?status=sent", headers=ADMIN)).json()[0]["id"] == alert[
        "id"
    ]
    assert (await client.get("/api/v1/outbox", headers=API)).status_code == 401
    assert (await client.get("/api/v1/outbox?status=lost", headers=ADMIN)).status_code == 422
    pending = (await client.get("/api/v1/outbox?status=pending", headers=ADMIN)).json()
    assert pending == []  # the only push was pulled: nothing else is waiting


async def test_crisis_over_the_api_is_escalated(
    client: httpx.AsyncClient, database: Database
) -> None:
    """A crisis over the JSON API: hotlines first, the urgent case stored and pushed at once,
    in that one message."""
    users = responders(database, Clock())
    response = await client.post(
        "/api/v1/messages",
        headers=API,
        json={"user": "u-danger", "text": "我在朝阳区双井街道，他拿着刀说要砍死我"},
    )
    replies = response.json()["replies"]
    assert "110" in replies[0]["text"] and "您好" not in str(replies)
    escalated(database, users)


async def test_a_safety_check_over_the_api(client: httpx.AsyncClient, database: Database) -> None:
    """Danger signals over the JSON API: 您现在安全吗 first and alone, with 安全 / 不安全;
    安全 goes on with the intake; 不安全 (another user) opens the urgent case at once, pushed to
    the unit's cadres and the duty staff."""
    users = responders(database, Clock())
    worry = "我在朝阳区双井街道，他最近老喝酒，喝完就摔东西，我不知道该不该走"

    async def say(user: str, text: str) -> list[dict[str, object]]:
        response = await client.post(
            "/api/v1/messages", headers=API, json={"user": user, "text": text}
        )
        return list(response.json()["replies"])

    asked = await say("u-calm", worry)
    assert asked == [
        {"text": "您现在安全吗？如果有危险，请立即拨打110。", "choices": ["安全", "不安全"]}
    ]
    assert "怎么联系您" in str(await say("u-calm", "安全"))
    await say("u-scared", worry)
    replies = await say("u-scared", "不安全")
    assert "110" in str(replies[0]["text"]) and "方便留个电话吗" in str(replies)
    escalated(database, users)
