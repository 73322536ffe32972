"""转人工 as a conversation (bot/domain/handoff.py), in chat, on both databases: the thread goes
to the unit answering for her, a cadre replies from chat (`回复 <编号> <文字>`), she answers,
they go back and forth, 结束会话 gives her back to the bot; out of office hours and when nobody
answers she is told honestly when someone will, with 12338."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlmodel import select

from bot.config import Settings
from bot.domain.handoff import OfficeHours
from bot.domain.quarters import TableHolidays
from bot.domain.quiet_hours import SHANGHAI
from bot.outbox import Dispatcher
from scheduler.runner import Scheduler
from storage import repo
from storage.db import Database
from storage.models import Handoff, HandoffMessage
from tests.conftest import Chat, Clock
from tests.factories import duty_user

CODE = re.compile(r"【转人工 (H[0-9A-Z]{5})】")


def _code(pushed: list[str]) -> str:
    found = [m.group(1) for p in pushed if (m := CODE.search(p))]
    assert found, pushed
    return found[0]


def _thread(database: Database, code: str) -> tuple[Handoff, list[HandoffMessage]]:
    with database.read() as session:
        thread = repo.thread_by_code(session, code=code)
        assert thread is not None
        return thread, repo.thread_messages(session, thread=thread)


def test_a_cadre_and_she_talk_back_and_forth_until_the_cadre_ends_it(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database
) -> None:
    """The thread goes to 双井街道 (her place), its cadre gets the transcript and how to reply;
    two rounds of replies reach each side; 结束会话 hands her back to the bot."""
    officer = cadre("朝阳区/双井街道")
    woman = chat()
    woman.run(
        [
            ("我要求助", "请说说您遇到的困难"),
            ("想找份工作，我住朝阳区双井街道", "怎么联系您"),
            ("转人工", "双井街道"),
        ]
    )
    [notice] = officer.pushed()
    code = _code([notice])
    assert "想找份工作" in notice and f"回复 {code}" in notice and f"结束会话 {code}" in notice
    officer.run([(f"回复 {code} 您好，我是双井街道妇联的小张，您想找什么样的工作？", "已回复")])
    [reply] = woman.pushed()
    assert reply.startswith("【") and "工作人员】您好，我是双井街道妇联的小张" in reply
    woman.run([("超市理货之类的，下午三点要接孩子", "已转给工作人员")])
    assert any("她说：超市理货" in p for p in officer.pushed())
    officer.run([(f"回复 {code.lower()} 好的，我这周帮您问问劲松的超市", "已回复")])
    assert "劲松的超市" in woman.pushed()[0]
    woman.run([("谢谢您", "已转给工作人员")])
    officer.run([(f"结束会话 {code}", "已结束会话")])
    assert "由我继续为您服务" in woman.pushed()[0]
    assert "请说说您遇到的困难" in woman.say("我要求助")
    thread, messages = _thread(database, code)
    assert thread.status == "closed" and thread.answered_at is not None
    authors = [m.author for m in messages]
    assert authors == ["resident", "cadre", "resident", "cadre", "resident", "bot"]
    assert messages[0].text == "想找份工作，我住朝阳区双井街道"  # her words before 转人工
    assert authors[-1] == "bot"


def test_help_while_handed_over_names_who_has_her_and_the_hotlines(
    chat: Callable[..., Chat], cadre: Callable[..., Chat]
) -> None:
    """帮助 after 转人工 says who she is talking to, 110 and 12338; she stays with the person."""
    cadre("朝阳区")
    woman = chat()
    woman.run([("我在朝阳区，想找份工作", "区"), ("转人工", "朝阳区")])
    answer = woman.say("帮助")
    assert "朝阳区" in answer and "12338" in answer and "110" in answer and "菜单" in answer
    assert "已转给工作人员" in woman.say("我还在")


def test_nobody_bound_on_her_path_means_the_citys_duty_staff(
    chat: Callable[..., Chat], database: Database, clock: Clock
) -> None:
    """No cadre anywhere up her tree: the city's duty staff have it, and she is told so; the
    duty staff's chat user gets the notice."""
    with database.transaction() as session:
        duty_user(session, now=clock())
    woman = chat()
    woman.run([("转人工", "市妇联的值班工作人员")])
    duty = chat("duty")
    code = _code(duty.pushed())
    duty.run([(f"回复 {code} 您好，我是市妇联值班的", "已回复")])
    assert "您好，我是市妇联值班的" in woman.pushed()[0]


def test_a_cadre_of_another_unit_cannot_answer(
    chat: Callable[..., Chat], cadre: Callable[..., Chat]
) -> None:
    """A thread of 双井街道 does not exist for 海淀区's cadre; a code is needed, and words."""
    officer = cadre("朝阳区/双井街道")
    other = cadre("海淀区", user="cadre-2", name="李干部")
    woman = chat()
    woman.run([("我住朝阳区双井街道，想找工作", "联系"), ("转人工", "双井街道")])
    code = _code(officer.pushed())
    other.run([(f"回复 {code} 您好", f"没有找到会话 {code}")])
    officer.run([("回复", "请带上会话编号"), (f"回复 {code}", "请在编号后面写上")])
    assert woman.pushed() == []


def test_her_open_request_decides_who_answers(
    chat: Callable[..., Chat], cadre: Callable[..., Chat]
) -> None:
    """After filing in 双井, 转人工 from anywhere goes to 双井街道's cadre."""
    officer = cadre("朝阳区/双井街道")
    woman = chat()
    woman.run(
        [
            ("我要求助", "困难"),
            ("想找份保洁工作，朝阳区双井街道", "联系"),
            ("就在这里联系我", "核对"),
            ("确认", "已提交"),
        ]
    )
    officer.pushed()
    woman.run([("转人工", "双井街道")])
    assert _code(officer.pushed())


def test_menu_ends_the_thread_without_telling_her(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database
) -> None:
    """菜单 takes her back to the bot: the thread is closed, by her; a late reply is refused."""
    officer = cadre("朝阳区")
    woman = chat()
    woman.run([("我在朝阳区，想找份工作", "区"), ("转人工", "朝阳区"), ("菜单", "1. 我要求助")])
    code = _code(officer.pushed())
    officer.run([(f"回复 {code} 您好", "已经结束了")])
    thread, _messages = _thread(database, code)
    assert thread.status == "closed" and thread.closed_by == "她回到了自助服务"
    assert woman.pushed() == []


def test_erasing_her_data_empties_her_threads(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database
) -> None:
    """删除我的信息: her thread's messages go and the thread forgets her (counts stay)."""
    officer = cadre("朝阳区")
    woman = chat()
    woman.run([("我在朝阳区，想找工作，电话13811112222", "街道"), ("转人工", "朝阳区")])
    code = _code(officer.pushed())
    _thread_before, kept = _thread(database, code)
    assert "13811112222" not in kept[0].text and "138****2222" in kept[0].text  # masked
    woman.run([("菜单", "1."), ("删除我的信息", "确认删除"), ("确认删除", "已删除")])
    thread, messages = _thread(database, code)
    assert thread.user_id is None and messages == []


# ----------------------------------------------------------------------------- office hours


def test_out_of_office_hours_she_is_told_when_at_once(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], clock: Clock
) -> None:
    """At 22:00 on a Wednesday she is told someone replies from 9:00 tomorrow, with 110 and
    12338; the cadre is still told at once."""
    officer = cadre("朝阳区")
    clock.now = datetime(2026, 3, 18, 14, 0, tzinfo=UTC)  # 22:00 in Beijing
    answer = chat().say("转人工")
    assert "非工作时间" in answer and "明天 9:00" in answer and "12338" in answer
    assert officer.pushed() == []  # queued: the quiet hours hold the cadre's notice till 8:00


def test_office_hours_follow_the_holiday_calendar() -> None:
    """A Friday evening before a holiday Monday: the next reply is on Tuesday at 9:00; a 调休
    Sunday is a working day."""
    calendar = TableHolidays({date(2026, 5, 4): False, date(2026, 5, 10): True})
    office = OfficeHours.parse("09:00-17:30", SHANGHAI, calendar)
    friday_evening = datetime(2026, 5, 1, 18, 0, tzinfo=SHANGHAI)
    assert office.next_open(friday_evening) == datetime(2026, 5, 5, 9, 0, tzinfo=SHANGHAI)
    assert office.when(friday_evening) == "5月5日 9:00"
    assert office.is_open(datetime(2026, 5, 10, 10, 0, tzinfo=SHANGHAI))
    assert not office.is_open(datetime(2026, 5, 4, 10, 0, tzinfo=SHANGHAI))
    assert office.when(datetime(2026, 5, 5, 8, 0, tzinfo=SHANGHAI)) == "今天 9:00"


def test_office_hours_refuse_nonsense() -> None:
    """FUQING_OFFICE_HOURS must be two real times, opening first (refused at start-up)."""
    import pytest
    from pydantic import ValidationError

    for bad in ("17:30-09:00", "25:00-26:00", "9-5"):
        with pytest.raises(ValidationError):
            Settings(env="test", office_hours=bad)
        with pytest.raises(ValueError):
            OfficeHours.parse(bad, SHANGHAI)


async def test_nobody_answering_in_ten_minutes_is_told_once(
    chat: Callable[..., Chat],
    cadre: Callable[..., Chat],
    database: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """In office hours nobody replies for FUQING_HANDOFF_ANSWER_MINUTES: the scheduler's tick
    tells her once when someone will and gives 12338; an answered thread is never told."""
    officer = cadre("朝阳区")
    woman, other = chat(), chat("resident-2")
    woman.run([("我在朝阳区，想找份工作", "区"), ("转人工", "朝阳区")])
    other.run([("我在朝阳区，想学电脑", "区"), ("转人工", "朝阳区")])
    codes = {_code([p]) for p in officer.pushed() if "【转人工" in p}
    answered = next(c for c in codes if c != _code_of(database, "resident-1"))
    officer.say(f"回复 {answered} 您好")
    other.pushed()
    runner = Scheduler(
        settings=settings,
        db=database,
        dispatcher=Dispatcher(db=database, senders={}, clock=clock),
        clock=clock,
    )
    clock.advance(minutes=9, seconds=59)
    assert (await runner.tick(clock())).late == []
    clock.advance(seconds=1)
    assert (await runner.tick(clock())).late == [_code_of(database, "resident-1")]
    assert (await runner.tick(clock())).late == []
    [told] = woman.pushed()
    assert "还没有回复" in told and "再次提醒" in told and "12338" in told
    assert other.pushed() == []
    assert any("仍在等待回复" in p for p in officer.pushed())
    await runner.stop()


def _code_of(database: Database, external_id: str) -> str:
    with database.read() as session:
        identity = repo.identity_of(session, channel="api", external_id=external_id)
        assert identity is not None
        thread = session.exec(select(Handoff).where(Handoff.user_id == identity.user_id)).first()
        assert thread is not None
        return thread.code
