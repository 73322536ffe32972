"""The Telegram webhook route (`POST /telegram`): the secret header checked, the body capped at
1 MB, and each update handed to the app's Telegram channel. The one 5xx is a database outage:
503, so that Telegram delivers the update again; any other failure is a 200 (and an apology)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from bot.bodies import BodyTooLarge, read_capped
from bot.channels.telegram.channel import TelegramChannel, WebhookRefused
from bot.engine import ServiceUnavailable
from bot.limits import limits_of

log = logging.getLogger("bot.channels.telegram")  # one logger for the whole channel

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1024 * 1024


async def _read_body(request: Request) -> bytes:
    try:
        return await read_capped(request, MAX_BODY_BYTES)
    except BodyTooLarge as exc:
        raise WebhookRefused(413, "the body is over 1 MB") from exc


def router(path: str) -> APIRouter:
    """POST `path`: Telegram's webhook deliveries for the app's Telegram channel."""
    api = APIRouter(tags=["telegram"])

    @api.post(path)
    async def receive(request: Request) -> Response:
        """An update from Telegram: 403 without our secret, 400 for what is no update; 503
        with Retry-After (the app's `ServiceUnavailable` handler) while the database is down, so
        that Telegram delivers it again: nothing was stored or sent, and the engine's dedup
        answers the re-delivery once. Else 200 once it is answered, a failure too (logged, she
        gets the apology): Telegram would re-deliver into a bug again and again."""
        channel = getattr(request.app.state.services.channels, "telegram", None)
        try:
            if not isinstance(channel, TelegramChannel):
                raise WebhookRefused(404, "the Telegram channel is off")
            channel.check_secret(request.headers.get(SECRET_HEADER))
            await channel.receive(await _read_body(request), limits_of(request).admit)
        except WebhookRefused as exc:
            log.info("%s refused: %s %s", path, exc.status, exc.reason)
            return JSONResponse({"ok": False, "description": exc.reason}, status_code=exc.status)
        except ServiceUnavailable:
            log.warning("%s: the database is unavailable; 503, Telegram delivers it again", path)
            raise
        except Exception:
            log.exception("%s failed", path)
        return JSONResponse({"ok": True})

    return api
