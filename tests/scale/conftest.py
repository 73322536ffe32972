"""Fixtures of the scale and fault tests: a throw-away PostgreSQL schema (of the database in
FUQING_TEST_DATABASE_URL) and two-worker set-ups; they skip without that variable."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage import migrate
from storage.db import Database
from tests.conftest import PG_SKIP_REASON, PG_URL_VARIABLE


@pytest.fixture
def pg_url() -> str:
    """The PostgreSQL test URL (skips without it)."""
    url = os.environ.get(PG_URL_VARIABLE)
    if not url:
        pytest.skip(PG_SKIP_REASON)
    return url


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[str]:
    """A throw-away, migrated PostgreSQL schema; its URL (dropped afterwards)."""
    schema = f"scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
    url = scoped.render_as_string(hide_password=False)
    try:
        database = Database(url)
        migrate.upgrade(database)
        database.dispose()
        yield url
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
