"""Delivering outbox rows through the channels that push (WeChat, WeCom, later Telegram).

A push is first a row in the outbox (so nothing is lost if the process dies), then a `send()`
through the recipient's channel. A failure is recorded on the row with the next attempt's time
(1 min, 5 min, 30 min, 2 h, 12 h), after which the row is dead; nothing is dropped silently.
The scheduler's dispatcher calls `Dispatcher.deliver` for rows that come due; a slow WeChat
answer calls it at once for its own rows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot.messages import Outgoing, utcnow
from bot.nlp import mask_pii
from storage import repo
from storage.db import Database

log = logging.getLogger(__name__)

BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)


class Sender(Protocol):
    """A channel that can push a text to one of its addresses."""

    async def send(self, external_id: str, text: str) -> None:
        """Deliver `text`; raise on failure (the dispatcher records it)."""


class Dispatcher:
    """Sends outbox rows through the registered channel senders and records the outcome."""

    def __init__(
        self,
        *,
        db: Database,
        senders: dict[str, Sender],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.senders = senders
        self.clock = clock
        self._sweep: asyncio.Task[int] | None = None

    async def deliver_due(self, *, limit: int = 100) -> int:
        """Send every pending push that is due on a channel with a sender."""
        if not self.senders:
            return 0

        def due() -> list[int]:
            with self.db.read() as session:
                return repo.due_pushes(
                    session, now=self.clock(), channels=list(self.senders), limit=limit
                )

        return await self.deliver(await asyncio.to_thread(due))

    def kick(self) -> None:
        """Start a sweep of due pushes in the background unless one is running (after a
        message that may have queued some: a status change, a new request for a cadre)."""
        if not self.senders or (self._sweep is not None and not self._sweep.done()):
            return
        self._sweep = asyncio.get_running_loop().create_task(self.deliver_due())

    async def settle(self) -> None:
        """Wait for a running sweep (tests, shutdown)."""
        if self._sweep is not None:
            await asyncio.gather(self._sweep, return_exceptions=True)

    def enqueue_replies(
        self, *, channel: str, external_id: str, replies: Sequence[Outgoing], key: str
    ) -> list[int]:
        """Store replies as outbox rows for one address (keys `<key>:<n>`); return their ids."""
        ids = []
        with self.db.transaction() as session:
            for number, reply in enumerate(replies):
                row = repo.enqueue_to(
                    session,
                    channel=channel,
                    external_id=external_id,
                    text=reply.text,
                    now=self.clock(),
                    key=f"{key}:{number}",
                    urgent=reply.urgent,
                )
                if row is not None and row.id is not None:
                    ids.append(row.id)
        return ids

    async def deliver(self, ids: Sequence[int]) -> int:
        """Send these pending rows; return how many went out."""
        rows = await asyncio.to_thread(self._load, ids)
        sent = 0
        for row_id, channel, external_id, text in rows:
            sender = self.senders.get(channel)
            error: str | None = None
            if sender is None:
                error = f"no sender for channel {channel!r}"
            elif external_id is None:
                error = "the recipient has no active address on this channel"
            else:
                try:
                    await sender.send(external_id, text)
                except Exception as exc:  # recorded on the row and logged, never swallowed
                    error = f"{type(exc).__name__}: {exc}"
                    log.warning("push %s on %s failed: %s", row_id, channel, mask_pii(error))
            await asyncio.to_thread(self._record, row_id, error)
            sent += error is None
        return sent

    def _load(self, ids: Sequence[int]) -> list[tuple[int, str, str | None, str]]:
        with self.db.read() as session:
            return [
                (row.id or 0, row.channel, external_id, row.text)
                for row, external_id in repo.outbox_rows(session, ids=ids)
                if row.status == "pending"
            ]

    def _record(self, row_id: int, error: str | None) -> None:
        now = self.clock()
        with self.db.transaction() as session:
            [(row, _external)] = repo.outbox_rows(session, ids=[row_id])
            if error is None:
                repo.mark_sent(session, row=row, now=now)
                return
            retry = BACKOFF[row.attempts] if row.attempts < len(BACKOFF) else None
            repo.mark_failed(
                session, row=row, error=error, now=now, retry_at=now + retry if retry else None
            )
