"""The engine under real concurrency, duplicate deliveries and unexpected errors, on both databases."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import select

from bot import texts
from bot.config import Settings
from bot.conversation import Conversation
from bot.engine import INLINE_MAX_CHARS, Engine, ServiceUnavailable, database_unreachable
from bot.messages import Incoming, Outgoing, utcnow
from bot.nlp import NLP, digest
from storage import repo
from storage.db import Database
from storage.models import DialogueSession, InboundMessage
from tests.conftest import API, Chat, Clock, long_text, refusing_writes, served
from tests.factories import bind_cadre
from tests.fakes.nlp import HOLD_SECONDS, RecordingNLP

THREADS = 8
DUPLICATES = 6
PHONE = "13800138000"
MASKED_PHONE = "138****8000"


def _inbound_of(database: Database, *, channel: str, user: str) -> list[InboundMessage]:
    with database.read() as session:
        identity = repo.identity_of(session, channel=channel, external_id=user)
        assert identity is not None, user
        return list(
            session.exec(
                select(InboundMessage).where(InboundMessage.user_id == identity.user_id)
            ).all()
        )


def _dialogue_of(database: Database, *, channel: str, user: str) -> DialogueSession:
    with database.read() as session:
        identity = repo.identity_of(session, channel=channel, external_id=user)
        assert identity is not None, user
        dialogue = session.exec(
            select(DialogueSession).where(DialogueSession.user_id == identity.user_id)
        ).one()
        return dialogue


def _send_together(engine: Engine, messages: list[Incoming]) -> list[list[Outgoing]]:
    """Send each message from its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(messages))

    def send(message: Incoming) -> list[Outgoing]:
        barrier.wait(timeout=30)
        return engine.handle_sync(message)

    with ThreadPoolExecutor(max_workers=len(messages)) as pool:
        return list(pool.map(send, messages, timeout=120))


def test_concurrent_messages_of_one_user_are_serialised(engine: Engine, database: Database) -> None:
    """Eight simultaneous messages of one user are each stored once, on top of one another."""
    messages = [
        Incoming(channel="api", user="same", text=f"第{i}条：想找份工作", msg_id=f"m{i}")
        for i in range(THREADS)
    ]
    replies = _send_together(engine, messages)
    assert all(batch and not any("抱歉" in r.text for r in batch) for batch in replies), replies
    rows = _inbound_of(database, channel="api", user="same")
    assert sorted(row.msg_id for row in rows) == sorted(m.msg_id or "" for m in messages)
    assert all(row.reply for row in rows)
    assert _dialogue_of(database, channel="api", user="same").version == THREADS


def test_concurrent_duplicates_get_one_row_and_one_answer(
    engine: Engine, database: Database
) -> None:
    """Six simultaneous deliveries of one message id store one row and all get the same reply."""
    message = Incoming(channel="api", user="dup", text="我要求助", msg_id="dup-1")
    replies = _send_together(engine, [message] * DUPLICATES)
    assert replies[0] and not any("抱歉" in r.text for r in replies[0])
    assert all(batch == replies[0] for batch in replies)
    rows = _inbound_of(database, channel="api", user="dup")
    assert [row.msg_id for row in rows] == ["dup-1"]
    assert _dialogue_of(database, channel="api", user="dup").version == 1


async def test_two_users_in_parallel_both_finish(engine: Engine, database: Database) -> None:
    """Two users talking at the same moment both get answers (no deadlock between their locks)."""
    script = ["我要求助", "想找一份离家近的保洁工作"]

    async def talk(user: str) -> list[list[Outgoing]]:
        answers = []
        for number, text in enumerate(script):
            answers.append(
                await engine.handle(
                    Incoming(channel="api", user=user, text=text, msg_id=f"{user}-{number}")
                )
            )
        return answers

    first, second = await asyncio.wait_for(asyncio.gather(talk("alice"), talk("bea")), 60)
    for answers in (first, second):
        assert len(answers) == len(script)
        assert all(batch and not any("抱歉" in r.text for r in batch) for batch in answers)
        assert "请说说您遇到的困难" in answers[0][-1].text
    for user in ("alice", "bea"):
        assert len(_inbound_of(database, channel="api", user=user)) == len(script)
        assert _dialogue_of(database, channel="api", user=user).version == len(script)


class HandOvers:
    """Counts the messages the engine hands to its SQLite writer thread; `reached(n)` waits for
    the n-th (the timeout only guards against a hang)."""

    def __init__(self, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        executor = engine._sqlite_thread
        assert executor is not None
        self.count = 0
        self._events: dict[int, asyncio.Event] = {}
        submit = executor.submit

        def counted(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            self._event(self.count).set()
            return submit(fn, *args, **kwargs)

        monkeypatch.setattr(executor, "submit", counted)

    def _event(self, n: int) -> asyncio.Event:
        return self._events.setdefault(n, asyncio.Event())

    async def reached(self, n: int) -> None:
        await asyncio.wait_for(self._event(n).wait(), 10)


async def test_a_busy_sqlite_file_waits_in_the_writer_thread(
    engine: Engine, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While another connection writes to the SQLite file, a message waits for it in the writer
    thread — the event loop stays free — and is answered and stored once the file is free."""
    if not database.is_sqlite:
        pytest.skip("SQLite's file lock")
    path = make_url(database.url).database
    assert path
    handed = HandOvers(engine, monkeypatch)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's write transaction
    try:
        answer = asyncio.create_task(
            engine.handle(Incoming(channel="api", user="busy", text="我要求助", msg_id="busy-1"))
        )
        await handed.reached(1)  # handed to the writer thread; the loop runs meanwhile
        assert not answer.done()
    finally:
        other.execute("COMMIT")
        other.close()
    replies = await asyncio.wait_for(answer, 30)
    assert "请说说您遇到的困难" in replies[-1].text
    assert len(_inbound_of(database, channel="api", user="busy")) == 1


async def test_messages_waiting_for_the_writer_thread_keep_their_order(
    engine: Engine, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message that had to wait for the writer thread is not overtaken by her next one, even
    when the file is free by the time the next one arrives."""
    if not database.is_sqlite:
        pytest.skip("SQLite's writer thread")
    path = make_url(database.url).database
    assert path
    gate = threading.Event()
    assert engine._sqlite_thread is not None
    engine._sqlite_thread.submit(gate.wait)  # the writer thread is still busy with other work
    handed = HandOvers(engine, monkeypatch)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    first = asyncio.create_task(
        engine.handle(Incoming(channel="api", user="order", text="我要求助", msg_id="o-1"))
    )
    await handed.reached(1)  # the first found the file locked: queued
    other.execute("COMMIT")
    other.close()
    second = asyncio.create_task(
        engine.handle(Incoming(channel="api", user="order", text="想找保洁的工作", msg_id="o-2"))
    )
    await handed.reached(2)  # the file is free, yet the second queued behind the first
    gate.set()
    answers = await asyncio.wait_for(asyncio.gather(first, second), 30)
    assert "请说说您遇到的困难" in answers[0][-1].text
    assert "请说说您遇到的困难" not in answers[1][-1].text  # the flow went on: her need is in
    rows = _inbound_of(database, channel="api", user="order")
    assert [r.msg_id for r in sorted(rows, key=lambda r: r.id or 0)] == ["o-1", "o-2"]


def test_unexpected_error_apologises_and_logs_ids_only(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in a flow gives the apology and an ERROR with traceback that names the channel and
    digests of her address and the message id, never her words or her address."""

    def broken(self: Conversation, *, is_new: bool) -> list[Outgoing]:
        raise RuntimeError("flow exploded")

    monkeypatch.setattr(Conversation, "respond", broken)
    caplog.set_level(logging.INFO)
    replies = engine.handle_sync(
        Incoming(
            channel="api", user="oops-13912345678", text=f"我的电话是{PHONE}，想找工作", msg_id="e1"
        )
    )
    assert len(replies) == 1 and "抱歉" in replies[0].text
    [record] = [r for r in caplog.records if r.name == "bot.engine" and r.levelno == logging.ERROR]
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    assert "flow exploded" in caplog.text and "Traceback" in caplog.text
    line = record.getMessage()
    assert "channel=api" in line and digest("oops-13912345678") in line and digest("e1") in line
    for words in ("想找工作", "电话", PHONE, MASKED_PHONE, "oops", "13912345678"):
        assert words not in caplog.text


def test_a_failed_statement_logs_no_parameters(
    sqlite_database: Database, nlp: NLP, caplog: pytest.LogCaptureFixture
) -> None:
    """A statement that fails on the message path is logged without its parameters: the
    message log's row carries her (a cadre's) words, and they stay out of the traceback."""
    settings = Settings(env="test", database_url=sqlite_database.url, secret_key="s")
    engine = Engine(settings=settings, db=sqlite_database, nlp=nlp, clock=Clock())
    with sqlite_database.transaction() as session:
        bind_cadre(session, external_id="cadre-x", now=engine.clock())
    path = make_url(sqlite_database.url).database
    assert path
    with sqlite3.connect(path) as other:  # the message log refuses every row
        other.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON inbound_messages "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    note = "今天走访了双井街道的王阿姨，她想找份保洁工作"
    replies = engine.handle_sync(Incoming(channel="api", user="cadre-x", text=note))
    assert "抱歉" in replies[0].text
    assert "refused" in caplog.text and "hide_parameters" in caplog.text
    assert "王阿姨" not in caplog.text and "cadre-x" not in caplog.text


def test_failed_message_is_not_stored(
    engine: Engine, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failed message's transaction is rolled back: a redelivery is handled afresh."""

    def broken(self: Conversation, *, is_new: bool) -> list[Outgoing]:
        raise RuntimeError("flow exploded")

    message = Incoming(channel="api", user="retry", text="我要求助", msg_id="r1")
    with monkeypatch.context() as patch:
        patch.setattr(Conversation, "respond", broken)
        assert "抱歉" in engine.handle_sync(message)[0].text
    with database.read() as session:
        assert repo.identity_of(session, channel="api", external_id="retry") is None
    answer = engine.handle_sync(message)
    assert "请说说您遇到的困难" in answer[-1].text
    assert len(_inbound_of(database, channel="api", user="retry")) == 1


def test_long_message_ids_and_bad_addresses(engine: Engine) -> None:
    """A message id longer than its column is stored hashed (and still dedups); an address
    longer than its column is refused with the apology, without an error in the log."""
    long_id = "m" * 300
    first = engine.handle_sync(
        Incoming(channel="api", user="u-long", text="我要求助", msg_id=long_id)
    )
    again = engine.handle_sync(
        Incoming(channel="api", user="u-long", text="我要求助", msg_id=long_id)
    )
    assert first == again and "困难" in first[0].text
    refused = engine.handle_sync(Incoming(channel="wechat", user="x" * 129, text="你好"))
    assert "抱歉" in refused[0].text


def _error_of(database: Database, statement: str) -> DBAPIError:
    """The error `database` gives for `statement`, run in a transaction of its own."""
    with pytest.raises(DBAPIError) as caught, database.transaction() as session:
        session.execute(sa.text(statement))
    return caught.value


def test_failures_to_store_are_unavailable_bugs_are_not(database: Database) -> None:
    """Read-only (and on SQLite a full file) is `database_unreachable` (503, retry later); a
    constraint violation or a bad statement is not (a bug: logged, the apology)."""
    insert = (
        "INSERT INTO org_units (name, level, aliases, path) VALUES ('x', 'city', '[]', '北京市')"
    )
    for statement in (insert, "SELEC 1", "SELECT * FROM no_such_table"):
        assert not database_unreachable(_error_of(database, statement)), statement
    with refusing_writes(database):
        read_only = _error_of(database, "UPDATE org_units SET name = name")
    assert database_unreachable(read_only)
    if database.is_sqlite:
        with refusing_writes(database, full=True):
            full = _error_of(database, f"UPDATE org_units SET name = '{'满' * 2000}'")
        assert database_unreachable(full)


def test_answered_reads_the_dedup_record(engine: Engine) -> None:
    """`answered` is True once the engine stored a reply for the message id on that channel
    (an id longer than the column too: it is looked up by its stored hash)."""
    long_id = "upd:" + "9" * 200
    assert not engine.answered("telegram", "upd:1") and not engine.answered("telegram", long_id)
    for msg_id in ("upd:1", long_id):
        engine.handle_sync(Incoming(channel="telegram", user="7", text="你好", msg_id=msg_id))
    assert engine.answered("telegram", "upd:1") and engine.answered("telegram", long_id)
    assert not engine.answered("api", "upd:1")


def test_answered_on_an_unreachable_database_is_service_unavailable(
    settings: Settings, nlp: NLP, tmp_path: Path
) -> None:
    """A database that refuses connections makes `answered` raise `ServiceUnavailable` (the
    channel answers 503), not the driver's error; a database error that is no outage (here: no
    tables) stays the driver's error, a bug."""
    down = Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    empty = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(ServiceUnavailable):
            Engine(settings=settings, db=down, nlp=nlp).answered("telegram", "upd:1")
        with pytest.raises(OperationalError, match="no such table"):
            Engine(settings=settings, db=empty, nlp=nlp).answered("telegram", "upd:1")
    finally:
        down.dispose()
        empty.dispose()


@pytest.mark.parametrize("error", [psycopg.errors.DiskFull, psycopg.errors.IoError])
def test_postgresql_disk_full_and_io_errors_are_unavailable(error: type[Exception]) -> None:
    """PostgreSQL's SQLSTATE 53100 (disk full) and 58030 (I/O error), which no test here can
    provoke, are classified by their code; a unique violation (23505) is not."""
    assert database_unreachable(OperationalError("INSERT", {}, error()))
    unique = psycopg.errors.UniqueViolation()
    assert not database_unreachable(IntegrityError("INSERT", {}, unique))


def test_a_long_text_is_cut_at_the_engine(chat: Callable[..., Chat], database: Database) -> None:
    """Every channel, the terminal's handle_sync too: a text over FUQING_MAX_TEXT_CHARS is cut,
    the first reply says so, a crisis hotline still comes first, and the message log keeps the
    text that was read (a cadre's, masked)."""
    crisis = "他拿着刀堵在门口说要砍死我。" + long_text(2100)
    answer = chat("terminal-user", channel="terminal").say(crisis)
    hotline, notice = answer.split("\n\n")[:2]
    assert "110" in hotline
    assert notice == texts.t("text.cut", length=len(crisis), read=2000, rest=len(crisis) - 2000)
    with database.transaction() as session:
        bind_cadre(session, external_id="cadre-long", now=utcnow())
    note = f"今天走访了王阿姨，电话{PHONE}。" + long_text(2500)
    chat("cadre-long").say(note)
    [row] = _inbound_of(database, channel="api", user="cadre-long")
    assert row.text == note[:2000].replace(PHONE, MASKED_PHONE)


async def test_a_long_message_is_analysed_off_the_event_loop(
    sqlite_database: Database, nlp: NLP
) -> None:
    """On SQLite a long message goes to the writer thread even when the file is free: /healthz
    is answered while its analysis is provably still running (held until the test lets it go)."""
    held = RecordingNLP(nlp, hold_over=INLINE_MAX_CHARS)
    settings = Settings(
        env="test", database_url=sqlite_database.url, secret_key="s", api_token="test-api-token"
    )
    engine = Engine(settings=settings, db=sqlite_database, nlp=held, clock=Clock())
    async with served(settings, engine) as app:
        message = {"user": "long", "text": long_text(1500)}
        posted = asyncio.create_task(app.http.post("/api/v1/messages", headers=API, json=message))
        began = await asyncio.to_thread(held.started.wait, HOLD_SECONDS)
        health = await app.http.get("/healthz")
        still_analysing = not held.finished.is_set()
        held.release.set()
        answer = await posted
    assert began and health.status_code == 200
    assert still_analysing  # the loop answered while the analysis was held in another thread
    assert answer.status_code == 200 and "怎么联系您" in answer.json()["replies"][-1]["text"]


async def test_a_short_message_stays_on_the_event_loop(
    engine: Engine, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a message of up to INLINE_MAX_CHARS characters is handled on the event loop
    when the file is free (no hand-over), one character more goes to the writer thread."""
    if not database.is_sqlite:
        pytest.skip("SQLite's writer thread")
    handed = HandOvers(engine, monkeypatch)
    await engine.handle(Incoming(channel="api", user="s", text=long_text(INLINE_MAX_CHARS)))
    assert handed.count == 0
    await engine.handle(Incoming(channel="api", user="s", text=long_text(INLINE_MAX_CHARS + 1)))
    assert handed.count == 1
