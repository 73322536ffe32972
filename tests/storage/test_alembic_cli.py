"""The Alembic command line (`alembic -c storage/alembic.ini …`) migrates the database in
FUQING_DATABASE_URL, with the field key from FUQING_SECRET_KEY, as `fuqing db upgrade` does."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from storage import crypto, migrate
from storage.db import Database

ROOT = Path(__file__).parent.parent.parent
KEY = "alembic-cli-secret-3d9a"


def _alembic(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "alembic", "-c", "storage/alembic.ini", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_alembic_cli_migrates_the_database_of_the_setting(tmp_path: Path) -> None:
    """`alembic upgrade 0003` then `upgrade head` work on the FUQING_DATABASE_URL file (not the
    ini's data/fuqing.db), and 0004 encrypts a row written before it with FUQING_SECRET_KEY."""
    path = tmp_path / "cli.db"
    env = {
        **os.environ,
        "FUQING_DATABASE_URL": f"sqlite:///{path}",
        "FUQING_SECRET_KEY": KEY,
        "FUQING_DATA_DIR": str(tmp_path),
    }
    first = _alembic("upgrade", "0003", env=env)
    assert first.returncode == 0, first.stderr
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO users (role, phone, created_at) VALUES ('resident', '13912345678', "
            "'2026-03-18 02:00:00')"
        )
    second = _alembic("upgrade", "head", env=env)
    assert second.returncode == 0, second.stderr
    database = Database(f"sqlite:///{path}")
    try:
        assert migrate.current_revision(database) == migrate.head_revision()
    finally:
        database.dispose()
    with sqlite3.connect(path) as connection:
        (stored,) = connection.execute("SELECT phone FROM users").fetchone()
    assert stored != "13912345678"
    assert crypto.Keyring(KEY).decrypt(stored) == "13912345678"
