"""Dialogue tests of 走访记录 (visit report) for cadres."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlmodel import select

from storage import repo
from storage.db import Database
from storage.models import HelpRequest, Visit
from tests.conftest import Chat
from tests.factories import add_community


@pytest.fixture(autouse=True)
def _communities(database: Database) -> None:
    """九龙社区 and 富力社区 are in the org tree (as the demo's contact points put them)."""
    with database.transaction() as session:
        add_community(session)
        add_community(session, place="朝阳区/双井街道/富力社区")


def _visits(database: Database) -> list[Visit]:
    with database.read() as session:
        return list(session.exec(select(Visit)).all())


def _visit_until_checked(notes: str, *, help_request: bool) -> list[tuple[str, str]]:
    """Every question of the visit flow answered in turn, up to the check before confirming."""
    return [
        ("走访记录", "哪天走访的"),
        ("昨天", "在哪里走访的"),
        ("九龙社区", "走访形式"),
        ("1", "走访了谁"),
        ("刘某，1人", "重点群体"),
        ("3", "情况"),
        (notes, "建一个求助单"),
        ("是" if help_request else "否", "请核对走访记录"),
    ]


def test_visit_step_by_step(cadre, database: Database) -> None:
    """Every question in turn, then the visit is in the diary with its tags."""
    officer = cadre()
    officer.run(
        [
            *_visit_until_checked("被裁员后一直没找到工作，想先学点新技能再找", help_request=False),
            ("确认", "已记入走访日记"),
        ]
    )
    [visit] = _visits(database)
    assert visit.date == date(2026, 3, 17)
    assert (visit.district, visit.street, visit.community) == ("朝阳区", "双井街道", "九龙社区")
    assert visit.visit_form == "一对一访谈" and visit.focus == ["创业就业"]
    assert "jobs" in visit.categories and visit.whom == "刘某" and visit.people == 1


def test_visit_notes_are_stored_with_phone_numbers_masked(cadre, database: Database) -> None:
    """A phone number in the notes is masked in the diary and in the request opened from them."""
    officer = cadre()
    officer.run(
        [
            *_visit_until_checked("被裁员后一直没找到工作，电话13800138000", help_request=True),
            ("确认", "已为她建立求助单"),
        ]
    )
    [visit] = _visits(database)
    assert visit.notes == "被裁员后一直没找到工作，电话138****8000"
    with database.read() as session:
        request = session.get(HelpRequest, visit.help_request_id)
        assert request is not None and request.need == visit.notes


def test_rich_note_fills_slots_at_once(cadre, database: Database) -> None:
    """A visit note naming 刘姐 fills date, place, form and whom; only 建求助单 is asked."""
    officer = cadre()
    answer = officer.say("昨天下午在双井街道九龙社区跟刘姐做了一对一访谈，她被裁员后一直没找到工作")
    assert "求助单" in answer and "走访了谁" not in answer
    officer.run([("是", "核对"), ("确认", "已为她建立求助单")])
    [visit] = _visits(database)
    assert visit.whom == "刘姐" and visit.help_request_id is not None
    with database.read() as session:
        request = session.get(HelpRequest, visit.help_request_id)
        assert request is not None and request.source == "visit"


def test_future_date_is_refused(cadre) -> None:
    """A date in the future gets the reason and the question again."""
    officer = cadre()
    officer.run([("走访记录", "哪天"), ("明天", "还没到"), ("今天", "在哪里")])


def test_place_outside_jurisdiction_is_refused(cadre) -> None:
    """A 双井街道 cadre filing in 海淀区 is told why not."""
    officer = cadre()
    officer.run(
        [
            ("走访记录", "哪天"),
            ("今天", "在哪里"),
            ("海淀区中关村街道", "不在您的辖区（朝阳区双井街道）内"),
            ("双井街道", "形式"),
        ]
    )


def test_district_cadre_names_a_street(cadre, database: Database) -> None:
    """A district cadre may file anywhere in her district."""
    officer = cadre("海淀区", user="cadre-hd")
    officer.run(
        [
            ("走访记录", "哪天"),
            ("3月10号", "在哪里"),
            ("中关村", "形式"),
            ("座谈", "走访了谁"),
            ("宝妈十几人", "重点群体"),
            ("无", "情况"),
            ("孩子放学后没人看，想找兼职", "她们"),
            ("2", "核对"),
            ("确认", "已记入"),
        ]
    )
    [visit] = _visits(database)
    assert visit.street == "中关村街道" and visit.people >= 10 and visit.whom == "宝妈"


# ----------------------------------------------------------------------- conversation repair

RICH_NOTES = [
    (
        "今天和单亲妈妈王某（1人）在朝阳区双井街道九龙社区入户走访，她想找份能兼顾接送孩子的工作，不用建求助单",
        ["1"],
        {"whom": ("单亲妈妈王某", 1), "open_help": None, "community": "九龙社区"},
    ),
    (
        "昨天在双井街道富力社区开了座谈交流会，8位全职妈妈参加，大家想找能在家做的灵活就业，不需要建单",
        [],
        {"whom": ("全职妈妈", 8), "open_help": None, "community": "富力社区"},
    ),
    (
        "3月16日和李女士在九龙社区做了一对一访谈，丈夫去世后一个人带孩子，房租交不上想申请临时救助，帮她建个求助单",
        [],
        {"whom": ("李女士", 1), "open_help": "yes", "community": "九龙社区"},
    ),
    (
        "前天到富力社区实地考察，3户低保家庭的妇女想学点手艺找工作，不用建求助单",
        [],
        {"whom": ("低保家庭", 3), "open_help": None, "community": "富力社区"},
    ),
]


@pytest.mark.parametrize(("note", "answers", "stored"), RICH_NOTES, ids=range(len(RICH_NOTES)))
def test_rich_note_takes_at_most_three_turns(
    cadre: Callable[..., Chat],
    database: Database,
    note: str,
    answers: list[str],
    stored: dict[str, object],
) -> None:
    """A rich note is filed in ≤ 3 turns (note, at most one question, 确认) with its slots."""
    officer = cadre()
    turns = [note, *answers, "确认"]
    assert len(turns) <= 3
    replies = [officer.say(said) for said in turns]
    assert "请核对走访记录" in replies[-2], replies
    assert "已记入走访日记" in replies[-1], replies
    [visit] = _visits(database)
    assert (visit.whom, visit.people) == stored["whom"]
    assert (visit.district, visit.street, visit.community) == (
        "朝阳区",
        "双井街道",
        stored["community"],
    )
    assert (visit.help_request_id is not None) == (stored["open_help"] == "yes")
    assert visit.notes == note


def test_note_without_whom_asks_only_whom(cadre) -> None:
    """A note that names nobody gets the whom question, then the summary."""
    officer = cadre()
    officer.run(
        [
            (
                "昨天在双井街道九龙社区做了一对一访谈，她被裁员后一直没找到工作，不用建求助单",
                "走访了谁",
            ),
            ("王某，1人", "请核对走访记录"),
        ]
    )


def test_several_people_are_called_them(cadre) -> None:
    """8 people: the open_help question says 她们, and so does the filed request."""
    officer = cadre()
    officer.run(
        [
            (
                "昨天在富力社区开了座谈交流会，8位全职妈妈参加，大家想找灵活就业的工作",
                "需要为她们建一个求助单",
            ),
            ("是", "全职妈妈（8人）"),
            ("确认", "已为她们建立求助单"),
        ]
    )


def test_one_person_is_called_her(cadre) -> None:
    """One person: the open_help question says 她."""
    officer = cadre()
    officer.run(
        [("昨天在九龙社区和王某做了一对一访谈，她被裁员后一直没找到工作", "需要为她建一个求助单")]
    )


def test_whom_refuses_command_words(cadre) -> None:
    """确认 at the whom question is not a person: refused with the reason, then a pseudonym."""
    officer = cadre()
    officer.run(
        [
            ("昨天在九龙社区做了一对一访谈，她被裁员后一直没找到工作，不用建求助单", "走访了谁"),
            ("确认", "“确认”不像走访对象的称呼"),
            ("好的", "不像走访对象的称呼"),
            ("王某", "请核对走访记录"),
        ]
    )


def test_whom_refuses_a_name_with_a_phone(cadre, database: Database) -> None:
    """A real name with a phone number is refused for privacy; the pseudonym is kept."""
    officer = cadre()
    officer.run(
        [
            ("昨天在九龙社区做了一对一访谈，她被裁员后一直没找到工作，不用建求助单", "走访了谁"),
            ("王秀英 13812345678", "为保护隐私"),
            ("王秀英 110105199001011234", "为保护隐私"),
            ("王某 1人", "请核对走访记录"),
            ("确认", "已记入走访日记"),
        ]
    )
    [visit] = _visits(database)
    assert visit.whom == "王某"


def test_future_date_in_note_is_asked_with_the_reason(cadre) -> None:
    """A note dated in the future: the date question says why, once."""
    officer = cadre()
    officer.run(
        [
            (
                "2027年1月5日在九龙社区和王某做了一对一访谈，她想找工作，不用建求助单",
                "笔记里的日期 2027-01-05 在今天之后",
            ),
            ("昨天", "请核对走访记录"),
        ]
    )


def test_place_outside_in_note_is_asked_with_the_reason(cadre) -> None:
    """A note placed outside her jurisdiction: the place question says why."""
    officer = cadre()
    answer = officer.say("昨天在劲松街道和王某做了一对一访谈，她想找份工作，不用建求助单")
    assert "笔记里的地点朝阳区劲松街道不在您负责的朝阳区双井街道" in answer
    assert "在哪里走访的" in answer
    officer.run([("九龙社区", "请核对走访记录")])


def test_edit_place_replaces_district_street_and_community(cadre, database: Database) -> None:
    """修改 地点 asks the whole place; the answer replaces all three parts."""
    officer = cadre("朝阳区", user="cadre-cy")
    officer.run(
        [
            ("昨天在双井街道九龙社区和王某做了一对一访谈，她想找份工作，不用建求助单", "请核对"),
            ("修改 地点", "在哪里走访的"),
            ("劲松街道", "地点：朝阳区劲松街道\n"),
            ("确认", "已记入走访日记"),
        ]
    )
    [visit] = _visits(database)
    assert (visit.district, visit.street, visit.community) == ("朝阳区", "劲松街道", None)


def test_invented_community_is_confirmed_or_asked_again(cadre) -> None:
    """月球社区 is not in the org tree: asked once; 否 asks the place again with the reason."""
    officer = cadre()
    officer.run(
        [
            ("走访记录", "哪天"),
            ("昨天", "在哪里"),
            ("月球社区", "月球社区还不在组织架构的社区/村名单里"),
            ("否", "好的，请重新填写走访地点"),
            ("九龙社区", "走访形式"),
        ]
    )


def test_new_community_confirmed_is_kept_marked_and_known(cadre, database: Database) -> None:
    """A new community confirmed: marked in the summary, added to the tree, not asked again."""
    officer = cadre()
    note = "昨天在双井街道光环社区和王某做了一对一访谈，她想找份工作，不用建求助单"
    officer.run(
        [
            (note, "光环社区还不在组织架构"),
            ("是", "朝阳区双井街道光环社区（新社区）"),
            ("确认", "光环社区已作为新社区加入组织架构"),
            (note, "请核对"),
        ]
    )
    with database.read() as session:
        known = repo.communities_in(session, district="朝阳区", street="双井街道")
    assert ("朝阳区", "双井街道", "光环社区") in known


def test_edit_with_the_new_value_applies_it(cadre, database: Database) -> None:
    """修改 地点 劲松街道 takes the new place at once; a value that does not fit gets its reason
    and the question; 修改一下地点 only asks."""
    officer = cadre("朝阳区", user="cadre-cy")
    officer.run(
        [
            ("昨天在双井街道九龙社区和王某做了一对一访谈，她想找份工作，不用建求助单", "请核对"),
            ("修改 地点 劲松街道", "地点：朝阳区劲松街道\n"),
            ("修改一下地点", "在哪里走访的"),
            ("劲松街道", "请核对"),
            ("修改 地点为月亮湾", "在哪里走访的"),
            ("劲松街道", "请核对"),
            ("确认", "已记入走访日记"),
        ]
    )
    [visit] = _visits(database)
    assert (visit.district, visit.street, visit.community) == ("朝阳区", "劲松街道", None)
