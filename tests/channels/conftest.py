"""Fixtures of the channel tests: the app with its WeChat channel (safe or plaintext mode) or its
WeCom channel, the peers that talk to them, and a fake WeChat API on loopback. Both accounts
share one set-up (`channel_settings`, `served`) and differ only in their settings; the
Telegram tests build their settings with `channel_settings` too. `PausedTime` is the clock of
the channels' retries while the database is down, moved by their own pauses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlmodel import select

from bot.channels.setup import PushChannels
from bot.channels.unavailable import Patience
from bot.channels.wechat.crypto import MessageCrypto
from bot.config import Settings
from bot.engine import Engine
from bot.nlp import NLP
from storage import repo
from storage.db import Database
from storage.models import HelpRequest, InboundMessage, Outbox
from tests.conftest import Clock, served
from tests.factories import bind_cadre
from tests.fakes.wechat_peer import WeChatPeer
from tests.fakes.wechat_server import APPID, CORP_ID, CORP_SECRET, SECRET, FakeWeChatServer

TOKEN = "spamtest"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
WECOM_TOKEN = "QDG6eK"
WECOM_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
WECOM_AGENT_ID = 1000002


def channel_settings(database: Database, **accounts: Any) -> Settings:
    """Test settings on `database` with the channel accounts given (WeChat, WeCom, Telegram)."""
    return Settings(
        env="test",
        database_url=database.url,
        secret_key="s",
        api_token="a",
        admin_token="b",
        **accounts,
    )


def inbound_count(database: Database) -> int:
    """How many inbound messages the engine has stored (its dedup record), on any channel."""
    with database.read() as session:
        return len(session.exec(select(InboundMessage)).all())


def wecom_accounts(api: FakeWeChatServer) -> dict[str, object]:
    """The WeCom settings of the tests' app, pushing to `api`."""
    return {
        "wecom_corp_id": CORP_ID,
        "wecom_token": WECOM_TOKEN,
        "wecom_aes_key": WECOM_AES_KEY,
        "wecom_secret": CORP_SECRET,
        "wecom_agent_id": WECOM_AGENT_ID,
        "wecom_api_base": api.base_url,
    }


def wecom_peer(http: httpx.AsyncClient, corp_id: str = CORP_ID) -> WeChatPeer:
    """A WeCom member (`zhangsan`) talking to the app's /wecom, encrypting for `corp_id`."""
    return WeChatPeer(
        http=http,
        token=WECOM_TOKEN,
        user="zhangsan",
        account=corp_id,
        crypto=MessageCrypto(WECOM_TOKEN, WECOM_AES_KEY, corp_id),
        path="/wecom",
        wecom=True,
    )


@dataclass
class WeChatSetup:
    """The app's HTTP client, its channels and the fake WeChat API."""

    http: httpx.AsyncClient
    channels: PushChannels
    api: FakeWeChatServer
    engine: Engine
    clock: Clock
    safe: bool = True

    def peer(self, user: str = "oUser1", *, safe: bool | None = None) -> WeChatPeer:
        """A WeChat user talking to the account (in the app's mode unless told), signing with
        the app's clock."""
        crypto = (
            MessageCrypto(TOKEN, AES_KEY, APPID) if (self.safe if safe is None else safe) else None
        )
        return WeChatPeer(
            http=self.http, token=TOKEN, user=user, crypto=crypto, clock=self.engine.clock
        )


@asynccontextmanager
async def wechat_served(
    database: Database,
    nlp: NLP,
    api: FakeWeChatServer,
    *,
    safe: bool = True,
    template: str | None = None,
) -> AsyncIterator[WeChatSetup]:
    """The app with the WeChat channel in safe mode (AES key set) or plaintext mode, on
    `database`, pushing to the fake API (with a template message id for pushes outside the
    48-hour window, if given), on a clock at daytime in Beijing."""
    settings = channel_settings(
        database,
        wechat_token=TOKEN,
        wechat_appid=APPID,
        wechat_aes_key=AES_KEY if safe else None,
        wechat_secret=SECRET,
        wechat_api_base=api.base_url,
        wechat_template_id=template,
    )
    clock = Clock()
    engine = Engine(settings=settings, db=database, nlp=nlp, clock=clock)
    async with served(settings, engine) as app:
        yield WeChatSetup(
            http=app.http, channels=app.channels, api=api, engine=engine, clock=clock, safe=safe
        )


@pytest.fixture
def fake_api() -> Iterator[FakeWeChatServer]:
    """A fake WeChat API server on loopback."""
    with FakeWeChatServer() as server:
        yield server


@pytest.fixture
async def wx(
    database: Database, nlp: NLP, fake_api: FakeWeChatServer
) -> AsyncIterator[WeChatSetup]:
    """The app with the WeChat channel in safe mode, pushing to the fake API."""
    async with wechat_served(database, nlp, fake_api) as setup:
        yield setup


@pytest.fixture
async def wx_plain(
    database: Database, nlp: NLP, fake_api: FakeWeChatServer
) -> AsyncIterator[WeChatSetup]:
    """The app with the WeChat channel in plaintext mode (no AES key: development, tests)."""
    async with wechat_served(database, nlp, fake_api, safe=False) as setup:
        yield setup


@pytest.fixture
async def wecom_http(
    database: Database, nlp: NLP, fake_api: FakeWeChatServer
) -> AsyncIterator[httpx.AsyncClient]:
    """The app's HTTP client with only WeCom configured."""
    settings = channel_settings(database, **wecom_accounts(fake_api))
    engine = Engine(settings=settings, db=database, nlp=nlp)
    async with served(settings, engine) as app:
        yield app.http


# ----------------------------------------------------------------------------- the database down


@dataclass
class PausedTime:
    """Monotonic seconds moved only by the retries' pauses: `sleep` notes the pause, moves the
    clock by it and lets the loop run once; nothing really waits. `at_pause(n)` is called with
    the number of pauses so far (a test ends its outage there)."""

    now: float = 0.0
    pauses: list[float] = field(default_factory=list)
    at_pause: Callable[[int], None] | None = None

    def clock(self) -> float:
        """The seconds the pauses have added up to."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """A pause, taken at once."""
        self.pauses.append(seconds)
        self.now += seconds
        if self.at_pause is not None:
            self.at_pause(len(self.pauses))
        await asyncio.sleep(0)

    def patience(self, **schedule: Any) -> Patience:
        """The channels' retry schedule (its defaults unless given) on this time."""
        return Patience(clock=self.clock, sleep=self.sleep, **schedule)


# ----------------------------------------------------------------------------- urgent cases


def responders(database: Database, clock: Clock) -> tuple[int, int]:
    """A cadre of 朝阳区/双井街道 and a city duty account linked to a chat user (both on the api
    channel): the user ids an urgent case there must reach."""
    with database.transaction() as session:
        cadre = bind_cadre(session, place="朝阳区/双井街道", external_id="cadre-sj", now=clock())
        duty_user, _dialogue, _new = repo.user_at(
            session, channel="api", external_id="duty-1", now=clock()
        )
        city = repo.unit_by_path(session, path="北京市")
        assert city is not None
        staff = repo.create_staff(
            session, username="duty-1", password_hash="x", unit=city, now=clock()
        )
        repo.set_duty(session, staff=staff, on_duty=True, user_id=duty_user.id)
        return cadre.id or 0, duty_user.id or 0


def escalated(database: Database, users: tuple[int, int]) -> str:
    """The one urgent case's code, after checking it was pushed (urgent) to both `users`."""
    with database.read() as session:
        [case] = session.exec(select(HelpRequest)).all()
        pushed = {
            row.user_id
            for row in session.exec(select(Outbox)).all()
            if row.urgent and case.code in row.text
        }
    assert case.crisis and case.status == "new"
    assert set(users) <= pushed, (users, pushed)
    return case.code


async def cadre_says(http: httpx.AsyncClient, channels: PushChannels, text: str) -> str:
    """The cadre `c-api` says `text` on the JSON API (token `a`); the pushes it caused are
    delivered before this returns; her first reply."""
    response = await http.post(
        "/api/v1/messages",
        headers={"Authorization": "Bearer a"},
        json={"user": "c-api", "text": text},
    )
    assert response.status_code == 200, response.text
    await channels.dispatcher.settle()
    return str(response.json()["replies"][0]["text"])
