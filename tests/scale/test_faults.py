"""Faults on PostgreSQL with real worker processes: a worker killed with -9 during load loses
no answered message and the conversations go on; the database restarted during load gives fast
503s (WeChat: `success`, the answer pushed once it is back) and the app recovers by itself."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from bot.channels.wechat_crypto import MessageCrypto
from storage import migrate
from storage.db import Database
from storage.models import InboundMessage
from tests.fakes.wechat_peer import WeChatPeer
from tests.fakes.wechat_server import APPID, SECRET, FakeWeChatServer
from tests.scale.servers import (
    API,
    FILED_MARK,
    HELP_REQUEST,
    WECHAT_AES_KEY,
    WECHAT_TOKEN,
    OwnPostgres,
    Server,
    postgres_bin,
    server_env,
)
from tests.waiting import until


async def _post(http: httpx.AsyncClient, server: Server, user: str, step: int) -> str | None:
    """Send step `step` of the help flow as `user`; the first reply's text, or None if none."""
    try:
        response = await http.post(
            f"{server.base}/api/v1/messages",
            headers=API,
            json={"user": user, "text": HELP_REQUEST[step], "msg_id": f"{user}-{step}"},
        )
    except httpx.TransportError:
        return None
    if response.status_code != 200:
        return None
    return "\n".join(r["text"] for r in response.json()["replies"])


async def test_kill_9_of_a_worker_loses_no_answered_message(pg_schema: str, tmp_path: Path) -> None:
    """Kill -9 one of two workers mid-load: every answered message is stored; all flows finish."""
    env = server_env(pg_schema, tmp_path)
    victim, survivor = Server(env).start(), Server(env).start()
    answered: dict[str, str] = {}
    finished: dict[str, str] = {}
    load_under_way = asyncio.Event()  # set after a third of the messages: then the kill
    sent_again: list[str] = []  # messages the dead worker did not answer, sent to the other
    try:
        async with httpx.AsyncClient(timeout=30) as http:

            async def resident(n: int) -> None:
                user = f"k9-{n}"
                for step in range(len(HELP_REQUEST)):
                    reply = await _post(http, victim if (n + step) % 2 else survivor, user, step)
                    if reply is None:  # the victim is gone: she sends the same message again
                        sent_again.append(f"{user}-{step}")
                        reply = await _post(http, survivor, user, step)
                        assert reply is not None, survivor.output()[-2000:]
                    answered[f"{user}-{step}"] = reply
                    if len(answered) >= 12 * len(HELP_REQUEST) // 3:
                        load_under_way.set()
                finished[user] = answered[f"{user}-{len(HELP_REQUEST) - 1}"]

            async def killer() -> None:
                await load_under_way.wait()
                await asyncio.to_thread(victim.kill)

            await asyncio.gather(killer(), *(resident(n) for n in range(12)))
    finally:
        victim.stop()
        survivor.stop()
    database = Database(pg_schema)
    with database.read() as session:
        rows = {row.msg_id: row for row in session.exec(select(InboundMessage)).all()}
    database.dispose()
    for msg_id, reply in answered.items():
        assert msg_id in rows, msg_id
        stored = rows[msg_id].reply or []
        assert reply == "\n".join(r["text"] for r in stored)
    assert len(finished) == 12 and all(FILED_MARK in text for text in finished.values())
    assert sent_again, "no message met the dead worker: the kill came too late to test anything"


@pytest.fixture
def own_postgres(pg_url: str) -> Iterator[OwnPostgres]:
    """A private PostgreSQL cluster this test may stop and start (skips without binaries)."""
    bin_dir = postgres_bin()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        pytest.skip("initdb/pg_ctl not installed (Debian: postgresql)")
    cluster = OwnPostgres(bin_dir)
    try:
        cluster.init()
    except Exception as exc:  # no postgres user, no permission: say why and skip
        cluster.destroy()
        pytest.skip(f"cannot run a private PostgreSQL: {exc}")
    try:
        yield cluster
    finally:
        cluster.destroy()


async def test_postgresql_restart_gives_503_then_recovers(
    own_postgres: OwnPostgres, tmp_path: Path
) -> None:
    """DB down: API 503 JSON fast, /readyz 503, WeChat `success`; back: all works, reply pushed."""
    database = Database(own_postgres.url)
    migrate.upgrade(database)
    database.dispose()
    with FakeWeChatServer() as wechat_api:
        env = server_env(
            own_postgres.url,
            tmp_path,
            FUQING_WECHAT_SECRET=SECRET,
            FUQING_WECHAT_API_BASE=wechat_api.base_url,
        )
        server = Server(env).start()
        try:
            async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
                peer = WeChatPeer(
                    http=http,
                    token=WECHAT_TOKEN,
                    user="oOutage",
                    crypto=MessageCrypto(WECHAT_TOKEN, WECHAT_AES_KEY, APPID),
                )
                assert (await peer.say("你好")).content
                assert await _post(http, server, "pg-1", 0) is not None

                await asyncio.to_thread(own_postgres.stop)
                # Fails rather than hangs: an answer at all (not the client's timeout) is the
                # point; how fast is measured in bench/, not asserted here.
                down = await http.post(
                    "/api/v1/messages", headers=API, json={"user": "pg-1", "text": "想找工作"}
                )
                assert down.status_code == 503 and down.json()["error"] == "unavailable"
                assert (await http.get("/readyz")).status_code == 503
                assert (await http.get("/healthz")).status_code == 200
                during = await peer.say("我要求助", msg_id="9001")
                assert during.status == 200 and during.body == "success"

                await asyncio.to_thread(own_postgres.start)
                back = await http.post(
                    "/api/v1/messages", headers=API, json={"user": "pg-1", "text": "想找工作"}
                )
                assert back.status_code == 200, back.text
                assert (await http.get("/readyz")).status_code == 200
                sends = await until(
                    lambda: wechat_api.requests_to("/cgi-bin/message/custom/send"),
                    what="the late answer's push",
                )
                body = sends[0].body
                assert isinstance(body, dict) and body["touser"] == "oOutage"
                assert "困难" in body["text"]["content"]
        finally:
            server.stop()
