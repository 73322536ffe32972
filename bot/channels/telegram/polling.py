"""Long polling for the Telegram channel (`fuqing telegram`): python-telegram-bot's `Updater`
fetches the updates, and the channel answers them in order, each before the next.

A fetched update is confirmed to Telegram by the next fetch, so the channel cannot leave it to
Telegram to deliver again: while the database is down it tries the update again itself
(`handle_polled`), and stopping cuts that waiting short."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ExtBot, Updater

from bot.channels.telegram.transport import ALLOWED_UPDATES

log = logging.getLogger("bot.channels.telegram")  # one logger for the whole channel

POLL_SECONDS = 30  # seconds one getUpdates long poll waits


class Polled(Protocol):
    """What polling needs of the channel (`TelegramChannel`): its bot, its set-up and its
    answer to one update. A protocol, so that this module does not import the channel."""

    @property
    def bot(self) -> ExtBot[Any]:
        """The Bot API client whose `getUpdates` is polled."""

    async def configure(self) -> None:
        """Publish the bot's commands."""

    async def handle_polled(self, update: Update, stop: asyncio.Event | None = None) -> None:
        """Answer one fetched update (tried again while the database is down, until `stop`)."""


async def poll_updates(
    channel: Polled, stop: asyncio.Event, *, long_poll: int = POLL_SECONDS
) -> None:
    """Long-poll until `stop` is set, handing each update to `channel`; those fetched before
    stopping are still answered (the database down: tried once, else the apology)."""
    queue: asyncio.Queue[object] = asyncio.Queue()
    updater = Updater(bot=channel.bot, update_queue=queue)
    async with updater:
        await channel.configure()
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
                    await channel.handle_polled(item, stop)
        finally:
            await updater.stop()
            while not queue.empty():  # already confirmed to Telegram: answer them now
                item = queue.get_nowait()
                if isinstance(item, Update):
                    await channel.handle_polled(item, stop)
    log.info("Telegram polling stopped")


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
