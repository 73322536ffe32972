"""Database engine and transactions for SQLite (default) and PostgreSQL.

SQLite runs in WAL mode with a busy timeout, and every transaction starts with ``BEGIN IMMEDIATE``
so that writers queue instead of failing half-way (SQLite allows one writer at a time anyway).
On PostgreSQL, per-user serialisation uses a transaction-level advisory lock (`lock_key`).

A database that cannot store now (read-only file or server, full disk, I/O error: `cannot_store`)
is remembered for `STORE_FAILURE_MEMORY` seconds (`failed_to_store_recently`); `check_writable`
makes a write and rolls it back. Both feed `/readyz`.

A SQLite file holds personal data: it is created readable by its owner only (600, in a 700
directory when that is created here; SQLite gives its -wal and -shm files the database file's
mode), ``secure_delete`` zeroes what is deleted or overwritten, and a transaction that erased
someone (`FORGET_FILES` in its session's info) ends with the WAL checkpointed and truncated, so
no earlier page holding her data lingers in it.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine, ExceptionContext, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
STORE_FAILURE_MEMORY = 30.0  # seconds a refused write keeps the database "not ready"
# What says "the database cannot store now", not "this statement is wrong": SQLite's result
# codes (read-only file, full disk, I/O error, the journal cannot be opened) and PostgreSQL's
# SQLSTATE prefixes (read-only transaction or hot standby; insufficient resources: disk full,
# out of memory, too many connections; system error: I/O).
SQLITE_CANNOT_STORE = ("SQLITE_READONLY", "SQLITE_FULL", "SQLITE_IOERR", "SQLITE_CANTOPEN")
POSTGRES_CANNOT_STORE = ("25006", "53", "58")


def cannot_store(error: object) -> bool:
    """True when a driver's error says the database cannot store now (read-only, disk full,
    I/O error): the same write may work later. Constraint violations and bad statements: False."""
    name = getattr(error, "sqlite_errorname", None)
    if isinstance(name, str):
        return name.startswith(SQLITE_CANNOT_STORE)
    sqlstate = getattr(error, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(POSTGRES_CANNOT_STORE)


FILE_MODE = 0o600  # the SQLite database file, its -wal and -shm
DIRECTORY_MODE = 0o700  # the directory of the database when it is created here
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
# session.info key: this transaction erased someone's data; once committed, the files forget it.
FORGET_FILES = "fuqing.forget_files"


class Database:
    """One SQLAlchemy engine and the way to open a transaction on it."""

    def __init__(
        self, url: str, *, echo: bool = False, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        database = make_url(url).database
        # A SQLite file (None: in memory, or PostgreSQL).
        self.path: Path | None = (
            Path(database) if self.is_sqlite and database not in (None, "", ":memory:") else None
        )
        if self.path is not None:
            protect_sqlite_file(self.path)
        self.engine: Engine = _create_engine(url, echo=echo)
        # A SQLite file: a second pool whose connections never wait for the write lock.
        self._nowait: Engine | None = (
            _create_engine(url, echo=echo, busy_timeout_ms=0) if self.path is not None else None
        )
        self.clock = clock  # monotonic seconds, for the memory of refused writes
        self.store_failed_at: float | None = None
        for bind in self.engines:
            event.listen(bind, "handle_error", self._on_error)

    @property
    def engines(self) -> tuple[Engine, ...]:
        """Every SQLAlchemy engine of this database (SQLite files: also the no-wait one)."""
        return (self.engine,) if self._nowait is None else (self.engine, self._nowait)

    def _on_error(self, context: ExceptionContext) -> None:
        if cannot_store(context.original_exception):
            self.store_failed_at = self.clock()

    def failed_to_store_recently(self) -> bool:
        """True when a write was refused (read-only, disk full, I/O error) in the last
        `STORE_FAILURE_MEMORY` seconds, in this process."""
        failed = self.store_failed_at
        return failed is not None and self.clock() - failed < STORE_FAILURE_MEMORY

    def check_writable(self) -> None:
        """Make a write and roll it back; raise the driver's error (wrapped by SQLAlchemy)
        when the database refuses it: a read-only file, server or transaction, a standby.

        SQLite: a write lock held by another connection means writes happen: no error.
        PostgreSQL: waits at most a second for the row's lock (a migration holds it)."""
        bind = self._nowait or self.engine
        try:
            with bind.connect() as connection, connection.begin() as transaction:
                if not self.is_sqlite:
                    connection.execute(text("SET LOCAL lock_timeout = '1s'"))
                connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
                transaction.rollback()
        except OperationalError as exc:
            if not (self.is_sqlite and "locked" in str(exc.orig).lower()):
                raise

    @contextmanager
    def transaction(self, *, wait: bool = True) -> Iterator[Session]:
        """Open a session in one transaction: commit on success, roll back on any error.

        `wait=False` (SQLite): when another connection is writing, fail at once with "database
        is locked" instead of waiting up to the busy timeout (the engine's event-loop path)."""
        bind = self.engine if wait or self._nowait is None else self._nowait
        with Session(bind, expire_on_commit=False) as session:
            with session.begin():
                yield session
            if session.info.pop(FORGET_FILES, False):
                self.truncate_wal()

    def truncate_wal(self) -> None:
        """SQLite file: copy the WAL into the database file and truncate it to nothing, so that
        no page written before (an erased person's data) stays in it; the database file itself
        keeps nothing freed (secure_delete). Waits for other connections' reads to end (the busy
        timeout). PostgreSQL keeps dead row versions until VACUUM: see docs/privacy.md."""
        if self.path is None:
            return
        with self.engine.connect() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            # Outside a transaction (the driver connection is in autocommit): a checkpoint cannot
            # run inside one.
            busy, _frames, _copied = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            log.warning("the WAL of %s could not be truncated: readers kept it busy", self.path)

    @contextmanager
    def begin(self, *, wait: bool = True) -> Iterator[Connection]:
        """A Core connection in one transaction (no ORM session: the cheapest there is, for a
        single statement on a hot path); `wait=False` as in `transaction`."""
        bind = self.engine if wait or self._nowait is None else self._nowait
        with bind.begin() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Session]:
        """Open a session for reading only (the transaction is rolled back at the end)."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def lock_key(self, session: Session, key: str) -> None:
        """Serialise transactions that name the same key until this transaction ends.

        PostgreSQL: a transaction-scoped advisory lock on a 64-bit hash of the key. SQLite: the
        transaction already holds the database's write lock (BEGIN IMMEDIATE), so nothing to do.
        """
        if self.is_sqlite:
            return
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        number = int.from_bytes(digest, "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": number})

    def dispose(self) -> None:
        """Close all pooled connections."""
        for bind in self.engines:
            bind.dispose()


def _create_engine(
    url: str, *, echo: bool, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS
) -> Engine:
    # hide_parameters: a failed statement's error (and so its logged traceback) shows the SQL
    # but not the values, which carry residents' words and contacts.
    if not url.startswith("sqlite"):
        return create_engine(url, echo=echo, pool_pre_ping=True, hide_parameters=True)
    engine = create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
    )
    event.listen(engine, "connect", functools.partial(_sqlite_on_connect, busy_timeout_ms))
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(busy_timeout_ms: int, dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, issue BEGIN (the pysqlite recipe in SQLAlchemy's docs).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted and overwritten content is zeroed
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def protect_sqlite_file(path: Path) -> None:
    """Create the database file readable and writable by its owner only (its directory 700 when
    created here), and tighten an existing file and its -wal, -shm and -journal to 600. SQLite
    creates the -wal and -shm files with the database file's mode, so they come out 600 too."""
    path.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
    for name in (path, *(path.with_name(path.name + tail) for tail in SQLITE_COMPANIONS)):
        try:
            found = name.stat()
        except FileNotFoundError:
            continue
        if found.st_mode & 0o077 and found.st_uid == os.getuid():
            name.chmod(FILE_MODE)
