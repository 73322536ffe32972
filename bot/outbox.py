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
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.domain.quiet_hours import SHANGHAI, is_quiet
from bot.messages import Outgoing, utcnow
from bot.nlp import mask_pii
from storage import repo
from storage.db import Database

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=10)  # a claim older than this (a crashed dispatcher) is retaken
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)


# A claimed row: its id, channel, the recipient's address there (None: none active), the text.
Claimed = tuple[int, str, str | None, str]


class Sender(Protocol):
    """A channel that can push a text to one of its addresses."""

    async def send(self, external_id: str, text: str) -> None:
        """Deliver `text`; raise on failure (the dispatcher records it)."""


class Dispatcher:
    """Sends outbox rows through the registered channel senders and records the outcome.

    Rows are claimed before sending (status `sending`, in one transaction; on PostgreSQL with
    SKIP LOCKED), so two dispatchers — web workers after their messages, the scheduler every
    minute — never send a row twice. In quiet hours only urgent rows go out.
    """

    def __init__(
        self,
        *,
        db: Database,
        senders: dict[str, Sender],
        clock: Callable[[], datetime] = utcnow,
        tz: ZoneInfo = SHANGHAI,
    ) -> None:
        self.db = db
        self.senders = senders
        self.clock = clock
        self.tz = tz
        self._sweep: asyncio.Task[None] | None = None
        self._again = False  # kicked while a sweep was running: sweep once more after it

    async def deliver_due(self, *, limit: int = 100) -> int:
        """Send every push that is due on a channel with a sender; return how many went out."""
        if not self.senders:
            return 0
        return await self._send(await asyncio.to_thread(self._claim, None, limit))

    async def deliver(self, ids: Sequence[int]) -> int:
        """Send these rows (those still waiting); return how many went out."""
        if not ids or not self.senders:
            await asyncio.to_thread(self._record_unsendable, ids)
            return 0
        return await self._send(await asyncio.to_thread(self._claim, ids, len(ids)))

    def kick(self) -> None:
        """Sweep the due pushes in the background (after a message that may have queued some:
        a status change, a new request for a cadre). While a sweep is running it is asked to
        sweep once more when it ends, so a push queued during a send goes out then, not at
        the scheduler's next minute."""
        if not self.senders:
            return
        if self._sweep is not None and not self._sweep.done():
            self._again = True
            return
        self._again = False
        self._sweep = asyncio.get_running_loop().create_task(self._sweeps())
        self._sweep.add_done_callback(log_failure("push sweep"))

    async def _sweeps(self) -> None:
        """Sweep, and again as long as someone kicked during the last sweep."""
        while True:
            await self.deliver_due()
            if not self._again:
                return
            self._again = False

    async def settle(self) -> None:
        """Wait for a running sweep (tests, shutdown)."""
        if self._sweep is not None:
            await asyncio.gather(self._sweep, return_exceptions=True)

    def enqueue_replies(
        self, *, channel: str, external_id: str, replies: Sequence[Outgoing], key: str
    ) -> list[int]:
        """Store answers to her own message as outbox rows (keys `<key>:<n>`); they are urgent:
        she is waiting for them, quiet hours or not. Return their ids."""
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
                    urgent=True,
                )
                if row is not None and row.id is not None:
                    ids.append(row.id)
        return ids

    def _claim(self, ids: Sequence[int] | None, limit: int) -> list[Claimed]:
        now = self.clock()
        with self.db.transaction() as session:
            claimed = repo.claim_due(
                session,
                now=now,
                channels=list(self.senders),
                lease=CLAIM_LEASE,
                limit=limit,
                ids=ids,
                urgent_only=is_quiet(now, self.tz),
            )
            return [
                (row.id or 0, row.channel, external_id, row.text)
                for row, external_id in repo.outbox_rows(session, ids=claimed)
            ]

    async def _send(self, rows: list[Claimed]) -> int:
        sent = 0
        for row_id, channel, external_id, text in rows:
            error: str | None = None
            if external_id is None:
                error = "the recipient has no active address on this channel"
            else:
                try:
                    await self.senders[channel].send(external_id, text)
                except Exception as exc:  # recorded on the row and logged, never swallowed
                    error = f"{type(exc).__name__}: {exc}"
                    log.warning("push %s on %s failed: %s", row_id, channel, mask_pii(error))
            await asyncio.to_thread(self._record, row_id, error)
            sent += error is None
        return sent

    def _record_unsendable(self, ids: Sequence[int]) -> None:
        """Rows on a channel without a sender: the failure is recorded, not dropped."""
        for row_id in ids:
            self._record(row_id, "no sender for this channel (is it configured?)")

    def _record(self, row_id: int, error: str | None) -> None:
        now = self.clock()
        with self.db.transaction() as session:
            row = repo.outbox_row(session, row_id=row_id)
            assert row is not None, row_id  # claimed rows are never deleted
            if error is None:
                repo.mark_sent(session, row=row, now=now)
                return
            retry = BACKOFF[row.attempts] if row.attempts < len(BACKOFF) else None
            repo.mark_failed(
                session, row=row, error=error, now=now, retry_at=now + retry if retry else None
            )


def log_failure(what: str) -> Callable[[asyncio.Task[Any]], None]:
    """A done-callback for a background task nobody awaits: its exception is logged with the
    traceback, not left to asyncio's "never retrieved" note (rows it claimed are claimed again
    when their lease ends)."""

    def done(task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("%s failed", what, exc_info=exc)

    return done
