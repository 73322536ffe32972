"""The safety check (bot/domain/safety.py): 您现在安全吗？ first and alone; a clear 安全 goes on
with the remembered message (filed 需关注), anything else — or silence on the scheduler's
clock — follows the crisis path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from bot.config import Settings
from bot.domain import safety
from bot.domain.dialogue import CRISIS, SAFETY_CHECK, DialogueState
from bot.nlp import NLP
from bot.outbox import Dispatcher
from scheduler.runner import Scheduler
from storage import repo
from storage.db import Database
from storage.models import HelpRequest, Outbox
from tests.channels.conftest import escalated, responders
from tests.conftest import Chat, Clock

WORRY = "他最近老喝酒，喝完就摔东西，我不知道该不该走"
PLACED = "我在朝阳区双井街道，" + WORRY  # her place: the case goes to its unit's cadres
ASKED = "您现在安全吗"
WHICH = "您主要想要哪方面的帮助"


def safe(woman: Chat) -> str:
    """She answers 安全: her remembered words go on as intake; where the model reads them as
    two nearly equal needs (rights for 摔东西, health for his drinking) she first picks the
    first. The reply that asks her district."""
    reply = woman.say("安全")
    if WHICH in reply:
        reply = woman.say("1")
    assert "您在北京哪个区" in reply, reply
    return reply


SAFE_INTAKE = [
    (WORRY, ASKED),
    ("安全", "您在北京哪个区"),  # (via `safe`: past the which-of-two question, if asked)
    ("朝阳", "哪个街道/乡镇或社区"),
    ("双井街道九龙社区", "我们怎么联系您"),
    ("1", "请核对我要求助"),
    ("确认", "已提交！编号"),
]


def _requests(database: Database) -> list[HelpRequest]:
    with database.read() as session:
        return list(session.exec(select(HelpRequest)).all())


def _mode(database: Database, user: str) -> DialogueState:
    """The stored dialogue state of API user `user`."""
    with database.read() as session:
        identity = repo.identity_of(session, channel="api", external_id=user)
        assert identity is not None
        row = repo.load_dialogue(session, user_id=identity.user_id, now=datetime.now(UTC))
    return DialogueState.from_stored(row.flow, row.state, row.data)


# ----------------------------------------------------------------------------- her answer


@pytest.mark.parametrize(
    ("answer", "safe"),
    [
        ("安全", True),
        ("我安全。", True),
        ("没事", True),
        ("暂时 安全！", True),
        ("不安全", False),
        ("危险", False),
        ("救命", False),
        ("不好", False),
        ("安全吗", False),
        ("还行吧，他睡了", False),
        ("", False),
        ("菜单", False),
    ],
)
def test_only_a_clear_safe_is_safe(answer: str, safe: bool) -> None:
    """Only the whole answer being a 安全 word (bar punctuation and spaces) is a clear 安全."""
    assert safety.is_clearly_safe(answer) is safe


def test_a_pending_check_round_trips(nlp: NLP) -> None:
    """The remembered message is stored as JSON and read back whole (the scheduler has no NLP)."""
    analysis = nlp.analyze("我在朝阳区双井街道，" + WORRY + "，电话13800138000", date(2026, 3, 18))
    check = safety.SafetyCheck(
        analysis=analysis,
        channel="api",
        address="u1",
        asked_at=datetime(2026, 3, 18, 2, 0, tzinfo=UTC),
        first=True,
        idle=timedelta(minutes=42),
    )
    assert safety.SafetyCheck.from_json(check.to_json()) == check


def test_the_case_holds_the_message_and_her_answer(nlp: NLP) -> None:
    """The urgent case's words: the remembered message, then her answer, with its phone."""
    day = date(2026, 3, 18)
    merged = safety.with_answer(nlp.analyze(WORRY, day), nlp.analyze("不安全 13800138000", day))
    assert merged.text == f"{WORRY}\n不安全 13800138000" and merged.phones == ("13800138000",)


def test_overdue_after_the_wait() -> None:
    """A check unanswered for the wait is overdue; a minute less is not."""
    asked = datetime(2026, 3, 18, 2, 0, tzinfo=UTC)
    check = safety.SafetyCheck(analysis=_blank(), channel="api", address="u", asked_at=asked)
    wait = timedelta(minutes=10)
    assert not safety.overdue(check, now=asked + timedelta(minutes=9), wait=wait)
    assert safety.overdue(check, now=asked + wait, wait=wait)


def _blank() -> safety.Analysis:
    """A remembered message with only its words."""
    return safety.analysis_from_json({"text": WORRY})


# ----------------------------------------------------------------------------- dialogues


def test_safe_goes_on_with_the_intake_and_marks_the_request(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database
) -> None:
    """The question comes first and alone (no greeting); 安全 goes on with the remembered
    message as normal intake (greeting first, her words prefilled); the request is 需关注."""
    officer = cadre("朝阳区/双井街道")
    woman = chat()
    first = woman.say(WORRY)
    assert first == "您现在安全吗？如果有危险，请立即拨打110。" and _requests(database) == []
    assert _mode(database, "resident-1").mode is SAFETY_CHECK
    greeted = woman.say("安全")
    assert "您好" in greeted  # intake starts afresh: the greeting first
    if WHICH in greeted:
        greeted = woman.say("1")
    assert "您在北京哪个区" in greeted
    woman.run(SAFE_INTAKE[2:])
    [request] = _requests(database)
    assert request.attention and not request.crisis and request.need == WORRY
    assert any(request.code in note and "【需关注】" in note for note in officer.pushed())


def test_unsafe_follows_the_crisis_path(chat: Callable[..., Chat], database: Database) -> None:
    """不安全: the urgent case opened at once with her words and her answer, pushed to the
    unit's cadres and the duty staff; she gets the hotlines, whom it reached, the phone question."""
    users = responders(database, Clock())
    woman = chat()
    woman.run([(PLACED, ASKED), ("不安全", "110")])
    code = escalated(database, users)
    [case] = _requests(database)
    assert case.need == f"{PLACED}\n不安全" and not case.attention
    assert case.street == "双井街道" and case.channel == "api" and case.address == "resident-1"
    assert _mode(database, "resident-1").mode is CRISIS
    woman.run([("13800138000", "电话已记下")])
    assert code


@pytest.mark.parametrize("answer", ["他刚睡着", "？", "菜单", "还好吧"])
def test_anything_else_follows_the_crisis_path(
    chat: Callable[..., Chat], database: Database, answer: str
) -> None:
    """Any answer but a clear 安全 — words, a question mark, a command — opens the case."""
    woman = chat()
    woman.run([(WORRY, ASKED)])
    reply = woman.say(answer)
    assert "110" in reply and "12338" in reply and "方便留个电话吗" in reply
    [case] = _requests(database)
    assert case.crisis and case.need.startswith(WORRY)


def test_a_crisis_while_a_check_is_pending(chat: Callable[..., Chat], database: Database) -> None:
    """A crisis message while the check waits: the crisis path at once, both messages on the
    case."""
    woman = chat()
    woman.run([(WORRY, ASKED), ("他拿着刀说要砍死我", "110")])
    [case] = _requests(database)
    assert case.crisis and case.need == f"{WORRY}\n他拿着刀说要砍死我"


def test_no_check_for_commands_and_cadres(
    chat: Callable[..., Chat], cadre: Callable[..., Chat]
) -> None:
    """A cadre's words (about others) and a command are not asked whether she is safe."""
    officer = cadre("朝阳区/双井街道")
    assert ASKED not in officer.say(WORRY)
    assert ASKED not in chat().say("我的求助")


def test_a_flow_underneath_goes_on_after_safe(
    chat: Callable[..., Chat], database: Database
) -> None:
    """In the middle of a request, the worrying answer is asked about first; after 安全 it is
    taken as the answer, and the request is 需关注."""
    woman = chat()
    woman.run([("我要求助", "请说说您遇到的困难"), (WORRY, ASKED)])
    safe(woman)
    assert _mode(database, "resident-1").run["meta"]["attention"] is True  # type: ignore[index]


def test_after_a_pause_safe_goes_on_as_the_message_would_have(
    chat: Callable[..., Chat], clock: Clock
) -> None:
    """A worrying message after a long pause in a flow: after 安全 it gets what it would have
    had without the question — the offer to resume the flow."""
    woman = chat()
    woman.run([("我要求助", "请说说您遇到的困难")])
    clock.advance(hours=2)
    woman.run([(WORRY, ASKED), ("安全", "还没完成")])


# ----------------------------------------------------------------------------- silence


async def test_silence_is_escalated_on_the_schedulers_clock(
    chat: Callable[..., Chat], database: Database, settings: Settings, clock: Clock
) -> None:
    """No answer for FUQING_SAFETY_CHECK_MINUTES (here 10): the scheduler's tick opens the
    urgent case from the remembered words, pushes it to the unit and the duty staff, and pushes
    her the hotlines; her next words go to the case."""
    users = responders(database, clock)
    woman = chat()
    woman.run([(PLACED, ASKED)])
    dispatcher = Dispatcher(db=database, senders={}, clock=clock)
    runner = Scheduler(settings=settings, db=database, dispatcher=dispatcher, clock=clock)
    clock.advance(minutes=9, seconds=59)
    assert (await runner.tick(clock())).escalated == [] and _requests(database) == []
    clock.advance(seconds=1)
    [code] = (await runner.tick(clock())).escalated
    assert escalated(database, users) == code
    assert (await runner.tick(clock())).escalated == []
    [told] = woman.pushed()
    assert "110" in told and "12338" in told and "方便留个电话吗" in told
    assert _mode(database, "resident-1").mode is CRISIS
    assert "电话已记下" in woman.say("13800138000")
    with database.read() as session:
        assert all(row.urgent for row in session.exec(select(Outbox)).all())
    await runner.stop()


async def test_the_wait_comes_from_the_settings(
    chat: Callable[..., Chat], database: Database, settings: Settings, clock: Clock
) -> None:
    """FUQING_SAFETY_CHECK_MINUTES sets the wait; an answered check is never escalated."""
    chat("u-a").run([(WORRY, ASKED)])
    chat("u-b").run([(WORRY, ASKED)])
    safe(chat("u-b"))
    quick = settings.model_copy(update={"safety_check_minutes": 3})
    dispatcher = Dispatcher(db=database, senders={}, clock=clock)
    runner = Scheduler(settings=quick, db=database, dispatcher=dispatcher, clock=clock)
    clock.advance(minutes=3)
    assert len((await runner.tick(clock())).escalated) == 1
    [case] = _requests(database)
    assert case.need == WORRY
    await runner.stop()
