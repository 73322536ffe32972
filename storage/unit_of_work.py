"""Units of work: one transaction per call, serialised per key, retried when a concurrent one
got in first — and, on SQLite, this process's one writer.

`run_serialised(key, fn)` is the whole of it: `fn(session)` runs in one transaction that holds
`key` (PostgreSQL: an advisory lock; SQLite: the file's write lock), is retried on a conflict, a
deadlock or a lock, and runs where it may block — PostgreSQL: a worker thread; SQLite: the event
loop itself when nobody else is writing (handing it to a thread cost more CPU than the work: GIL
hand-overs, measured +30 % messages/s inline), else the one writer thread. The two halves,
`schedule` (where it runs) and `transact` (the transaction and its retries), are separate for a
caller that handles errors between them (the engine's apology).

A database that cannot be reached or cannot store (read-only, disk full) raises
`ServiceUnavailable`: nothing was stored, the sender may send again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session

from storage.db import Database, cannot_store
from storage.repo import ConcurrentUpdate

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_ATTEMPTS = 5


class ServiceUnavailable(RuntimeError):
    """The database cannot be reached (down, restarting, refusing connections) or cannot store
    (read-only, disk full); nothing of the work was stored, so the sender may send it again."""


class DatabaseBusy(Exception):
    """SQLite is being written by someone else: run the work where it may wait."""


class UnitOfWork:
    """Runs transactions against one database: serialised per key, retried, one SQLite writer."""

    def __init__(self, db: Database, *, attempts: int = MAX_ATTEMPTS) -> None:
        self.db = db
        self.attempts = attempts
        # SQLite has one writer at a time: work of this process queues on a lock instead of
        # polling the busy timeout (its sleeps of up to 100 ms made the p99 latency soar).
        self._writer = threading.Lock() if db.is_sqlite else None
        self.executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="fuqing-sqlite")
            if db.is_sqlite
            else None
        )
        self.waiting = 0  # calls handed to the writer thread and not finished yet

    async def run_serialised(
        self, key: str, fn: Callable[[Session], T], *, inline: bool = True, label: str = ""
    ) -> T:
        """Run `fn(session)` in one transaction holding `key`, retried, where it may block
        (`inline=False`: never on the event loop, e.g. for long CPU work)."""
        return await self.schedule(
            lambda wait: self.transact(key, fn, wait=wait, label=label), inline=inline
        )

    async def schedule(self, call: Callable[[bool], T], *, inline: bool = True) -> T:
        """Run `call(wait)` where it may block: PostgreSQL: a worker thread (`wait=True`);
        SQLite: on the loop with `wait=False` when `inline` and nothing waits (it raises
        `DatabaseBusy`, having done nothing, when the file is busy), else in the writer thread."""
        if self.executor is None:
            return await asyncio.to_thread(call, True)
        try:
            # Work waits in the writer thread: keep its order behind it.
            if self.waiting or not inline:
                raise DatabaseBusy
            return call(False)
        except DatabaseBusy:
            self.waiting += 1
            try:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(self.executor, call, True)
            finally:
                self.waiting -= 1

    def transact(
        self, key: str, fn: Callable[[Session], T], *, wait: bool = True, label: str = ""
    ) -> T:
        """Run `fn(session)` in one transaction that holds `key`, retrying when a concurrent one
        got in first. `wait=False`: raise `DatabaseBusy`, having done nothing, when another
        writer holds the database. Raises `ServiceUnavailable` when it cannot be reached."""
        try:
            for attempt in range(1, self.attempts + 1):
                try:
                    with self._writing(wait), self.db.transaction(wait=wait) as session:
                        self.db.lock_key(session, key)
                        return fn(session)
                except (ConcurrentUpdate, IntegrityError, OperationalError) as exc:
                    if not wait and isinstance(exc, OperationalError) and _is_locked(exc):
                        raise DatabaseBusy from exc
                    if attempt == self.attempts or (
                        isinstance(exc, OperationalError) and not _is_transient(exc)
                    ):
                        raise
                    log.info("retrying %s after %s", label or "a unit of work", type(exc).__name__)
        except DBAPIError as exc:
            if database_unreachable(exc):
                log.warning("database unreachable: %s", type(exc.orig).__name__)
                raise ServiceUnavailable("the database cannot be reached") from exc
            raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    @contextmanager
    def _writing(self, wait: bool) -> Iterator[None]:
        """Hold this process's SQLite writer lock (nothing on PostgreSQL)."""
        lock = self._writer
        if lock is None:
            yield
            return
        if not lock.acquire(blocking=wait):
            raise DatabaseBusy
        try:
            yield
        finally:
            lock.release()


def database_unreachable(exc: DBAPIError) -> bool:
    """True when `exc` says the database is unavailable — it cannot be reached (connection
    refused or lost, server shutting down or starting up) or cannot store now (read-only, disk
    full, I/O error: `storage.db.cannot_store`) — not that a statement failed."""
    if exc.connection_invalidated or cannot_store(exc.orig):
        return True
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is None:  # psycopg: no server answer at all (refused, reset, timed out)
        return not _is_transient(exc) and "psycopg" in type(exc.orig).__module__
    return str(sqlstate).startswith(("08", "57P"))  # connection exception; admin shutdown


def _is_locked(exc: OperationalError) -> bool:
    return "locked" in str(exc.orig).lower()


def _is_transient(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "locked" in text or "deadlock" in text or "serializ" in text
