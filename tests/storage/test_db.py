"""The SQLite files: owner-only modes, secure_delete, and the WAL truncated after an erasure."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from sqlalchemy import text

from storage import db as storage_db
from storage.db import Database
from storage.migrate import upgrade
from tests.conftest import sqlite_url


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _companions(path: Path) -> list[Path]:
    return [path.with_name(path.name + tail) for tail in ("-wal", "-shm")]


def test_new_database_files_are_owner_only(tmp_path: Path) -> None:
    """A new SQLite database, its -wal and -shm come out 600, the directory made for it 700."""
    path = tmp_path / "data" / "fuqing.db"
    db = Database(sqlite_url(path))
    try:
        upgrade(db)
        with db.read() as session:  # a reader keeps the WAL and its index open
            session.execute(text("SELECT 1 FROM org_units")).first()
            files = [path, *_companions(path)]
            assert all(f.exists() for f in files)
            assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert _mode(path.parent) == 0o700
    finally:
        db.dispose()


def test_existing_database_files_are_tightened(tmp_path: Path) -> None:
    """A database made readable by others (an older install) is 600 again once opened."""
    path = tmp_path / "fuqing.db"
    first = Database(sqlite_url(path))
    upgrade(first)
    with first.read() as session:
        session.execute(text("SELECT 1")).first()
        for found in (path, *_companions(path)):
            found.chmod(0o644)
        second = Database(sqlite_url(path))
        try:
            assert [_mode(f) for f in (path, *_companions(path))] == [0o600] * 3
        finally:
            second.dispose()
    first.dispose()


def test_every_connection_zeroes_what_it_deletes(tmp_path: Path) -> None:
    """The connect hook turns secure_delete on, also where SQLite's build leaves it off."""
    raw = sqlite3.connect(tmp_path / "raw.db")
    try:
        raw.execute("PRAGMA secure_delete=OFF")
        storage_db._sqlite_on_connect(storage_db.SQLITE_BUSY_TIMEOUT_MS, raw, None)
        assert raw.execute("PRAGMA secure_delete").fetchone() == (1,)
    finally:
        raw.close()


def test_an_erasure_leaves_the_wal_empty(sqlite_database: Database) -> None:
    """A transaction marked FORGET_FILES ends with the WAL checkpointed and truncated to 0 bytes;
    another transaction leaves the WAL as SQLite keeps it."""
    wal = _companions(Path(sqlite_database.url.removeprefix("sqlite:///")))[0]
    with sqlite_database.transaction() as session:
        session.execute(text("UPDATE org_units SET aliases = '[\"x\"]'"))
    assert wal.stat().st_size > 0
    with sqlite_database.transaction() as session:
        session.execute(text("UPDATE org_units SET aliases = '[]'"))
        session.info[storage_db.FORGET_FILES] = True
    assert wal.stat().st_size == 0
