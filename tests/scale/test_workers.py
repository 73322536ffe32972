"""Two real worker processes on one PostgreSQL database: the same user's concurrent messages
are serialised (nothing lost, nothing doubled) and a WeChat retry landing on the other worker is
answered once. Two schedulers: `tests/scheduler/test_runner.py::
test_two_scheduler_processes_count_each_reminder_once`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.channels.wechat.crypto import MessageCrypto
from bot.cli import app
from storage.db import Database
from storage.models import DialogueSession, Identity, InboundMessage
from tests.fakes.wechat_peer import WeChatPeer
from tests.fakes.wechat_server import APPID
from tests.scale.servers import API, WECHAT_AES_KEY, WECHAT_TOKEN, Server, server_env

METRICS_TOKEN = "workers-metrics-token-81"


@pytest.fixture
def workers(pg_schema: str, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """Two `fuqing serve` processes on the throw-away schema, each on its own port."""
    env = server_env(pg_schema, tmp_path)
    pair = (Server(env), Server(env))
    try:
        for server in pair:
            server.start()
        yield pair
    finally:
        for server in pair:
            server.stop()


def _stored(url: str, channel: str, user: str) -> tuple[list[InboundMessage], int]:
    database = Database(url)
    try:
        with database.read() as session:
            identity = session.exec(
                select(Identity).where(Identity.channel == channel, Identity.external_id == user)
            ).one()
            rows = session.exec(
                select(InboundMessage).where(InboundMessage.user_id == identity.user_id)
            ).all()
            dialogue = session.exec(
                select(DialogueSession).where(DialogueSession.user_id == identity.user_id)
            ).one()
            return list(rows), dialogue.version
    finally:
        database.dispose()


async def test_same_user_on_two_workers_is_serialised(
    workers: tuple[Server, Server], pg_schema: str
) -> None:
    """2 × 10 concurrent messages of one user across two workers: 20 replies, 20 rows, version 20."""
    async with httpx.AsyncClient(timeout=60) as http:

        async def post(server: Server, n: int) -> httpx.Response:
            return await http.post(
                f"{server.base}/api/v1/messages",
                headers=API,
                json={"user": "same-user", "text": f"你好 {n}", "msg_id": f"m{n}"},
            )

        responses = await asyncio.gather(*(post(workers[n % 2], n) for n in range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    assert all(r.json()["replies"] for r in responses)
    rows, version = _stored(pg_schema, "api", "same-user")
    assert sorted(row.msg_id for row in rows) == sorted(f"m{n}" for n in range(20))
    assert all(row.reply for row in rows)
    assert version == 20


async def test_wechat_retry_on_the_other_worker_is_answered_once(
    workers: tuple[Server, Server], pg_schema: str
) -> None:
    """The same MsgId delivered to both workers at once (and again later): one row, one answer."""
    crypto = MessageCrypto(WECHAT_TOKEN, WECHAT_AES_KEY, APPID)
    async with httpx.AsyncClient(timeout=30) as first, httpx.AsyncClient(timeout=30) as second:
        first.base_url = httpx.URL(workers[0].base)
        second.base_url = httpx.URL(workers[1].base)
        peers = [
            WeChatPeer(http=client, token=WECHAT_TOKEN, user="oRetry", crypto=crypto)
            for client in (first, second)
        ]
        await peers[0].say("你好", msg_id="500")
        together = await asyncio.gather(*(peer.say("我要求助", msg_id="501") for peer in peers))
        again = await peers[1].say("我要求助", msg_id="501")
    contents = {d.content for d in (*together, again)}
    assert len(contents) == 1 and None not in contents, contents
    rows, version = _stored(pg_schema, "wechat", "oRetry")
    assert sorted(row.msg_id for row in rows) == ["msg:oRetry:500", "msg:oRetry:501"]
    assert version == 2


def test_workers_are_refused_on_sqlite(tmp_path: Path) -> None:
    """`fuqing serve --workers 2` on SQLite exits 1 and says PostgreSQL is needed."""
    result = CliRunner().invoke(
        app,
        ["serve", "--workers", "2"],
        env={
            "FUQING_DATABASE_URL": f"sqlite:///{tmp_path / 'f.db'}",
            "FUQING_DATA_DIR": str(tmp_path),
        },
    )
    assert result.exit_code == 1 and "needs PostgreSQL" in result.output


async def test_serve_with_two_workers_on_one_port(pg_schema: str, tmp_path: Path) -> None:
    """`fuqing serve --workers 2`: both workers answer on one port; one user's 16 messages all
    stored, in order of the dialogue's version; whichever worker answers /metrics counts all 16
    (the workers share their counters' files)."""
    env = server_env(pg_schema, tmp_path, FUQING_METRICS_TOKEN=METRICS_TOKEN)
    server = Server(env, workers=2).start()
    try:
        async with httpx.AsyncClient(timeout=60, base_url=server.base) as http:
            responses = await asyncio.gather(
                *(
                    http.post(
                        "/api/v1/messages",
                        headers=API,
                        json={"user": "one-port", "text": f"你好 {n}", "msg_id": f"p{n}"},
                    )
                    for n in range(16)
                )
            )
        assert [r.status_code for r in responses] == [200] * 16
        assert server.output().count("Started server process") == 2, server.output()
        scrape = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        for _ in range(6):  # a new connection each time: either worker may answer
            async with httpx.AsyncClient(timeout=60, base_url=server.base) as fresh:
                scraped = await fresh.get("/metrics", headers=scrape)
            assert 'fuqing_messages_total{channel="api"} 16.0' in scraped.text, scraped.text
    finally:
        server.stop()
    rows, version = _stored(pg_schema, "api", "one-port")
    assert len(rows) == 16 and version == 16
