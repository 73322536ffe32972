"""The WeChat Official Account (`/wechat`) and WeCom (`/wecom`) callbacks.

A thin channel: it checks signatures, refuses stale and replayed deliveries (`replay.py`:
a ±5-minute window on the signed timestamp, a shared nonce memory), decrypts, parses the XML
safely, turns the message into an `Incoming` and renders the engine's answer as a passive text
reply. With an AES key (the Official Account in safe or compatible mode; WeCom always) only
encrypted bodies are accepted: the plaintext signature covers no body, so a plaintext body
could be anyone's (403).

WeChat waits 5 s for an answer and then delivers the same message again; the channel computes
each message's id (`WeChatMessage.dedup_key`) and `Responder` (`responder.py`) gets the answer
in time or promises a push (`success`). The engine's stored reply is the one dedup. The reply
is fitted to `PROFILE` (one text of at most 2048 bytes, the rest behind 更多).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from bot.bodies import BodyTooLarge, read_capped
from bot.channels.wechat import PROFILE
from bot.channels.wechat.crypto import CryptoError, MessageCrypto, SignatureError, check_signature
from bot.channels.wechat.replay import Replayed, ReplayGuard
from bot.channels.wechat.responder import Responder
from bot.channels.wechat.xml import (
    MAX_BODY_BYTES,
    WeChatMessage,
    XmlError,
    cdata,
    parse_message,
    parse_xml,
    text_reply,
)
from bot.commands import MENU_KEYS
from bot.limits import limits_of
from bot.messages import Incoming, Kind, utcnow
from bot.paging import fit

log = logging.getLogger(__name__)
Admit = Callable[[str, str], bool]  # (channel, user) → may she send one more message?

MEDIA_KINDS: dict[str, Kind] = {
    "image": "image",
    "video": "image",
    "shortvideo": "image",
    "file": "image",
    "location": "location",
    "link": "link",
}


class CallbackError(Exception):
    """A delivery refused before it reaches the engine (status and reason)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def to_incoming(channel: str, message: WeChatMessage, at: datetime) -> Incoming | None:
    """The engine's view of a WeChat message; None for what needs no answer (other events)."""
    kind: Kind = "text"
    text = message.content
    if message.msg_type == "voice":
        kind, text = "voice", message.recognition or ""
    elif message.msg_type in MEDIA_KINDS:
        kind, text = MEDIA_KINDS[message.msg_type], ""
    elif message.msg_type == "event":
        event = (message.event or "").lower()
        if event in ("subscribe", "unsubscribe"):
            kind, text = "event", event
        elif event == "click" and message.event_key in MENU_KEYS:
            text = MENU_KEYS[message.event_key or ""]
        else:
            return None
    elif message.msg_type != "text":
        return None
    return Incoming(
        channel=channel,
        user=message.from_user,
        text=text,
        kind=kind,
        msg_id=message.dedup_key,
        at=at,
    )


@dataclass(frozen=True)
class _Opened:
    """A delivery that passed every check: its message and how to answer it."""

    message: WeChatMessage
    encrypted: bool
    timestamp: str
    nonce: str


@dataclass
class CallbackChannel:
    """One callback endpoint (the Official Account, or a WeCom app) on the shared engine."""

    name: str  # the engine channel: "wechat" or "wecom"
    token: str
    crypto: MessageCrypto | None  # set: safe mode only (a plaintext body is refused)
    responder: Responder
    replays: ReplayGuard
    encrypted_only: bool = False  # WeCom: every POST is encrypted and has no plain signature
    corp_id: str | None = None
    clock: Callable[[], datetime] = utcnow

    def verify(self, params: dict[str, str]) -> str:
        """GET URL verification: the echo to return (decrypted for WeCom)."""
        timestamp, nonce, echostr = _need(params, "timestamp", "nonce", "echostr")
        if self.encrypted_only:
            assert self.crypto is not None
            try:
                return self.crypto.decrypt_echo(
                    _need(params, "msg_signature")[0], timestamp, nonce, echostr
                )
            except SignatureError as exc:
                raise CallbackError(403, "invalid msg_signature") from exc
            except CryptoError as exc:
                raise CallbackError(400, "cannot decrypt echostr") from exc
        self._check_plain(params)
        return echostr

    async def receive(
        self, params: dict[str, str], body: bytes, admit: Admit | None = None
    ) -> tuple[str, bool]:
        """Handle one POST; return the reply body and whether it is XML. Stale or replayed
        deliveries and, with an AES key, plaintext bodies are refused (403) before the engine;
        a sender `admit` refuses (over her budget) gets `success` without the engine."""
        opened = await self._open(params, body)
        message = opened.message
        incoming = to_incoming(self.name, message, self.clock())
        if incoming is None:
            return "success", False
        if (
            admit is not None
            and not self.responder.knows(message.dedup_key)  # a retry is no new message
            and not admit(self.name, incoming.user)
        ):
            return "success", False  # a 429 would only make WeChat deliver it again
        replies = await self.responder.answer(message.dedup_key, incoming)
        if replies is None:
            return "success", False
        fitted = fit(replies, PROFILE)
        if not fitted:
            return "success", False
        xml = text_reply(
            to_user=message.from_user,
            from_user=message.to_user,
            content=fitted[0].text,
            create_time=int(self.clock().timestamp()),
        )
        if not opened.encrypted:
            return xml, True
        assert self.crypto is not None
        return self.crypto.encrypt_reply(xml, timestamp=opened.timestamp, nonce=opened.nonce), True

    async def _open(self, params: dict[str, str], body: bytes) -> _Opened:
        """The delivery's message, once its signature, its time, its mode (encrypted when an
        AES key is set; compatible mode is read from its encrypted part) and its nonce pass;
        else CallbackError."""
        if not self.encrypted_only:
            self._check_plain(params)
        timestamp, nonce = _need(params, "timestamp", "nonce")
        try:
            signed_at = self.replays.signed_at(timestamp, nonce)
        except Replayed as exc:
            raise CallbackError(exc.status, exc.reason) from exc
        fields = _parse(body)
        encrypted = "Encrypt" in fields
        if self.crypto is not None and not encrypted:
            raise CallbackError(403, "safe mode: only encrypted messages are accepted")
        plain = body
        if encrypted:
            plain = self._decrypt(params, fields)
            fields = _parse(plain)
        try:
            message = parse_message(fields)
        except XmlError as exc:
            raise CallbackError(400, f"malformed message: {exc}") from exc
        try:
            await self.replays.claim(self.name, timestamp=signed_at, nonce=nonce, message=plain)
        except Replayed as exc:
            raise CallbackError(exc.status, exc.reason) from exc
        return _Opened(message=message, encrypted=encrypted, timestamp=timestamp, nonce=nonce)

    def _check_plain(self, params: dict[str, str]) -> None:
        signature, timestamp, nonce = _need(params, "signature", "timestamp", "nonce")
        try:
            check_signature(self.token, signature, timestamp, nonce)
        except SignatureError as exc:
            raise CallbackError(403, "invalid signature") from exc

    def _decrypt(self, params: dict[str, str], fields: dict[str, str]) -> bytes:
        """The decrypted message (its signature checked first: AES-CBC has no integrity)."""
        if self.crypto is None:
            raise CallbackError(400, "safe mode is not configured (FUQING_WECHAT_AES_KEY)")
        if self.corp_id is not None and fields.get("ToUserName") not in (None, "", self.corp_id):
            raise CallbackError(403, "the message is for another CorpID")
        msg_signature, timestamp, nonce = _need(params, "msg_signature", "timestamp", "nonce")
        try:
            self.crypto.check(msg_signature, timestamp, nonce, fields["Encrypt"])
            plain = self.crypto.decrypt(fields["Encrypt"])
        except SignatureError as exc:
            raise CallbackError(403, "invalid msg_signature") from exc
        except CryptoError as exc:
            raise CallbackError(400, "cannot decrypt the message") from exc
        return plain.encode()


def _need(params: dict[str, str], *names: str) -> list[str]:
    missing = [n for n in names if not params.get(n)]
    if missing:
        raise CallbackError(
            403 if "signature" in missing[0] else 400, f"missing {', '.join(missing)}"
        )
    return [params[n] for n in names]


def _parse(body: bytes) -> dict[str, str]:
    try:
        return parse_xml(body)
    except XmlError as exc:
        raise CallbackError(400, f"malformed XML: {exc}") from exc


def _error(exc: CallbackError) -> Response:
    body = f"<xml><Error>{cdata(exc.reason)}</Error></xml>"
    return Response(body, status_code=exc.status, media_type="application/xml")


async def _read_body(request: Request) -> bytes:
    try:
        return await read_capped(request, MAX_BODY_BYTES)
    except BodyTooLarge as exc:
        raise CallbackError(413, "the body is over 1 MB") from exc


def router(path: str, channel: Callable[[Request], CallbackChannel]) -> APIRouter:
    """GET (URL verification) and POST (messages) at `path` for the channel `channel` gives."""
    api = APIRouter(tags=["wechat"])

    @api.get(path, response_class=PlainTextResponse)
    async def verify(request: Request) -> Response:
        """URL verification: echo `echostr` when the signature is right."""
        try:
            return PlainTextResponse(channel(request).verify(dict(request.query_params)))
        except CallbackError as exc:
            return _error(exc)

    @api.post(path)
    async def receive(request: Request) -> Response:
        """A message or event from WeChat; the reply is passive XML or `success`."""
        try:
            body = await _read_body(request)
            content, is_xml = await channel(request).receive(
                dict(request.query_params), body, limits_of(request).admit
            )
        except CallbackError as exc:
            log.info("%s refused: %s %s", path, exc.status, exc.reason)
            return _error(exc)
        except Exception:  # never a 5xx to WeChat: it would retry into the same failure
            log.exception("%s failed", path)
            return PlainTextResponse("success")
        return Response(content, media_type="application/xml" if is_xml else "text/plain")

    return api
