"""Urgent cases (bot/domain/urgent.py) as conversations: a crisis message opens the case in its
own transaction and pushes it at once; what she is told is what happened."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from bot import texts
from bot.domain.urgent import DangerKind, danger_kind
from bot.nlp import NLP
from storage import repo
from storage.db import Database
from storage.models import HelpRequest, HelpRequestEvent, Outbox, StaffAccount
from tests.conftest import Chat, Clock

KNIFE = "我在朝阳区双井街道，他拿着刀说要砍死我"


def _cases(database: Database) -> list[HelpRequest]:
    with database.read() as session:
        return list(session.exec(select(HelpRequest).order_by(HelpRequest.id)).all())


def duty_account(
    database: Database, clock: Clock, *, username: str = "duty-1", chat: Chat | None = None
) -> StaffAccount:
    """A city staff account on duty; linked to `chat`'s user (who must have written once)."""
    with database.transaction() as session:
        city = repo.unit_by_path(session, path="北京市")
        assert city is not None
        staff = repo.create_staff(
            session, username=username, password_hash="x", unit=city, now=clock()
        )
        user_id = None
        if chat is not None:
            identity = repo.identity_of(session, channel=chat.channel, external_id=chat.user)
            assert identity is not None
            user_id = identity.user_id
        repo.set_duty(session, staff=staff, on_duty=True, user_id=user_id)
        return staff


@pytest.fixture
def on_duty(database: Database, clock: Clock, chat: Callable[..., Chat]) -> Chat:
    """A duty staff member linked to a chat identity (she wrote once before)."""
    person = chat("duty-person")
    person.say("你好")
    person.pushed()
    duty_account(database, clock, chat=person)
    return person


# ----------------------------------------------------------------------------- the one message

CRISES = [
    (KNIFE, "110"),
    ("他把我锁在屋里不让我出门，说今晚回来打死我", "12338"),
    ("活着太累了，我不想活了，药都准备好了", "12356"),
]


@pytest.mark.parametrize(("said", "expected"), CRISES)
def test_a_crisis_opens_the_urgent_case_in_that_message(
    said: str,
    expected: str,
    chat: Callable[..., Chat],
    cadre: Callable[..., Chat],
    on_duty: Chat,
    database: Database,
) -> None:
    """One crisis message: the hotlines first, an urgent case stored with her words and
    channel address, pushed to the unit's cadres and the duty staff; no greeting after it."""
    officer = cadre("朝阳区/双井街道")
    woman = chat("woman-1")
    answer = woman.say(said)
    assert expected in answer.split("\n")[0]
    assert "您好" not in answer and "隐私" not in answer and "菜单" not in answer
    assert "方便留个电话吗" in answer
    [case] = _cases(database)
    assert case.crisis and case.status == "new" and case.need == said
    assert (case.channel, case.address) == ("api", "woman-1")
    assert any(case.code in p and "紧急求助" in p for p in on_duty.pushed())
    if "双井" in said:
        assert "转给朝阳区双井街道妇联的干部和北京市妇联值班人员" in answer
        assert any(case.code in p for p in officer.pushed())


def test_no_cadre_bound_says_whom_it_reached(
    chat: Callable[..., Chat], on_duty: Chat, database: Database
) -> None:
    """No cadre on her path: the duty staff have it, and she is told just that."""
    answer = chat().say(KNIFE)
    assert texts.t("crisis.reached.duty") in answer and "干部和" not in answer
    assert len(on_duty.pushed()) == 1


def test_nobody_to_tell_never_says_notified(chat: Callable[..., Chat], database: Database) -> None:
    """No cadre bound and no duty account: only the hotlines and that the federation will
    follow up — never 已通知 — yet the case is stored."""
    answer = chat().say(KNIFE)
    assert "110" in answer and texts.t("crisis.reached.none") in answer
    assert "已通知" not in answer and "转给" not in answer
    [case] = _cases(database)
    assert case.crisis


def test_no_duty_account_names_the_unit_only(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database
) -> None:
    """Cadres bound, no duty account: she hears of the unit's cadres only."""
    cadre("朝阳区/双井街道")
    answer = chat().say(KNIFE)
    assert texts.t("crisis.reached.unit", unit="朝阳区双井街道妇联") in answer


def test_quiet_hours_do_not_hold_it(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database, clock: Clock
) -> None:
    """At 23:00 Beijing time the pushes are urgent and due at once."""
    clock.now = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)  # 23:00 Asia/Shanghai
    cadre("朝阳区/双井街道")
    chat().say(KNIFE)
    with database.read() as session:
        [row] = session.exec(select(Outbox)).all()
    assert row.urgent and repo.as_utc(row.due_at) == clock.now


def test_a_retry_of_the_crisis_message_opens_one_case(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database
) -> None:
    """The same message id delivered twice (a platform retry): one case, the same reply."""
    officer = cadre("朝阳区/双井街道")
    woman = chat()
    first = woman.say(KNIFE, msg_id="m-1")
    assert woman.say(KNIFE, msg_id="m-1") == first
    assert len(_cases(database)) == 1 and len(officer.pushed()) == 1


# ----------------------------------------------------------------------------- after the reply


def test_her_phone_and_further_words_go_to_the_case(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database
) -> None:
    """The optional phone updates the case (and reaches the cadres); anything else she writes
    next is added to it; a command ends the crisis mode."""
    officer = cadre("朝阳区/双井街道")
    woman = chat()
    woman.run(
        [
            (KNIFE, "方便留个电话吗"),
            ("13800138000", "电话已记下"),
            ("他现在在客厅", "已补充到您的紧急求助里"),
            ("菜单", "请问需要什么帮助"),
        ]
    )
    [case] = _cases(database)
    assert case.phone == "13800138000" and case.contact == "phone"
    assert case.need.endswith("\n他现在在客厅")
    pushed = officer.pushed()
    assert any("13800138000" in p for p in pushed) and any("他现在在客厅" in p for p in pushed)
    with database.read() as session:
        kinds = [e.kind for e in session.exec(select(HelpRequestEvent))]
    assert kinds == ["created", "phone", "added"]


def test_a_phone_in_the_crisis_message_is_not_asked_again(
    chat: Callable[..., Chat], database: Database
) -> None:
    """A phone in the crisis message itself goes on the case; no question for it."""
    answer = chat().say(KNIFE + "，我电话13800138000")
    assert "方便留个电话吗" not in answer
    [case] = _cases(database)
    assert case.phone == "13800138000" and case.district == "朝阳区"


def test_a_crisis_inside_a_flow_pauses_it(chat: Callable[..., Chat], database: Database) -> None:
    """A crisis in the middle of the help form: the case holds the crisis words (not the form's),
    no 没看懂; she can go back to the form afterwards."""
    woman = chat()
    woman.run(
        [
            ("我要求助", "请说说您遇到的困难"),
            ("我是单亲妈妈，想找份工作", "哪个区"),
        ]
    )
    answer = woman.say("他回来了，拿着刀说要砍死我")
    assert "110" in answer and "没看懂" not in answer and "类别" not in answer
    [case] = _cases(database)
    assert case.need == "他回来了，拿着刀说要砍死我" and case.crisis
    woman.run([("继续", "哪个区")])


def test_a_paused_flow_is_offered_again_after_a_while(
    chat: Callable[..., Chat], database: Database, clock: Clock
) -> None:
    """A crisis inside a flow, then 更多 two hours later: the crisis mode ends and the paused
    flow is offered for resumption."""
    woman = chat()
    woman.run([("我要求助", "请说说您遇到的困难"), (KNIFE, "110")])
    clock.advance(hours=2)
    woman.run([("更多", "继续"), ("继续", "请说说您遇到的困难")])


def test_a_second_crisis_message_goes_to_the_same_case(
    chat: Callable[..., Chat], database: Database
) -> None:
    """In the crisis mode, another crisis message gets the hotlines and joins the open case."""
    woman = chat()
    woman.say(KNIFE)
    answer = woman.say("他在砸门，我好害怕，他说要杀了我")
    assert "110" in answer and "已补充" in answer
    assert len(_cases(database)) == 1


def test_after_a_pause_she_is_back_to_normal(
    chat: Callable[..., Chat], database: Database, clock: Clock
) -> None:
    """A while after the crisis (FUQING_RESUME_AFTER_MINUTES) her message is read as usual."""
    woman = chat()
    woman.say(KNIFE)
    clock.advance(hours=2)
    assert "请问需要什么帮助" in woman.say("菜单")
    assert "已补充" not in woman.say("你好")


# ----------------------------------------------------------------------------- the kind

KINDS = [
    ("他拿着刀说要砍死我", DangerKind.VIOLENCE),
    ("我不想活了，药都准备好了", DangerKind.SELF_HARM),
    ("说好去打工，到了就被关起来了", DangerKind.HELD),
    ("他把孩子往死里打，孩子一直在哭", DangerKind.CHILD),
    ("对门的女人被她男人拿刀砍", DangerKind.OTHER),
]


@pytest.mark.parametrize(("text", "kind"), KINDS)
def test_danger_kind(text: str, kind: DangerKind, nlp: NLP) -> None:
    """The kind of danger comes from the analysis and the words of [urgent.kinds]."""
    analysis = nlp.analyze(text, date(2026, 3, 18))
    assert danger_kind(analysis) is kind
