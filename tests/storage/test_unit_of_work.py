"""The unit of work: one transaction per call, retried on conflicts, the SQLite writer thread,
and a database that cannot be reached reported as `ServiceUnavailable`."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from storage.db import Database
from storage.repo import ConcurrentUpdate
from storage.unit_of_work import DatabaseBusy, ServiceUnavailable, UnitOfWork


def _count(session: Session) -> int:
    """The number of rows in the scratch table."""
    return int(session.execute(text("SELECT count(*) FROM uow_scratch")).scalar_one())


@pytest.fixture
def work(database: Database) -> Iterator[UnitOfWork]:
    """A unit of work on a database with an empty scratch table (dropped afterwards)."""
    with database.transaction() as session:
        session.execute(text("CREATE TABLE uow_scratch (n INTEGER)"))
    yield UnitOfWork(database, attempts=3)
    with database.transaction() as session:
        session.execute(text("DROP TABLE uow_scratch"))


def test_the_work_commits_and_returns(work: UnitOfWork, database: Database) -> None:
    """`transact` runs `fn(session)` in one committed transaction and returns its result."""

    def insert(session: Session) -> str:
        session.execute(text("INSERT INTO uow_scratch VALUES (1)"))
        return "done"

    assert work.transact("k", insert) == "done"
    with database.read() as session:
        assert _count(session) == 1


def test_a_conflict_is_retried_from_scratch(work: UnitOfWork, database: Database) -> None:
    """A ConcurrentUpdate rolls the attempt back and runs the work again."""
    attempts: list[int] = []

    def conflicting(session: Session) -> int:
        session.execute(text("INSERT INTO uow_scratch VALUES (1)"))
        attempts.append(1)
        if len(attempts) < 2:
            raise ConcurrentUpdate("someone saved meanwhile")
        return len(attempts)

    assert work.transact("k", conflicting) == 2
    with database.read() as session:
        assert _count(session) == 1  # the first attempt's row was rolled back


def test_retries_give_up_after_the_last_attempt(work: UnitOfWork) -> None:
    """A conflict every time is raised after `attempts` tries."""
    attempts: list[int] = []

    def always(session: Session) -> None:
        attempts.append(1)
        raise ConcurrentUpdate("always")

    with pytest.raises(ConcurrentUpdate):
        work.transact("k", always)
    assert len(attempts) == 3


def test_a_lasting_driver_error_is_not_retried(work: UnitOfWork) -> None:
    """An OperationalError that is not a lock, deadlock or serialisation failure is raised at
    once."""
    attempts: list[int] = []

    def broken(session: Session) -> None:
        attempts.append(1)
        raise OperationalError("SELECT", {}, Exception("no such column"))

    with pytest.raises(OperationalError):
        work.transact("k", broken)
    assert len(attempts) == 1


def test_an_unreachable_database_is_service_unavailable(work: UnitOfWork) -> None:
    """A lost connection (or a database that cannot store) raises ServiceUnavailable."""

    def lost(session: Session) -> None:
        raise OperationalError("SELECT", {}, Exception("gone"), connection_invalidated=True)

    with pytest.raises(ServiceUnavailable):
        work.transact("k", lost)


async def test_run_serialised_runs_the_work(work: UnitOfWork, database: Database) -> None:
    """`run_serialised` schedules and runs one unit of work (PostgreSQL: not on the loop)."""
    loop_thread = threading.current_thread()

    def insert(session: Session) -> bool:
        session.execute(text("INSERT INTO uow_scratch VALUES (1)"))
        return threading.current_thread() is loop_thread

    on_loop = await work.run_serialised("k", insert)
    assert on_loop is database.is_sqlite  # SQLite: inline when the file is free
    with database.read() as session:
        assert _count(session) == 1


async def test_a_busy_sqlite_writer_sends_the_work_to_its_thread(
    work: UnitOfWork, database: Database
) -> None:
    """On SQLite, work that finds this process's writer busy does nothing on the loop and runs
    in the writer thread once it is free; PostgreSQL has no writer lock."""
    if not database.is_sqlite:
        pytest.skip("SQLite's writer lock")
    assert work._writer is not None
    work._writer.acquire()
    with pytest.raises(DatabaseBusy):
        work.transact("k", _count, wait=False)
    later = asyncio.create_task(work.run_serialised("k", _count))
    await asyncio.sleep(0)
    assert work.waiting == 1 and not later.done()
    work._writer.release()
    assert await asyncio.wait_for(later, 10) == 0
    assert work.waiting == 0
