"""Build the channels that need settings and outbound clients: WeChat, WeCom, Telegram, the
dispatcher.

A channel whose settings are missing is off, with one log line saying which setting turns it on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import httpx

from bot.channels.wechat import CallbackChannel, Responder
from bot.channels.wechat_api import OfficialAccountClient, WeComClient
from bot.channels.wechat_crypto import CryptoError, MessageCrypto
from bot.channels.wechat_replay import ReplayGuard
from bot.config import WECHAT_AES_NEEDS_APPID, Settings
from bot.engine import Engine
from bot.outbox import Dispatcher, Sender
from storage.db import Database

if TYPE_CHECKING:
    from telegram.request import BaseRequest

    from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)


class TextClient(Protocol):
    """An API client that sends a text to one of its users."""

    async def send_text(self, user: str, text: str, /) -> str:
        """Send; return how it went out; raise on failure."""

    async def aclose(self) -> None:
        """Close the HTTP client."""


@dataclass
class ClientSender:
    """The outbox's `Sender` over an API client's `send_text`."""

    client: TextClient

    async def send(self, external_id: str, text: str) -> None:
        """Send one push (errors propagate to the dispatcher, which records them)."""
        await self.client.send_text(external_id, text)


@dataclass
class PushChannels:
    """The callback channels, the dispatcher and the API clients to close at shutdown."""

    dispatcher: Dispatcher
    wechat: CallbackChannel | None = None
    wecom: CallbackChannel | None = None
    telegram: TelegramChannel | None = None
    clients: list[TextClient] = field(default_factory=list)

    async def aclose(self) -> None:
        """Close every API client."""
        for client in self.clients:
            await client.aclose()
        if self.telegram is not None:
            await self.telegram.aclose()


def build_push_channels(
    settings: Settings,
    *,
    db: Database,
    engine: Engine,
    http: httpx.AsyncClient | None = None,
    telegram_request: BaseRequest | None = None,
) -> PushChannels:
    """The dispatcher with a sender per configured channel, the WeChat/WeCom callbacks and the
    Telegram bot (`telegram_request`: a test transport for its Bot API calls)."""
    senders: dict[str, Sender] = {}
    clients: list[TextClient] = []
    if settings.wechat_appid and settings.wechat_secret:
        official = OfficialAccountClient(
            base_url=settings.wechat_api_base,
            appid=settings.wechat_appid,
            secret=settings.wechat_secret,
            template_id=settings.wechat_template_id,
            http=http,
        )
        clients.append(official)
        senders["wechat"] = ClientSender(official)
    else:
        log.info("WeChat pushes off: set FUQING_WECHAT_APPID and FUQING_WECHAT_SECRET")
    if settings.wecom_enabled and settings.wecom_secret and settings.wecom_agent_id is not None:
        work = WeComClient(
            base_url=settings.wecom_api_base,
            corp_id=settings.wecom_corp_id or "",
            secret=settings.wecom_secret,
            agent_id=settings.wecom_agent_id,
            http=http,
        )
        clients.append(work)
        senders["wecom"] = ClientSender(work)
    dispatcher = Dispatcher(db=db, senders=senders, clock=engine.clock, tz=engine.tz)
    engine.on_pushes = dispatcher.kick  # a message that queued pushes starts a sweep
    responder = Responder(
        engine=engine, dispatcher=dispatcher, timeout=settings.wechat_reply_timeout
    )
    channels = PushChannels(dispatcher=dispatcher, clients=clients)
    if settings.telegram_token:
        # python-telegram-bot is imported only when a bot is configured (start-up time).
        from bot.channels.telegram import build_telegram

        channels.telegram = build_telegram(
            settings, engine=engine, dispatcher=dispatcher, request=telegram_request
        )
        dispatcher.senders["telegram"] = channels.telegram
        if not settings.telegram_webhook_enabled:
            log.info("Telegram webhook off (`fuqing telegram` polls): set FUQING_TELEGRAM_SECRET")
    else:
        log.info("Telegram off: set FUQING_TELEGRAM_TOKEN")
    replays = ReplayGuard(db=db, clock=engine.clock)  # shared by /wechat and /wecom
    token = settings.effective_wechat_token
    if token:
        crypto = None
        if settings.wechat_aes_key:  # safe (or compatible) mode: encrypted bodies only
            if not settings.wechat_appid:
                raise ValueError(WECHAT_AES_NEEDS_APPID)
            crypto = _crypto(
                "FUQING_WECHAT_AES_KEY", token, settings.wechat_aes_key, settings.wechat_appid
            )
        channels.wechat = CallbackChannel(
            name="wechat",
            token=token,
            crypto=crypto,
            responder=responder,
            replays=replays,
            clock=engine.clock,
        )
    else:
        log.info("WeChat callback off: set FUQING_WECHAT_TOKEN")
    if settings.wecom_enabled:
        corp_id = settings.wecom_corp_id or ""
        wecom_token = settings.wecom_token or ""
        crypto = _crypto("FUQING_WECOM_AES_KEY", wecom_token, settings.wecom_aes_key or "", corp_id)
        channels.wecom = CallbackChannel(
            name="wecom",
            token=wecom_token,
            crypto=crypto,
            responder=responder,
            replays=replays,
            encrypted_only=True,
            corp_id=corp_id,
            clock=engine.clock,
        )
    else:
        log.info("WeCom callback off: set FUQING_WECOM_CORP_ID, _TOKEN and _AES_KEY")
    return channels


def _crypto(setting: str, token: str, aes_key: str, receive_id: str) -> MessageCrypto:
    """The message crypto of a callback; ValueError naming `setting` for an unusable key."""
    try:
        return MessageCrypto(token, aes_key, receive_id)
    except CryptoError as exc:
        raise ValueError(f"{setting} is not a valid EncodingAESKey: {exc}") from exc
