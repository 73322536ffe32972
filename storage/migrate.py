"""Schema migrations (Alembic) and the first seed of the org tree: `fuqing db upgrade`.

The Alembic configuration is built here in code, so migrations run the same from a checkout and
from an installed package, whatever the current directory. Two processes upgrading one
PostgreSQL database at once take turns on an advisory lock; SQLite's write lock does the same
there.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage import repo
from storage.db import Database
from storage.orgtree import load_units

MIGRATIONS = Path(__file__).parent / "migrations"
# pg_advisory_lock key for `upgrade` (any fixed 64-bit number; this one spells "fuqing:m").
MIGRATION_LOCK_KEY = 0x66_75_71_69_6E_67_3A_6D
# Revisions that encrypt existing rows: passing one, a SQLite file is rebuilt (VACUUM) so that
# the plaintext they replaced is not left in its free pages.
ENCRYPTING_REVISIONS = frozenset({"0005"})
UPGRADE_COMMAND = "fuqing db upgrade"


def alembic_config(db: Database | None = None, connection: Connection | None = None) -> Config:
    """Return the Alembic configuration for this package's migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if db is not None:
        # Alembic's config interpolates '%': escape it (it may appear in a password).
        config.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """Return the revision id of the newest migration."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    return head


def current_revision(db: Database) -> str | None:
    """Return the revision the database is at (None: never migrated)."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def pending_message(db: Database) -> str | None:
    """None when the schema is at the newest revision; else one line saying what to run."""
    current = current_revision(db)
    head = head_revision()
    if current == head:
        return None
    return (
        "数据库结构未更新：database schema is not at the latest revision "
        f"(current {current or 'none'}, head {head}); run `{UPGRADE_COMMAND}`"
    )


def upgrade(db: Database) -> int:
    """Migrate the database to the newest revision and seed the org tree if it is empty.

    Returns the number of org units added (0 when the tree was already there).
    """
    with db.engine.connect() as connection:
        if not db.is_sqlite:
            # A session-level lock: a second process waits here until the first is done.
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            connection.commit()
        else:
            _sqlite_foreign_keys(connection, on=False)
        try:
            with connection.begin():
                before = MigrationContext.configure(connection).get_current_revision()
                command.upgrade(alembic_config(db, connection), "head")
            if db.is_sqlite:
                _sqlite_check_foreign_keys(connection)
                if before is not None and _passed(before, ENCRYPTING_REVISIONS):
                    _sqlite_vacuum(db, connection)
            with db.transaction() as session:
                return repo.seed_org_tree(session, units=load_units())
        finally:
            if not db.is_sqlite:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                connection.commit()
            else:
                _sqlite_foreign_keys(connection, on=True)


def _passed(before: str, revisions: frozenset[str]) -> bool:
    """True when upgrading from `before` to the head applied one of `revisions`."""
    script = ScriptDirectory.from_config(alembic_config())
    return any(r.revision in revisions for r in script.iterate_revisions("head", before))


def _sqlite_vacuum(db: Database, connection: Connection) -> None:
    """Rebuild the SQLite file (freed pages and cells from before secure_delete was on go) and
    truncate its WAL. Outside a transaction, as `_sqlite_foreign_keys` runs."""
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute("VACUUM")
    db.truncate_wal()


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    """Turn SQLite's foreign-key checks off for the migrations' table copies (batch mode: a table
    others refer to cannot be dropped and renamed with them on), and on again afterwards.

    The pragma is a no-op inside a transaction, so it goes to the driver's connection directly
    (autocommit: SQLAlchemy begins transactions itself on SQLite, see storage/db.py)."""
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _sqlite_check_foreign_keys(connection: Connection) -> None:
    """Raise when the migrations left a row pointing at nothing."""
    raw = connection.connection.driver_connection
    assert raw is not None
    broken = raw.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
