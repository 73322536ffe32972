"""The app's edges when the database cannot store (read-only, full): the API and the web chat
answer 503 with Retry-After, `/readyz` is not ready, nothing is half stored; on both databases."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import func, select

from storage.db import STORE_FAILURE_MEMORY, Database
from storage.models import InboundMessage, User
from tests.conftest import API, refusing_writes
from tests.test_limits import FakeClock

WEB = {"X-Requested-With": "fuqing"}


def _counts(database: Database) -> tuple[int, int]:
    with database.read() as session:
        users = session.exec(select(func.count()).select_from(User)).one()
        messages = session.exec(select(func.count()).select_from(InboundMessage)).one()
    return int(users), int(messages)


async def test_a_read_only_database_is_503_and_not_ready_until_writes_work(
    client: httpx.AsyncClient, database: Database
) -> None:
    """Read-only: API and web chat 503 + Retry-After, /readyz 503, nothing stored; writable
    again: messages work at once, /readyz is ready once the memory of the refusal passes."""
    ticks = FakeClock()  # the database's memory of refused writes
    database.clock = ticks
    assert (await client.get("/readyz")).status_code == 200
    await client.get("/chat")  # the page's identity cookie
    before = _counts(database)
    with refusing_writes(database):
        ready = await client.get("/readyz")  # its own write, before any message's
        api = await client.post(
            "/api/v1/messages", headers=API, json={"user": "u1", "text": "你好"}
        )
        web = await client.post("/chat/api/messages", headers=WEB, json={"text": "我要求助"})
        for answer in (api, web, ready):
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"] == "unavailable" and answer.headers["Retry-After"]
        assert (await client.get("/healthz")).status_code == 200
    assert _counts(database) == before
    api = await client.post(
        "/api/v1/messages", headers=API, json={"user": "u1", "text": "我要求助"}
    )
    assert api.status_code == 200 and "困难" in api.text
    assert (await client.get("/readyz")).status_code == 503  # refused a moment ago
    ticks.advance(STORE_FAILURE_MEMORY)
    assert (await client.get("/readyz")).status_code == 200


async def test_a_full_sqlite_file_is_503_and_not_ready(
    client: httpx.AsyncClient, database: Database
) -> None:
    """SQLITE_FULL (no page left for a new resident): 503, and /readyz, whose rolled-back
    write needs no page, is not ready because the message's write was refused."""
    if not database.is_sqlite:
        pytest.skip("SQLite's page limit; PostgreSQL's full disk is classified in test_engine")
    assert (await client.get("/readyz")).status_code == 200
    with refusing_writes(database, full=True):
        long = "想找一份离家近的保洁工作，" * 150  # her need, kept in the dialogue: new pages
        answer = await client.post(
            "/api/v1/messages", headers=API, json={"user": "new", "text": long}
        )
        assert answer.status_code == 503, answer.text
        assert (await client.get("/readyz")).status_code == 503
