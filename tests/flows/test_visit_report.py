"""Dialogue tests of 走访记录 (visit report) for cadres."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from storage.db import Database
from storage.models import HelpRequest, Visit


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
    assert "jobs" in visit.categories and visit.whom == "刘某，1人" and visit.people == 1


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
    """A cadre's visit note routes to the visit flow with date, place and form filled."""
    officer = cadre()
    answer = officer.say("昨天下午在双井街道九龙社区跟刘姐做了一对一访谈，她被裁员后一直没找到工作")
    assert "走访了谁" in answer
    officer.run([("刘某 1人", "求助单"), ("是", "核对"), ("确认", "已为她建立求助单")])
    [visit] = _visits(database)
    assert visit.help_request_id is not None
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
            ("孩子放学后没人看，想找兼职", "求助单"),
            ("2", "核对"),
            ("确认", "已记入"),
        ]
    )
    [visit] = _visits(database)
    assert visit.street == "中关村街道" and visit.people >= 10
