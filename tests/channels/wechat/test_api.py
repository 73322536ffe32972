"""The WeChat / WeCom outbound clients against a real HTTP fake of the API on loopback."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from bot.channels.wechat.api import (
    OfficialAccountClient,
    WeChatApiError,
    WeComClient,
    mask_secrets,
)
from tests.fakes.wechat_server import (
    APPID,
    CORP_ID,
    CORP_SECRET,
    SECRET,
    FakeWeChatServer,
    fake_wechat_server,
)

CUSTOM = "/cgi-bin/message/custom/send"
TEMPLATE = "/cgi-bin/message/template/send"
TOKEN = "/cgi-bin/token"
GETTOKEN = "/cgi-bin/gettoken"
WECOM_SEND = "/cgi-bin/message/send"
MENU = "/cgi-bin/menu/create"


class Clock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake_wechat() -> Iterator[FakeWeChatServer]:
    """A fake WeChat/WeCom API server on 127.0.0.1, stopped after the test."""
    with fake_wechat_server() as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    """A clock the test moves by hand."""
    return Clock()


@pytest.fixture
async def oa(fake_wechat: FakeWeChatServer, clock: Clock) -> AsyncIterator[OfficialAccountClient]:
    """An Official Account client with a template configured and no backoff delays."""
    client = OfficialAccountClient(
        base_url=fake_wechat.base_url,
        appid=APPID,
        secret=SECRET,
        template_id="TPL-1",
        clock=clock,
        backoff=(),
    )
    yield client
    await client.aclose()


@pytest.fixture
async def wecom(fake_wechat: FakeWeChatServer) -> AsyncIterator[WeComClient]:
    """A WeCom client for agent 1000002 with no backoff delays."""
    client = WeComClient(
        base_url=fake_wechat.base_url,
        corp_id=CORP_ID,
        secret=CORP_SECRET,
        agent_id=1000002,
        backoff=(),
    )
    yield client
    await client.aclose()


# ----------------------------------------------------------------------------- the token


async def test_token_fetched_once_for_concurrent_senders(
    oa: OfficialAccountClient, fake_wechat: FakeWeChatServer
) -> None:
    """Five concurrent sends share one token request and all carry that token."""
    results = await asyncio.gather(*(oa.send_text(f"o{i}", "你好") for i in range(5)))
    assert results == ["custom"] * 5
    tokens = fake_wechat.requests_to(TOKEN)
    assert len(tokens) == 1
    assert tokens[0].query == {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    sends = fake_wechat.requests_to(CUSTOM)
    assert [r.query["access_token"] for r in sends] == ["T1"] * 5
    assert sorted(r.body["touser"] for r in sends) == [f"o{i}" for i in range(5)]


async def test_token_refreshed_early_within_the_margin(
    oa: OfficialAccountClient, fake_wechat: FakeWeChatServer, clock: Clock
) -> None:
    """A 7200 s token is reused until 300 s before expiry, then fetched anew."""
    assert await oa.access_token() == "T1"
    clock.now += 7200 - 300 - 1
    assert await oa.access_token() == "T1"
    clock.now += 2
    assert await oa.access_token() == "T2"
    assert len(fake_wechat.requests_to(TOKEN)) == 2


async def test_force_refetches_the_token(oa: OfficialAccountClient) -> None:
    """access_token(force=True) fetches a new token even when the cached one is fresh."""
    assert await oa.access_token() == "T1"
    assert await oa.access_token(force=True) == "T2"
    assert await oa.access_token() == "T2"


async def test_short_lived_token_kept_half_its_life(clock: Clock) -> None:
    """A token living less than the margin is cached for half its lifetime, not refetched each call."""
    with fake_wechat_server(expires_in=200) as server:
        client = OfficialAccountClient(
            base_url=server.base_url, appid=APPID, secret=SECRET, clock=clock, backoff=()
        )
        assert await client.access_token() == "T1"
        clock.now += 99
        assert await client.access_token() == "T1"
        clock.now += 2
        assert await client.access_token() == "T2"
        await client.aclose()


async def test_refreshed_and_retried_on_expired_token_42001(
    oa: OfficialAccountClient, fake_wechat: FakeWeChatServer
) -> None:
    """42001 (expired) → a new token and the same message sent again, once."""
    await oa.send_text("o1", "第一条")
    fake_wechat.expire_token()
    assert await oa.send_text("o1", "第二条") == "custom"
    sends = fake_wechat.requests_to(CUSTOM)
    assert [(r.query["access_token"], r.body["text"]["content"]) for r in sends] == [
        ("T1", "第一条"),
        ("T1", "第二条"),
        ("T2", "第二条"),
    ]


async def test_refreshed_and_retried_on_invalid_token_40001(
    oa: OfficialAccountClient, fake_wechat: FakeWeChatServer
) -> None:
    """40001 (invalid credential) → a new token and the message retried with it."""
    await oa.access_token()
    fake_wechat.fail_next(CUSTOM, errcode=40001, errmsg="invalid credential")
    assert await oa.send_text("o1", "你好") == "custom"
    assert [r.query["access_token"] for r in fake_wechat.requests_to(CUSTOM)] == ["T1", "T2"]


async def test_concurrent_senders_share_one_refresh(
    oa: OfficialAccountClient, fake_wechat: FakeWeChatServer
) -> None:
    """Five sends that all meet an expired token trigger a single refetch between them."""
    await oa.access_token()
    fake_wechat.expire_token()
    results = await asyncio.gather(*(oa.send_text(f"o{i}", "你好") for i in range(5)))
    assert results == ["custom"] * 5
    assert fake_wechat.issued_tokens == ["T1", "T2"]


async def test_token_error_twice_raises_after_one_refresh(
    oa: OfficialAccountClient, fake_wechat: FakeWeChatServer
) -> None:
    """A token error that survives one refresh is raised, not retried forever."""
    fake_wechat.fail_next(CUSTOM, errcode=40001, errmsg="invalid credential", times=2)
    with pytest.raises(WeChatApiError) as caught:
        await oa.send_text("o1", "你好")
    assert caught.value.errcode == 40001
    assert len(fake_wechat.requests_to(TOKEN)) == 2
    assert len(fake_wechat.requests_to(CUSTOM)) == 2


async def test_wrong_secret_raises_40125(fake_wechat: FakeWeChatServer) -> None:
    """A wrong secret → WeChatApiError(40125) from the token request, no message sent."""
    client = OfficialAccountClient(
        base_url=fake_wechat.base_url, appid=APPID, secret="wrong", backoff=()
    )
    with pytest.raises(WeChatApiError) as caught:
        await client.send_text("o1", "你好")
    await client.aclose()
    assert caught.value.errcode == 40125
    assert fake_wechat.requests_to(CUSTOM) == []


# ----------------------------------------------------------------------------- 48-hour window


async def test_outside_48_hours_falls_back_to_template(
    oa: OfficialAccountClient, fake_wechat: FakeWeChatServer
) -> None:
    """45015 → a template message with the same text to the same user."""
    fake_wechat.fail_next(CUSTOM, errcode=45015, errmsg="response out of time limit")
    assert await oa.send_text("o1", "您的求助已受理") == "template"
    [template] = fake_wechat.requests_to(TEMPLATE)
    assert template.body == {
        "touser": "o1",
        "template_id": "TPL-1",
        "data": {"content": {"value": "您的求助已受理"}},
    }
    assert template.query["access_token"] == "T1"


async def test_outside_48_hours_without_template_raises(fake_wechat: FakeWeChatServer) -> None:
    """45015 with no template_id configured → WeChatApiError(45015), nothing else sent."""
    client = OfficialAccountClient(
        base_url=fake_wechat.base_url, appid=APPID, secret=SECRET, backoff=()
    )
    fake_wechat.fail_next(CUSTOM, errcode=45015, errmsg="response out of time limit")
    with pytest.raises(WeChatApiError) as caught:
        await client.send_text("o1", "你好")
    await client.aclose()
    assert caught.value.errcode == 45015
    assert "response out of time limit" in caught.value.errmsg
    assert fake_wechat.requests_to(TEMPLATE) == []


async def test_template_failure_is_raised(
    oa: OfficialAccountClient, fake_wechat: FakeWeChatServer
) -> None:
    """A failing template fallback raises its own error (never reported as sent)."""
    fake_wechat.fail_next(CUSTOM, errcode=45015)
    fake_wechat.fail_next(TEMPLATE, errcode=40037, errmsg="invalid template_id")
    with pytest.raises(WeChatApiError) as caught:
        await oa.send_text("o1", "你好")
    assert (caught.value.errcode, caught.value.errmsg) == (40037, "invalid template_id")


# ----------------------------------------------------------------------------- transient failures


async def test_transient_500_then_success(
    oa: OfficialAccountClient, fake_wechat: FakeWeChatServer
) -> None:
    """One HTTP 500 then success → the message is sent on the second attempt."""
    fake_wechat.fail_next(CUSTOM, status=500)
    assert await oa.send_text("o1", "你好") == "custom"
    assert len(fake_wechat.requests_to(CUSTOM)) == 2


async def test_system_busy_then_success(
    oa: OfficialAccountClient, fake_wechat: FakeWeChatServer
) -> None:
    """errcode -1 (system busy) is retried like a 5xx."""
    fake_wechat.fail_next(CUSTOM, errcode=-1, errmsg="system error", times=2)
    assert await oa.send_text("o1", "你好") == "custom"
    assert len(fake_wechat.requests_to(CUSTOM)) == 3


async def test_persistent_500_raises_after_all_attempts(
    oa: OfficialAccountClient, fake_wechat: FakeWeChatServer
) -> None:
    """HTTP 500 on every attempt → WeChatApiError(-1) after exactly `attempts` (3) tries."""
    fake_wechat.fail_next(CUSTOM, status=500, times=5)
    with pytest.raises(WeChatApiError) as caught:
        await oa.send_text("o1", "你好")
    assert caught.value.errcode == -1
    assert "HTTP 500" in caught.value.errmsg
    assert len(fake_wechat.requests_to(CUSTOM)) == 3


async def test_bad_json_raises_after_retries(
    oa: OfficialAccountClient, fake_wechat: FakeWeChatServer
) -> None:
    """An HTML page instead of JSON is retried, then raised as errcode -1."""
    fake_wechat.fail_next(CUSTOM, raw=b"<html>bad gateway</html>", times=3)
    with pytest.raises(WeChatApiError) as caught:
        await oa.send_text("o1", "你好")
    assert caught.value.errcode == -1 and "not JSON" in caught.value.errmsg
    assert len(fake_wechat.requests_to(CUSTOM)) == 3


async def test_http_4xx_is_not_retried(
    oa: OfficialAccountClient, fake_wechat: FakeWeChatServer
) -> None:
    """HTTP 404 is raised at once as errcode -1 (retrying would not help)."""
    fake_wechat.fail_next(CUSTOM, status=404)
    with pytest.raises(WeChatApiError, match="HTTP 404"):
        await oa.send_text("o1", "你好")
    assert len(fake_wechat.requests_to(CUSTOM)) == 1


async def test_unreachable_server_raises_after_attempts() -> None:
    """A refused connection is retried `attempts` times, then raised as WeChatApiError(-1)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = OfficialAccountClient(
        base_url=f"http://127.0.0.1:{port}", appid=APPID, secret=SECRET, attempts=2, backoff=()
    )
    with pytest.raises(WeChatApiError) as caught:
        await client.send_text("o1", "你好")
    await client.aclose()
    assert caught.value.errcode == -1 and "ConnectError" in caught.value.errmsg
    assert "after 2 attempts" in caught.value.errmsg


async def test_backoff_sequence_between_attempts(
    fake_wechat: FakeWeChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default backoff waits 0.2 s then 0.5 s between the three attempts."""
    delays: list[float] = []
    real_sleep = asyncio.sleep

    async def record(delay: float) -> None:
        delays.append(delay)
        await real_sleep(0)

    client = OfficialAccountClient(base_url=fake_wechat.base_url, appid=APPID, secret=SECRET)
    await client.access_token()
    fake_wechat.fail_next(CUSTOM, status=503, times=3)
    monkeypatch.setattr(asyncio, "sleep", record)
    with pytest.raises(WeChatApiError):
        await client.send_text("o1", "你好")
    monkeypatch.undo()
    await client.aclose()
    assert delays == [0.2, 0.5]


# ----------------------------------------------------------------------------- errors and logs


async def test_error_carries_errcode_and_errmsg(
    oa: OfficialAccountClient, fake_wechat: FakeWeChatServer
) -> None:
    """An API errcode becomes WeChatApiError with both fields, both shown by str()."""
    fake_wechat.fail_next(CUSTOM, errcode=45047, errmsg="out of response count limit")
    with pytest.raises(WeChatApiError) as caught:
        await oa.send_text("o1", "你好")
    error = caught.value
    assert (error.errcode, error.errmsg) == (45047, "out of response count limit")
    assert "45047" in str(error) and "out of response count limit" in str(error)


async def test_logs_never_show_token_or_secret(
    oa: OfficialAccountClient, fake_wechat: FakeWeChatServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Failures are logged, but neither the access token nor the secret appears in any log line."""
    caplog.set_level(logging.DEBUG)
    await oa.send_text("o1", "你好")
    fake_wechat.expire_token()
    fake_wechat.fail_next(CUSTOM, status=500)
    await oa.send_text("o1", "你好")
    fake_wechat.fail_next(CUSTOM, errcode=45047, errmsg="limit access_token=T2 leaked")
    with pytest.raises(WeChatApiError) as caught:
        await oa.send_text("o1", "你好")
    assert "T2" not in str(caught.value)
    text = caplog.text
    assert "42001" in text and "45047" in text  # failures are logged
    assert "access_token=***" in text  # httpx's request log, masked
    for secret in ("T1", "T2", SECRET):
        assert secret not in text


def test_mask_secrets() -> None:
    """access_token=, secret= and corpsecret= values are masked in a URL; the rest is kept."""
    url = "https://x/cgi-bin/token?appid=wx1&secret=abc&corpsecret=def&access_token=T9&n=1"
    assert mask_secrets(url) == (
        "https://x/cgi-bin/token?appid=wx1&secret=***&corpsecret=***&access_token=***&n=1"
    )


# ----------------------------------------------------------------------------- menu, lifecycle


async def test_create_menu_posts_the_json(
    oa: OfficialAccountClient, fake_wechat: FakeWeChatServer
) -> None:
    """The menu is POSTed as UTF-8 JSON (Chinese unescaped) with the access token."""
    menu: dict[str, object] = {
        "button": [
            {"type": "click", "name": "我要求助", "key": "HELP"},
            {"type": "click", "name": "走访记录", "key": "VISIT"},
        ]
    }
    await oa.create_menu(menu)
    [request] = fake_wechat.requests_to(MENU)
    assert request.method == "POST" and request.body == menu
    assert request.query == {"access_token": "T1"}


async def test_aclose_leaves_a_passed_client_open(fake_wechat: FakeWeChatServer) -> None:
    """A client passed in stays open after aclose(); one created by the client is closed."""
    async with httpx.AsyncClient() as http:
        client = OfficialAccountClient(
            base_url=fake_wechat.base_url, appid=APPID, secret=SECRET, http=http
        )
        assert await client.send_text("o1", "你好") == "custom"
        await client.aclose()
        assert not http.is_closed
    own = OfficialAccountClient(base_url=fake_wechat.base_url, appid=APPID, secret=SECRET)
    await own.aclose()
    with pytest.raises(RuntimeError):
        await own.access_token()


# ----------------------------------------------------------------------------- WeCom


async def test_wecom_gettoken_and_send_with_agentid(
    wecom: WeComClient, fake_wechat: FakeWeChatServer
) -> None:
    """WeCom fetches /cgi-bin/gettoken with corpid/corpsecret and sends with the agentid."""
    assert await wecom.send_text("zhangsan", "走访提醒") == "message"
    [token] = fake_wechat.requests_to(GETTOKEN)
    assert token.query == {"corpid": CORP_ID, "corpsecret": CORP_SECRET}
    [send] = fake_wechat.requests_to(WECOM_SEND)
    assert send.query == {"access_token": "T1"}
    assert send.body == {
        "touser": "zhangsan",
        "msgtype": "text",
        "agentid": 1000002,
        "text": {"content": "走访提醒"},
    }


@pytest.mark.parametrize("errcode", [40014, 42001, 40001])
async def test_wecom_refreshes_token_on_token_errors(
    wecom: WeComClient, fake_wechat: FakeWeChatServer, errcode: int
) -> None:
    """WeCom token errors → one refresh and the message resent with the new token."""
    await wecom.access_token()
    fake_wechat.fail_next(WECOM_SEND, errcode=errcode, errmsg="token")
    assert await wecom.send_text("zhangsan", "你好") == "message"
    assert [r.query["access_token"] for r in fake_wechat.requests_to(WECOM_SEND)] == ["T1", "T2"]


async def test_wecom_invalid_user_raises(wecom: WeComClient, fake_wechat: FakeWeChatServer) -> None:
    """errcode 0 with `invaliduser` set is not a delivery: WeChatApiError(81013)."""
    fake_wechat.fail_next(WECOM_SEND, raw=b'{"errcode":0,"errmsg":"ok","invaliduser":"nobody"}')
    with pytest.raises(WeChatApiError) as caught:
        await wecom.send_text("nobody", "你好")
    assert caught.value.errcode == 81013 and "nobody" in caught.value.errmsg


async def test_wecom_retries_transient_failures(
    wecom: WeComClient, fake_wechat: FakeWeChatServer
) -> None:
    """WeCom shares the retry logic: a 502 on gettoken then success."""
    fake_wechat.fail_next(GETTOKEN, status=502)
    assert await wecom.send_text("zhangsan", "你好") == "message"
    assert len(fake_wechat.requests_to(GETTOKEN)) == 2
