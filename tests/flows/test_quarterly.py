"""季度汇总 in chat: a district cadre sees her quarter's figures and submits them.

The clock stands at 2026-03-18: 2026Q1 is due 2026-04-10 and 2025Q4 was due 2026-01-12, so both
are open until one is submitted.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import select

from storage import repo
from storage.db import Database
from storage.models import QuarterlyReport
from tests.conftest import Chat, Clock

VISIT = [
    ("走访记录", "哪天走访的"),
    ("昨天", "在哪里走访的"),
    ("双井街道九龙社区", "是新的社区"),  # the test tree has no 社区: asked once
    ("是", "走访形式"),
    ("1", "走访了谁"),
    ("王某 1人", "重点群体"),
    ("3", "情况"),
    ("被裁员后一直没找到工作，想先学点新技能再找", "求助单"),
    ("否", "请核对"),
    ("确认", "已记入走访日记"),
]


def _submit(database: Database, clock: Clock, quarter: str, unit: str = "朝阳区") -> None:
    """Mark a unit's quarter submitted, as if done earlier."""
    with database.transaction() as session:
        found = repo.unit_by_path(session, path=unit)
        assert found is not None
        report = repo.report_for(session, unit_id=found.id or 0, quarter=quarter, now=clock())
        repo.submit_report(session, report=report, figures={}, remark=None, by=None, now=clock())


def _report(database: Database, quarter: str) -> QuarterlyReport:
    with database.read() as session:
        return session.exec(select(QuarterlyReport).where(QuarterlyReport.quarter == quarter)).one()


@pytest.fixture
def leader(cadre: Callable[..., Chat]) -> Chat:
    """A cadre of 朝阳区 (a district-level unit)."""
    return cadre("朝阳区", user="cadre-cy", name="李主任")


def test_whole_flow_submits_the_figures(leader: Chat, database: Database, clock: Clock) -> None:
    """One open quarter: the figures at once, 提交 stores them and the quarter is closed."""
    _submit(database, clock, "2025Q4")
    leader.run(VISIT)
    leader.run(
        [
            ("季度汇总", "朝阳区妇联2026年第一季度妇情汇总"),
            ("季度汇总", "走访 1 次"),
            ("季度汇总", "回复“提交”上报"),
            ("提交", "已提交朝阳区2026Q1的季度汇总"),
            ("季度汇总", "2025Q4、2026Q1的季度汇总都已提交"),
        ]
    )
    report = _report(database, "2026Q1")
    assert report.status == "submitted" and report.remark is None
    assert report.figures is not None and report.figures["visits"]["total"] == 1
    assert report.submitted_by is not None and report.submitted_at is not None


def test_choosing_between_two_open_quarters(leader: Chat, database: Database) -> None:
    """Both quarters open: she is asked, picks 上季度, and 2025Q4 is submitted."""
    leader.run(
        [
            ("季度汇总", "有两个季度的汇总还没提交：2025Q4（2026-01-12截止，已逾期）"),
            ("上季度", "2025年第四季度"),
            ("确认", "已提交朝阳区2025Q4的季度汇总"),
            ("季度汇总", "2026Q1（2026-04-10截止）"),  # only 2026Q1 is left: no question
        ]
    )
    assert _report(database, "2025Q4").status == "submitted"


def test_default_is_the_nearest_due_date(leader: Chat, database: Database) -> None:
    """`好` picks the quarter due soonest (2026Q1); a number picks by the list."""
    leader.run(
        [
            ("季度汇总", "直接回复“好”选2026Q1"),
            ("好", "2026年第一季度"),
            ("修改 季度", "要汇总哪个季度"),
            ("1", "2025年第四季度"),
            ("提交", "2025Q4"),
        ]
    )
    assert _report(database, "2025Q4").status == "submitted"


def test_remark_before_submitting(leader: Chat, database: Database, clock: Clock) -> None:
    """修改 asks for a remark, the summary shows it, and it is submitted with the figures."""
    _submit(database, clock, "2025Q4")
    leader.run(
        [
            ("季度汇总", "说明：未填"),
            ("修改", "要随汇总一起上报的说明"),
            ("本季度重点走访了单亲母亲", "说明：本季度重点走访了单亲母亲"),
            ("提交", "已提交"),
        ]
    )
    assert _report(database, "2026Q1").remark == "本季度重点走访了单亲母亲"


def test_a_remark_is_stored_with_phone_numbers_masked(
    leader: Chat, database: Database, clock: Clock
) -> None:
    """A phone number in the remark is stored masked."""
    _submit(database, clock, "2025Q4")
    leader.run(
        [
            ("季度汇总", "说明：未填"),
            ("修改", "要随汇总一起上报的说明"),
            ("联系人电话13800138000", "说明："),
            ("提交", "已提交"),
        ]
    )
    assert _report(database, "2026Q1").remark == "联系人电话138****8000"


def test_street_cadre_and_resident_are_refused(
    cadre: Callable[..., Chat], chat: Callable[..., Chat]
) -> None:
    """Only district-level cadres submit; a street cadre and a resident get the explanation."""
    cadre().run([("季度汇总", "由区妇联的干部在这里提交")])
    chat().run([("季度汇总", "由区妇联的干部在这里提交")])


def test_returned_report_can_be_submitted_again(
    leader: Chat, database: Database, clock: Clock
) -> None:
    """A summary returned by the city is open again and is submitted anew."""
    _submit(database, clock, "2025Q4")
    leader.run([("季度汇总", "2026Q1"), ("提交", "已提交")])
    with database.transaction() as session:
        report = session.exec(
            select(QuarterlyReport).where(QuarterlyReport.quarter == "2026Q1")
        ).one()
        repo.review_report(session, report=report, accept=False, comment="请补充", now=clock())
    clock.advance(days=1)
    leader.run(
        [("季度汇总", "2026Q1"), ("修改", "说明"), ("已补充走访数据", "已补充"), ("提交", "已提交")]
    )
    report = _report(database, "2026Q1")
    assert report.status == "submitted" and report.remark == "已补充走访数据"


def test_menu_offers_it_to_district_cadres_only(leader: Chat, cadre: Callable[..., Chat]) -> None:
    """The district cadre's menu has 季度汇总 (by number too); a street cadre's has not."""
    leader.run([("菜单", "4. 季度汇总"), ("4", "有两个季度的汇总还没提交")])
    assert "季度汇总" not in cadre().say("菜单")


def test_cancel_submits_nothing(leader: Chat, database: Database) -> None:
    """取消 leaves both quarters open."""
    leader.run([("季度汇总", "要汇总哪个季度"), ("2", "2026年第一季度"), ("取消", "已取消")])
    with database.read() as session:
        assert session.exec(select(QuarterlyReport)).all() == []
