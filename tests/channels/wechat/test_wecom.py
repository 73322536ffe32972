"""The /wecom callback: encrypted URL verification, always-encrypted messages, the CorpID check."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.channels.wechat.crypto import MessageCrypto
from bot.config import Settings
from bot.engine import Engine
from bot.nlp import NLP
from storage.db import Database
from tests.conftest import served
from tests.fakes.wechat_peer import WeChatPeer
from tests.fakes.wechat_server import CORP_ID, CORP_SECRET, FakeWeChatServer

TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


@pytest.fixture
async def http(
    database: Database, nlp: NLP, fake_api: FakeWeChatServer
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with only WeCom configured."""
    settings = Settings(
        env="test",
        database_url=database.url,
        secret_key="s",
        api_token="a",
        admin_token="b",
        wecom_corp_id=CORP_ID,
        wecom_token=TOKEN,
        wecom_aes_key=AES_KEY,
        wecom_secret=CORP_SECRET,
        wecom_agent_id=1000002,
        wecom_api_base=fake_api.base_url,
    )
    engine = Engine(settings=settings, db=database, nlp=nlp)
    async with served(settings, engine) as app:
        yield app.http


def _peer(http: httpx.AsyncClient, corp_id: str = CORP_ID) -> WeChatPeer:
    crypto = MessageCrypto(TOKEN, AES_KEY, corp_id)
    return WeChatPeer(
        http=http,
        token=TOKEN,
        user="zhangsan",
        account=corp_id,
        crypto=crypto,
        path="/wecom",
        wecom=True,
    )


async def test_url_verification_decrypts_echostr(http: httpx.AsyncClient) -> None:
    """GET /wecom returns the decrypted echostr; a wrong msg_signature is 403."""
    crypto = MessageCrypto(TOKEN, AES_KEY, CORP_ID)
    echostr = crypto.encrypt("1616140317555161061")
    ts, nonce = "1409659589", "263014780"
    params = {
        "msg_signature": crypto.signature_of(ts, nonce, echostr),
        "timestamp": ts,
        "nonce": nonce,
        "echostr": echostr,
    }
    ok = await http.get("/wecom", params=params)
    assert ok.status_code == 200 and ok.text == "1616140317555161061"
    bad = await http.get("/wecom", params={**params, "msg_signature": "0" * 40})
    assert bad.status_code == 403


async def test_conversation_over_wecom(http: httpx.AsyncClient) -> None:
    """A staff member asks for help through WeCom; replies come back encrypted."""
    peer = _peer(http)
    first = await peer.say("我要求助")
    assert first.status == 200 and "困难" in (first.content or "")
    assert "对吗" in ((await peer.say("想参加两癌筛查，在哪儿做")).content or "")


async def test_other_corp_and_plaintext_are_refused(http: httpx.AsyncClient) -> None:
    """A message for another CorpID is refused; a plaintext POST, even a well-formed message
    with a fresh timestamp, is 403: WeCom is always encrypted."""
    stranger = _peer(http, corp_id="ww-other-corp")
    assert (await stranger.say("你好")).status in (400, 403)
    peer = _peer(http)
    xml = peer.message_xml("<Content>你好</Content>", msg_type="text", msg_id="1")
    params = {"timestamp": str(int(time.time())), "nonce": "2", "msg_signature": "0" * 40}
    plain = await peer.post_raw(params, xml.encode())
    assert plain.status == 403 and "encrypted" in plain.body
