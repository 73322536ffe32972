"""The Telegram channel: the `/telegram` webhook, long polling (`fuqing telegram`) and pushes.

python-telegram-bot v22 is the transport only: its `ExtBot` (with `AIORateLimiter`) makes the
Bot API calls and its `Updater` does the long polling; the dialogue stays in our engine. An
update becomes an `Incoming` on the `telegram` channel (the user is the chat id, the message id
`upd:<update_id>`), and each `Outgoing` becomes a message, its choices an inline keyboard
whose buttons send their label back as her text. An update seen before is not answered again.
A chat that blocked the bot or was deleted is marked inactive, so pushes to it stop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from telegram import (
    BotCommand,
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import AIORateLimiter, ExtBot, Updater
from telegram.request import BaseRequest, HTTPXRequest

from bot import texts
from bot.config import PLACEHOLDER_SECRETS, Settings
from bot.engine import Engine
from bot.messages import Incoming, Kind
from bot.outbox import Dispatcher
from storage import repo

log = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT = 4096  # Telegram's limit for one message's text, in UTF-16 code units
MAX_CALLBACK_DATA = 64  # bytes of a button's callback_data
MAX_BODY_BYTES = 1024 * 1024
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
RATE_LIMIT_RETRIES = 1  # a RetryAfter is waited out once, then raised (the outbox retries later)
POLL_SECONDS = 30  # seconds one getUpdates long poll waits
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what setWebhook accepts as secret_token
# Bot commands → the text (or event) they stand for; the rest of the text is passed as typed.
COMMANDS: dict[str, str] = {"help": "帮助", "cancel": "取消", "menu": "菜单"}
NON_TEXT: tuple[tuple[str, Kind], ...] = (
    ("voice", "voice"),
    ("audio", "voice"),
    ("video_note", "voice"),
    ("location", "location"),
    ("venue", "location"),
)


class WebhookRefused(Exception):
    """A webhook delivery refused before it reaches the engine (status and reason)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class ChatUnreachable(Exception):
    """The bot is blocked or the chat is gone; the identity has been marked inactive."""


def api_base(setting: str | None) -> str:
    """python-telegram-bot's `base_url` for FUQING_TELEGRAM_API_BASE (a bare host gets `/bot`)."""
    if not setting:
        return "https://api.telegram.org/bot"
    if "{token}" not in setting and urlsplit(setting).path in ("", "/"):
        return setting.rstrip("/") + "/bot"
    return setting


def make_bot(
    token: str,
    *,
    base_url: str | None = None,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
) -> ExtBot[Any]:
    """An `ExtBot` with the rate limiter (`request`: a test transport for every call)."""
    return ExtBot(
        token,
        base_url=api_base(base_url),
        request=request or HTTPXRequest(),
        get_updates_request=updates_request or request or HTTPXRequest(connection_pool_size=1),
        rate_limiter=AIORateLimiter(max_retries=RATE_LIMIT_RETRIES),
    )


class TokenRedactor(logging.Filter):
    """Hides the bot token in log lines (httpx logs every request URL, and the token is in it)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite a record that mentions the token; never drop one."""
        message = record.getMessage()
        if self.token and self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), ()
        return True


def redact_token_in_logs(token: str) -> None:
    """Install a `TokenRedactor` on httpx's logger, which prints request URLs (once a token)."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, TokenRedactor) and f.token == token for f in logger.filters):
        logger.addFilter(TokenRedactor(token))


def check_secret_setting(settings: Settings) -> None:
    """Refuse a FUQING_TELEGRAM_SECRET Telegram would not accept, or a placeholder outside
    development (raises ValueError)."""
    secret = settings.telegram_secret
    if secret is None:
        return
    if not SECRET_RE.fullmatch(secret):
        raise ValueError("FUQING_TELEGRAM_SECRET: 1–256 characters of A–Z, a–z, 0–9, _ and -")
    if settings.env != "development" and secret in PLACEHOLDER_SECRETS:
        raise ValueError(f"placeholder secrets in {settings.env}: set FUQING_TELEGRAM_SECRET")


def webhook_enabled(settings: Settings) -> bool:
    """True when the `/telegram` webhook is on: a bot token and a secret to check."""
    return bool(settings.telegram_token and settings.telegram_secret)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut `text` into messages of at most `limit` UTF-16 units, at line ends when possible."""
    chunks: list[str] = []
    rest = text
    while _utf16(rest) > limit:
        cut, units = 0, 0
        for index, char in enumerate(rest):
            units += _utf16(char)
            if units > limit:
                break
            cut = index + 1
        newline = rest.rfind("\n", 0, cut)
        end = newline + 1 if newline > 0 else cut
        chunks.append(rest[:end].rstrip("\n"))
        rest = rest[end:]
    if rest.strip():
        chunks.append(rest)
    return [c for c in chunks if c.strip()]


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def callback_data(label: str, number: int) -> str:
    """A button's callback_data: its label, or its number when the label is over 64 bytes
    (every choice question also takes the number)."""
    return label if len(label.encode()) <= MAX_CALLBACK_DATA else str(number)


def keyboard(choices: Sequence[str]) -> InlineKeyboardMarkup | None:
    """The choices as an inline keyboard, one button per row; None without choices."""
    if not choices:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=callback_data(label, number))]
            for number, label in enumerate(choices, start=1)
        ]
    )


def to_incoming(update: Update, *, at: datetime) -> Incoming | None:
    """The engine's view of an update; None for what needs no answer (edits, other members)."""
    chat = update.effective_chat
    if chat is None:
        return None
    kind: Kind = "text"
    text: str
    if update.callback_query is not None:
        text = update.callback_query.data or ""
    elif update.my_chat_member is not None:
        if update.my_chat_member.new_chat_member.status != ChatMemberStatus.BANNED:
            return None
        kind, text = "event", "unsubscribe"  # she blocked the bot: pushes stop
    elif update.message is not None:
        kind, text = _message_content(update.message)
    else:
        return None
    return Incoming(
        channel=CHANNEL,
        user=str(chat.id),
        text=text,
        kind=kind,
        msg_id=f"upd:{update.update_id}",
        at=at,
    )


def _message_content(message: Message) -> tuple[Kind, str]:
    if message.text is not None:
        words = message.text[1:].split(maxsplit=1) if message.text.startswith("/") else []
        if not words:
            return "text", message.text
        command = words[0].split("@")[0].lower()  # /help@our_bot in a group
        if command == "start":
            return "event", "subscribe"  # the greeting, privacy notice and menu
        return "text", COMMANDS.get(command, message.text)
    if message.caption:
        return "text", message.caption
    for attribute, kind in NON_TEXT:
        if getattr(message, attribute) is not None:
            return kind, ""
    return "image", ""  # photos, files, stickers …: she is asked for text


def is_unreachable(exc: TelegramError) -> bool:
    """True when the error means the chat cannot receive messages (blocked, deleted)."""
    if isinstance(exc, Forbidden):
        return True
    gone = ("chat not found", "user not found")
    return isinstance(exc, BadRequest) and any(g in exc.message.lower() for g in gone)


@dataclass
class TelegramChannel:
    """The Telegram bot on the shared engine: webhook deliveries, polling, and pushes."""

    bot: ExtBot[Any]
    engine: Engine
    dispatcher: Dispatcher
    secret: str | None = None
    requests: tuple[BaseRequest, ...] = ()  # closed at shutdown
    _in_flight: set[int] = field(default_factory=set)

    # ------------------------------------------------------------------ inbound
    def check_secret(self, header: str | None) -> None:
        """The webhook's `X-Telegram-Bot-Api-Secret-Token` must be our secret (else 403)."""
        if not self.secret or header is None:
            raise WebhookRefused(403, "missing secret token")
        if not secrets.compare_digest(header.encode(), self.secret.encode()):
            raise WebhookRefused(403, "wrong secret token")

    async def receive(self, body: bytes) -> None:
        """Handle one webhook delivery (the secret already checked); 400 for what is no update."""
        try:
            data: Any = json.loads(body)
        except ValueError as exc:
            raise WebhookRefused(400, "the body is not JSON") from exc
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise WebhookRefused(400, "not an update")
        try:
            update = Update.de_json(data, self.bot)
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            raise WebhookRefused(400, f"malformed update: {type(exc).__name__}") from exc
        await self.handle_update(update)

    async def handle_update(self, update: Update) -> None:
        """Answer one update; errors are logged with the traceback and she gets an apology."""
        chat = update.effective_chat
        if chat is None or update.update_id in self._in_flight:
            return
        self._in_flight.add(update.update_id)
        try:
            await self._handle(update, chat)
        except ChatUnreachable:
            log.info("Telegram chat of update %s is unreachable; marked inactive", update.update_id)
        except Exception:
            log.exception("Telegram update %s failed", update.update_id)
            await self._apologise(chat.id)
        finally:
            self._in_flight.discard(update.update_id)

    async def _handle(self, update: Update, chat: Chat) -> None:
        msg_id = f"upd:{update.update_id}"
        if await asyncio.to_thread(self._seen, msg_id):
            log.info("Telegram update %s was handled before; not answered again", msg_id)
            return
        if update.callback_query is not None:
            await self._acknowledge(update.callback_query)
        if chat.type != ChatType.PRIVATE:
            if update.message is not None:  # her needs are not for a group to read
                await self._deliver(str(chat.id), texts.t("telegram.private_only"))
            return
        incoming = to_incoming(update, at=self.engine.clock())
        if incoming is None:
            return
        replies = await self.engine.handle(incoming)
        for reply in replies:
            await self._deliver(incoming.user, reply.text, keyboard(reply.choices))
        self.dispatcher.kick()  # the message may have queued pushes for others

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
            await self._deliver(str(chat_id), texts.t("apology"))
        except Exception as exc:
            log.warning("Telegram apology not delivered: %s", type(exc).__name__)

    def _seen(self, msg_id: str) -> bool:
        with self.engine.db.read() as session:
            return repo.find_inbound(session, channel=CHANNEL, msg_id=msg_id) is not None

    # ------------------------------------------------------------------ outbound
    async def send(self, external_id: str, text: str) -> None:
        """The outbox's `Sender`: push a text (errors propagate; the dispatcher records them)."""
        await self._deliver(external_id, text)

    async def _deliver(
        self, chat_id: str, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        """Send `text` as one message or several (the keyboard on the last)."""
        chunks = split_text(text)
        try:
            for number, chunk in enumerate(chunks, start=1):
                await self.bot.send_message(
                    chat_id=int(chat_id),
                    text=chunk,
                    reply_markup=markup if number == len(chunks) else None,
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
        queue: asyncio.Queue[object] = asyncio.Queue()
        updater = Updater(bot=self.bot, update_queue=queue)
        async with updater:
            await self.configure()
            await updater.start_polling(
                timeout=long_poll,
                allowed_updates=list(ALLOWED_UPDATES),
                bootstrap_retries=3,
                error_callback=_polling_error,
            )
            log.info("Telegram polling started")
            try:
                while (item := await _next(queue, stop)) is not None:
                    if isinstance(item, Update):
                        await self.handle_update(item)
            finally:
                await updater.stop()
                while not queue.empty():  # already confirmed to Telegram: answer them now
                    item = queue.get_nowait()
                    if isinstance(item, Update):
                        await self.handle_update(item)
        log.info("Telegram polling stopped")

    async def aclose(self) -> None:
        """Shut the bot's HTTP clients and rate limiter."""
        await self.bot.shutdown()
        if self.bot.rate_limiter is not None:
            await self.bot.rate_limiter.shutdown()
        for request in self.requests:
            await request.shutdown()


def _polling_error(exc: TelegramError) -> None:
    """A failed getUpdates (python-telegram-bot retries it): one line, not a traceback each time."""
    log.warning("Telegram polling: %s: %s (retrying)", type(exc).__name__, exc.message)


async def _next(queue: asyncio.Queue[object], stop: asyncio.Event) -> object | None:
    """The next queued update, or None once `stop` is set."""
    if stop.is_set():
        return None
    getter = asyncio.ensure_future(queue.get())
    stopper = asyncio.ensure_future(stop.wait())
    done, pending = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return getter.result() if getter in done else None


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


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise WebhookRefused(413, "the body is over 1 MB")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise WebhookRefused(413, "the body is over 1 MB")
    return bytes(body)


def router(path: str) -> APIRouter:
    """POST `path`: Telegram's webhook deliveries for the app's Telegram channel."""
    api = APIRouter(tags=["telegram"])

    @api.post(path)
    async def receive(request: Request) -> Response:
        """An update from Telegram: 403 without our secret, 400 for what is no update,
        else 200 once it is answered (never a 5xx: Telegram would re-deliver into the failure)."""
        channel = getattr(request.app.state.services.channels, "telegram", None)
        try:
            if not isinstance(channel, TelegramChannel):
                raise WebhookRefused(404, "the Telegram channel is off")
            channel.check_secret(request.headers.get(SECRET_HEADER))
            await channel.receive(await _read_body(request))
        except WebhookRefused as exc:
            log.info("%s refused: %s %s", path, exc.status, exc.reason)
            return JSONResponse({"ok": False, "description": exc.reason}, status_code=exc.status)
        except Exception:
            log.exception("%s failed", path)
        return JSONResponse({"ok": True})

    return api
