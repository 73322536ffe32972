"""A WeChat (or WeCom) server as our callback sees it: signs, encrypts and posts messages.

It plays WeChat's side of the protocol against the real FastAPI app through httpx, so the
tests exercise signature checks, AES safe mode and the XML both ways. Each delivery is signed
with the peer's clock (give it the app's) and a fresh nonce; `resend` delivers one again as
WeChat's retries do (the same query and body).
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from bot.channels.wechat.crypto import MessageCrypto, sha1_signature
from bot.channels.wechat.xml import cdata, parse_xml

_ids = itertools.count(6054768590064713728)


@dataclass
class Delivery:
    """One HTTP exchange: the status, the raw body and the reply text (decrypted) if any, and
    what was sent (the query and the body, for `WeChatPeer.resend`)."""

    status: int
    body: str
    content: str | None
    params: dict[str, str] = field(default_factory=dict)
    sent: bytes = b""


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class WeChatPeer:
    """Posts messages from one user as WeChat would, plaintext or safe mode (AES)."""

    http: httpx.AsyncClient
    token: str
    user: str
    account: str = "gh_fuqing"
    crypto: MessageCrypto | None = None
    path: str = "/wechat"
    wecom: bool = False
    clock: Callable[[], datetime] = _now  # the app's clock: timestamps must be within 5 minutes
    sent: list[str] = field(default_factory=list)

    def message_xml(
        self, inner: str, *, msg_type: str, msg_id: str | None = None, created: int | None = None
    ) -> str:
        """The plaintext XML of one message from the user."""
        created = created or int(self.clock().timestamp())
        msg = f"<MsgId>{msg_id}</MsgId>" if msg_id else ""
        return (
            f"<xml><ToUserName>{cdata(self.account)}</ToUserName>"
            f"<FromUserName>{cdata(self.user)}</FromUserName><CreateTime>{created}</CreateTime>"
            f"<MsgType>{cdata(msg_type)}</MsgType>{inner}{msg}</xml>"
        )

    async def post_xml(
        self,
        xml: str,
        *,
        tamper: str | None = None,
        nonce: str | None = None,
        timestamp: int | None = None,
    ) -> Delivery:
        """Sign (and encrypt) one XML message and post it; decrypt the reply. The nonce is fresh
        and the timestamp the clock's unless given."""
        stamp = str(timestamp if timestamp is not None else int(self.clock().timestamp()))
        nonce = nonce or str(secrets.randbelow(10**10))
        params = {"timestamp": stamp, "nonce": nonce}
        if not self.wecom:
            params["signature"] = sha1_signature(self.token, stamp, nonce)
            params["openid"] = self.user
        body = xml
        if self.crypto is not None:
            encrypted = self.crypto.encrypt(xml)
            params["encrypt_type"] = "aes"
            params["msg_signature"] = self.crypto.signature_of(stamp, nonce, encrypted)
            body = (
                f"<xml><ToUserName>{cdata(self.account)}</ToUserName>"
                f"<Encrypt>{cdata(encrypted)}</Encrypt></xml>"
            )
        if tamper == "signature":
            params["signature" if not self.wecom else "msg_signature"] = "0" * 40
        if tamper == "msg_signature":
            params["msg_signature"] = "0" * 40
        return await self.post_raw(params, body.encode())

    async def post_raw(self, params: dict[str, str], body: bytes) -> Delivery:
        """Post exactly this query and body (a forged or replayed delivery)."""
        response = await self.http.post(self.path, params=params, content=body)
        return Delivery(
            response.status_code, response.text, self._content(response), dict(params), body
        )

    async def resend(self, delivery: Delivery) -> Delivery:
        """Deliver `delivery` again, byte for byte, as WeChat retries a message."""
        return await self.post_raw(delivery.params, delivery.sent)

    async def say(self, text: str, *, msg_id: str | None = None) -> Delivery:
        """Send a text message."""
        msg_id = msg_id or str(next(_ids))
        return await self.post_xml(
            self.message_xml(f"<Content>{cdata(text)}</Content>", msg_type="text", msg_id=msg_id)
        )

    async def event(
        self, event: str, key: str | None = None, *, created: int | None = None
    ) -> Delivery:
        """Send an event (subscribe, unsubscribe, CLICK with a key)."""
        inner = f"<Event>{cdata(event)}</Event>"
        if key is not None:
            inner += f"<EventKey>{cdata(key)}</EventKey>"
        return await self.post_xml(self.message_xml(inner, msg_type="event", created=created))

    def _content(self, response: httpx.Response) -> str | None:
        if response.status_code != 200 or not response.text.startswith("<xml>"):
            return None
        fields = parse_xml(response.content)
        if "Encrypt" in fields:
            assert self.crypto is not None
            ts, nonce = fields["TimeStamp"], fields["Nonce"]
            assert self.crypto.signature_of(ts, nonce, fields["Encrypt"]) == fields["MsgSignature"]
            fields = parse_xml(self.crypto.decrypt(fields["Encrypt"]).encode())
        assert fields["ToUserName"] == self.user and fields["MsgType"] == "text"
        content = fields["Content"]
        assert len(content.encode()) <= 2048
        self.sent.append(content)
        return content
