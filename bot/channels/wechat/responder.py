"""Answering WeChat / WeCom deliveries in time: `Responder` runs each message through the engine
once per delivery burst, and pushes the answers that come too late for the passive reply.

WeChat waits 5 s for an answer and then delivers the same message again (three times). The
message's id (`WeChatMessage.dedup_key`: sender + MsgId; events: sender + time + event + event
key) is what the channel computes; the engine's stored reply for that id is the one dedup —
whatever arrives after the flight memory is answered from it. `Responder` only coordinates the
deliveries of one burst: a retry waits for the computation the first delivery started, and
once an answer was promised as a push (not ready within `timeout`, 4 s) the retries get
`success` too. The push is stored in the outbox first, so a failed push is retried, not lost.
When the database cannot be reached the message is tried again in the background until it is
back (`bot.channels.unavailable`: the schedule Telegram's polling follows too); then its answer
is pushed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy.exc import DBAPIError

from bot.channels.unavailable import Patience
from bot.channels.wechat import PROFILE
from bot.engine import Engine
from bot.messages import Incoming, Outgoing
from bot.nlp.pii import digest
from bot.outbox import Dispatcher, log_failure

log = logging.getLogger(__name__)

# WeChat retries within ~15 s; deliveries are remembered a while longer (what was promised as a
# push, and which retries the sender's budget does not count). Not longer: a busy day keeps
# every delivery of the window. Answers are not kept: a retry gets the engine's stored reply.
FLIGHT_MEMORY_SECONDS = 30.0


@dataclass
class _Flight:
    task: asyncio.Task[list[Outgoing]]
    started: float
    incoming: Incoming
    unavailable: asyncio.Event  # set when the database could not be reached (still retrying)
    slow: bool = False
    pushed: bool = False


@dataclass
class Responder:
    """Answers each delivery in time (sharing a computation still running); an answer not
    ready in time is pushed instead."""

    engine: Engine
    dispatcher: Dispatcher
    timeout: float
    clock: Callable[[], float] = time.monotonic
    patience: Patience = field(default_factory=Patience)  # while the database is down
    _flights: dict[str, _Flight] = field(default_factory=dict)
    _background: set[asyncio.Task[None]] = field(default_factory=set)

    async def answer(self, key: str, incoming: Incoming) -> list[Outgoing] | None:
        """The replies to send now, or None when the answer will be pushed (reply `success`).
        A delivery whose message is still being computed waits for that computation; one
        whose message was answered asks the engine again, which answers from its stored reply
        (the one dedup: no answer is kept here)."""
        self._forget_old()
        flight = self._flights.get(key)
        if flight is not None and flight.slow:
            return None  # the first delivery already promised a push
        if flight is None or flight.task.done():
            flight = self._start(key, incoming)
        remaining = self.timeout - (self.clock() - flight.started)
        down = asyncio.create_task(flight.unavailable.wait())
        try:
            await asyncio.wait(
                (flight.task, down), timeout=max(remaining, 0.0), return_when="FIRST_COMPLETED"
            )
        finally:
            down.cancel()
        if not flight.task.done():  # too slow, or the database is down: push it when ready
            flight.slow = True
            return None
        replies = flight.task.result()
        return replies

    def _start(self, key: str, incoming: Incoming) -> _Flight:
        """Start computing `incoming`'s answer; its flight goes to the back of the memory."""
        unavailable = asyncio.Event()
        task = asyncio.create_task(self._compute(incoming, unavailable))
        flight = _Flight(
            task=task, started=self.clock(), incoming=incoming, unavailable=unavailable
        )
        self._flights.pop(key, None)
        self._flights[key] = flight
        task.add_done_callback(partial(self._on_done, key, flight))
        return flight

    async def drain(self) -> None:
        """Wait for every pending computation and push (tests, shutdown)."""
        while any(not f.task.done() for f in self._flights.values()) or self._background:
            pending = [f.task for f in self._flights.values() if not f.task.done()]
            await asyncio.gather(*pending, *self._background, return_exceptions=True)
        await self.dispatcher.settle()

    async def _compute(self, incoming: Incoming, unavailable: asyncio.Event) -> list[Outgoing]:
        """The engine's answer; while the database is unreachable, try again with a pause."""
        return await self.patience.retry(
            lambda: self.engine.handle(incoming, max_bytes=PROFILE.reply_bytes),
            before_pause=lambda _exc: unavailable.set(),
        )

    def knows(self, key: str) -> bool:
        """True when the delivery `key` is being or was just answered (a WeChat retry)."""
        return key in self._flights

    def _on_done(self, key: str, flight: _Flight, _task: asyncio.Task[list[Outgoing]]) -> None:
        self._maybe_push(key, flight)

    def _maybe_push(self, key: str, flight: _Flight) -> None:
        if not flight.slow or flight.pushed or not flight.task.done():
            return
        flight.pushed = True
        if flight.task.cancelled() or flight.task.exception() is not None:
            log.error(
                "%s message %s given up: the database stayed unreachable",
                flight.incoming.channel,
                shown(key, flight.incoming.user),
            )
            return
        push = asyncio.get_running_loop().create_task(self._push(key, flight))
        self._background.add(push)
        push.add_done_callback(self._background.discard)
        push.add_done_callback(
            log_failure(f"pushing the answer to {shown(key, flight.incoming.user)}")
        )

    async def _push(self, key: str, flight: _Flight) -> None:
        """Store the late answer in the outbox (trying again while the database cannot take
        it, as `_compute` does) and send it."""
        replies = flight.task.result()
        incoming = flight.incoming

        def failed(exc: Exception) -> None:
            log.warning(
                "storing the answer to %s failed (%s); trying again",
                shown(key, incoming.user),
                type(exc).__name__,
            )

        ids = await self.patience.retry(
            lambda: asyncio.to_thread(
                self.dispatcher.enqueue_replies,
                channel=incoming.channel,
                external_id=incoming.user,
                replies=replies,
                key=f"slow:{incoming.channel}:{key}",
            ),
            on=(DBAPIError,),
            before_pause=failed,
        )
        await self.dispatcher.deliver(ids)
        self.dispatcher.kick()

    def _forget_old(self) -> None:
        """Drop the answered flights older than the memory. Flights are kept in the order they
        started, so this looks at the oldest only and stops at the first recent one (not at
        every flight per message); one still being computed (the database is down) is kept, at
        the back."""
        cutoff = self.clock() - FLIGHT_MEMORY_SECONDS
        for _ in range(len(self._flights)):
            key, flight = next(iter(self._flights.items()))
            if flight.started >= cutoff:
                return
            del self._flights[key]
            if not flight.task.done():
                self._flights[key] = flight


def shown(key: str, user: str) -> str:
    """A delivery key for the log: its sender replaced by a digest (never the openid)."""
    return key.replace(user, digest(user)) if user else key
