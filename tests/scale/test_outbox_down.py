"""The WeChat API down end to end: a push to a WeChat user is retried on the backoff schedule,
then dead-lettered, and listed at `GET /api/v1/outbox?status=dead` — nothing silently lost."""

from __future__ import annotations

import httpx

from bot.app import create_app
from bot.channels.setup import build_push_channels
from bot.config import Settings
from bot.engine import Engine
from bot.http import Services
from bot.nlp import NLP
from bot.outbox import BACKOFF
from storage import repo
from storage.db import Database
from tests.conftest import Clock
from tests.fakes.wechat_server import APPID, SECRET
from tests.scale.servers import free_port


async def test_wechat_api_down_retries_then_dead_letters(
    database: Database, nlp: NLP, clock: Clock
) -> None:
    """With the WeChat API unreachable a push is tried 1 + len(BACKOFF) times, then is dead."""
    settings = Settings(
        env="test",
        database_url=database.url,
        secret_key="s",
        api_token="a",
        admin_token="b",
        wechat_token="t",
        wechat_appid=APPID,
        wechat_secret=SECRET,
        wechat_api_base=f"http://127.0.0.1:{free_port()}",  # nothing listens there
    )
    engine = Engine(settings=settings, db=database, nlp=nlp, clock=clock)
    channels = build_push_channels(settings, db=database, engine=engine)
    services = Services(settings=settings, db=database, nlp=nlp, engine=engine, channels=channels)
    with database.transaction() as session:
        _i, user, _n = repo.get_or_create_identity(
            session, channel="wechat", external_id="oDown", now=clock()
        )
        session.flush()
        repo.enqueue(session, user_id=user.id or 0, text="您的求助已受理", now=clock(), key="k1")
    dispatcher = channels.dispatcher
    for _attempt in range(len(BACKOFF) + 1):
        assert await dispatcher.deliver_due() == 0
        clock.advance(days=1)  # past the next retry, and still in the daytime
    app = create_app(settings, services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        dead = await http.get(
            "/api/v1/outbox", params={"status": "dead"}, headers={"Authorization": "Bearer b"}
        )
    await channels.aclose()
    assert dead.status_code == 200
    [row] = dead.json()
    assert row["attempts"] == len(BACKOFF) + 1 and row["last_error"]
    assert (await dispatcher.deliver_due()) == 0  # a dead row is not tried again
