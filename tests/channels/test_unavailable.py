"""`Patience`, the channels' one schedule while the database is down: pauses of 1, 2, 5, 10
and 30 s (then 30 s again) for up to 15 minutes, then the failure; other errors are not
retried, and a stop cuts the waiting short."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.unavailable import UNAVAILABLE_GIVE_UP, UNAVAILABLE_RETRY, Patience
from bot.engine import ServiceUnavailable
from tests.channels.conftest import PausedTime


class Outage:
    """Work that fails with `ServiceUnavailable` `down` times, then answers "好了"."""

    def __init__(self, down: int) -> None:
        self.down = down
        self.tries = 0

    async def __call__(self) -> str:
        self.tries += 1
        if self.tries <= self.down:
            raise ServiceUnavailable("the database cannot be reached")
        return "好了"


async def test_the_work_is_tried_again_after_each_pause_until_it_succeeds() -> None:
    """Seven failures: pauses 1, 2, 5, 10, 30, 30, 30 s, each failure told first, then the
    result."""
    time = PausedTime()
    told: list[str] = []
    outage = Outage(down=7)
    result = await time.patience().retry(outage, before_pause=lambda exc: told.append(str(exc)))
    assert result == "好了" and outage.tries == 8
    assert time.pauses == [*UNAVAILABLE_RETRY, 30.0, 30.0] and len(told) == 7


async def test_past_the_give_up_time_the_last_failure_is_raised() -> None:
    """The database never comes back: tries go on until 15 minutes have passed, then the
    failure is raised (the channel logs it)."""
    time = PausedTime()
    outage = Outage(down=10_000)
    with pytest.raises(ServiceUnavailable):
        await time.patience().retry(outage)
    assert time.now - time.pauses[-1] <= UNAVAILABLE_GIVE_UP < time.now
    assert outage.tries == len(time.pauses) + 1


async def test_other_errors_are_not_tried_again() -> None:
    """A bug is no outage: raised at once, no pause."""
    time = PausedTime()

    async def broken() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        await time.patience().retry(broken)
    assert time.pauses == []


async def test_a_stop_cuts_a_pause_short_after_one_last_try() -> None:
    """Stopping (the process shuts down) during an hour's pause: one last try at once, then the
    failure — the process does not wait for the database."""
    stop = asyncio.Event()
    outage = Outage(down=10_000)
    patience = Patience(pauses=(3600.0,))  # the real asyncio.sleep: only the stop ends it
    with pytest.raises(ServiceUnavailable):
        await asyncio.wait_for(
            patience.retry(outage, before_pause=lambda _exc: stop.set(), stop=stop), 10
        )
    assert outage.tries == 2


async def test_a_stop_lets_a_recovered_database_answer() -> None:
    """The last try after a stop still answers when the database is back by then."""
    stop = asyncio.Event()
    outage = Outage(down=1)
    patience = Patience(pauses=(3600.0,))
    result = await asyncio.wait_for(
        patience.retry(outage, before_pause=lambda _exc: stop.set(), stop=stop), 10
    )
    assert result == "好了" and outage.tries == 2
