"""While the database is down: the one schedule on which a channel tries a message again.

A message the engine could not store (`ServiceUnavailable`: the database cannot be reached or
cannot store) is lost unless someone tries it again. Where the sender retries by itself (the
API, the web chat, Telegram's webhook) the channel answers 503 and lets it; where the message
was already confirmed to its platform (WeChat's `success`, Telegram's long polling) the channel
tries it again itself, on this schedule: pauses of `UNAVAILABLE_RETRY` seconds (the last one
repeated) for up to `UNAVAILABLE_GIVE_UP` seconds, then the failure is raised for the channel
to log (and, where it can, apologise). A `stop` event (the process shutting down) cuts the
waiting short: one last try, then the failure. `Patience` carries the schedule with its clock
and its sleep, so tests move time instead of waiting.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.engine import ServiceUnavailable

T = TypeVar("T")

UNAVAILABLE_RETRY = (1.0, 2.0, 5.0, 10.0, 30.0)  # seconds between tries while the DB is down
UNAVAILABLE_GIVE_UP = 900.0  # then the message is given up (logged; it was never stored)


@dataclass(frozen=True)
class Patience:
    """How long a channel keeps trying a message while the database is down: `pauses`
    between tries (the last repeated) until `give_up` seconds have passed on `clock`."""

    pauses: tuple[float, ...] = UNAVAILABLE_RETRY
    give_up: float = UNAVAILABLE_GIVE_UP
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def pause(self, attempt: int) -> float:
        """Seconds to wait before trying again after `attempt` failures (0-based)."""
        return self.pauses[min(attempt, len(self.pauses) - 1)]

    async def retry(
        self,
        work: Callable[[], Awaitable[T]],
        *,
        on: tuple[type[Exception], ...] = (ServiceUnavailable,),
        before_pause: Callable[[Exception], None] | None = None,
        stop: asyncio.Event | None = None,
    ) -> T:
        """`work()`'s result, trying again after a pause whenever it raises one of `on`;
        `before_pause(exc)` is told of each failure that will be tried again. Past the give-up
        time, or once `stop` is set, the last failure is raised; any other exception at once."""
        deadline = self.clock() + self.give_up
        for attempt in itertools.count():
            try:
                return await work()
            except on as exc:
                if self.clock() > deadline or (stop is not None and stop.is_set()):
                    raise
                if before_pause is not None:
                    before_pause(exc)
            await self._wait(self.pause(attempt), stop)
        raise AssertionError("unreachable: the loop returns or raises")

    async def _wait(self, seconds: float, stop: asyncio.Event | None) -> None:
        """Sleep `seconds`, or less when `stop` is set meanwhile."""
        if stop is None:
            await self.sleep(seconds)
            return
        sleeping = asyncio.ensure_future(self.sleep(seconds))
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({sleeping, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeping.cancel()
            stopping.cancel()
