"""受益程度: a resolved request asks its requester to rate it; her next message may be the rate."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlmodel import select

from storage import repo
from storage.db import Database
from storage.models import HelpRequest, HelpRequestEvent, User
from tests.conftest import Chat

FILE = [
    ("我要求助", "困难"),
    ("想找一份离家近的保洁工作", "区"),
    ("朝阳区双井街道", "联系"),
    ("1", "核对"),
]


def _resolved(woman: Chat, officer: Chat) -> str:
    """File a request as `woman`, resolve it as `officer`; return its code."""
    woman.run(FILE)
    found = re.search(r"编号 ([A-Z0-9]{6})", woman.say("确认"))
    assert found
    code = found.group(1)
    officer.run([(f"办结 {code} 已介绍到社区保洁岗位", "已办结")])
    pushed = woman.pushed()
    assert any("已办结" in p and "满意" in p for p in pushed), pushed
    return code


def _request(database: Database) -> tuple[HelpRequest, list[str]]:
    with database.read() as session:
        request = session.exec(select(HelpRequest)).one()
        kinds = [
            e.kind for e in session.exec(select(HelpRequestEvent).order_by(HelpRequestEvent.id))
        ]
    return request, kinds


def test_rating_with_words_is_recorded(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database
) -> None:
    """满意 with words after it is stored with its note, its time and a 'rated' event."""
    officer, woman = cadre(), chat()
    _resolved(woman, officer)
    woman.run([("满意，谢谢你们帮忙", "谢谢您的评价（满意）")])
    request, kinds = _request(database)
    assert (request.rating, request.rating_note) == ("satisfied", "谢谢你们帮忙")
    assert request.rated_at is not None and kinds[-1] == "rated"


def test_rating_by_number(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database
) -> None:
    """A bare 3 at idle is 不满意, thanked without a trace of blame."""
    officer, woman = cadre(), chat()
    _resolved(woman, officer)
    woman.run([("3", "如实告诉我们"), ("1", "请说说您遇到的困难")])  # then 1 is the menu again
    request, _kinds = _request(database)
    assert request.rating == "unsatisfied" and request.rating_note is None


def test_something_else_is_handled_and_asked_once_more(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database
) -> None:
    """Another message is answered as usual with one more ask; the rate after it still counts."""
    officer, woman = cadre(), chat()
    code = _resolved(woman, officer)
    woman.run(
        [
            ("查询进度", f"您对求助 {code} 的办理满意吗"),
            ("基本满意 还可以更快些", "谢谢您的评价（基本满意）"),
        ]
    )
    request, _kinds = _request(database)
    assert (request.rating, request.rating_note) == ("basic", "还可以更快些")


def test_she_is_asked_again_only_once(
    chat: Callable[..., Chat], cadre: Callable[..., Chat]
) -> None:
    """After one more ask the question is dropped: 1 is the menu's 我要求助 again."""
    officer, woman = cadre(), chat()
    code = _resolved(woman, officer)
    assert f"求助 {code} 的办理满意吗" in woman.say("查询进度")
    second = woman.say("查询进度")
    assert "满意吗" not in second and "已办结" in second
    woman.run([("1", "请说说您遇到的困难")])


def test_rating_in_the_middle_of_a_flow(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database
) -> None:
    """Mid-flow 满意 is recorded and the flow's question comes back."""
    officer, woman = cadre(), chat()
    _resolved(woman, officer)
    woman.run([("我要求助", "办理满意吗")])
    answer = woman.say("满意")
    assert "谢谢您的评价" in answer and "请说说您遇到的困难" in answer  # the question again
    woman.run([("培训完能找活吗", "您主要想要哪方面的帮助")])
    request, _kinds = _request(database)
    assert request.rating == "satisfied"


def test_a_cadre_resolving_her_own_request_is_not_asked(
    cadre: Callable[..., Chat], database: Database
) -> None:
    """Resolving one's own request sends no rating question and keeps her dialogue intact."""
    officer = cadre()
    officer.run(FILE)
    found = re.search(r"编号 ([A-Z0-9]{6})", officer.say("确认"))
    assert found
    officer.run([(f"办结 {found.group(1)} 自己解决了", "已办结"), ("满意", "没太明白")])
    with database.read() as session:
        me = session.exec(select(User).where(User.role == "cadre")).one()
        assert (
            repo.load_dialogue(session, user_id=me.id or 0, now=officer.clock()).data.get("rate")
            is None
        )


def test_in_a_flow_a_number_answers_the_question(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database
) -> None:
    """Resolved while she is in a flow: 1 answers its question, 满意 still rates."""
    officer, woman = cadre(), chat()
    woman.run(FILE)
    found = re.search(r"编号 ([A-Z0-9]{6})", woman.say("确认"))
    assert found
    woman.run(FILE[:3])  # a second request, at the question of how to reach her
    officer.run([(f"办结 {found.group(1)} 已介绍到社区保洁岗位", "已办结")])
    woman.run([("1", "请核对"), ("满意", "谢谢您的评价")])
    with database.read() as session:
        rated = session.exec(select(HelpRequest).where(HelpRequest.code == found.group(1))).one()
    assert rated.rating == "satisfied"


def test_a_crisis_comes_before_the_rating(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database
) -> None:
    """A crisis message is not taken as a rate nor followed by the question (it opens an urgent
    case of its own); she can rate later."""
    officer, woman = cadre(), chat()
    code = _resolved(woman, officer)
    answer = woman.say("不满意，他昨晚又打我了，我很害怕")
    assert "110" in answer and "满意吗" not in answer
    woman.say("取消")
    woman.run([("不满意 没人再联系我", "如实告诉我们")])
    with database.read() as session:
        rated = session.exec(select(HelpRequest).where(HelpRequest.code == code)).one()
        urgent = session.exec(select(HelpRequest).where(HelpRequest.code != code)).one()
    assert (rated.rating, rated.rating_note) == ("unsatisfied", "没人再联系我")
    assert urgent.crisis and urgent.rating is None
