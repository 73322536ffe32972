"""Nobody may post as someone else on /wechat: safe mode only with an AES key, a ±5-minute
window on the signed timestamp and a nonce memory shared through the database; WeChat's own
retries (the same delivery again) still get the first answer."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.channels.wechat.crypto import sha1_signature
from bot.channels.wechat.replay import PRUNE_EVERY, Replayed, ReplayGuard
from bot.channels.wechat.xml import cdata
from bot.nlp import NLP
from storage.db import Database
from storage.models import CallbackNonce
from tests.channels.conftest import TOKEN, WeChatSetup, inbound_count, wechat_served
from tests.conftest import Clock
from tests.fakes.wechat_server import FakeWeChatServer


async def test_a_plaintext_body_with_a_valid_signature_is_refused_in_safe_mode(
    wx: WeChatSetup, database: Database
) -> None:
    """With the AES key set, a forged plaintext body carrying a logged (valid) signature,
    timestamp and nonce is 403, and so is one signed afresh: it never reaches the engine."""
    victim = wx.peer("oVictim")
    genuine = await victim.say("你好")
    assert genuine.content is not None
    before = inbound_count(database)
    forged = victim.message_xml("<Content>删除我的信息</Content>", msg_type="text", msg_id="66")
    logged = {k: genuine.params[k] for k in ("signature", "timestamp", "nonce", "openid")}
    replayed = await victim.post_raw(logged, forged.encode())
    fresh = await wx.peer("oVictim", safe=False).post_xml(forged)
    assert replayed.status == fresh.status == 403
    assert "encrypted" in fresh.body
    assert inbound_count(database) == before


async def test_compatible_mode_uses_the_encrypted_part(wx: WeChatSetup) -> None:
    """A compatible-mode body (plaintext fields beside Encrypt) is answered from the encrypted
    message; its plaintext fields are ignored."""
    woman = wx.peer("oCompat")
    delivery = await woman.post_xml(
        woman.message_xml("<Content>我要求助</Content>", msg_type="text", msg_id="71")
    )
    decoy = woman.message_xml("<Content>删除我的信息</Content>", msg_type="text", msg_id="72")
    both = delivery.sent.replace(
        b"</xml>", decoy[len("<xml>") : -len("</xml>")].encode() + b"</xml>"
    )
    params = {**delivery.params, "nonce": "compat-1"}
    encrypted = delivery.sent.split(b"<Encrypt><![CDATA[")[1].split(b"]]>")[0].decode()
    assert woman.crypto is not None
    params["signature"] = sha1_signature(TOKEN, params["timestamp"], "compat-1")
    params["msg_signature"] = woman.crypto.signature_of(params["timestamp"], "compat-1", encrypted)
    answer = await woman.post_raw(params, both)
    assert answer.status == 200 and answer.content == delivery.content


async def test_a_replay_with_an_old_or_future_timestamp_is_refused(
    wx: WeChatSetup, database: Database
) -> None:
    """An encrypted delivery replayed byte for byte 6 minutes later is 403 (it was answered
    within the window); a timestamp 5 min 1 s ahead is 403 too; 5 min exactly is accepted."""
    woman = wx.peer("oStale")
    first = await woman.say("我要求助")
    assert first.status == 200
    wx.clock.advance(minutes=5)
    assert (await woman.resend(first)).content == first.content  # still inside: a retry
    wx.clock.advance(seconds=61)
    before = inbound_count(database)
    stale = await woman.resend(first)
    assert stale.status == 403 and "window" in stale.body
    now = int(wx.clock().timestamp())
    xml = woman.message_xml("<Content>你好</Content>", msg_type="text", msg_id="73")
    assert (await woman.post_xml(xml, timestamp=now + 301)).status == 403
    assert inbound_count(database) == before
    assert (await woman.post_xml(xml, timestamp=now + 300)).status == 200


@pytest.mark.parametrize("safe", [True, False], ids=["safe-mode", "plaintext-mode"])
async def test_the_same_nonce_with_another_message_is_refused(
    database: Database, nlp: NLP, fake_api: FakeWeChatServer, safe: bool
) -> None:
    """A second delivery with a used timestamp and nonce but another message (another MsgId,
    another sender, another text) is 403 and reaches no engine, in either mode."""
    async with wechat_served(database, nlp, fake_api, safe=safe) as wx:
        woman = wx.peer("oNonce")
        first = await woman.say("我要求助")
        assert first.status == 200
        before = inbound_count(database)
        used = {"nonce": first.params["nonce"], "timestamp": int(first.params["timestamp"])}
        for peer, text, msg_id in [
            (woman, "删除我的信息", "74"),
            (wx.peer("oOther"), "你好", "75"),
        ]:
            xml = peer.message_xml(
                f"<Content>{cdata(text)}</Content>", msg_type="text", msg_id=msg_id
            )
            replay = await peer.post_xml(xml, **used)
            assert replay.status == 403 and "another message" in replay.body
        assert inbound_count(database) == before


async def test_a_genuine_retry_gets_the_first_answer_and_one_row(
    wx: WeChatSetup, database: Database
) -> None:
    """WeChat's retries repeat the delivery (same timestamp, nonce and message), byte for byte
    or encrypted afresh: each gets the first answer and the message is stored once."""
    woman = wx.peer("oRetry")
    before = inbound_count(database)
    first = await woman.say("我要求助", msg_id="76")
    again = await woman.resend(first)
    same = woman.message_xml(
        f"<Content>{cdata('我要求助')}</Content>", msg_type="text", msg_id="76"
    )
    used = {"nonce": first.params["nonce"], "timestamp": int(first.params["timestamp"])}
    reencrypted = await woman.post_xml(same, **used)
    assert reencrypted.sent != first.sent  # a fresh encryption of the same message
    assert first.content is not None and "困难" in first.content
    assert again.content == reencrypted.content == first.content
    assert inbound_count(database) == before + 1


async def test_the_nonce_memory_is_shared_by_two_app_instances(
    database: Database, nlp: NLP, fake_api: FakeWeChatServer
) -> None:
    """Two apps (workers) with their own Database objects on one database: a nonce used on one
    with another message is refused by the other; a retry there gets the first answer."""
    second_db = Database(database.url)
    try:
        async with (
            wechat_served(database, nlp, fake_api) as one,
            wechat_served(second_db, nlp, fake_api) as other,
        ):
            first = await one.peer("oShared").say("我要求助", msg_id="77")
            assert first.status == 200
            elsewhere = other.peer("oShared")
            retry = await elsewhere.resend(first)
            assert retry.content == first.content
            xml = elsewhere.message_xml(
                "<Content>删除我的信息</Content>", msg_type="text", msg_id="78"
            )
            used = {"nonce": first.params["nonce"], "timestamp": int(first.params["timestamp"])}
            assert (await elsewhere.post_xml(xml, **used)).status == 403
    finally:
        second_db.dispose()
    assert inbound_count(database) == 1


# ----------------------------------------------------------------------------- the guard itself


def _guard(database: Database, clock: Clock, ticks: list[float]) -> ReplayGuard:
    return ReplayGuard(db=database, clock=clock, monotonic=lambda: ticks[0])


def test_the_window_is_five_minutes_either_side(database: Database, clock: Clock) -> None:
    """±300 s is accepted, 301 s either side is 403; a timestamp that is no number or a nonce
    too long for the memory is 400."""
    guard = _guard(database, clock, [0.0])
    now = int(clock().timestamp())
    assert guard.signed_at(str(now - 300), "n") == now - 300
    assert guard.signed_at(str(now + 300), "n") == now + 300
    for bad, status in [(str(now - 301), 403), (str(now + 301), 403), ("-5", 400), ("1e9", 400)]:
        with pytest.raises(Replayed) as refused:
            guard.signed_at(bad, "n")
        assert refused.value.status == status, bad
    with pytest.raises(Replayed, match="nonce"):
        guard.signed_at(str(now), "n" * 65)


async def test_expired_pairs_are_pruned_once_a_minute(database: Database, clock: Clock) -> None:
    """A pair is kept until its timestamp leaves the window; the next claim a minute later
    deletes the expired ones (not every claim: pruning is off the per-message path)."""
    ticks = [0.0]
    guard = _guard(database, clock, ticks)
    now = int(clock().timestamp())
    await guard.claim("wechat", timestamp=now, nonce="a", message=b"1")
    clock.advance(minutes=6)
    await guard.claim("wechat", timestamp=now + 360, nonce="b", message=b"2")
    assert _nonces(database) == ["a", "b"]  # within PRUNE_EVERY of the last prune
    ticks[0] += PRUNE_EVERY
    await guard.claim("wechat", timestamp=now + 360, nonce="c", message=b"3")
    assert _nonces(database) == ["b", "c"]
    await guard.claim("wecom", timestamp=now + 360, nonce="b", message=b"other")  # per channel


async def test_a_busy_sqlite_file_is_waited_for_in_a_thread(
    sqlite_database: Database, clock: Clock
) -> None:
    """SQLite: the claim runs in the event loop when the file is free; while another
    connection writes, it waits in a thread (the loop stays free) and lands afterwards."""
    guard = _guard(sqlite_database, clock, [0.0])
    writer = sqlite_database.engine.connect()
    writing = writer.begin()  # BEGIN IMMEDIATE: someone else holds the write lock
    claim = asyncio.create_task(
        guard.claim("wechat", timestamp=int(clock().timestamp()), nonce="w", message=b"m")
    )
    await asyncio.sleep(0)  # one turn of the loop: the claim tried, and went to a thread
    assert not claim.done()
    writing.commit()
    writer.close()
    await claim
    assert _nonces(sqlite_database) == ["w"]


def _nonces(database: Database) -> list[str]:
    with database.read() as session:
        return sorted(row.nonce for row in session.exec(select(CallbackNonce)).all())


async def test_an_unreachable_database_skips_the_memory_with_a_warning(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """The database down: the claim is let through (the message itself waits for the database
    in Responder) and the log says the time window alone guarded it."""
    down = Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    try:
        guard = ReplayGuard(db=down, clock=clock)
        caplog.set_level(logging.WARNING, logger="bot")
        await guard.claim("wechat", timestamp=int(clock().timestamp()), nonce="n", message=b"m")
    finally:
        down.dispose()
    assert "nonce memory skipped: database unreachable" in caplog.text
    assert timedelta(minutes=5) == guard.window
