"""Fixtures of the channel tests: the app with its WeChat channel (safe or plaintext mode) and
a fake WeChat API on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest

from bot.channels.setup import PushChannels
from bot.channels.wechat.crypto import MessageCrypto
from bot.config import Settings
from bot.engine import Engine
from bot.nlp import NLP
from storage.db import Database
from tests.conftest import Clock, served
from tests.fakes.wechat_peer import WeChatPeer
from tests.fakes.wechat_server import APPID, SECRET, FakeWeChatServer

TOKEN = "spamtest"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


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
    database: Database, nlp: NLP, api: FakeWeChatServer, *, safe: bool = True
) -> AsyncIterator[WeChatSetup]:
    """The app with the WeChat channel in safe mode (AES key set) or plaintext mode, on
    `database`, pushing to the fake API, on a clock at daytime in Beijing."""
    settings = Settings(
        env="test",
        database_url=database.url,
        secret_key="s",
        api_token="a",
        admin_token="b",
        wechat_token=TOKEN,
        wechat_appid=APPID,
        wechat_aes_key=AES_KEY if safe else None,
        wechat_secret=SECRET,
        wechat_api_base=api.base_url,
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
