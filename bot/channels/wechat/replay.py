"""Replay protection of the WeChat / WeCom callbacks: a time window and a nonce memory.

Every callback is signed over `(token, timestamp, nonce[, Encrypt])`, so a captured delivery
stays validly signed forever unless the receiver refuses old ones. Here:

* **Time window.** The signed `timestamp` must lie within ±`WINDOW` (5 minutes) of the app's
  clock, else 403.
* **Nonce memory.** Each `(channel, timestamp, nonce)` is remembered, with a SHA-256 digest of
  the (decrypted) message it carried, until its timestamp leaves the window — a row in
  `callback_nonces` (unique key, pruned once a minute per process), so every worker and process
  on the database shares it. The same pair with *another* message is a replay: 403.

WeChat's genuine retries (no answer within 5 s: up to three more deliveries within ~15 s)
re-send the same request: same `signature`, `timestamp` and `nonce`, same message (observed in
access logs, e.g. four deliveries of one MsgId with `timestamp=1627954885&nonce=1832145745`
from two WeChat addresses; SDKs such as Senparc note that everything including the MsgId is
identical). So the same pair with the *same* message is let through, and the message dedup
(`Responder`, the inbound row) answers it with the first answer. Only the decrypted message is
compared, so a retry that WeChat re-encrypted still matches.

When the database cannot be reached the memory is skipped (logged) and the time window alone
guards the message: the message itself is then kept and tried again by `Responder` until the
database is back, as every WeChat message is during an outage.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import DBAPIError, OperationalError

from bot.engine import database_unreachable
from storage import repo
from storage.db import Database

log = logging.getLogger(__name__)

WINDOW = timedelta(minutes=5)  # a signed timestamp is accepted this far either side of now
PRUNE_EVERY = 60.0  # seconds between two prunes of the expired pairs (per process)
MAX_NONCE = 64  # storage.models.CallbackNonce.nonce; WeChat's nonces are ~10 digits
MAX_TIMESTAMP_DIGITS = 12


class Replayed(Exception):
    """A delivery refused as stale or replayed (status and reason, for the callback's answer)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class ReplayGuard:
    """The time window and the nonce memory of the callbacks on one database."""

    db: Database
    clock: Callable[[], datetime]  # the app's clock (aware UTC)
    window: timedelta = WINDOW
    monotonic: Callable[[], float] = time.monotonic
    _pruned_at: float | None = None

    def signed_at(self, timestamp: str, nonce: str) -> int:
        """The signed `timestamp` in seconds, when it is within the window of now and `nonce`
        fits the memory; else `Replayed` (400 for a malformed value, 403 for a stale one)."""
        if not timestamp.isdecimal() or len(timestamp) > MAX_TIMESTAMP_DIGITS:
            raise Replayed(400, "timestamp is not a number of seconds")
        if len(nonce) > MAX_NONCE:
            raise Replayed(400, f"nonce over {MAX_NONCE} characters")
        seconds = int(timestamp)
        skew = abs(self.clock().timestamp() - seconds)
        if skew > self.window.total_seconds():
            raise Replayed(403, "timestamp outside the accepted window (±5 minutes)")
        return seconds

    async def claim(self, channel: str, *, timestamp: int, nonce: str, message: bytes) -> None:
        """Remember this delivery's pair with its message; `Replayed` (403) when the pair was
        seen with another message (the same message again is WeChat's retry: let through)."""
        digest = hashlib.sha256(message).hexdigest()
        try:
            first = await self._remember_soon(channel, timestamp, nonce, digest)
        except DBAPIError as exc:
            if not database_unreachable(exc):
                raise
            log.warning(
                "%s nonce memory skipped: database unreachable (%s); the time window guards",
                channel,
                type(exc.orig).__name__,
            )
            return
        if first is not None and first != digest:
            log.warning("%s refused a replayed nonce with another message", channel)
            raise Replayed(403, "this timestamp and nonce came with another message")

    async def _remember_soon(
        self, channel: str, timestamp: int, nonce: str, digest: str
    ) -> str | None:
        """`_remember` in the event loop when SQLite is free at once (a thread hop costs more
        than the statement, as for the engine's messages), else in a thread that may wait."""
        if self.db.is_sqlite:
            try:
                return self._remember(channel, timestamp, nonce, digest, wait=False)
            except OperationalError:  # the file is being written: wait for it in a thread
                pass
        return await asyncio.to_thread(self._remember, channel, timestamp, nonce, digest)

    def _remember(
        self, channel: str, timestamp: int, nonce: str, digest: str, *, wait: bool = True
    ) -> str | None:
        expires = datetime.fromtimestamp(timestamp, UTC) + self.window
        with self.db.begin(wait=wait) as connection:
            first = repo.claim_nonce(
                connection,
                channel=channel,
                timestamp=timestamp,
                nonce=nonce,
                digest=digest,
                expires_at=expires,
            )
            now = self.monotonic()
            if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
                self._pruned_at = now
                repo.prune_nonces(connection, now=self.clock())
        return first
