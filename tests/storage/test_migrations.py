"""Alembic migrations: `upgrade`, `pending_message`, and the schema matching the models."""

from __future__ import annotations

import threading

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect
from sqlmodel import SQLModel, select

from storage.db import Database
from storage.migrate import current_revision, head_revision, pending_message, upgrade
from storage.models import OrgUnit
from storage.orgtree import UnitRow


def _unit_count(db: Database) -> int:
    with db.read() as session:
        return session.exec(select(func.count()).select_from(OrgUnit)).one()


def test_upgrade_creates_every_table_and_seeds(
    empty_database: Database, seed_units: list[UnitRow]
) -> None:
    """Upgrading an empty database creates every model table and seeds the whole org tree."""
    added = upgrade(empty_database)
    tables = set(inspect(empty_database.engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables
    assert added == 1 + len(seed_units) == _unit_count(empty_database)


def test_upgrade_twice_is_a_no_op(database: Database) -> None:
    """A second upgrade of a migrated, seeded database changes nothing and adds no unit."""
    before = _unit_count(database)
    assert upgrade(database) == 0
    assert current_revision(database) == head_revision()
    assert _unit_count(database) == before


def test_pending_message_names_the_command(empty_database: Database) -> None:
    """An unmigrated database gets a one-line message naming `fuqing db upgrade`; then None."""
    message = pending_message(empty_database)
    assert message is not None
    assert "fuqing db upgrade" in message
    assert head_revision() in message
    assert "\n" not in message
    upgrade(empty_database)
    assert pending_message(empty_database) is None


def test_migrated_schema_matches_the_models(database: Database) -> None:
    """Autogenerate finds no difference between the migrated database and SQLModel.metadata."""
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_concurrent_upgrades_take_turns(
    empty_database: Database, seed_units: list[UnitRow]
) -> None:
    """Two upgrades at once both succeed; the tree is seeded exactly once."""
    results: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        try:
            results.append(upgrade(empty_database))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == [0, 1 + len(seed_units)]
    assert _unit_count(empty_database) == 1 + len(seed_units)
