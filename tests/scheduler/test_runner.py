"""The scheduler's tick (queue once, clear abandoned dialogues, then dispatch), its single
active instance on PostgreSQL, the dispatchers' disjoint claims, and two real scheduler processes
counting each reminder once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings
from bot.engine import Engine
from bot.nlp import NLP
from bot.outbox import CLAIM_LEASE, Dispatcher
from scheduler.runner import Scheduler
from storage import migrate, repo
from storage.db import Database
from storage.heartbeat import heartbeat_path, last_beat
from storage.models import Identity, InboundMessage, Outbox
from tests.conftest import TEST_SECRET_KEY, Chat, Clock
from tests.factories import bind_cadre, help_request
from tests.fakes.senders import RecordingSender
from tests.waiting import wait_for

SH = ZoneInfo("Asia/Shanghai")
VISITORS = (  # (address, channel) of the residents in the idle-visitor test
    ("w-idle", "web"),
    ("w-consented", "web"),
    ("w-recent", "web"),
    ("w-filed", "web"),
    ("api-idle", "api"),
)
T_MINUS_7 = datetime(2026, 4, 3, 9, 0, tzinfo=SH).astimezone(UTC)  # 2026Q1 is due 2026-04-10


def _cadre(database: Database, unit: str, name: str, channel: str = "wechat") -> int:
    with database.transaction() as session:
        user = bind_cadre(session, place=unit, name=name, channel=channel, now=T_MINUS_7)
        assert user.id is not None
        return user.id


def _scheduler(database: Database, sender: RecordingSender, now: datetime) -> Scheduler:
    settings = Settings(env="test", database_url=database.url)
    dispatcher = Dispatcher(db=database, senders={"wechat": sender}, clock=lambda: now)
    return Scheduler(settings=settings, db=database, dispatcher=dispatcher, clock=lambda: now)


async def test_tick_queues_once_and_sends(database: Database) -> None:
    """At T−7 09:00 the district's cadre is reminded once, through her channel."""
    cadre = _cadre(database, "朝阳区", "o-cadre")
    sender = RecordingSender()
    runner = _scheduler(database, sender, T_MINUS_7)
    first = await runner.tick(T_MINUS_7)
    assert f"report:朝阳区:2026Q1:T-7:u{cadre}" in first.enqueued and first.sent >= 1
    assert any("季度汇总" in text for _user, text in sender.sent)
    again = await runner.tick(T_MINUS_7 + timedelta(minutes=1))
    assert again.enqueued == [] and again.sent == 0
    await runner.stop()


async def test_idle_web_visitors_who_never_consented_are_forgotten(
    database: Database, engine: Engine, clock: Clock
) -> None:
    """30 days after her last message a web visitor who never consented goes, with her address,
    dialogue, messages and pushes; one who consented, wrote lately, or filed a request stays,
    as do residents of other channels. The sweep runs once an hour."""
    t0 = clock()
    chats = {name: Chat(engine, clock, name, channel) for name, channel in VISITORS}
    for chat in chats.values():
        chat.say("你好")
    with database.transaction() as session:
        consented = repo.identity_of(session, channel="web", external_id="w-consented")
        assert consented is not None
        user = repo.get_user(session, user_id=consented.user_id)
        assert user is not None
        repo.set_consent(session, user=user, now=t0)
        idle = repo.identity_of(session, channel="web", external_id="w-idle")
        assert idle is not None
        repo.enqueue(session, user_id=idle.user_id, text="提醒", now=t0, key="k-idle")
        filed = repo.identity_of(session, channel="web", external_id="w-filed")
        assert filed is not None
        help_request(session, place="朝阳区", requester_id=filed.user_id, now=t0)
    clock.advance(days=29)
    chats["w-recent"].say("你好")
    clock.advance(days=1, seconds=1)
    runner = _scheduler(database, RecordingSender(), clock())
    first = await runner.tick(clock())
    assert first.forgotten == 1
    assert (await runner.tick(clock() + timedelta(minutes=1))).forgotten == 0  # hourly
    with database.read() as session:
        left = {i.external_id for i in session.exec(select(Identity)).all()}
        assert session.exec(select(Outbox).where(Outbox.key == "k-idle")).first() is None
        messages = session.exec(select(InboundMessage)).all()
    assert left == {"w-consented", "w-recent", "w-filed", "api-idle"}
    assert len(messages) == len(VISITORS)  # one more from w-recent, the idle one's gone
    await runner.stop()


def test_cli_tick_prints_what_it_queued(tmp_path: Path) -> None:
    """`fuqing scheduler tick --now …` prints the reminders it queued at that moment."""
    url = f"sqlite:///{tmp_path / 'f.db'}"
    database = Database(url)
    migrate.upgrade(database)
    _cadre(database, "海淀区", "api-cadre", channel="api")
    database.dispose()
    result = CliRunner().invoke(
        app,
        ["scheduler", "tick", "--now", "2026-04-03T09:00+08:00"],
        env={"FUQING_DATABASE_URL": url, "FUQING_DATA_DIR": str(tmp_path)},
    )
    assert result.exit_code == 0, result.output
    assert "queued report:海淀区:2026Q1:T-7:u" in result.output
    bad = CliRunner().invoke(
        app,
        ["scheduler", "tick", "--now", "2026-04-03 09:00"],
        env={"FUQING_DATABASE_URL": url, "FUQING_DATA_DIR": str(tmp_path)},
    )
    assert bad.exit_code == 1 and "offset" in bad.output


def test_one_active_scheduler_on_postgresql(database: Database, pg_url: str) -> None:
    """A second scheduler on PostgreSQL stays idle until the first releases the lock."""
    if database.is_sqlite:
        pytest.skip("the advisory lock is PostgreSQL's")
    first = _scheduler(database, RecordingSender(), T_MINUS_7)
    second = _scheduler(database, RecordingSender(), T_MINUS_7)
    assert first.acquire() and not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


def test_concurrent_claims_are_disjoint(database: Database) -> None:
    """Two dispatchers claiming at the same moment never take the same row."""
    user = _cadre(database, "朝阳区", "o-claims")
    with database.transaction() as session:
        for n in range(40):
            repo.enqueue(session, user_id=user, text=f"m{n}", now=T_MINUS_7, key=f"k{n}")
    claimed: list[list[int]] = []
    barrier = threading.Barrier(2)

    def claim() -> None:
        barrier.wait()
        with database.transaction() as session:
            claimed.append(
                repo.claim_due(
                    session, now=T_MINUS_7, channels=["wechat"], lease=CLAIM_LEASE, limit=25
                )
            )

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first, second = claimed
    assert not set(first) & set(second) and len(first) + len(second) == 40


def test_two_scheduler_processes_count_each_reminder_once(pg_schema: str, tmp_path: Path) -> None:
    """Two `fuqing scheduler` processes on one PostgreSQL database queue each reminder once."""
    database = Database(pg_schema)
    now = datetime.now(UTC)
    cadre = _cadre(database, "朝阳区/双井街道", "c-proc", channel="api")
    with database.transaction() as session:
        codes = [
            help_request(
                session, need=f"需要帮助{n}", now=now - timedelta(hours=25, minutes=n)
            ).code
            for n in range(3)
        ]
    env = {
        **os.environ,
        "FUQING_DATABASE_URL": pg_schema,
        "FUQING_DATA_DIR": str(tmp_path),
        "FUQING_ENV": "test",
        "FUQING_SECRET_KEY": TEST_SECRET_KEY,  # the tests' key: they read what the test wrote
        "FUQING_API_TOKEN": "a",
        "FUQING_ADMIN_TOKEN": "b",
        "FUQING_LOG_LEVEL": "INFO",
    }
    command = [sys.executable, "-m", "bot.cli", "scheduler", "--interval", "0.5"]
    processes = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]

    def queued() -> bool:
        with database.read() as session:
            keys = [row.key for row in session.exec(select(Outbox)).all()]
        return len([k for k in keys if k and k.startswith("request:")]) >= 3

    beats = heartbeat_path(tmp_path)
    try:
        wait_for(queued, what="the three 24-hour reminders", limit=60)
        # Both processes keep ticking: three more completed ticks of the active one (whose
        # heartbeat advances) while the standby keeps asking for the lock.
        for _ in range(3):
            seen = last_beat(beats)
            wait_for(lambda seen=seen: last_beat(beats) != seen, what="another scheduler tick")
    finally:
        for process in processes:
            process.terminate()
        outputs = [process.communicate(timeout=20)[0] for process in processes]
    with database.read() as session:
        keys = [row.key for row in session.exec(select(Outbox)).all() if row.key]
    database.dispose()
    expected = {f"request:{code}:24h:u{cadre}" for code in codes}
    assert expected <= set(keys), outputs
    assert len(keys) == len(set(keys))  # the unique key holds; nothing doubled
    active = [out for out in outputs if "this scheduler is the active one" in out]
    assert len(active) == 1, outputs


@pytest.mark.parametrize("mode", ["on", "off"])
async def test_serve_runs_the_scheduler_unless_off(mode: str, database: Database, nlp: NLP) -> None:
    """The app starts a scheduler in its own process by default; FUQING_SCHEDULER=off doesn't."""
    from bot.app import create_app
    from bot.channels.setup import build_push_channels
    from bot.engine import Engine
    from bot.http import Services

    settings = Settings(
        env="test", database_url=database.url, scheduler="on" if mode == "on" else "off"
    )
    engine = Engine(settings=settings, db=database, nlp=nlp)
    channels = build_push_channels(settings, db=database, engine=engine)
    services = Services(settings=settings, db=database, nlp=nlp, engine=engine, channels=channels)
    app = create_app(settings, services=services)
    async with app.router.lifespan_context(app):
        assert (app.state.scheduler is not None) == (mode == "on")


async def test_tick_clears_dialogues_abandoned_past_the_drop(
    database: Database, chat: Callable[..., Chat], clock: Clock
) -> None:
    """A dialogue left 30 days with her story and phone in its slots (before she consented) is
    cleared by one tick, and her next message hears the flow was cancelled; a dialogue left one
    day keeps its flow."""
    story, phone = "想找一份离家近的保洁工作", "13912345678"
    left, recent = chat("left-30-days"), chat("left-1-day")
    left.run(
        [
            ("我要求助", "困难"),
            (story, "区"),
            ("朝阳区双井街道", "联系"),
            ("2", "手机号码"),
            (phone, "请核对"),
        ]
    )
    clock.advance(days=29)
    recent.run([("我要求助", "困难"), (story, "区")])
    clock.advance(days=1)
    runner = _scheduler(database, RecordingSender(), clock())
    result = await runner.tick(clock())
    await runner.stop()

    def dialogue_of(address: str) -> repo.Dialogue:
        with database.read() as session:
            identity = repo.identity_of(session, channel="api", external_id=address)
            assert identity is not None
            return repo.load_dialogue(session, user_id=identity.user_id, now=clock())

    cleared, kept = dialogue_of("left-30-days"), dialogue_of("left-1-day")
    assert (
        cleared.flow is None and phone not in str(cleared.data) and story not in str(cleared.data)
    )
    assert kept.flow == "help_request" and story in str(kept.data)
    assert result.cleared == 1
    assert (await runner.tick(clock())).cleared == 0  # looked at: not again for another 7 days
    left.run([("你好", "已超过 7 天，已自动取消")])
