"""Waiting for another process or thread: poll a condition until it holds, never a fixed delay.

Tests that start real servers or schedulers cannot know when the other side is ready; they
ask repeatedly (every `every` seconds) and fail with `what` when `limit` passes first. A
test never sleeps for a fixed time hoping something has happened by then.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(check: Callable[[], T], *, what: str, limit: float = 30.0, every: float = 0.05) -> T:
    """The first truthy result of `check()`; AssertionError naming `what` after `limit` s."""
    deadline = time.monotonic() + limit
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {limit:g} s waiting for {what}")
        time.sleep(every)


async def until(
    check: Callable[[], T], *, what: str, limit: float = 30.0, every: float = 0.05
) -> T:
    """`wait_for` on the event loop: other tasks run while it waits."""
    deadline = time.monotonic() + limit
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {limit:g} s waiting for {what}")
        await asyncio.sleep(every)
