"""The Telegram channel: the `/telegram` webhook, long polling (`fuqing telegram`) and pushes.

python-telegram-bot v22 is the transport only: its `ExtBot` (with `AIORateLimiter`) makes the
Bot API calls and its `Updater` does the long polling; the dialogue stays in our engine. An
update becomes an `Incoming` on the `telegram` channel (the user is the chat id, the message id
`upd:<update_id>`), and each `Outgoing` is fitted to the channel's `PROFILE` (one message or
several), its choices an inline keyboard whose buttons send their label back as her text. An
update the engine has answered before (its stored reply, the one dedup) is not answered again.
A chat that blocked the bot or was deleted is marked inactive, so pushes to it stop.

When the database is down (`ServiceUnavailable`) nothing of the update was stored: a webhook
delivery is answered 503 so that Telegram delivers it again; an update long polling already
confirmed is tried again here (`bot.channels.unavailable`), and given up with an apology only
after the give-up time.

This module is the channel itself (inbound, outbound, set-up); its parts are `transport` (the
Bot API client), `convert` (updates and replies), `webhook` (the route) and `polling`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import BotCommand, CallbackQuery, Chat, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ExtBot
from telegram.request import BaseRequest, HTTPXRequest

from bot import texts
from bot.bodies import parse_json
from bot.channels.telegram.convert import CHANNEL, PROFILE, keyboard, message_id, to_incoming
from bot.channels.telegram.polling import POLL_SECONDS, poll_updates
from bot.channels.telegram.transport import (
    ALLOWED_UPDATES,
    check_secret_setting,
    is_unreachable,
    make_bot,
    redact_token_in_logs,
)
from bot.channels.unavailable import Patience
from bot.config import Settings
from bot.engine import Engine, ServiceUnavailable
from bot.messages import Outgoing
from bot.outbox import Dispatcher
from bot.paging import fit
from storage import repo

log = logging.getLogger("bot.channels.telegram")  # one logger for the whole channel
Admit = Callable[[str, str], bool]  # (channel, user) → may she send one more message?


class WebhookRefused(Exception):
    """A webhook delivery refused before it reaches the engine (status and reason)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class ChatUnreachable(Exception):
    """The bot is blocked or the chat is gone; the identity has been marked inactive."""


@dataclass
class TelegramChannel:
    """The Telegram bot on the shared engine: webhook deliveries, polling, and pushes."""

    bot: ExtBot[Any]
    engine: Engine
    dispatcher: Dispatcher
    secret: str | None = None
    requests: tuple[BaseRequest, ...] = ()  # closed at shutdown
    patience: Patience = field(default_factory=Patience)  # polled updates, the database down
    _in_flight: set[int] = field(default_factory=set)

    # ------------------------------------------------------------------ inbound
    def check_secret(self, header: str | None) -> None:
        """The webhook's `X-Telegram-Bot-Api-Secret-Token` must be our secret (else 403)."""
        if not self.secret or header is None:
            raise WebhookRefused(403, "missing secret token")
        if not secrets.compare_digest(header.encode(), self.secret.encode()):
            raise WebhookRefused(403, "wrong secret token")

    async def receive(self, body: bytes, admit: Admit | None = None) -> None:
        """Handle one webhook delivery (the secret already checked); 400 for what is no update.
        A chat `admit` refuses (over her budget) is not answered (Telegram would re-deliver an
        error)."""
        try:
            data: Any = parse_json(body)
        except ValueError as exc:
            raise WebhookRefused(400, "the body is not JSON") from exc
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise WebhookRefused(400, "not an update")
        try:
            update = Update.de_json(data, self.bot)
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            raise WebhookRefused(400, f"malformed update: {type(exc).__name__}") from exc
        chat = update.effective_chat
        if admit is not None and chat is not None and not admit(CHANNEL, str(chat.id)):
            return
        await self.handle_update(update)

    async def handle_update(self, update: Update) -> None:
        """Answer one update; errors are logged with the traceback and she gets an apology —
        except `ServiceUnavailable` (the database is down, nothing was stored), which is raised
        for the caller to have the update tried again (webhook: 503; polling: `handle_polled`)."""
        chat = update.effective_chat
        if chat is None or update.update_id in self._in_flight:
            return
        self._in_flight.add(update.update_id)
        try:
            await self._handle(update, chat)
        except ChatUnreachable:
            log.info("Telegram chat of update %s is unreachable; marked inactive", update.update_id)
        except ServiceUnavailable:
            raise
        except Exception:
            log.exception("Telegram update %s failed", update.update_id)
            await self._apologise(chat.id)
        finally:
            self._in_flight.discard(update.update_id)

    async def handle_polled(self, update: Update, stop: asyncio.Event | None = None) -> None:
        """Answer an update long polling fetched (Telegram holds it no longer): while the
        database is down it is tried again on `patience`'s schedule; past the give-up time (or
        once `stop` is set: one last try) it is logged as an error and she gets the apology."""
        try:
            await self.patience.retry(lambda: self.handle_update(update), stop=stop)
        except ServiceUnavailable:
            log.error(
                "Telegram update %s given up: the database stayed unreachable%s",
                update.update_id,
                " until polling stopped" if stop is not None and stop.is_set() else "",
            )
            if update.effective_chat is not None:
                await self._apologise(update.effective_chat.id)

    async def _handle(self, update: Update, chat: Chat) -> None:
        msg_id = message_id(update)
        if await asyncio.to_thread(self.engine.answered, CHANNEL, msg_id):
            log.info("Telegram update %s was handled before; not answered again", msg_id)
            return
        if update.callback_query is not None:
            await self._acknowledge(update.callback_query)
        if chat.type != ChatType.PRIVATE:
            if update.message is not None:  # her needs are not for a group to read
                await self._deliver(str(chat.id), Outgoing(texts.t("telegram.private_only")))
            return
        incoming = to_incoming(update, at=self.engine.clock())
        if incoming is None:
            return
        for reply in await self.engine.handle(incoming):
            await self._deliver(incoming.user, reply)

    async def _acknowledge(self, query: CallbackQuery) -> None:
        """Stop the button's spinner and take the keyboard off the message it was on."""
        try:
            await self.bot.answer_callback_query(query.id)
            if query.message is not None:
                await self.bot.edit_message_reply_markup(
                    chat_id=query.message.chat.id, message_id=query.message.message_id
                )
        except TelegramError as exc:  # an old button or a keyboard already gone: no matter
            log.info("Telegram callback %s not acknowledged: %s", query.id, exc.message)

    async def _apologise(self, chat_id: int) -> None:
        try:
            await self._deliver(str(chat_id), Outgoing(texts.t("apology")))
        except Exception as exc:
            log.warning("Telegram apology not delivered: %s", type(exc).__name__)

    # ------------------------------------------------------------------ outbound
    async def send(self, external_id: str, text: str) -> None:
        """The outbox's `Sender`: push a text (errors propagate; the dispatcher records them)."""
        await self._deliver(external_id, Outgoing(text))

    async def _deliver(self, chat_id: str, reply: Outgoing) -> None:
        """Send `reply` fitted to Telegram (`PROFILE`): one message or several, its choices as
        a keyboard on the last."""
        try:
            for message in fit([reply], PROFILE):
                await self.bot.send_message(
                    chat_id=int(chat_id), text=message.text, reply_markup=keyboard(message.choices)
                )
        except TelegramError as exc:
            if not is_unreachable(exc):
                raise
            await asyncio.to_thread(self._deactivate, chat_id)
            raise ChatUnreachable(f"blocked or deleted chat: {exc.message}") from exc

    def _deactivate(self, chat_id: str) -> None:
        with self.engine.db.transaction() as session:
            repo.deactivate_identity(session, channel=CHANNEL, external_id=chat_id)

    # ------------------------------------------------------------------ set-up and polling
    async def configure(self) -> None:
        """Publish the bot's commands (/start, /help, /cancel, /menu) in Telegram's menu."""
        commands = [
            BotCommand(name, texts.t(f"telegram.command.{name}"))
            for name in ("start", "help", "cancel", "menu")
        ]
        try:
            await self.bot.set_my_commands(commands)
        except TelegramError as exc:
            log.warning("Telegram commands not published: %s", exc.message)

    async def set_webhook(self, url: str) -> None:
        """Register `url` (ending in /telegram) as the bot's webhook, with our secret."""
        await self.bot.set_webhook(
            url, secret_token=self.secret, allowed_updates=list(ALLOWED_UPDATES)
        )
        await self.configure()

    async def poll(self, stop: asyncio.Event, *, long_poll: int = POLL_SECONDS) -> None:
        """Long-poll until `stop` is set (this removes a webhook); updates are handled in
        order, each before the next, and those fetched before stopping are still answered."""
        await poll_updates(self, stop, long_poll=long_poll)

    async def aclose(self) -> None:
        """Shut the bot's HTTP clients and rate limiter."""
        await self.bot.shutdown()
        if self.bot.rate_limiter is not None:
            await self.bot.rate_limiter.shutdown()
        for request in self.requests:
            await request.shutdown()


def build_telegram(
    settings: Settings,
    *,
    engine: Engine,
    dispatcher: Dispatcher,
    request: BaseRequest | None = None,
) -> TelegramChannel:
    """The channel for FUQING_TELEGRAM_TOKEN (`request`: a test transport instead of HTTP)."""
    check_secret_setting(settings)
    redact_token_in_logs(settings.telegram_token or "")
    requests = (request,) if request else (HTTPXRequest(), HTTPXRequest(connection_pool_size=1))
    bot = make_bot(
        settings.telegram_token or "",
        base_url=settings.telegram_api_base,
        request=requests[0],
        updates_request=requests[-1],
    )
    return TelegramChannel(
        bot=bot,
        engine=engine,
        dispatcher=dispatcher,
        secret=settings.telegram_secret,
        requests=requests,
    )
