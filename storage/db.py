"""Database engine and transactions for SQLite (default) and PostgreSQL.

SQLite runs in WAL mode with a busy timeout, and every transaction starts with ``BEGIN IMMEDIATE``
so that writers queue instead of failing half-way (SQLite allows one writer at a time anyway).
On PostgreSQL, per-user serialisation uses a transaction-level advisory lock (`lock_key`).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000


class Database:
    """One SQLAlchemy engine and the way to open a transaction on it."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine: Engine = _create_engine(url, echo=echo)
        # A SQLite file: a second pool whose connections never wait for the write lock.
        in_memory = make_url(url).database in (None, "", ":memory:")
        self._nowait: Engine | None = (
            _create_engine(url, echo=echo, busy_timeout_ms=0)
            if self.is_sqlite and not in_memory
            else None
        )

    @contextmanager
    def transaction(self, *, wait: bool = True) -> Iterator[Session]:
        """Open a session in one transaction: commit on success, roll back on any error.

        `wait=False` (SQLite): when another connection is writing, fail at once with "database
        is locked" instead of waiting up to the busy timeout (the engine's event-loop path)."""
        bind = self.engine if wait or self._nowait is None else self._nowait
        with Session(bind, expire_on_commit=False) as session, session.begin():
            yield session

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
        self.engine.dispose()
        if self._nowait is not None:
            self._nowait.dispose()


def _create_engine(
    url: str, *, echo: bool, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS
) -> Engine:
    # hide_parameters: a failed statement's error (and so its logged traceback) shows the SQL
    # but not the values, which carry residents' words and contacts.
    if not url.startswith("sqlite"):
        return create_engine(url, echo=echo, pool_pre_ping=True, hide_parameters=True)
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
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
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
