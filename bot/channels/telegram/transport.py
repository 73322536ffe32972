"""The Telegram Bot API transport: python-telegram-bot's `ExtBot` with `AIORateLimiter`, the
API base, the bot token kept out of logs, the webhook secret setting checked, and which errors
mean a chat cannot be reached."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import BaseRequest, HTTPXRequest

from bot.config import PLACEHOLDER_SECRETS, Settings

ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
RATE_LIMIT_RETRIES = 1  # a RetryAfter is waited out once, then raised (the outbox retries later)
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what setWebhook accepts as secret_token


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


def is_unreachable(exc: TelegramError) -> bool:
    """True when the error means the chat cannot receive messages (blocked, deleted)."""
    if isinstance(exc, Forbidden):
        return True
    gone = ("chat not found", "user not found")
    return isinstance(exc, BadRequest) and any(g in exc.message.lower() for g in gone)
