"""The /wecom callback: encrypted URL verification, always-encrypted messages, the CorpID check."""

from __future__ import annotations

import time

import httpx

from bot.channels.wechat.crypto import MessageCrypto
from storage.db import Database
from tests.channels.conftest import WECOM_AES_KEY, WECOM_TOKEN, escalated, responders, wecom_peer
from tests.conftest import Clock
from tests.fakes.wechat_server import CORP_ID


async def test_url_verification_decrypts_echostr(wecom_http: httpx.AsyncClient) -> None:
    """GET /wecom returns the decrypted echostr; a wrong msg_signature is 403."""
    crypto = MessageCrypto(WECOM_TOKEN, WECOM_AES_KEY, CORP_ID)
    echostr = crypto.encrypt("1616140317555161061")
    ts, nonce = "1409659589", "263014780"
    params = {
        "msg_signature": crypto.signature_of(ts, nonce, echostr),
        "timestamp": ts,
        "nonce": nonce,
        "echostr": echostr,
    }
    ok = await wecom_http.get("/wecom", params=params)
    assert ok.status_code == 200 and ok.text == "1616140317555161061"
    bad = await wecom_http.get("/wecom", params={**params, "msg_signature": "0" * 40})
    assert bad.status_code == 403


async def test_conversation_over_wecom(wecom_http: httpx.AsyncClient) -> None:
    """A staff member asks for help through WeCom; replies come back encrypted."""
    peer = wecom_peer(wecom_http)
    first = await peer.say("我要求助")
    assert first.status == 200 and "困难" in (first.content or "")
    assert "哪个区" in ((await peer.say("想参加两癌筛查，在哪儿做")).content or "")


async def test_other_corp_and_plaintext_are_refused(wecom_http: httpx.AsyncClient) -> None:
    """A message for another CorpID is refused; a plaintext POST, even a well-formed message
    with a fresh timestamp, is 403: WeCom is always encrypted."""
    stranger = wecom_peer(wecom_http, corp_id="ww-other-corp")
    assert (await stranger.say("你好")).status in (400, 403)
    peer = wecom_peer(wecom_http)
    xml = peer.message_xml("<Content>你好</Content>", msg_type="text", msg_id="1")
    params = {"timestamp": str(int(time.time())), "nonce": "2", "msg_signature": "0" * 40}
    plain = await peer.post_raw(params, xml.encode())
    assert plain.status == 403 and "encrypted" in plain.body


async def test_crisis_over_wecom_is_escalated(
    wecom_http: httpx.AsyncClient, database: Database
) -> None:
    """A crisis over WeCom: hotlines first, the urgent case stored and pushed at once."""
    users = responders(database, Clock())
    answer = await wecom_peer(wecom_http).say("我在朝阳区双井街道，他拿着刀说要砍死我")
    assert answer.content is not None and "110" in answer.content
    escalated(database, users)
