"""A small scripted dataset for the quarterly summary of 朝阳区, 2026Q1 (previous: 2025Q4).

Known figures (the tests assert them):
- visits in Q1: 4, people 9; forms 一对一访谈 1, 实地考察 1, 座谈交流 1, 其他走访 1;
  focus 单亲贫困母亲 1, 特殊困难妇女 1, 创业就业 1. One Q4 visit, one Q2 visit and one 海淀区
  visit do not count.
- requests: received 7 (one urgent, one opened from a visit), resolved 4 (3, 10, 5 and 13 days:
  median 7.5), open at the quarter's end 3 (R4 and the visit's R8 new; R6 resolved in April).
- needs (total): jobs 5, knowledge 2, health 2, relief 2, rights 1, other 1; Q4: jobs 1, health 1.
- satisfaction of the 4 resolved: satisfied 2, basic 1, unsatisfied 0, unrated 1 (share 0.667).
- contact points of 李主任 (朝阳区 cadre): district 1/1, street 1/2, community 0/1,
  household 0/2: 2/6 overall. A 海淀区 cadre's points do not count.
- the longest note names 王某 and her phone 13812345678 (masked in examples).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage import repo
from storage.models import HelpRequest, OrgUnit, User
from tests.factories import bind_cadre

TZ = ZoneInfo("Asia/Shanghai")
PHONE = "13812345678"
LONG_NOTE = (
    f"单亲妈妈王某，孩子上小学需要接送，想找工作，希望有离家近的兼职岗位，"
    f"她说可以打电话{PHONE}联系她，社区已经帮她登记了求职意向。"
)


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    """A Shanghai wall-clock time as aware UTC."""
    return datetime(year, month, day, hour, tzinfo=TZ).astimezone(UTC)


def unit(session: Session, path: str) -> OrgUnit:
    """The unit at `path` (朝阳区/双井街道)."""
    found = repo.unit_by_path(session, path=path)
    assert found is not None, path
    return found


def cadre(session: Session, path: str, name: str, external_id: str) -> User:
    """A cadre bound to `path` through an invite, reachable on the api channel."""
    return bind_cadre(session, place=path, name=name, external_id=external_id, now=at(2025, 10, 1))


@dataclass
class Dataset:
    """Who is who in the dataset."""

    district: OrgUnit
    field_cadre: User
    leader: User
    other_cadre: User


def _visit(
    session: Session,
    who: User,
    on: date,
    place: tuple[str, str | None, str | None],
    form: str | None,
    whom: str,
    people: int,
    focus: list[str],
    notes: str,
    categories: list[str],
) -> None:
    district, street, community = place
    path = "/".join(p for p in (district, street) if p)
    repo.create_visit(
        session,
        cadre_id=who.id or 0,
        unit_id=unit(session, path).id or 0,
        on=on,
        district=district,
        street=street,
        community=community,
        visit_form=form,
        whom=whom,
        people=people,
        focus=focus,
        notes=notes,
        primary=categories[0] if categories else None,
        categories=categories,
        help_request_id=None,
        now=at(on.year, on.month, on.day, 18),
    )


def _request(
    session: Session,
    path: str,
    created: datetime,
    need: str,
    categories: list[str],
    *,
    crisis: bool = False,
    source: str = "chat",
    resolved: datetime | None = None,
    rating: str | None = None,
    cancelled: datetime | None = None,
) -> HelpRequest:
    found = unit(session, path)
    request = repo.create_help_request(
        session,
        unit_id=found.id or 0,
        need=need,
        primary=categories[0],
        categories=categories,
        crisis=crisis,
        district=path.split("/")[0],
        street=None,
        community=None,
        contact="chat",
        phone=None,
        requester_id=None,
        created_by=None,
        source=source,
        now=created,
    )
    if resolved is not None:
        repo.set_status(
            session,
            request=request,
            status="resolved",
            actor_id=None,
            note="已办结",
            now=resolved,
            resolution="已办结",
        )
    if cancelled is not None:
        repo.set_status(
            session, request=request, status="cancelled", actor_id=None, note=None, now=cancelled
        )
    if rating is not None:  # ratings are set by the rating flow; here directly
        request.rating = rating
        request.rated_at = resolved
        session.add(request)
    session.flush()
    return request


def build(session: Session) -> Dataset:
    """Insert the dataset; return its people and the district."""
    field = cadre(session, "朝阳区/双井街道", "张干部", "cadre-zhang")
    leader = cadre(session, "朝阳区", "李主任", "cadre-li")
    other = cadre(session, "海淀区", "海淀干部", "cadre-haidian")
    sj = ("朝阳区", "双井街道", "九龙社区")

    # visits of 2026Q1
    _visit(session, field, date(2026, 1, 10), sj, "一对一访谈", "王某", 1, ["单亲贫困母亲"], LONG_NOTE, ["jobs"])  # fmt: skip
    _visit(session, field, date(2026, 2, 5), ("朝阳区", "双井街道", "富力社区"), "座谈交流", "宝妈们", 5, ["创业就业"], "宝妈们希望学习电商技能，找工作难。", ["jobs", "knowledge"])  # fmt: skip
    _visit(session, leader, date(2026, 3, 1), ("朝阳区", "劲松街道", None), "实地考察", "刘某", 2, ["特殊困难妇女"], "婆婆瘫痪在床，医疗费用负担重，想申请救助。", ["health", "relief"])  # fmt: skip
    _visit(session, field, date(2026, 3, 20), sj, None, "陈某", 1, [], "找工作的事情还没有着落。", ["jobs"])  # fmt: skip
    # not in 朝阳区 2026Q1: the quarter before, the quarter after, another district
    _visit(session, leader, date(2025, 11, 11), sj, "一对一访谈", "王某", 1, [], "医疗费用报销问题。", ["health"])  # fmt: skip
    _visit(session, field, date(2026, 4, 1), sj, "一对一访谈", "王某", 1, [], "找工作找工作。", ["jobs"])  # fmt: skip
    _visit(session, other, date(2026, 2, 2), ("海淀区", "中关村街道", None), "一对一访谈", "孙某", 3, [], "找工作。", ["jobs"])  # fmt: skip

    # requests
    zy, sjp = "朝阳区", "朝阳区/双井街道"
    _request(session, sjp, at(2026, 1, 5), "想找工作，离家近一点", ["jobs"], resolved=at(2026, 1, 8), rating="satisfied")  # fmt: skip
    _request(session, zy, at(2026, 2, 1), "丈夫打我，孩子看病没钱", ["health", "relief"], crisis=True, resolved=at(2026, 2, 11), rating="basic")  # fmt: skip
    _request(session, sjp, at(2026, 3, 10), "找工作，会做饭", ["jobs"], resolved=at(2026, 3, 15), rating="satisfied")  # fmt: skip
    _request(session, sjp, at(2026, 3, 25), "想学电脑技能", ["knowledge"])
    _request(session, zy, at(2025, 12, 20), "想找工作", ["jobs"], resolved=at(2026, 1, 2))
    _request(session, zy, at(2026, 3, 30), "离婚财产纠纷", ["rights"], resolved=at(2026, 4, 2))  # fmt: skip
    _request(session, zy, at(2026, 1, 20), "建议多办活动", ["other"], cancelled=at(2026, 1, 21))  # fmt: skip
    _request(session, sjp, at(2026, 1, 10), LONG_NOTE, ["jobs"], source="visit")
    _request(session, "海淀区", at(2026, 2, 2), "找工作", ["jobs"])

    # contact points of 李主任 (朝阳区) and of the 海淀区 cadre
    now = at(2025, 12, 1)
    for kind, name, community in (
        ("district", "朝阳区", None),
        ("street", "劲松街道", None),
        ("street", "双井街道", None),
        ("community", "九龙社区", None),
        ("household", "王某", "九龙社区"),
        ("household", "赵某", None),
    ):
        repo.add_contact_point(
            session,
            holder_id=leader.id or 0,
            kind=kind,
            name=name,
            unit_id=None,
            community=community,
            now=now,
        )
    repo.add_contact_point(
        session,
        holder_id=other.id or 0,
        kind="district",
        name="海淀区",
        unit_id=None,
        community=None,
        now=now,
    )
    session.flush()
    return Dataset(
        district=unit(session, "朝阳区"), field_cadre=field, leader=leader, other_cadre=other
    )
