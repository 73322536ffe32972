"""The scheduler's heartbeat: written after each tick the active scheduler completes (not after
a failed tick, not by a standby), read back by `fuqing scheduler --check`, which fails when it
is missing or stale."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Settings
from bot.messages import utcnow
from bot.outbox import Dispatcher
from scheduler.runner import Scheduler
from storage.db import Database
from storage.heartbeat import beat, check, heartbeat_path, last_beat
from tests.conftest import invoke
from tests.fakes.senders import RecordingSender

AT = datetime(2026, 4, 3, 1, 0, tzinfo=UTC)


def _runner(database: Database, data_dir: Path, now: datetime = AT) -> Scheduler:
    settings = Settings(env="test", database_url=database.url, data_dir=data_dir)
    dispatcher = Dispatcher(db=database, senders={"api": RecordingSender()}, clock=lambda: now)
    return Scheduler(settings=settings, db=database, dispatcher=dispatcher, clock=lambda: now)


def test_beat_is_read_back_and_judged(tmp_path: Path) -> None:
    """A beat reads back as the same instant; check() passes within max_age and says why not
    when the beat is stale, missing or unreadable."""
    path = heartbeat_path(tmp_path / "data")
    assert last_beat(path) is None
    assert check(path, now=AT) == f"no scheduler tick recorded in {path}"
    beat(path, AT)
    assert last_beat(path) == AT
    assert check(path, now=AT + timedelta(minutes=3)) is None
    stale = check(path, now=AT + timedelta(minutes=5), max_age=timedelta(minutes=3))
    assert stale == f"the last scheduler tick was 300 s ago ({AT.isoformat()})"
    path.write_text("not a time", encoding="utf-8")
    assert last_beat(path) is None


async def test_a_completed_tick_beats_and_a_failed_one_does_not(
    sqlite_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop's tick writes the heartbeat with the tick's clock; a tick that raises leaves
    the heartbeat as it was."""
    runner = _runner(sqlite_database, tmp_path)
    await runner._safe_tick()
    assert last_beat(runner.heartbeat) == AT

    async def broken(now: datetime | None = None) -> None:
        raise RuntimeError("database down")

    later = _runner(sqlite_database, tmp_path, AT + timedelta(minutes=1))
    monkeypatch.setattr(later, "tick", broken)
    await later._safe_tick()
    assert last_beat(later.heartbeat) == AT
    await runner.stop()
    await later.stop()


async def test_a_standby_scheduler_does_not_beat(
    database: Database, tmp_path: Path, pg_url: str
) -> None:
    """On PostgreSQL the scheduler without the lock ticks idle and writes no heartbeat."""
    if database.is_sqlite:
        pytest.skip("the advisory lock is PostgreSQL's")
    active = _runner(database, tmp_path / "active")
    standby = _runner(database, tmp_path / "standby")
    assert active.acquire()
    await standby._safe_tick()
    assert last_beat(standby.heartbeat) is None
    await active._safe_tick()
    assert last_beat(active.heartbeat) == AT
    await active.stop()
    await standby.stop()


@pytest.mark.usefixtures("restore_root_logger")
def test_check_option_is_the_health_check(tmp_path: Path) -> None:
    """`fuqing scheduler --check` exits 0 after a recent tick and 1 (saying why) when the
    heartbeat is missing or older than --max-age."""
    env = {"FUQING_DATA_DIR": str(tmp_path), "FUQING_DATABASE_URL": "sqlite:///unused.db"}
    missing = invoke(["scheduler", "--check"], env)
    assert missing.exit_code == 1 and "no scheduler tick recorded" in missing.output
    beat(heartbeat_path(tmp_path), utcnow() - timedelta(seconds=100))
    fresh = invoke(["scheduler", "--check"], env)
    assert fresh.exit_code == 0 and "scheduler healthy" in fresh.output
    stale = invoke(["scheduler", "--check", "--max-age", "60"], env)
    assert stale.exit_code == 1
    assert re.search(r"the last scheduler tick was 1\d\d s ago", stale.output), stale.output
