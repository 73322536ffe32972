"""Shared fixtures, one section per subject. Builders of rows live in `tests/factories.py`."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel
from typer.testing import CliRunner, Result

from bot.app import create_app
from bot.channels.setup import PushChannels, build_push_channels
from bot.cli import app as cli_app
from bot.config import Settings
from bot.engine import Engine
from bot.http import Services
from bot.messages import Incoming
from bot.nlp import NLP, PlaceUnit
from storage import crypto, repo
from storage.db import Database
from storage.migrate import upgrade
from storage.orgtree import UnitRow, load_units
from tests.factories import bind_cadre

# ----------------------------------------------------------------------------- databases
#
# `database` runs a test on SQLite and on PostgreSQL (the latter only when
# FUQING_TEST_DATABASE_URL is set, as CI does). Both are migrated and hold the seeded org tree.

# Property-based tests explore new examples on a developer's machine, but in CI they replay a
# fixed derivation, so a run there fails only on a change, never on the luck of the draw.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

PG_URL_VARIABLE = "FUQING_TEST_DATABASE_URL"
PG_SKIP_REASON = (
    "PostgreSQL tests need FUQING_TEST_DATABASE_URL, "
    "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


TEST_SECRET_KEY = "test-secret"


@pytest.fixture(autouse=True)
def field_key() -> crypto.Keyring:
    """Contact fields are encrypted under the test key, as the app does from its settings."""
    return crypto.configure(TEST_SECRET_KEY)


def sqlite_url(path: Path) -> str:
    """Return the SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def seed_units() -> list[UnitRow]:
    """The rows of the org tree's seed file, read once."""
    return load_units()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated and seeded once per session; tests get a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "fuqing.db"
    db = Database(sqlite_url(path))
    try:
        upgrade(db)
    finally:
        db.dispose()  # the last connection closing checkpoints the WAL into the main file
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL test database, migrated once per session from an emptied `public`."""
    url = os.environ.get(PG_URL_VARIABLE)
    if not url:
        pytest.skip(PG_SKIP_REASON)
    db = Database(url)
    try:
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        upgrade(db)
    finally:
        db.dispose()
    return url


def _sqlite_copy(template: Path, directory: Path) -> Database:
    path = directory / "fuqing.db"
    shutil.copyfile(template, path)
    return Database(sqlite_url(path))


def _postgres_reset(url: str, units: list[UnitRow]) -> Database:
    db = Database(url)
    tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
    with db.transaction() as session:
        session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        repo.seed_org_tree(session, units=units)
    return db


@pytest.fixture
def sqlite_database(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database with the org tree, fresh for each test."""
    db = _sqlite_copy(sqlite_template, tmp_path)
    yield db
    db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, tmp_path: Path, seed_units: list[UnitRow]
) -> Iterator[Database]:
    """A migrated database with the org tree, fresh for each test, on SQLite and PostgreSQL."""
    if request.param == "sqlite":
        db = _sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path)
    else:
        db = _postgres_reset(request.getfixturevalue("postgres_url"), seed_units)
    yield db
    db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database never migrated (PostgreSQL: a throw-away schema), on SQLite and PostgreSQL."""
    if request.param == "sqlite":
        db = Database(sqlite_url(tmp_path / "empty.db"))
        yield db
        db.dispose()
        return
    url = os.environ.get(PG_URL_VARIABLE)
    if not url:
        pytest.skip(PG_SKIP_REASON)
    schema = f"test_empty_{uuid.uuid4().hex[:12]}"
    admin = Database(url)
    with admin.engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    db = Database(scoped.render_as_string(hide_password=False))
    try:
        yield db
    finally:
        db.dispose()
        with admin.engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def refusing_writes(database: Database, *, full: bool = False) -> Iterator[None]:
    """Make `database` refuse writes as a real outage does until the block ends (its pools are
    emptied on entry and exit): SQLite read-only (`PRAGMA query_only`), or full with `full`
    (`PRAGMA max_page_count` at its size: SQLITE_FULL); PostgreSQL read-only
    (`default_transaction_read_only`, the error a hot standby gives: SQLSTATE 25006)."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if not database.is_sqlite:
            cursor.execute("SET default_transaction_read_only = on")
            dbapi_connection.commit()
        elif full:
            pages = cursor.execute("PRAGMA page_count").fetchone()[0]
            cursor.execute(f"PRAGMA max_page_count = {pages}")
        else:
            cursor.execute("PRAGMA query_only = ON")
        cursor.close()

    database.dispose()
    for bind in database.engines:
        event.listen(bind, "connect", on_connect)
    try:
        yield
    finally:
        for bind in database.engines:
            event.remove(bind, "connect", on_connect)
        database.dispose()


# Throw-away PostgreSQL schemas, for tests that run real processes against the database.


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
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
    url = scoped.render_as_string(hide_password=False)
    try:
        database = Database(url)
        upgrade(database)
        database.dispose()
        yield url
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# ----------------------------------------------------------------------------- NLP and engine
#
# One warmed NLP per session (jieba loads once); one engine per test on the test's database,
# with a clock the test can move. `Chat` runs dialogue tables: [(user says, bot answer contains)].


@pytest.fixture(scope="session")
def units(seed_units: list[UnitRow]) -> list[PlaceUnit]:
    """The seeded Beijing gazetteer as the NLP's place units."""
    return [
        PlaceUnit(district=r.district, name=r.name, kind=r.kind, aliases=r.aliases)
        for r in seed_units
    ]


@pytest.fixture(scope="session")
def nlp(units: list[PlaceUnit], tmp_path_factory: pytest.TempPathFactory) -> NLP:
    """The NLP over the seeded Beijing gazetteer, loaded once per session (jieba once)."""
    return NLP.load(units, cache_dir=tmp_path_factory.mktemp("jieba"))


NEED = "我在朝阳区双井街道，想找一份离家近的保洁工作，孩子上小学，下午三点要去接她。"


def long_text(length: int) -> str:
    """A resident's message about a job, repeated to `length` characters."""
    return (NEED * (length // len(NEED) + 1))[:length]


class Clock:
    """A settable clock (aware UTC); starts at 2026-03-18 10:00 Asia/Shanghai."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 18, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    """A clock the test moves by hand."""
    return Clock()


@pytest.fixture
def settings(database: Database) -> Settings:
    """Test settings on the test's database."""
    return Settings(
        env="test",
        database_url=database.url,
        secret_key=TEST_SECRET_KEY,
        api_token="test-api-token",
        admin_token="test-admin-token",
    )


@pytest.fixture
def engine(settings: Settings, database: Database, nlp: NLP, clock: Clock) -> Engine:
    """An engine on the test's database (both SQLite and PostgreSQL), on the test's clock."""
    return Engine(settings=settings, db=database, nlp=nlp, clock=clock)


class Chat:
    """One user talking to the engine; messages carry the clock's time."""

    def __init__(self, engine: Engine, clock: Clock, user: str, channel: str = "api") -> None:
        self.engine = engine
        self.clock = clock
        self.user = user
        self.channel = channel

    def say(self, text: str, msg_id: str | None = None) -> str:
        """Send one message; return the replies joined by blank lines."""
        replies = self.engine.handle_sync(
            Incoming(
                channel=self.channel, user=self.user, text=text, msg_id=msg_id, at=self.clock()
            )
        )
        return "\n\n".join(r.text for r in replies)

    def run(self, script: list[tuple[str, str]]) -> None:
        """Play a dialogue table: each answer must contain the expected text."""
        for said, expected in script:
            answer = self.say(said)
            assert expected in answer, f"{said!r} → {answer!r}; expected {expected!r}"

    def pushed(self) -> list[str]:
        """What was pushed to this user since the last look."""
        return [o.text for o in self.engine.pull(channel=self.channel, user=self.user)]


@pytest.fixture
def chat(engine: Engine, clock: Clock) -> Callable[..., Chat]:
    """Make a Chat for a user id (`chat("u1")`)."""

    def make(user: str = "resident-1", channel: str = "api") -> Chat:
        return Chat(engine, clock, user, channel)

    return make


@pytest.fixture
def cadre(database: Database, chat: Callable[..., Chat], clock: Clock) -> Callable[..., Chat]:
    """Make a Chat for a cadre bound to a unit path (`cadre("朝阳区/双井街道")`)."""

    def make(unit: str = "朝阳区/双井街道", user: str = "cadre-1", name: str = "张干部") -> Chat:
        with database.transaction() as session:
            bind_cadre(session, place=unit, name=name, external_id=user, now=clock())
        return chat(user)

    return make


# ----------------------------------------------------------------------------- HTTP
#
# The real FastAPI app through httpx's ASGI transport, on the test's database and engine.

API = {"Authorization": "Bearer test-api-token"}
ADMIN = {"Authorization": "Bearer test-admin-token"}


@dataclass
class Served:
    """The app under test, its httpx client and what it was built from."""

    app: FastAPI
    http: httpx.AsyncClient
    services: Services

    @property
    def channels(self) -> PushChannels:
        """The push channels and the dispatcher the app uses."""
        return self.services.channels


@asynccontextmanager
async def served(settings: Settings, engine: Engine) -> AsyncIterator[Served]:
    """The app with `settings` on `engine` (its database, NLP and clock), the push channels
    built from those settings, through httpx's ASGI transport; the channels closed after."""
    channels = build_push_channels(settings, db=engine.db, engine=engine)
    services = Services(
        settings=settings, db=engine.db, nlp=engine.nlp, engine=engine, channels=channels
    )
    app = create_app(settings, services=services)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield Served(app=app, http=http, services=services)
    finally:
        await channels.aclose()


@pytest.fixture
async def client(settings: Settings, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client of the app (services built from the test's database)."""
    async with served(settings, engine) as app:
        yield app.http


# ----------------------------------------------------------------------------- the command line


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    """The CLI replaces the root logger's handlers and level: put them back after the test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def cli_env(data_dir: Path) -> dict[str, str]:
    """The environment of a CLI run in development: a SQLite file and the data dir in `data_dir`."""
    return {
        "FUQING_ENV": "development",
        "FUQING_DATABASE_URL": f"sqlite:///{data_dir / 'fuqing.db'}",
        "FUQING_DATA_DIR": str(data_dir),
    }


def invoke(args: list[str], env: dict[str, str], stdin: str | None = None) -> Result:
    """Run `fuqing ARGS` in-process."""
    return CliRunner().invoke(cli_app, args, env=env, input=stdin)


# ----------------------------------------------------------------------------- error records

LOGGERS = ("bot", "storage", "scheduler")


class ErrorLog(logging.Handler):
    """Collects ERROR records of the app's loggers."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def check(self) -> None:
        """Fail when anything was logged at ERROR (an unhandled exception)."""
        found = [self.format(r) for r in self.records]
        self.records.clear()
        assert not found, found


@pytest.fixture
def error_log() -> Iterator[ErrorLog]:
    """ERROR records of bot.*, storage.* and scheduler.* while the test runs."""
    handler = ErrorLog()
    for name in LOGGERS:
        logging.getLogger(name).addHandler(handler)
    yield handler
    for name in LOGGERS:
        logging.getLogger(name).removeHandler(handler)
