"""Abuse limits: token buckets, 429 per user and per IP, and the body cap, on an injected clock."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlmodel import select

from bot.app import create_app
from bot.channels.setup import build_push_channels
from bot.channels.telegram.webhook import SECRET_HEADER
from bot.config import Settings
from bot.engine import Engine
from bot.http import Services
from bot.limits import Limits, RateLimiter
from bot.nlp import NLP
from storage.db import Database
from storage.models import InboundMessage
from tests.conftest import ADMIN, API
from tests.fakes.telegram_server import TOKEN as TELEGRAM_TOKEN
from tests.fakes.telegram_server import FakeBotApi, RecordingRequest, TelegramUser
from tests.fakes.wechat_peer import WeChatPeer

WECHAT_TOKEN = "limits-token"
WEB = {"X-Requested-With": "fuqing"}


class FakeClock:
    """Monotonic seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


@dataclass
class Limited:
    """The app with limits on a fake clock, an HTTP client of it, and its engine."""

    http: httpx.AsyncClient
    clock: FakeClock
    engine: Engine
    settings: Settings

    def client(self, ip: str) -> httpx.AsyncClient:
        """Another client of the same app, from address `ip`."""
        transport = self.http._transport
        assert isinstance(transport, httpx.ASGITransport)
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=transport.app, client=(ip, 4000)),
            base_url="http://test",
        )


MakeApp = Callable[..., Awaitable[Limited]]


@pytest.fixture
async def make_app(
    settings: Settings, database: Database, nlp: NLP, engine: Engine
) -> AsyncIterator[MakeApp]:
    """Build the app with settings overridden (`await make_app(rate_user_per_minute=3)`)."""
    async with AsyncExitStack() as stack:

        async def make(**update: Any) -> Limited:
            changed = settings.model_copy(update={"wechat_token": WECHAT_TOKEN, **update})
            channels = build_push_channels(changed, db=database, engine=engine)
            stack.push_async_callback(channels.aclose)
            services = Services(
                settings=changed, db=database, nlp=nlp, engine=engine, channels=channels
            )
            app = create_app(changed, services=services)
            clock = FakeClock()
            app.state.limits = Limits.from_settings(changed, clock=clock)
            http = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
            )
            return Limited(http=http, clock=clock, engine=engine, settings=changed)

        yield make


@pytest.fixture
def engine_calls(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The texts the engine was asked to answer, in order."""
    calls: list[str] = []
    handle = engine.handle

    async def counting(message: Any, **kwargs: Any) -> Any:
        calls.append(message.text)
        return await handle(message, **kwargs)

    monkeypatch.setattr(engine, "handle", counting)
    yield calls


# ----------------------------------------------------------------------------- the buckets


def test_bucket_allows_a_burst_then_refuses_until_earned_back() -> None:
    """30 a minute: 30 at once, the 31st waits 2 s; after 2 s one more, then refused again."""
    clock = FakeClock()
    limiter = RateLimiter(30, clock=clock)
    assert all(limiter.hit("u").allowed for _ in range(30))
    refused = limiter.hit("u")
    assert (refused.allowed, refused.retry_after, refused.first) == (False, 2, True)
    assert limiter.hit("u").first is False  # the second refusal in a row is not "first"
    assert limiter.hit("other").allowed  # budgets are per key
    clock.advance(2)
    assert limiter.hit("u").allowed
    assert not limiter.hit("u").allowed


def test_zero_turns_the_limit_off() -> None:
    """per_minute=0 allows everything and keeps no state."""
    limiter = RateLimiter(0, clock=FakeClock())
    assert all(limiter.hit("u").allowed for _ in range(1000))
    assert len(limiter) == 0


def test_idle_buckets_are_forgotten_and_the_count_is_bounded() -> None:
    """A bucket idle for a minute is dropped (it is full again); at most max_keys are kept."""
    clock = FakeClock()
    limiter = RateLimiter(5, clock=clock, max_keys=100)
    for n in range(50):
        limiter.hit(f"u{n}")
    clock.advance(61)
    limiter.hit("fresh")
    assert len(limiter) == 1
    for n in range(500):
        limiter.hit(f"v{n}")
    assert len(limiter) == 100


def test_default_settings() -> None:
    """30 messages a minute per user, 300 requests a minute per IP, 1 MB bodies."""
    settings = Settings()
    assert (settings.rate_user_per_minute, settings.rate_ip_per_minute) == (30, 300)
    assert settings.max_request_bytes == 1024 * 1024


# ----------------------------------------------------------------------------- per user


async def test_api_user_over_budget_gets_429_with_retry_after(
    make_app: MakeApp, engine_calls: list[str]
) -> None:
    """The 4th message of a 3-a-minute user is a 429 JSON error, not asked of the engine;
    another user is unaffected, and 20 s later she may write again."""
    app = await make_app(rate_user_per_minute=3)
    for n in range(3):
        ok = await app.http.post(
            "/api/v1/messages", headers=API, json={"user": "u1", "text": "你好"}
        )
        assert ok.status_code == 200, n
    refused = await app.http.post(
        "/api/v1/messages", headers=API, json={"user": "u1", "text": "你好"}
    )
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "20"
    assert refused.json() == {
        "error": "rate_limited",
        "message": "too many requests; try again in 20 s",
        "details": {"retry_after": 20},
    }
    assert len(engine_calls) == 3
    other = await app.http.post(
        "/api/v1/messages", headers=API, json={"user": "u2", "text": "你好"}
    )
    assert other.status_code == 200
    app.clock.advance(20)
    again = await app.http.post(
        "/api/v1/messages", headers=API, json={"user": "u1", "text": "你好"}
    )
    assert again.status_code == 200


async def test_api_user_limit_off_at_zero(make_app: MakeApp) -> None:
    """FUQING_RATE_USER_PER_MINUTE=0: no per-user limit."""
    app = await make_app(rate_user_per_minute=0)
    for _ in range(5):
        reply = await app.http.post(
            "/api/v1/messages", headers=API, json={"user": "u1", "text": "你好"}
        )
        assert reply.status_code == 200


async def test_web_chat_user_over_budget_gets_429(make_app: MakeApp) -> None:
    """The web chat's cookie id has a budget too: the 3rd message of 2 a minute is a 429."""
    app = await make_app(rate_user_per_minute=2)
    assert "fuqing_web" in (await app.http.get("/chat")).cookies
    first = await app.http.post("/chat/api/messages", headers=WEB, json={"text": "你好"})
    assert first.status_code == 200
    second = await app.http.post("/chat/api/messages", headers=WEB, json={"text": "你好"})
    third = await app.http.post("/chat/api/messages", headers=WEB, json={"text": "你好"})
    assert second.status_code == 200
    assert third.status_code == 429 and third.json()["error"] == "rate_limited"
    assert int(third.headers["Retry-After"]) == 30


async def test_wechat_user_over_budget_gets_success_without_the_engine(
    make_app: MakeApp, engine_calls: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    """WeChat never sees a 429 (it would retry): an openid over budget gets `success`, the
    engine is not asked, and the refusal is logged once without the openid."""
    app = await make_app(rate_user_per_minute=2)
    peer = WeChatPeer(http=app.http, token=WECHAT_TOKEN, user="oFlood", clock=app.engine.clock)
    caplog.set_level(logging.INFO, logger="bot")
    answers = [await peer.say(f"你好{n}") for n in range(4)]
    assert [a.status for a in answers] == [200] * 4
    assert answers[0].content is not None and answers[1].content is not None
    assert [a.body for a in answers[2:]] == ["success", "success"]
    assert engine_calls == ["你好0", "你好1"]
    refusals = [r for r in caplog.records if "rate limited" in r.getMessage()]
    assert len(refusals) == 1 and "oFlood" not in refusals[0].getMessage()
    other = await WeChatPeer(
        http=app.http, token=WECHAT_TOKEN, user="oOther", clock=app.engine.clock
    ).say("你好")
    assert other.content is not None


async def test_wechat_retry_of_an_answered_message_is_not_counted(
    make_app: MakeApp, engine_calls: list[str]
) -> None:
    """WeChat delivering the same MsgId again spends no budget and gets the same answer: the
    engine answers it from the reply it stored (the one dedup), handling the message once."""
    app = await make_app(rate_user_per_minute=1)
    peer = WeChatPeer(http=app.http, token=WECHAT_TOKEN, user="oRetry", clock=app.engine.clock)
    first = await peer.say("你好", msg_id="424242")
    retry = await peer.say("你好", msg_id="424242")
    assert first.content is not None and retry.content == first.content
    assert engine_calls == ["你好", "你好"]
    with app.engine.db.read() as session:
        assert len(session.exec(select(InboundMessage)).all()) == 1


@asynccontextmanager
async def telegram_app(
    database: Database, nlp: NLP, engine: Engine, **update: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, FakeBotApi]]:
    """The app with the Telegram webhook (secret `tg-secret`) on a fake Bot API and `update`d
    settings, its limits on a fake clock: its HTTP client and the fake API."""
    settings = Settings(
        env="test",
        database_url=database.url,
        secret_key="s",
        api_token="a",
        admin_token="b",
        telegram_token=TELEGRAM_TOKEN,
        telegram_secret="tg-secret",
        **update,
    )
    api = FakeBotApi()
    channels = build_push_channels(
        settings, db=database, engine=engine, telegram_request=RecordingRequest(api)
    )
    services = Services(settings=settings, db=database, nlp=nlp, engine=engine, channels=channels)
    app = create_app(settings, services=services)
    app.state.limits = Limits.from_settings(settings, clock=FakeClock())
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as http:
            yield http, api
    finally:
        await channels.aclose()


async def test_telegram_chat_over_budget_is_not_answered(
    database: Database, nlp: NLP, engine: Engine, engine_calls: list[str]
) -> None:
    """A Telegram chat over budget gets `{"ok": true}` (no re-delivery) and no answer; the
    engine is not asked."""
    secret = {SECRET_HEADER: "tg-secret"}
    async with telegram_app(database, nlp, engine, rate_user_per_minute=1) as (http, api):
        she = TelegramUser(api)
        first = await http.post("/telegram", json=she.text("你好"), headers=secret)
        answered = len(api.texts_to(she.chat_id))
        second = await http.post("/telegram", json=she.text("你好"), headers=secret)
    assert first.json() == second.json() == {"ok": True}
    assert answered > 0 and len(api.texts_to(she.chat_id)) == answered
    assert engine_calls == ["你好"]


# ----------------------------------------------------------------------------- per IP


async def test_ip_over_budget_gets_429_on_any_page(make_app: MakeApp) -> None:
    """5 requests a minute per IP: the 6th (a console page) is a 429; another IP is fine."""
    app = await make_app(rate_ip_per_minute=5)
    statuses = [(await app.http.get("/console/login")).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    refused = await app.http.get("/chat")
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert refused.headers["Retry-After"] == "12"
    async with app.client("10.1.2.3") as elsewhere:
        assert (await elsewhere.get("/console/login")).status_code == 200
    app.clock.advance(12)
    assert (await app.http.get("/console/login")).status_code == 200


async def test_ip_limit_spares_callbacks_health_and_valid_tokens(make_app: MakeApp) -> None:
    """WeChat callbacks, /healthz and requests with a valid API or admin token are not counted;
    a wrong token is (so guessing tokens is throttled)."""
    app = await make_app(rate_ip_per_minute=2)
    peer = WeChatPeer(http=app.http, token=WECHAT_TOKEN, user="oIp", clock=app.engine.clock)
    for n in range(3):
        assert (await peer.say(f"你好{n}")).status == 200
        assert (await app.http.get("/healthz")).status_code == 200
        assert (await app.http.get("/api/v1/help-requests", headers=ADMIN)).status_code == 200
        assert (await app.http.get("/api/v1/messages/u1", headers=API)).status_code == 200
    wrong = {"Authorization": "Bearer guess"}
    statuses = [(await app.http.get("/api/v1/outbox", headers=wrong)).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


async def test_a_flood_of_new_openids_from_one_ip_is_cut_off_with_success(
    make_app: MakeApp, engine_calls: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Callbacks have their own per-IP budget (here 5 a minute): one address posting as 8 new
    openids gets 5 answers, then `success` without the engine (WeChat must not retry), logged
    once for the burst; another address is answered, and the budget is earned back."""
    app = await make_app(rate_callback_ip_per_minute=5)
    caplog.set_level(logging.INFO, logger="bot")
    answers = [
        await WeChatPeer(
            http=app.http, token=WECHAT_TOKEN, user=f"oNew{n}", clock=app.engine.clock
        ).say("你好")
        for n in range(8)
    ]
    assert [a.content is not None for a in answers] == [True] * 5 + [False] * 3
    assert [a.body for a in answers[5:]] == ["success"] * 3
    assert [a.status for a in answers] == [200] * 8
    assert len(engine_calls) == 5
    refusals = [r for r in caplog.records if "rate limited: callbacks" in r.getMessage()]
    assert len(refusals) == 1
    async with app.client("10.1.2.3") as elsewhere:
        other = WeChatPeer(http=elsewhere, token=WECHAT_TOKEN, user="oFar", clock=app.engine.clock)
        assert (await other.say("你好")).content is not None
    app.clock.advance(12)  # one request earned back (5 a minute)
    later = WeChatPeer(http=app.http, token=WECHAT_TOKEN, user="oLater", clock=app.engine.clock)
    assert (await later.say("你好")).content is not None


async def test_telegram_over_the_callback_budget_gets_ok(
    database: Database, nlp: NLP, engine: Engine, engine_calls: list[str]
) -> None:
    """/telegram is a callback too: over its per-IP budget an update gets `{"ok": true}` (no
    re-delivery) and the engine is not asked."""
    secret = {SECRET_HEADER: "tg-secret"}
    async with telegram_app(database, nlp, engine, rate_callback_ip_per_minute=1) as (http, api):
        first = await http.post("/telegram", json=TelegramUser(api).text("你好"), headers=secret)
        second = await http.post(
            "/telegram", json=TelegramUser(api, chat_id=1002).text("你好"), headers=secret
        )
    assert first.json() == second.json() == {"ok": True}
    assert engine_calls == ["你好"]


async def test_ip_limit_off_at_zero(make_app: MakeApp) -> None:
    """FUQING_RATE_IP_PER_MINUTE=0: no per-IP limit."""
    app = await make_app(rate_ip_per_minute=0)
    assert {(await app.http.get("/console/login")).status_code for _ in range(20)} == {200}


# ----------------------------------------------------------------------------- body cap


async def _chunks(total: int, size: int = 4096) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b"a" * piece


async def test_declared_body_over_the_cap_is_refused_before_reading(make_app: MakeApp) -> None:
    """A Content-Length over FUQING_MAX_REQUEST_BYTES is a 413 on a console form and the staff
    API alike."""
    app = await make_app(max_request_bytes=2048)
    form = await app.http.post("/console/login", content=b"a" * 3000)
    staff = await app.http.post("/api/v1/invites", headers=ADMIN, content=b"{" + b" " * 3000)
    for response in (form, staff):
        assert response.status_code == 413
        assert response.json()["error"] == "body_too_large"


async def test_streamed_body_over_the_cap_is_cut_off(
    make_app: MakeApp, engine_calls: list[str]
) -> None:
    """A chunked body (no Content-Length) is read up to the cap and refused beyond it, on any
    route; one within the cap goes through."""
    app = await make_app(max_request_bytes=8192)
    for path in ("/console/login", "/api/v1/contact-points", "/wechat", "/chat/api/messages"):
        refused = await app.http.post(path, headers={**ADMIN, **WEB}, content=_chunks(20_000))
        assert refused.status_code == 413, path
        assert refused.json()["error"] == "body_too_large"
    small = await app.http.post("/console/login", content=_chunks(100))
    assert small.status_code in (400, 403, 422)  # reached the app (no CSRF token)
    assert engine_calls == []


async def test_channel_caps_still_apply_below_the_general_cap(make_app: MakeApp) -> None:
    """The JSON API keeps its 16 KB cap (FUQING_MAX_BODY_BYTES), streamed or declared."""
    app = await make_app()

    async def body() -> AsyncIterator[bytes]:
        yield b'{"user": "u1", "text": "'
        async for chunk in _chunks(20_000):
            yield chunk
        yield b'"}'

    streamed = await app.http.post("/api/v1/messages", headers=API, content=body())
    assert streamed.status_code == 413 and streamed.json()["error"] == "body_too_large"


async def test_nul_is_refused_in_paths_queries_and_bodies(
    make_app: MakeApp, engine_calls: list[str]
) -> None:
    """NUL (PostgreSQL cannot store it) is a 400 wherever it comes: JSON escape, form, query,
    path; a literal backslash-u text is no NUL."""
    app = await make_app()
    json_nul = await app.http.post(
        "/api/v1/messages",
        headers={**API, "Content-Type": "application/json"},
        content=b'{"user": "u1", "text": "a\\u0000b"}',
    )
    form_nul = await app.http.post("/console/login", data={"username": "a\x00"})
    query_nul = await app.http.get(
        "/api/v1/help-requests", headers=ADMIN, params={"district": "\x00"}
    )
    path_nul = await app.http.get("/api/v1/messages/u%00", headers=API)
    for response in (json_nul, form_nul, query_nul, path_nul):
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
    assert engine_calls == []
    literal = await app.http.post(
        "/api/v1/messages",
        headers={**API, "Content-Type": "application/json"},
        content=b'{"user": "u1", "text": "a\\\\u0000b"}',
    )
    assert literal.status_code == 200 and engine_calls == ["a\\u0000b"]


async def test_unstorable_numbers_are_400(make_app: MakeApp) -> None:
    """A number beyond the database's integers is a 400 `invalid_value`, not a 500."""
    app = await make_app()
    response = await app.http.post(
        "/api/v1/contact-points",
        headers=ADMIN,
        json={"cadre_id": 2**63, "kind": "street", "name": "双井街道"},
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_value"
