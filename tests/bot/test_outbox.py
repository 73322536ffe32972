"""Pushes: stored first, sent through the channel's sender, failures recorded with backoff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.channels.setup import build_push_channels
from bot.config import Settings
from bot.engine import Engine
from bot.messages import Outgoing
from bot.nlp import NLP
from bot.outbox import BACKOFF, Dispatcher
from storage import repo
from storage.db import Database
from storage.models import Outbox
from tests.conftest import Clock
from tests.fakes.senders import GatedSender, RecordingSender


def _row(database: Database) -> Outbox:
    with database.read() as session:
        return session.exec(select(Outbox)).one()


async def test_replies_are_stored_then_sent(database: Database, clock: Clock) -> None:
    """enqueue_replies stores one row per reply; deliver sends them and marks them sent."""
    with database.transaction() as session:
        repo.get_or_create_identity(session, channel="wechat", external_id="o1", now=clock())
    sender = RecordingSender()
    dispatcher = Dispatcher(db=database, senders={"wechat": sender}, clock=clock)
    ids = dispatcher.enqueue_replies(
        channel="wechat", external_id="o1", replies=[Outgoing("你好")], key="k1"
    )
    assert (
        dispatcher.enqueue_replies(
            channel="wechat", external_id="o1", replies=[Outgoing("你好")], key="k1"
        )
        == []
    )  # once per key
    assert await dispatcher.deliver(ids) == 1
    assert sender.sent == [("o1", "你好")] and _row(database).status == "sent"


async def test_failures_back_off_then_die(database: Database, clock: Clock) -> None:
    """Each failure records the error and the next due time; after the last the row is dead."""
    with database.transaction() as session:
        repo.get_or_create_identity(session, channel="wechat", external_id="o2", now=clock())
    sender = RecordingSender()
    sender.broken = True
    dispatcher = Dispatcher(db=database, senders={"wechat": sender}, clock=clock)
    [row_id] = dispatcher.enqueue_replies(
        channel="wechat", external_id="o2", replies=[Outgoing("x")], key="k2"
    )
    for attempt, delay in enumerate(BACKOFF, start=1):
        assert await dispatcher.deliver([row_id]) == 0
        row = _row(database)
        assert row.attempts == attempt and "api down" in (row.last_error or "")
        assert repo.as_utc(row.due_at) == clock() + delay
        clock.advance(seconds=delay.total_seconds())
    await dispatcher.deliver([row_id])
    assert _row(database).status == "dead"
    assert await dispatcher.deliver([row_id]) == 0  # a dead row is not retried


async def test_no_sender_is_recorded(database: Database, clock: Clock) -> None:
    """A channel without a configured sender is recorded as the failure, not dropped."""
    with database.transaction() as session:
        repo.get_or_create_identity(session, channel="telegram", external_id="t1", now=clock())
    dispatcher = Dispatcher(db=database, senders={}, clock=clock)
    ids = dispatcher.enqueue_replies(
        channel="telegram", external_id="t1", replies=[Outgoing("x")], key="k3"
    )
    await dispatcher.deliver(ids)
    row = _row(database)
    assert row.status == "pending" and "no sender" in (row.last_error or "")
    assert repo.as_utc(row.due_at) - clock() == timedelta(minutes=1)


async def test_quiet_hours_hold_all_but_urgent(database: Database, clock: Clock) -> None:
    """From 21:00 to 08:00 Beijing time only urgent pushes go out; the rest wait, not dropped."""
    from datetime import UTC, datetime

    from bot.domain.quiet_hours import is_quiet, quiet_until

    clock.now = datetime(2026, 3, 18, 14, 30, tzinfo=UTC)  # 22:30 in Beijing
    assert is_quiet(clock.now)
    assert quiet_until(clock.now) == datetime(2026, 3, 19, 0, 0, tzinfo=UTC)  # 08:00 next day
    with database.transaction() as session:
        _i, user, _n = repo.get_or_create_identity(
            session, channel="wechat", external_id="o9", now=clock()
        )
        calm = repo.enqueue(session, user_id=user.id or 0, text="提醒", now=clock())
        alarm = repo.enqueue(session, user_id=user.id or 0, text="紧急", now=clock(), urgent=True)
        assert calm is not None and alarm is not None
    sender = RecordingSender()
    dispatcher = Dispatcher(db=database, senders={"wechat": sender}, clock=clock)
    assert await dispatcher.deliver_due() == 1 and sender.sent == [("o9", "紧急")]
    clock.now = datetime(2026, 3, 19, 0, 1, tzinfo=UTC)  # 08:01
    assert not is_quiet(clock.now)
    assert await dispatcher.deliver_due() == 1 and sender.sent[-1] == ("o9", "提醒")


async def test_a_failed_sweep_is_logged_with_its_traceback(
    database: Database,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A background sweep nobody awaits that fails is logged with its cause, not lost."""
    dispatcher = Dispatcher(db=database, senders={"wechat": RecordingSender()}, clock=clock)

    def broken(*_args: object) -> None:
        raise RuntimeError("the claim exploded")

    monkeypatch.setattr(dispatcher, "_claim", broken)
    dispatcher.kick()
    await dispatcher.settle()
    [record] = [r for r in caplog.records if r.message == "push sweep failed"]
    assert record.exc_info is not None and "the claim exploded" in caplog.text


async def test_a_push_queued_during_a_send_goes_out_after_it(
    database: Database, clock: Clock
) -> None:
    """Kicked while a sweep is sending, the dispatcher sweeps again when it ends: a push queued
    meanwhile goes out then, not at the scheduler's next minute."""
    with database.transaction() as session:
        _i, user, _n = repo.get_or_create_identity(
            session, channel="wechat", external_id="o7", now=clock()
        )
        repo.enqueue(session, user_id=user.id or 0, text="第一条", now=clock())
    sender = GatedSender()
    dispatcher = Dispatcher(db=database, senders={"wechat": sender}, clock=clock)
    dispatcher.kick()
    await sender.sending.wait()  # the sweep is in the middle of sending the first
    with database.transaction() as session:
        repo.enqueue(session, user_id=user.id or 0, text="第二条", now=clock())
    dispatcher.kick()
    sender.gate.set()
    await dispatcher.settle()
    assert sender.sent == [("o7", "第一条"), ("o7", "第二条")]
    with database.read() as session:
        assert {row.status for row in session.exec(select(Outbox))} == {"sent"}


async def test_quiet_hours_follow_the_configured_timezone(
    database: Database, nlp: NLP, clock: Clock
) -> None:
    """FUQING_TIMEZONE reaches the dispatcher: 03:00 UTC is 22:00 in New York, quiet there."""
    from datetime import UTC, datetime

    settings = Settings(env="test", database_url=database.url, timezone="America/New_York")
    engine = Engine(settings=settings, db=database, nlp=nlp, clock=clock)
    dispatcher = build_push_channels(settings, db=database, engine=engine).dispatcher
    clock.now = datetime(2026, 3, 18, 3, 0, tzinfo=UTC)  # 11:00 in Beijing: not quiet there
    with database.transaction() as session:
        _i, user, _n = repo.get_or_create_identity(
            session, channel="wechat", external_id="o10", now=clock()
        )
        assert repo.enqueue(session, user_id=user.id or 0, text="提醒", now=clock()) is not None
    dispatcher.senders["wechat"] = sender = RecordingSender()
    assert await dispatcher.deliver_due() == 0 and sender.sent == []
