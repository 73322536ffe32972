"""Routing of free text, the menu, global commands, resume and expiry."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import Chat, Clock


def test_first_contact_gets_greeting_privacy_and_menu(chat: Callable[..., Chat]) -> None:
    """A newcomer's hello gets the greeting, the privacy notice and the menu."""
    answer = chat().say("你好")
    assert "妇情通" in answer and "隐私" in answer and "1. 我要求助" in answer


def test_menu_number_starts_a_flow(chat: Callable[..., Chat]) -> None:
    """'1' at the menu starts 我要求助."""
    woman = chat()
    woman.say("你好")
    assert "请说说您遇到的困难" in woman.say("1")


def test_resident_cannot_file_visits(chat: Callable[..., Chat]) -> None:
    """走访记录 is for bound cadres only."""
    assert "绑定" in chat().say("走访记录")


def test_empty_and_non_text_get_a_friendly_reply(chat: Callable[..., Chat]) -> None:
    """Whitespace gets a request for text; the flow's question follows."""
    woman = chat()
    woman.say("我要求助")
    answer = woman.say("   ")
    assert "文字" in answer and "困难" in answer


def test_idle_flow_is_offered_for_resumption(chat: Callable[..., Chat], clock: Clock) -> None:
    """After 30 minutes the next message offers to continue; 继续 repeats the question."""
    woman = chat()
    woman.run([("我要求助", "困难"), ("想找份保洁的工作", "区")])
    clock.advance(minutes=31)
    woman.run([("对", "还没完成"), ("继续", "哪个区")])


def test_flow_is_dropped_after_seven_days(chat: Callable[..., Chat], clock: Clock) -> None:
    """A flow idle for 7 days is dropped; the message is handled afresh."""
    woman = chat()
    woman.run([("我要求助", "困难")])
    clock.advance(days=8)
    assert "已超过 7 天" in woman.say("你好")


def test_flow_survives_a_restart(
    chat: Callable[..., Chat], engine, nlp, settings, database, clock: Clock
) -> None:
    """A new engine on the same database continues the dialogue where it stopped."""
    from bot.engine import Engine
    from tests.conftest import Chat as ChatClass

    woman = chat()
    woman.run([("我要求助", "困难"), ("想找份保洁的工作", "区")])
    fresh = ChatClass(Engine(settings=settings, db=database, nlp=nlp), clock, woman.user)
    fresh.run([("朝阳", "哪个街道")])


def test_duplicate_delivery_gets_the_first_reply(chat: Callable[..., Chat]) -> None:
    """The same message id twice is handled once and answered the same."""
    woman = chat()
    first = woman.say("我要求助", msg_id="m-1")
    again = woman.say("我要求助", msg_id="m-1")
    assert first == again
    assert "区" in woman.say("想找工作但是不会用电脑", msg_id="m-2")


def test_handover_forwards_to_the_cadre(chat: Callable[..., Chat], cadre) -> None:
    """转人工 tells the unit's cadre; later messages are forwarded until 菜单."""
    officer = cadre("朝阳区")
    woman = chat()
    woman.run([("我在朝阳区，想找份工作", "区"), ("转人工", "已为您转人工")])
    woman.run([("我在朝阳，家里有点事想当面说", "已转给工作人员"), ("菜单", "1. 我要求助")])
    pushed = officer.pushed()
    assert any("转人工" in p for p in pushed)


def test_delete_my_data_asks_first(chat: Callable[..., Chat], database) -> None:
    """删除我的信息 asks first; 确认删除 erases her need and phone but keeps the count."""
    from sqlmodel import select

    from storage.models import HelpRequest, InboundMessage

    woman = chat()
    woman.run(
        [
            ("我要求助", "困难"),
            ("想找一份保洁工作", "区"),
            ("朝阳", "街道"),
            ("跳过", "联系"),
            ("13800138000", "核对"),
            ("确认", "已提交"),
            ("删除我的信息", "确认删除"),
            ("算了", "没有删除"),
            ("删除我的信息", "确认删除"),
            ("确认删除", "已删除"),
        ]
    )
    with database.read() as session:
        [request] = session.exec(select(HelpRequest)).all()
        texts = {m.text for m in session.exec(select(InboundMessage))}
    assert request.need == "（本人已删除）" and request.phone is None
    assert request.status == "cancelled" and request.categories == ["jobs"]
    assert texts == {""}
    assert "妇情通" in woman.say("你好")  # she starts over as a new person


def test_follow_and_unfollow_events(chat: Callable[..., Chat], database) -> None:
    """subscribe gets the greeting, privacy notice and menu; unsubscribe deactivates silently."""
    from bot.messages import Incoming
    from storage import repo

    woman = chat("o-follow", channel="wechat")
    engine = woman.engine
    followed = engine.handle_sync(
        Incoming(
            channel="wechat",
            user="o-follow",
            text="subscribe",
            kind="event",
            msg_id="evt:o:1:subscribe",
        )
    )
    assert "隐私" in followed[0].text and "1. 我要求助" in followed[-1].text
    assert (
        engine.handle_sync(
            Incoming(
                channel="wechat",
                user="o-follow",
                text="unsubscribe",
                kind="event",
                msg_id="evt:o:2:unsubscribe",
            )
        )
        == []
    )
    with database.read() as session:
        identity = repo.identity_of(session, channel="wechat", external_id="o-follow")
        assert identity is not None and not identity.active
