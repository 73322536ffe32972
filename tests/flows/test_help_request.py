"""Dialogue tests of 我要求助 (help request) on both databases."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import select

from storage.db import Database
from storage.models import HelpRequest, InboundMessage, User
from tests.conftest import Chat

FULL = [
    ("我要求助", "请说说您遇到的困难"),
    ("我是单亲妈妈，厂子关门了，想找份工作", "您在北京哪个区"),
    ("朝阳", "哪个街道/乡镇或社区"),
    ("双井街道九龙社区", "我们怎么联系您"),
    ("2", "请留一个手机号码"),
    ("13800138000", "请核对我要求助"),
]


def _requests(database: Database) -> list[HelpRequest]:
    with database.read() as session:
        return list(session.exec(select(HelpRequest)).all())


def test_whole_help_request_is_filed_with_a_code(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database
) -> None:
    """A full help request ends with a code and the unit; the request is stored with her place."""
    officer = cadre("朝阳区/双井街道")
    woman = chat()
    woman.run(FULL)
    answer = woman.say("确认")
    assert "已提交！编号" in answer and "朝阳区双井街道妇联" in answer
    [request] = _requests(database)
    assert request.code in answer
    assert (request.district, request.street, request.community) == (
        "朝阳区",
        "双井街道",
        "九龙社区",
    )
    assert request.primary == "jobs" and request.phone == "13800138000"
    assert request.status == "new" and not request.crisis
    assert any(request.code in note for note in officer.pushed())
    woman.say("我的电话是13800138000")
    with database.read() as session:
        logged = [m.text for m in session.exec(select(InboundMessage)) if m.text]
    assert logged == ["我的电话是138****8000"]  # after consent: kept, with the phone masked


def test_with_no_cadre_anywhere_the_city_has_it(chat: Callable[..., Chat]) -> None:
    """With no cadre bound on the way up, the city federation's duty staff have the request,
    and she is told so."""
    woman = chat()
    woman.run(FULL)
    assert "由市妇联的值班工作人员负责" in woman.say("确认")


def test_nothing_personal_is_stored_before_consent(
    chat: Callable[..., Chat], database: Database
) -> None:
    """Declining consent files nothing and forgets the phone number."""
    woman = chat()
    woman.run(FULL)
    assert "没有保存" in woman.say("不同意")
    assert _requests(database) == []
    with database.read() as session:
        assert all(u.phone is None and u.consent_at is None for u in session.exec(select(User)))
        assert {m.text for m in session.exec(select(InboundMessage))} == {""}


def test_one_sentence_fills_need_and_place(chat: Callable[..., Chat]) -> None:
    """A need with a place and a phone skips to the questions still open."""
    woman = chat()
    woman.run(
        [
            (
                "孩子白血病住院，医药费借遍了亲戚，我在海淀区中关村街道，电话13912345678",
                "类别：帮扶、健康",
            ),
        ]
    )


def test_wrong_answers_get_a_reason_and_the_question_again(chat: Callable[..., Chat]) -> None:
    """Each miss says why and asks again; the third offers 转人工."""
    woman = chat()
    woman.run(
        [
            ("我要求助", "请说说您遇到的困难"),
            ("想找工作，能介绍一下吗", "区"),
            ("火星", "没找到这个区"),
            ("火星", "说区名就行"),
            ("火星", "转人工"),
            ("3", "哪个街道/乡镇或社区"),
        ]
    )


def test_optional_street_can_be_skipped(chat: Callable[..., Chat]) -> None:
    """'不知道' skips the optional street; the summary shows it as 未填."""
    woman = chat()
    woman.run(
        [
            ("我要求助", "困难"),
            ("家里老人瘫痪在床，想申请补助", "区"),
            ("海淀区", "街道"),
            ("不知道", "怎么联系您"),
            ("1", "街道社区：未填"),
        ]
    )


def test_edit_from_summary_and_back(chat: Callable[..., Chat], database: Database) -> None:
    """修改 <字段> re-asks that field and returns to the summary; 返回 goes one question back."""
    woman = chat()
    woman.run(
        [
            *FULL,
            ("修改 电话", "请留一个手机号码"),
            ("13700001111", "请核对"),
            ("修改 区", "哪个区"),
            ("西城区", "哪个街道"),
            ("返回", "哪个区"),
            ("东城区", "哪个街道"),
            ("跳过", "请核对"),
            ("确认", "已提交"),
        ]
    )
    [request] = _requests(database)
    assert request.district == "东城区" and request.street is None
    assert request.phone == "13700001111"


def test_categories_can_be_corrected(chat: Callable[..., Chat], database: Database) -> None:
    """Of two close readings she picks both (3); 修改 类别 then offers all six, with the
    suggestion, and numbers replace them (其他 never combines)."""
    woman = chat()
    woman.run(
        [
            ("我要求助", "困难"),
            ("培训完能找活吗", "1. 知识（您说的“培训”）"),
            ("3", "哪个区"),
            ("丰台", "街道"),
            ("跳过", "联系"),
            ("就在这里联系我", "类别：知识、岗位"),
            ("修改 类别", "我理解您的需求属于：知识、岗位"),
            ("2 6", "类别：健康"),
            ("修改 类别", "6. 其他"),
            ("3 1", "类别：知识、岗位"),
            ("确认", "已提交"),
        ]
    )
    [request] = _requests(database)
    assert request.categories == ["knowledge", "jobs"] and request.primary == "knowledge"


def test_cancel_at_every_step_stores_nothing(chat: Callable[..., Chat], database: Database) -> None:
    """取消 works at every question and at the summary."""
    for step in range(1, len(FULL) + 1):
        woman = chat(f"cancel-{step}")
        woman.run(FULL[:step])
        assert "已取消" in woman.say("取消")
    assert _requests(database) == []


def test_help_at_a_question_explains_and_asks_again(chat: Callable[..., Chat]) -> None:
    """帮助 explains the current question and repeats it."""
    woman = chat()
    woman.run([("我要求助", "困难"), ("帮助", "比如"), ("帮助", "请说说您遇到的困难")])


def test_crisis_gets_hotlines_first_and_an_urgent_request(
    chat: Callable[..., Chat], database: Database
) -> None:
    """A woman in danger gets 110 and 12338 before anything else, and her request is filed as
    urgent within that one message: no form, no consent step, no greeting after it."""
    woman = chat()
    first = woman.say("他拿着刀在门外砸门，说要杀了我")
    hotlines = first.split("\n\n")[0]
    assert "110" in hotlines and "12338" in hotlines and "困难" not in first
    assert "您好" not in first and "隐私" not in first
    [request] = _requests(database)
    assert request.crisis and request.need == "他拿着刀在门外砸门，说要杀了我"


def test_self_harm_adds_12356(chat: Callable[..., Chat]) -> None:
    """Suicidal intent gets the psychological crisis line 12356 as well."""
    answer = chat().say("活着太累了，我不想活了")
    assert "12356" in answer and "110" in answer


def test_edit_with_the_new_value_at_the_summary(chat: Callable[..., Chat]) -> None:
    """修改 电话 13900001111 replaces the phone at once; 修改 区 火星 says why and asks again."""
    woman = chat()
    woman.run(
        [
            *FULL,
            ("修改 电话 13900001111", "电话：139****1111"),
            ("修改 区 火星", "没找到这个区"),
            ("海淀区", "哪个街道"),
        ]
    )
