"""`Responder`: the deliveries of one message share its computation while it runs, an answer
not ready in time is pushed (once, through the outbox), and an answered message's retry is
answered by the engine from its stored reply — the one dedup."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot.channels.unavailable import UNAVAILABLE_GIVE_UP, Patience
from bot.channels.wechat.responder import FLIGHT_MEMORY_SECONDS
from bot.engine import DatabaseBusy, Engine
from bot.messages import Incoming, Outgoing
from bot.nlp.pii import digest
from storage import repo
from storage.db import Database
from storage.models import Outbox
from tests.channels.conftest import PausedTime, WeChatSetup, inbound_count
from tests.conftest import ErrorLog, refusing_writes


async def test_duplicate_deliveries_are_answered_once(wx: WeChatSetup, database: Database) -> None:
    """Three deliveries of one MsgId at once get one computation and the same reply."""
    woman = wx.peer("oDup")
    before = inbound_count(database)
    replies = await asyncio.gather(*(woman.say("我要求助", msg_id="777") for _ in range(3)))
    assert len({r.content for r in replies}) == 1 and "困难" in (replies[0].content or "")
    assert inbound_count(database) == before + 1
    later = await woman.say("我要求助", msg_id="777")  # a retry after the answer was sent
    assert later.content == replies[0].content


async def test_answers_are_remembered_for_a_while_then_forgotten_oldest_first(
    wx: WeChatSetup,
) -> None:
    """A delivery stays in memory for FLIGHT_MEMORY_SECONDS (WeChat's retries come
    within ~15 s), then goes, oldest first; a retry after that is answered from the database."""
    assert wx.channels.wechat is not None
    responder = wx.channels.wechat.responder
    now = [1000.0]
    responder.clock = lambda: now[0]
    woman = wx.peer("oMemory")
    first = await woman.say("我要求助", msg_id="501")
    now[0] += 20
    await woman.say("想找保洁的工作", msg_id="502")
    now[0] += FLIGHT_MEMORY_SECONDS - 10  # the first is past the memory, the second is not
    await woman.say("对", msg_id="503")
    assert not responder.knows("msg:oMemory:501")
    assert responder.knows("msg:oMemory:502") and responder.knows("msg:oMemory:503")
    retry = await woman.say("我要求助", msg_id="501")  # a late retry: the stored reply
    assert retry.content == first.content
    assert responder.knows("msg:oMemory:501")  # remembered again, at the back


class Held:
    """The engine's message handling held until the test lets it go, as if the database were
    busy: on SQLite the event loop's attempt finds it locked; the writer thread (or
    PostgreSQL's) waits at the gate. No fixed delay: the test says when the database is back."""

    def __init__(self, engine: Engine) -> None:
        self.gate = threading.Event()
        self.original = engine._handle

    def __call__(
        self, message: Incoming, max_bytes: int | None, *, wait: bool = True
    ) -> tuple[list[Outgoing], bool]:
        """Busy for the loop's quick attempt; the waiting attempt goes on once released."""
        if not wait:
            raise DatabaseBusy
        assert self.gate.wait(timeout=30), "the test never released the database"
        return self.original(message, max_bytes)

    def release(self) -> None:
        """The database is free again."""
        self.gate.set()


async def test_slow_answer_goes_by_customer_service_api(
    wx: WeChatSetup, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the timeout the callback says success and the answer is pushed, once."""
    held = Held(wx.engine)
    monkeypatch.setattr(wx.engine, "_handle", held)
    assert wx.channels.wechat is not None
    wx.channels.wechat.responder.timeout = 0.1
    woman = wx.peer("oSlow")
    first = await woman.say("我要求助", msg_id="888")
    retry = await woman.say("我要求助", msg_id="888")
    assert first.body == "success" and retry.body == "success"
    held.release()
    await wx.channels.wechat.responder.drain()
    sends = wx.api.requests_to("/cgi-bin/message/custom/send")
    assert len(sends) == 1
    body = sends[0].body
    assert isinstance(body, dict) and body["touser"] == "oSlow"
    assert "困难" in body["text"]["content"]
    with database.read() as session:
        [row] = session.exec(select(Outbox).where(Outbox.channel == "wechat")).all()
    assert row.status == "sent"


async def test_a_late_answer_the_database_refused_is_stored_once_it_is_back(
    wx: WeChatSetup,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Storing a late answer for its push fails (the database went away): it is tried again,
    logged, and the answer still goes out once."""
    held = Held(wx.engine)
    monkeypatch.setattr(wx.engine, "_handle", held)
    assert wx.channels.wechat is not None
    responder = wx.channels.wechat.responder
    time = PausedTime()
    responder.patience = time.patience()
    responder.timeout = 0.05
    original = responder.dispatcher.enqueue_replies
    failures = [OperationalError("INSERT", {}, Exception("server closed the connection"))] * 2

    def flaky(**kwargs: Any) -> list[int]:
        if failures:
            raise failures.pop()
        return original(**kwargs)

    monkeypatch.setattr(responder.dispatcher, "enqueue_replies", flaky)
    assert (await wx.peer("oLate").say("我要求助", msg_id="889")).body == "success"
    held.release()
    await responder.drain()
    assert failures == [] and time.pauses == [1.0, 2.0]
    assert len(wx.api.requests_to("/cgi-bin/message/custom/send")) == 1
    assert caplog.text.count(f"storing the answer to msg:{digest('oLate')}:889 failed") == 2
    assert "oLate" not in caplog.text  # the openid is shown as its digest


async def test_failed_push_is_recorded_for_retry(
    wx: WeChatSetup, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the push fails, the outbox row keeps the error and a later due time."""
    held = Held(wx.engine)
    monkeypatch.setattr(wx.engine, "_handle", held)
    assert wx.channels.wechat is not None
    wx.channels.wechat.responder.timeout = 0.05
    wx.api.fail_next("/cgi-bin/message/custom/send", status=500, times=5)
    assert (await wx.peer("oFail").say("你好", msg_id="999")).body == "success"
    held.release()
    await wx.channels.wechat.responder.drain()
    with database.read() as session:
        [row] = session.exec(select(Outbox).where(Outbox.channel == "wechat")).all()
    assert row.status == "pending" and row.attempts == 1 and row.last_error


async def test_a_message_the_database_cannot_store_is_pushed_once_it_can(
    wx: WeChatSetup, database: Database
) -> None:
    """Read-only database: WeChat gets `success`, not an apology that loses the message; once
    writes work again the message is handled and its answer pushed, once."""
    assert wx.channels.wechat is not None
    wx.channels.wechat.responder.patience = Patience(pauses=(0.01,))
    with refusing_writes(database):
        delivery = await wx.peer("oReadOnly").say("我要求助", msg_id="7001")
    assert delivery.status == 200 and delivery.body == "success"
    await wx.channels.wechat.responder.drain()
    [push] = wx.api.requests_to("/cgi-bin/message/custom/send")
    assert isinstance(push.body, dict) and push.body["touser"] == "oReadOnly"
    assert "请说说您遇到的困难" in push.body["text"]["content"]
    assert inbound_count(database) == 1


async def test_a_message_the_database_never_takes_is_logged_as_given_up(
    wx: WeChatSetup, database: Database, error_log: ErrorLog
) -> None:
    """Writes refused past the give-up time (15 minutes, on the retries' own clock): `success`,
    nothing pushed, an ERROR naming the message (not a silent loss)."""
    assert wx.channels.wechat is not None
    time = PausedTime()
    wx.channels.wechat.responder.patience = time.patience()
    with refusing_writes(database):
        delivery = await wx.peer("oNever").say("我要求助", msg_id="7002")
        await wx.channels.wechat.responder.drain()
    assert delivery.body == "success"
    assert time.pauses[:6] == [1.0, 2.0, 5.0, 10.0, 30.0, 30.0]
    assert time.now - time.pauses[-1] <= UNAVAILABLE_GIVE_UP < time.now
    assert wx.api.requests_to("/cgi-bin/message/custom/send") == []
    [record] = error_log.records
    assert ":7002 given up" in record.getMessage()
    error_log.records.clear()


async def test_a_retry_of_an_answered_message_gets_the_engines_stored_reply(
    wx: WeChatSetup, database: Database
) -> None:
    """No answer is kept in the channel: a retry of an answered message is answered by the
    engine from the reply it stored for the message id (changed here to show where it comes
    from), and the message is stored once."""
    woman = wx.peer("oStored")
    first = await woman.say("我要求助", msg_id="601")
    with database.transaction() as session:
        row = repo.find_inbound(session, channel="wechat", msg_id="msg:oStored:601")
        assert row is not None and row.id is not None
        repo.set_reply(session, message_id=row.id, reply=[{"text": "存下的回复", "choices": []}])
    retry = await woman.say("我要求助", msg_id="601")
    assert first.content is not None and "困难" in first.content
    assert retry.content == "存下的回复"
    assert inbound_count(database) == 1
