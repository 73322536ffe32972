"""The Telegram channel: the /telegram webhook end to end through the real app and engine, with
python-telegram-bot's own objects over a recording transport (no network); pushes through the
outbox; long-polling conversations against a fake Bot API server on loopback; and what she gets
while the database is down (webhook: 503 and Telegram's re-delivery; polling: tried again)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlmodel import select
from telegram import Update
from telegram.ext import AIORateLimiter

from bot import texts
from bot.app import create_app
from bot.channels.setup import PushChannels, build_push_channels
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.convert import PROFILE, callback_data, keyboard
from bot.channels.telegram.transport import api_base
from bot.channels.telegram.webhook import SECRET_HEADER
from bot.channels.unavailable import UNAVAILABLE_GIVE_UP
from bot.config import Settings
from bot.engine import Engine
from bot.http import Services
from bot.messages import Incoming, Outgoing
from bot.nlp import NLP
from bot.paging import fit
from storage import repo
from storage.db import Database
from storage.models import HelpRequest, Identity, InboundMessage, Outbox
from tests.channels.conftest import (
    PausedTime,
    cadre_says,
    channel_settings,
    escalated,
    responders,
)
from tests.conftest import Clock, ErrorLog, long_text, refusing_writes
from tests.factories import bind_cadre
from tests.fakes.nlp import RecordingNLP
from tests.fakes.telegram_server import (
    TOKEN,
    FakeBotApi,
    FakeTelegramServer,
    RecordingRequest,
    TelegramUser,
)

SECRET = "tg-webhook-secret_42"
# (what she does: a text, or ("press", label); what the answer contains)
HELP_REQUEST: list[tuple[str | tuple[str, str], str]] = [
    ("我要求助", "请说说您遇到的困难"),
    ("我是单亲妈妈，想找份能照顾孩子的工作", "区"),
    (("press", "朝阳区"), "街道"),
    ("双井", "怎么联系您"),
    (("press", "就在这里联系我"), "请核对"),
    (("press", "确认"), "已提交"),
]


def _settings(database: Database, **telegram: Any) -> Settings:
    """Test settings with the bot's token and the Telegram settings given."""
    return channel_settings(database, telegram_token=TOKEN, **telegram)


@dataclass
class TelegramSetup:
    """The app's HTTP client, its channels, the fake Bot API and the engine."""

    http: httpx.AsyncClient
    channels: PushChannels
    api: FakeBotApi
    engine: Engine
    clock: Clock

    @property
    def channel(self) -> TelegramChannel:
        """The app's Telegram channel."""
        assert self.channels.telegram is not None
        return self.channels.telegram

    async def deliver(
        self, update: dict[str, Any] | bytes, *, secret: str | None = SECRET
    ) -> httpx.Response:
        """POST one update to /telegram as Telegram does (with the secret header)."""
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        if isinstance(update, bytes):
            return await self.http.post("/telegram", content=update, headers=headers)
        return await self.http.post("/telegram", json=update, headers=headers)

    async def say(self, she: TelegramUser, update: dict[str, Any]) -> str:
        """Deliver her update; return the texts the bot sent her for it, joined."""
        before = len(self.api.texts_to(she.chat_id))
        response = await self.deliver(update)
        assert response.status_code == 200, response.text
        return "\n\n".join(self.api.texts_to(she.chat_id)[before:])


@pytest.fixture
async def tg(database: Database, nlp: NLP) -> AsyncIterator[TelegramSetup]:
    """The app with the Telegram webhook on, its Bot API calls answered by the fake offline."""
    settings = _settings(database, telegram_secret=SECRET)
    clock = Clock()  # daytime in Beijing
    engine = Engine(settings=settings, db=database, nlp=nlp, clock=clock)
    api = FakeBotApi()
    channels = build_push_channels(
        settings, db=database, engine=engine, telegram_request=RecordingRequest(api)
    )
    services = Services(settings=settings, db=database, nlp=nlp, engine=engine, channels=channels)
    app = create_app(settings, services=services)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        yield TelegramSetup(http=http, channels=channels, api=api, engine=engine, clock=clock)
    await channels.dispatcher.settle()
    await channels.aclose()


def _count(database: Database, model: type[InboundMessage] | type[HelpRequest]) -> int:
    with database.read() as session:
        return len(session.exec(select(model)).all())


def _identity(database: Database, chat_id: int) -> Identity | None:
    with database.read() as session:
        return repo.identity_of(session, channel="telegram", external_id=str(chat_id))


# ----------------------------------------------------------------------------- the webhook


async def test_secret_token_is_checked(tg: TelegramSetup, database: Database) -> None:
    """A missing or wrong secret token is 403 and reaches neither the engine nor the Bot API."""
    she = TelegramUser(tg.api)
    missing = await tg.deliver(she.text("你好"), secret=None)
    wrong = await tg.deliver(she.text("你好"), secret=SECRET + "x")
    assert missing.status_code == 403 and wrong.status_code == 403
    assert _count(database, InboundMessage) == 0 and tg.api.calls == []
    assert (await tg.deliver(she.text("你好"))).status_code == 200
    assert _count(database, InboundMessage) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[1, 2]", 400),
        (b'{"message": {"text": "hi"}}', 400),
        (b'{"update_id": "7"}', 400),
        (b'{"update_id": 7, "message": {"text": "no date, no chat"}}', 400),
        (b'{"update_id": 7, "message": 5}', 400),
        (b'{"update_id": 7, "message": {"text": "' + b"a" * (1024 * 1024) + b'"}}', 413),
    ],
    ids=["not-json", "list", "no-update-id", "string-id", "bad-message", "message-int", "huge"],
)
async def test_malformed_bodies_are_4xx(
    tg: TelegramSetup, database: Database, body: bytes, status: int
) -> None:
    """What is not an update gets 400 (an oversized body 413), never a 5xx, and touches nothing."""
    response = await tg.deliver(body)
    assert response.status_code == status
    assert _count(database, InboundMessage) == 0 and tg.api.calls_to("sendMessage") == []


async def test_a_deeply_nested_body_is_400_without_a_traceback(
    tg: TelegramSetup, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A JSON body nested 100,000 deep is a 400 like any non-JSON body: no RecursionError
    traceback in the log, nothing touched."""
    caplog.set_level(logging.INFO)
    response = await tg.deliver(b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 400 and response.json()["ok"] is False
    assert "RecursionError" not in caplog.text and "Traceback" not in caplog.text
    assert _count(database, InboundMessage) == 0


async def test_help_request_with_inline_buttons(tg: TelegramSetup, database: Database) -> None:
    """/start shows the menu as buttons; a whole help request, partly by button presses, is
    filed; each press is answered and its keyboard taken off."""
    she = TelegramUser(tg.api, chat_id=1001)
    welcome = await tg.say(she, she.text("/start"))
    assert "您好！我是妇情通" in welcome and "隐私说明" in welcome and "1. 我要求助" in welcome
    assert tg.api.keyboard_to(1001) == [
        ("我要求助", "我要求助"),
        ("查询进度", "查询进度"),
        ("转人工", "转人工"),
    ]
    press = she.press("我要求助")
    assert "请说说您遇到的困难" in await tg.say(she, press)
    [answered] = tg.api.calls_to("answerCallbackQuery")
    assert answered.params["callback_query_id"] == press["callback_query"]["id"]
    [edited] = tg.api.calls_to("editMessageReplyMarkup")
    assert edited.params["chat_id"] == 1001 and "reply_markup" not in edited.params
    for said, expected in HELP_REQUEST[1:]:
        update = she.press(said[1]) if isinstance(said, tuple) else she.text(said)
        answer = await tg.say(she, update)
        assert expected in answer, (said, answer)
    assert len(tg.api.calls_to("answerCallbackQuery")) == 4
    with database.read() as session:
        [request] = session.exec(select(HelpRequest)).all()
    assert request.district == "朝阳区" and request.street == "双井街道"
    identity = _identity(database, 1001)
    assert identity is not None and identity.active


async def test_a_long_text_is_cut_and_she_is_told(tg: TelegramSetup) -> None:
    """A Telegram message of its full 4,096 characters is read up to 2,000, and she is told
    first."""
    she = TelegramUser(tg.api, chat_id=1010)
    text = long_text(4096)
    tg.engine.nlp = recording = RecordingNLP(tg.engine.nlp)
    answer = await tg.say(she, she.text(text))
    assert answer.startswith(texts.t("text.cut", length=4096, read=2000, rest=2096))
    assert recording.texts[0] == text[:2000]


async def test_help_and_cancel_commands(tg: TelegramSetup) -> None:
    """/help explains the current question, /cancel (→ 取消) drops the flow, /help@bot works."""
    she = TelegramUser(tg.api, chat_id=1002)
    assert "请说说您遇到的困难" in await tg.say(she, she.text("我要求助"))
    assert "哪个区" in await tg.say(she, she.text("想找份工作"))
    assert "说区名就行" in await tg.say(she, she.text("/help"))
    assert "已取消" in await tg.say(she, she.text("/cancel"))
    idle_help = await tg.say(she, she.text("/help@fuqing_test_bot"))
    assert "随时可用" in idle_help and tg.api.keyboard_to(1002)[0] == ("我要求助", "我要求助")
    for odd in ("/", "/ ", "/unknown"):  # passed on as typed: the engine asks what she needs
        assert "请问需要什么帮助" in await tg.say(she, she.text(odd))


async def test_voice_asks_for_text(tg: TelegramSetup, database: Database) -> None:
    """A voice message is asked to be typed instead (kind voice, no text)."""
    she = TelegramUser(tg.api, chat_id=1003)
    await tg.say(she, she.text("你好"))
    assert "请改用文字发送" in await tg.say(she, she.voice())
    with database.read() as session:
        kinds = [m.kind for m in session.exec(select(InboundMessage)).all()]
    assert kinds == ["text", "voice"]


async def test_repeated_update_is_answered_once(tg: TelegramSetup, database: Database) -> None:
    """Telegram re-delivering an update_id gets no second answer and no second handling."""
    she = TelegramUser(tg.api, chat_id=1004)
    update = she.text("我要求助")
    first = await tg.say(she, update)
    again = await tg.say(she, update)
    assert "困难" in first and again == ""
    with database.read() as session:
        [inbound] = session.exec(select(InboundMessage)).all()
    assert inbound.msg_id == f"upd:{update['update_id']}"


async def test_the_engines_record_is_the_dedup(tg: TelegramSetup) -> None:
    """The channel computes the update's message id and keeps no record of its own: an update
    whose id the engine already answered (here handed to the engine directly) is not answered
    again."""
    she = TelegramUser(tg.api, chat_id=1014)
    update = she.text("我要求助")
    incoming = Incoming(
        channel="telegram", user="1014", text="我要求助", msg_id=f"upd:{update['update_id']}"
    )
    assert "困难" in (await tg.engine.handle(incoming))[0].text
    assert await tg.say(she, update) == ""


async def test_group_chats_are_sent_to_a_private_chat(
    tg: TelegramSetup, database: Database
) -> None:
    """In a group the bot asks to be written to privately and hands nothing to the engine."""
    group = TelegramUser(tg.api, chat_id=-100777, chat_type="group")
    assert "私聊" in await tg.say(group, group.text("我要求助"))
    assert _count(database, InboundMessage) == 0


async def test_a_failure_is_logged_and_apologised(
    tg: TelegramSetup, caplog: pytest.LogCaptureFixture
) -> None:
    """A Bot API failure while answering is logged with its traceback; she gets an apology."""
    she = TelegramUser(tg.api, chat_id=1005)
    tg.api.fail_next("sendMessage", status=500, description="Internal Server Error")
    with caplog.at_level(logging.ERROR, logger="bot.channels.telegram"):
        response = await tg.deliver(she.text("你好"))
    assert response.status_code == 200
    [record] = [r for r in caplog.records if r.name == "bot.channels.telegram"]
    assert record.exc_info is not None and "failed" in record.getMessage()
    failed, apology = tg.api.texts_to(1005)  # the greeting's send failed; the apology went out
    assert "您好" in failed and apology.startswith("抱歉，系统出了点问题")


# ----------------------------------------------------------------------------- pushes


async def test_status_changes_reach_her_in_telegram(tg: TelegramSetup, database: Database) -> None:
    """A cadre (on the JSON API) takes and resolves her request; she is told through Telegram."""
    she = TelegramUser(tg.api, chat_id=1006)
    for said in ("我要求助", "想找一份离家近的保洁工作", "朝阳区双井街道", "1"):
        await tg.say(she, she.text(said))
    code = (await tg.say(she, she.text("确认"))).split("编号 ")[1][:6]
    with database.transaction() as session:
        bind_cadre(session, name="王干部", external_id="c-api", now=tg.clock())
    for text in (f"受理 {code}", f"办结 {code} 已推荐到社区保洁岗位"):
        await cadre_says(tg.http, tg.channels, text)
    pushed = tg.api.texts_to(1006)
    assert any("受理" in t for t in pushed) and any("保洁岗位" in t for t in pushed)
    assert isinstance(tg.channel.bot.rate_limiter, AIORateLimiter)


async def test_a_hand_off_talks_both_ways_in_telegram(
    tg: TelegramSetup, database: Database
) -> None:
    """转人工 in Telegram: the cadre (on the JSON API) replies with 回复 <编号>; the reply reaches
    her chat through the Bot API; her answer reaches the cadre; 结束会话 tells her."""
    with database.transaction() as session:
        bind_cadre(session, name="王干部", external_id="c-api", now=tg.clock())
    she = TelegramUser(tg.api, chat_id=1007)
    await tg.say(she, she.text("我住朝阳区双井街道，想找份保洁工作"))
    started = await tg.say(she, she.text("转人工"))
    assert "双井街道" in started
    code = started.split("会话编号 ")[1][:6]

    async def cadre(text: str) -> str:
        return await cadre_says(tg.http, tg.channels, text)

    assert "已回复" in await cadre(f"回复 {code} 您好，我是双井街道妇联的王干部")
    assert any("我是双井街道妇联的王干部" in t for t in tg.api.texts_to(1007))
    assert "已转给工作人员" in await tg.say(she, she.text("想找上午的活"))
    pulled = await tg.http.get("/api/v1/messages/c-api", headers={"Authorization": "Bearer a"})
    assert any("想找上午的活" in m["text"] for m in pulled.json()["replies"])
    assert "已结束会话" in await cadre(f"结束会话 {code}")
    assert "由我继续为您服务" in tg.api.texts_to(1007)[-1]


async def test_blocked_chat_is_deactivated_not_retried_forever(
    tg: TelegramSetup, database: Database
) -> None:
    """A push to a chat that blocked the bot marks her identity inactive; the retry then fails
    with 'no active address' without calling Telegram, until the row is dead; writing again
    makes her reachable."""
    she = TelegramUser(tg.api, chat_id=1007)
    await tg.say(she, she.text("你好"))
    dispatcher = tg.channels.dispatcher
    await dispatcher.settle()  # the sweep her message started must not take the row below
    ids = dispatcher.enqueue_replies(
        channel="telegram", external_id="1007", replies=[Outgoing("提醒")], key="t1"
    )
    tg.api.block(1007)
    sends = len(tg.api.calls_to("sendMessage"))
    assert await dispatcher.deliver(ids) == 0
    identity = _identity(database, 1007)
    assert identity is not None and not identity.active
    with database.read() as session:
        row = session.exec(select(Outbox)).one()
    assert row.status == "pending" and "ChatUnreachable" in (row.last_error or "")
    for _ in range(5):
        tg.clock.advance(hours=13)
        await dispatcher.deliver(ids)
    with database.read() as session:
        row = session.exec(select(Outbox)).one()
    assert row.status == "dead" and "no active address" in (row.last_error or "")
    assert len(tg.api.calls_to("sendMessage")) == sends + 1  # only the first try reached Telegram
    tg.api.blocked.clear()
    await tg.say(she, she.text("你好"))
    identity = _identity(database, 1007)
    assert identity is not None and identity.active


async def test_deleted_chat_and_block_event_deactivate(
    tg: TelegramSetup, database: Database
) -> None:
    """'chat not found' on a push, and Telegram's my_chat_member 'kicked', mark the chat inactive."""
    gone = TelegramUser(tg.api, chat_id=1008)
    await tg.say(gone, gone.text("你好"))
    tg.api.delete(1008)
    with pytest.raises(Exception, match="blocked or deleted"):
        await tg.channel.send("1008", "提醒")
    identity = _identity(database, 1008)
    assert identity is not None and not identity.active
    blocker = TelegramUser(tg.api, chat_id=1009)
    await tg.say(blocker, blocker.text("你好"))
    assert await tg.say(blocker, blocker.blocks_bot()) == ""
    identity = _identity(database, 1009)
    assert identity is not None and not identity.active


# ----------------------------------------------------------------------------- set-up and pieces


async def test_webhook_registration_carries_the_secret(tg: TelegramSetup) -> None:
    """`set_webhook` registers the URL with our secret and the update types we read."""
    await tg.channel.set_webhook("https://fuqing.example/telegram")
    [call] = tg.api.calls_to("setWebhook")
    assert call.params["url"] == "https://fuqing.example/telegram"
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "callback_query", "my_chat_member"]
    [commands] = tg.api.calls_to("setMyCommands")
    assert [c["command"] for c in commands.params["commands"]] == [
        "start",
        "help",
        "cancel",
        "menu",
    ]


async def test_webhook_is_off_without_a_secret(database: Database, nlp: NLP) -> None:
    """With a token but no secret there is no /telegram route (polling only); pushes still go."""
    settings = _settings(database)
    engine = Engine(settings=settings, db=database, nlp=nlp, clock=Clock())
    channels = build_push_channels(
        settings, db=database, engine=engine, telegram_request=RecordingRequest(FakeBotApi())
    )
    services = Services(settings=settings, db=database, nlp=nlp, engine=engine, channels=channels)
    app = create_app(settings, services=services)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        response = await http.post("/telegram", json={"update_id": 1})
    assert response.status_code == 404 and "telegram" in channels.dispatcher.senders
    await channels.aclose()


@pytest.mark.parametrize("secret", ["has space", "x" * 257, "ümlaut"])
def test_a_secret_telegram_would_refuse_is_refused(
    database: Database, nlp: NLP, secret: str
) -> None:
    """FUQING_TELEGRAM_SECRET must be 1–256 of A–Z a–z 0–9 _ - (setWebhook's rule)."""
    settings = _settings(database, telegram_secret=secret)
    engine = Engine(settings=settings, db=database, nlp=nlp)
    with pytest.raises(ValueError, match="FUQING_TELEGRAM_SECRET"):
        build_push_channels(settings, db=database, engine=engine)


def test_long_texts_are_split_under_telegrams_limit() -> None:
    """Text over 4096 UTF-16 units is cut, at a line end when there is one; nothing is lost."""
    lines = "\n".join(f"第{i}行：" + "困难" * 30 for i in range(200))
    chunks = [m.text for m in fit([Outgoing(lines)], PROFILE)]
    assert len(chunks) > 1 and all(len(c.encode("utf-16-le")) // 2 <= 4096 for c in chunks)
    assert "\n".join(chunks) == lines
    emoji = "😀" * 3000  # two UTF-16 units each, never cut in half
    assert [len(m.text) for m in fit([Outgoing(emoji)], PROFILE)] == [2048, 952]
    assert fit([Outgoing("")], PROFILE) == [] and fit([Outgoing("短")], PROFILE) == [Outgoing("短")]


def test_a_long_reply_keeps_its_buttons_on_the_last_message() -> None:
    """Telegram's profile: a reply cut in several messages carries its choices on the last."""
    long = Outgoing("\n".join("字" * 100 for _ in range(60)), ("是", "否"))
    messages = fit([long], PROFILE)
    assert len(messages) == 2 and [m.choices for m in messages] == [(), ("是", "否")]


def test_buttons_carry_their_label_or_number() -> None:
    """callback_data is the label, or the choice's number when the label is over 64 bytes."""
    long_label = "朝阳区双井街道九龙社区居委会妇联执委会联络站"  # 22 characters, 66 bytes
    assert callback_data("同意", 1) == "同意" and callback_data(long_label, 3) == "3"
    markup = keyboard(("同意", long_label))
    assert markup is not None
    assert [[b.callback_data for b in row] for row in markup.inline_keyboard] == [["同意"], ["2"]]
    assert keyboard(()) is None


def test_api_base_is_python_telegram_bots_base_url() -> None:
    """FUQING_TELEGRAM_API_BASE is passed as base_url; a bare host gets /bot."""
    assert api_base(None) == "https://api.telegram.org/bot"
    assert api_base("http://127.0.0.1:8081") == "http://127.0.0.1:8081/bot"
    assert api_base("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/bot"
    assert api_base("http://h/bot{token}/test") == "http://h/bot{token}/test"


# ----------------------------------------------------------------------------- polling


async def test_polling_holds_a_whole_help_request(
    database: Database, nlp: NLP, caplog: pytest.LogCaptureFixture
) -> None:
    """`fuqing telegram`'s polling against a fake Bot API on loopback: a whole help request
    with button presses, then the poll stops and confirms what it read; no log shows the token."""
    caplog.set_level(logging.INFO, logger="httpx")
    api = FakeBotApi()
    she = TelegramUser(api, chat_id=2001)
    turns = [(she.text_("/start"), "请问需要什么帮助"), (she.press_("我要求助"), "困难")]
    for said, expected in HELP_REQUEST[1:]:
        turns.append(
            (she.press_(said[1]) if isinstance(said, tuple) else she.text_(said), expected)
        )
    api.play(turns)
    with FakeTelegramServer(api) as server:
        settings = _settings(database, telegram_api_base=server.base_url)
        engine = Engine(settings=settings, db=database, nlp=nlp, clock=Clock())
        channels = build_push_channels(settings, db=database, engine=engine)
        assert channels.telegram is not None
        stop = asyncio.Event()
        polling = asyncio.create_task(channels.telegram.poll(stop, long_poll=1))
        finished = await asyncio.to_thread(api.finished.wait, 30)
        stop.set()
        await asyncio.wait_for(polling, 15)
        await channels.dispatcher.settle()
        await channels.aclose()
    assert finished, api.transcript
    for (said, replies), (_, expected) in zip(api.transcript, turns, strict=True):
        assert any(expected in r for r in replies), (said, replies)
    assert api.calls_to("getMe") and api.calls_to("deleteWebhook")
    assert len(api.calls_to("answerCallbackQuery")) == 4
    assert len(api.handed_out) == len(turns)  # and the last poll confirmed them all:
    assert api.calls_to("getUpdates")[-1].params["offset"] == api.handed_out[-1] + 1
    with database.read() as session:
        [request] = session.exec(select(HelpRequest)).all()
    assert request.street == "双井街道"
    assert "/bot<token>/getUpdates" in caplog.text and TOKEN not in caplog.text


async def test_crisis_over_telegram_is_escalated(tg: TelegramSetup, database: Database) -> None:
    """A crisis over Telegram: hotlines first, the urgent case stored and pushed at once."""
    users = responders(database, tg.clock)
    she = TelegramUser(tg.api, chat_id=1099)
    answer = await tg.say(she, she.text("我在朝阳区双井街道，他拿着刀说要砍死我"))
    assert answer.index("110") < 40
    escalated(database, users)


# ----------------------------------------------------------------------------- the database down

# A database that refuses every connection at once (nothing listens on port 1).
REFUSING_URL = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
APOLOGY = "抱歉，系统出了点问题"


async def test_an_update_the_database_cannot_store_is_503_and_answered_when_delivered_again(
    tg: TelegramSetup, database: Database, error_log: ErrorLog
) -> None:
    """The database is read-only: her update gets 503 with Retry-After, so Telegram keeps it;
    nothing is sent to her (no apology) or stored. Telegram delivers it again once writes work:
    she gets the answer once, and a further delivery gets nothing."""
    she = TelegramUser(tg.api, chat_id=1020)
    update = she.text("我要求助")
    with refusing_writes(database):
        refused = await tg.deliver(update)
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert refused.json()["error"] == "unavailable"
    assert tg.api.calls_to("sendMessage") == [] and _count(database, InboundMessage) == 0
    answer = await tg.say(she, update)  # Telegram delivers it again
    assert "请说说您遇到的困难" in answer and APOLOGY not in answer
    assert await tg.say(she, update) == ""
    assert _count(database, InboundMessage) == 1
    error_log.check()  # an outage, not a bug: no ERROR


async def test_an_update_while_the_database_refuses_connections_is_503(
    tg: TelegramSetup, database: Database, monkeypatch: pytest.MonkeyPatch, error_log: ErrorLog
) -> None:
    """The database refuses connections: the engine's dedup look-up (the update's first use of
    the database) says so as `ServiceUnavailable`, not the driver's error, so the webhook
    answers 503 and sends nothing; once it is back the re-delivery is answered."""
    she = TelegramUser(tg.api, chat_id=1021)
    update = she.text("我要求助")
    down = Database(REFUSING_URL)
    monkeypatch.setattr(tg.engine, "db", down)
    try:
        refused = await tg.deliver(update)
    finally:
        monkeypatch.undo()
        down.dispose()
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert tg.api.calls_to("sendMessage") == [] and _count(database, InboundMessage) == 0
    assert "请说说您遇到的困难" in await tg.say(she, update)
    error_log.check()


async def test_polling_tries_an_update_again_until_the_database_is_back(
    database: Database, nlp: NLP, error_log: ErrorLog
) -> None:
    """Long polling has confirmed her update to Telegram, so the channel keeps trying it while
    the database cannot store: refused three times (pauses of 1, 2 and 5 s on the retries'
    clock), then writes work again and she gets the answer, once, with no apology."""
    api = FakeBotApi()
    she = TelegramUser(api, chat_id=2002)
    api.play([(she.text_("我要求助"), "请说说您遇到的困难")])
    with ExitStack() as outage:
        outage.enter_context(refusing_writes(database))
        time = PausedTime(at_pause=lambda pauses: outage.close() if pauses == 3 else None)
        with FakeTelegramServer(api) as server:
            settings = _settings(database, telegram_api_base=server.base_url)
            engine = Engine(settings=settings, db=database, nlp=nlp, clock=Clock())
            channels = build_push_channels(settings, db=database, engine=engine)
            assert channels.telegram is not None
            channels.telegram.patience = time.patience()
            stop = asyncio.Event()
            polling = asyncio.create_task(channels.telegram.poll(stop, long_poll=1))
            finished = await asyncio.to_thread(api.finished.wait, 30)
            stop.set()
            await asyncio.wait_for(polling, 15)
            await channels.aclose()
    assert finished, api.transcript
    assert time.pauses == [1.0, 2.0, 5.0]
    [(said, replies)] = api.transcript
    assert said == "我要求助" and not any(APOLOGY in r for r in replies)
    assert [r for r in replies if "请说说您遇到的困难" in r] == replies[-1:]
    assert _count(database, InboundMessage) == 1
    error_log.check()


async def test_polling_gives_an_update_up_after_the_give_up_time_with_the_apology(
    tg: TelegramSetup, database: Database, error_log: ErrorLog
) -> None:
    """The database does not come back: the polled update is tried for 15 minutes (on the
    retries' clock), then an ERROR names it and she gets the apology; nothing is stored."""
    time = PausedTime()
    tg.channel.patience = time.patience()
    she = TelegramUser(tg.api, chat_id=2003)
    update = Update.de_json(she.text("我要求助"), tg.channel.bot)
    with refusing_writes(database):
        await tg.channel.handle_polled(update)
    assert time.pauses[:6] == [1.0, 2.0, 5.0, 10.0, 30.0, 30.0]
    assert time.now - time.pauses[-1] <= UNAVAILABLE_GIVE_UP < time.now
    [apology] = tg.api.texts_to(2003)
    assert apology.startswith(APOLOGY)
    [record] = error_log.records
    assert f"update {update.update_id} given up" in record.getMessage()
    error_log.records.clear()
    assert _count(database, InboundMessage) == 0


async def test_an_update_polled_before_stopping_is_tried_once_then_apologised(
    tg: TelegramSetup, database: Database, error_log: ErrorLog
) -> None:
    """Polling is stopping (Ctrl-C) while the database is down: an update still to answer is
    tried once, not for 15 minutes; then the ERROR and the apology."""
    time = PausedTime()
    tg.channel.patience = time.patience()
    she = TelegramUser(tg.api, chat_id=2004)
    update = Update.de_json(she.text("我要求助"), tg.channel.bot)
    stop = asyncio.Event()
    stop.set()
    with refusing_writes(database):
        await tg.channel.handle_polled(update, stop)
    assert time.pauses == []
    [apology] = tg.api.texts_to(2004)
    assert apology.startswith(APOLOGY)
    [record] = error_log.records
    assert "given up" in record.getMessage() and "until polling stopped" in record.getMessage()
    error_log.records.clear()
