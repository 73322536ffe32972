"""联系点 / 结对 / 我的联系点: cadres' contact points and paired households, as dialogues."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import select

from storage.db import Database
from storage.models import ContactPoint
from tests.conftest import Chat

VISIT = [
    ("走访记录", "哪天走访的"),
    ("昨天", "在哪里走访的"),
    ("双井街道九龙社区", "走访形式"),
    ("1", "走访了谁"),
    ("王某 1人", "重点群体"),
    ("无", "情况"),
    ("她想找份兼职，孩子放学后没人看", "求助单"),
    ("否", "请核对"),
    ("确认", "已记入走访日记"),
]


def _points(database: Database) -> list[ContactPoint]:
    with database.read() as session:
        return list(session.exec(select(ContactPoint).order_by(ContactPoint.id)).all())


def test_district_cadre_registers_every_kind_and_lists_them(
    cadre: Callable[..., Chat], database: Database
) -> None:
    """A district, streets, a community and a household; the list shows quotas and visits."""
    leader = cadre("朝阳区", user="cadre-cy")
    leader.run(
        [
            ("我的联系点", "还没有登记联系点"),
            ("联系点 朝阳区", "已登记联系区：朝阳区（1/1）"),
            ("联系点 双井街道", "已登记联系街道/乡镇：双井街道（1/2）"),
            ("联系点：劲松街道", "（2/2）"),
            ("联系点 双井街道九龙社区", "已登记联系社区/村：九龙社区（1/4）"),
            ("结对 王某 九龙社区", "已登记结对户：王某（九龙社区）（1/6）"),
            ("我的联系点", "区 1/1，街道/乡镇 2/2，社区/村 1/4，结对户 1/6"),
            ("我的联系点", "· 王某（九龙社区）（结对户）｜最近走访：还没走访"),
        ]
    )
    leader.run(VISIT)
    listing = leader.say("我的联系点")
    for line in (
        "· 朝阳区（区）｜最近走访：2026-03-17",
        "· 双井街道（街道/乡镇）｜最近走访：2026-03-17",
        "· 劲松街道（街道/乡镇）｜最近走访：还没走访",
        "· 九龙社区（社区/村）｜最近走访：2026-03-17",
        "· 王某（九龙社区）（结对户）｜最近走访：2026-03-17",
    ):
        assert line in listing, listing
    kinds = [(p.kind, p.name, p.community) for p in _points(database)]
    assert kinds == [
        ("district", "朝阳区", None),
        ("street", "双井街道", None),
        ("street", "劲松街道", None),
        ("community", "九龙社区", None),
        ("household", "王某", "九龙社区"),
    ]


def test_over_quota_is_refused_naming_the_quota(cadre: Callable[..., Chat]) -> None:
    """A fifth community (quota 4) and a third street (quota 2) are refused, naming the quota."""
    leader = cadre("朝阳区", user="cadre-cy")
    leader.run(
        [
            ("联系点 双井街道九龙社区", "（1/4）"),
            ("联系点 双井街道垂杨柳社区", "（2/4）"),
            ("联系点 双井街道光明社区", "（3/4）"),
            ("联系点 双井街道黄木厂社区", "（4/4）"),
            ("联系点 双井街道双花园社区", "最多联系 4 个社区/村，您已经有 4 个：九龙社区、"),
            ("联系点 双井街道", "（1/2）"),
            ("联系点 劲松街道", "（2/2）"),
            ("联系点 建外街道", "最多联系 2 个街道/乡镇"),
            ("联系点 朝阳区", "（1/1）"),
        ]
    )


def test_six_households_at_most(cadre: Callable[..., Chat]) -> None:
    """Six paired households fit; the seventh is refused."""
    officer = cadre()
    for n, name in enumerate(("王某", "李某", "张某", "刘某", "陈某", "赵某"), start=1):
        officer.run([(f"结对 {name} 九龙社区", f"（{n}/6）")])
    officer.run([("结对 孙某 九龙社区", "最多联系 6 个结对户")])


def test_a_community_alone_lies_in_her_street(
    cadre: Callable[..., Chat], database: Database
) -> None:
    """A street cadre's `联系点 九龙社区` is the community in her own street."""
    officer = cadre()
    officer.run([("联系点 九龙社区", "已登记联系社区/村：九龙社区"), ("联系点 九龙社区", "已经是")])
    [point] = _points(database)
    assert point.kind == "community" and point.unit_id is not None


def test_outside_her_jurisdiction_is_refused(cadre: Callable[..., Chat]) -> None:
    """A street cadre cannot hold another street, another district or her whole district."""
    officer = cadre()
    officer.run(
        [
            ("联系点 劲松街道", "不在您的辖区（朝阳区双井街道）内"),
            ("联系点 海淀区", "不在您的辖区"),
            ("联系点 朝阳区", "不在您的辖区"),
            ("结对 王某 中关村街道黄庄社区", "不在您的辖区"),
        ]
    )


def test_unclear_places_and_pairs_are_explained(cadre: Callable[..., Chat]) -> None:
    """An unknown place, a pair without a community, or a name that is a phone get the usage."""
    officer = cadre()
    officer.run(
        [
            ("联系点 月球", "没找到“月球”"),
            ("结对 王某 双井街道", "请写明她住在哪个社区"),
            ("结对 13800138000 九龙社区", "化名请用"),
            ("联系点", "还没有登记联系点"),
        ]
    )


def test_same_pseudonym_in_another_community(cadre: Callable[..., Chat]) -> None:
    """A second 王某 elsewhere is asked to be told apart."""
    officer = cadre()
    officer.run([("结对 王某 九龙社区", "（1/6）"), ("结对 王某 光明社区", "请换个称呼区分")])


def test_residents_have_no_contact_points(chat: Callable[..., Chat]) -> None:
    """Each contact-point command tells a resident it is for cadres only."""
    woman = chat()
    for said in ("联系点 九龙社区", "结对 王某 九龙社区", "我的联系点"):
        woman.run([(said, "只对绑定的妇联干部开放")])


def test_a_visit_note_about_pairing_stays_a_visit(cadre: Callable[..., Chat]) -> None:
    """`结对帮扶…` written as a visit note starts the visit flow, not a registration."""
    officer = cadre()
    answer = officer.say("昨天在九龙社区结对帮扶王某，她想找份兼职")
    assert any(w in answer for w in ("走访了谁", "走访形式", "是新的社区")), answer


def test_city_cadre_names_the_street_of_a_community(cadre: Callable[..., Chat]) -> None:
    """A city cadre naming a community alone is asked for its street."""
    leader = cadre("", user="cadre-city")
    leader.run(
        [
            ("联系点 九龙社区", "请带上所在的街道/乡镇"),
            ("联系点 双井街道九龙社区", "（1/4）"),
            ("联系点 海淀区", "（1/1）"),
        ]
    )


def test_commands_work_in_the_middle_of_a_flow(cadre: Callable[..., Chat]) -> None:
    """`联系点 …` mid-visit registers and asks the pending question again."""
    officer = cadre()
    officer.run(VISIT[:2])
    answer = officer.say("联系点 九龙社区")
    assert "已登记" in answer and "在哪里走访的" in answer
