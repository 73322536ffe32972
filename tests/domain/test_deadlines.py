"""限时办结, 回访 and 督办 (bot/domain/deadlines.py, requests.py's reopen, supervision.py), on both
databases with the scheduler's clock: deadlines counted in working days, shown to her and to
staff; 不满意 reopens the request (the second time at the district); overdue requests are
escalated up the tree, once per step."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlmodel import col, select

from bot.app import create_app
from bot.config import Settings
from bot.domain import deadlines
from bot.domain.deadlines import Limits
from bot.domain.quarters import TableHolidays
from bot.domain.quiet_hours import SHANGHAI
from bot.outbox import Dispatcher
from scheduler.runner import Scheduler
from storage import repo
from storage.db import Database
from storage.models import HelpRequest, HelpRequestEvent
from tests.conftest import ADMIN, Chat, Clock
from tests.console.sessions import csrf_of, logged_in, make_staff
from tests.factories import duty_user

FILE = [
    ("我要求助", "困难"),
    ("想找一份离家近的保洁工作", "区"),
    ("朝阳区双井街道", "联系"),
    ("1", "核对"),
]
# May Day 2026: 5月1日–5日 off, Sunday 5月9日 a 调休 working day.
MAY = TableHolidays(
    {
        **{date(2026, 5, d): False for d in range(1, 6)},
        date(2026, 5, 9): True,
    }
)


def _file(woman: Chat) -> str:
    woman.run(FILE)
    found = re.search(r"编号 ([A-Z0-9]{6})", woman.say("确认"))
    assert found
    return found.group(1)


def _request(database: Database, code: str) -> HelpRequest:
    with database.read() as session:
        found = repo.request_by_code(session, code=code)
        assert found is not None
        return found


def _kinds(database: Database, request: HelpRequest) -> list[str]:
    with database.read() as session:
        rows = session.exec(
            select(HelpRequestEvent)
            .where(HelpRequestEvent.request_id == request.id)
            .order_by(col(HelpRequestEvent.id))
        ).all()
        return [r.kind for r in rows]


# ----------------------------------------------------------------------------- the arithmetic


def test_working_days_skip_holidays_and_count_tiaoxiu() -> None:
    """Filed on Thursday 4月30日: accepted by the end of 5月6日 (the holiday skipped); resolved
    within 3 working days by 5月8日, within 4 by Sunday 5月9日 (调休)."""
    limits = Limits(calendar=MAY, tz=SHANGHAI)
    filed = datetime(2026, 4, 30, 16, 0, tzinfo=SHANGHAI)
    assert limits.accept_due(filed, urgent=False) == datetime(
        2026, 5, 6, 23, 59, 59, tzinfo=SHANGHAI
    )
    assert limits.end_of_working_day(filed, 3).date() == date(2026, 5, 8)
    assert limits.end_of_working_day(filed, 4).date() == date(2026, 5, 9)
    assert limits.accept_due(filed, urgent=True) == filed + timedelta(minutes=30)


def test_per_category_resolve_days() -> None:
    """FUQING_RESOLVE_DAYS sets a category's own number; the rest keep 15."""
    limits = Limits.parse("rights=10, relief=5", calendar=MAY)
    assert limits.resolve_days_for("rights") == 10
    assert limits.resolve_days_for("relief") == 5
    assert limits.resolve_days_for("jobs") == 15
    filed = datetime(2026, 5, 11, 9, 0, tzinfo=SHANGHAI)  # a Monday
    assert limits.resolve_due(filed, primary="relief").date() == date(2026, 5, 18)


def test_per_category_accept_days_but_urgent_is_urgent() -> None:
    """FUQING_ACCEPT_DAYS gives a category more (or fewer) working days to accept; an urgent
    request is accepted within 30 minutes whatever its category; the settings make the limits
    (with the hand-off answer time)."""
    settings = Settings(
        env="test", accept_days="jobs=3", resolve_days="rights=10", handoff_answer_minutes=5
    )
    limits = Limits.of(settings)
    assert (limits.accept_days_for("jobs"), limits.accept_days_for("rights")) == (3, 1)
    assert limits.resolve_days_for("rights") == 10
    assert limits.answer_within == timedelta(minutes=5)
    filed = datetime(2026, 5, 11, 9, 0, tzinfo=SHANGHAI)  # a Monday
    jobs = deadlines.for_new(filed, urgent=False, primary="jobs", limits=limits)
    rights = deadlines.for_new(filed, urgent=False, primary="rights", limits=limits)
    urgent = deadlines.for_new(filed, urgent=True, primary="jobs", limits=limits)
    assert jobs.accept.astimezone(SHANGHAI).date() == date(2026, 5, 14)
    assert rights.accept.astimezone(SHANGHAI).date() == date(2026, 5, 12)
    assert urgent.accept == filed + timedelta(minutes=30)


@pytest.mark.parametrize("bad", ["money=3", "rights", "rights=0", "rights=x", "rights=-1"])
def test_bad_resolve_days_are_refused(bad: str) -> None:
    """An unknown category, a missing or non-positive number: refused at start-up, for either
    setting, naming it."""
    with pytest.raises(ValueError):
        Limits.parse(bad)
    with pytest.raises(ValueError, match="FUQING_RESOLVE_DAYS"):
        create_app(Settings(env="test", resolve_days=bad))
    with pytest.raises(ValueError, match="FUQING_ACCEPT_DAYS"):
        create_app(Settings(env="test", accept_days=bad))


def test_day_label_and_overdue() -> None:
    """'5月6日' in Beijing time; a deadline stored naive (SQLite) is read as UTC."""
    due = datetime(2026, 5, 6, 15, 59, 59, tzinfo=UTC)
    assert deadlines.day_label(due) == "5月6日"
    assert deadlines.overdue(due.replace(tzinfo=None), due + timedelta(seconds=1))
    assert not deadlines.overdue(due, due)
    assert not deadlines.overdue(None, due)


# ----------------------------------------------------------------------------- in the chat


def test_a_new_request_has_deadlines_she_sees(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database, clock: Clock
) -> None:
    """Filed on Wednesday 3月18日 at 10:00: accept by the end of Thursday, resolve by the end
    of the 15th working day; 查询进度 says by when and who has it, and 已超期 once past it;
    accepting dates the acceptance."""
    officer = cadre("朝阳区/双井街道")
    woman = chat()
    code = _file(woman)
    request = _request(database, code)
    limits = Limits()
    filed = clock()
    assert repo.as_utc(request.accept_due or filed) == limits.accept_due(filed, urgent=False)
    due = limits.resolve_due(filed, primary="jobs")
    assert repo.as_utc(request.resolve_due or filed) == due
    assert deadlines.day_label(repo.as_utc(request.accept_due or filed)) == "3月19日"
    progress = woman.say("查询进度")
    assert f"预计{deadlines.day_label(due)}前办结" in progress and "双井街道" in progress
    officer.run([(f"受理 {code}", "已受理")])
    assert _request(database, code).accepted_at is not None
    clock.now = due + timedelta(seconds=1)
    assert f"已超期（原定{deadlines.day_label(due)}）" in woman.say("查询进度")


def test_an_urgent_case_must_be_accepted_within_thirty_minutes(
    chat: Callable[..., Chat], database: Database, clock: Clock
) -> None:
    """A crisis opens its case with a 30-minute acceptance deadline."""
    chat().say("我在朝阳区双井街道，他拿着刀说要砍死我")
    with database.read() as session:
        [case] = session.exec(select(HelpRequest)).all()
    assert case.crisis and repo.as_utc(case.accept_due or clock()) == clock() + timedelta(
        minutes=30
    )


def test_unsatisfied_reopens_it_and_the_second_time_the_district_has_it(
    chat: Callable[..., Chat], cadre: Callable[..., Chat], database: Database, clock: Clock
) -> None:
    """不满意 with her words: back in progress at 双井街道 with a fresh deadline, its cadre told
    her words; resolved again and 不满意 again: 朝阳区 has it (督办), its cadre told."""
    officer = cadre("朝阳区/双井街道")
    district = cadre("朝阳区", user="cadre-2", name="区干部")
    woman = chat()
    code = _file(woman)
    officer.run([(f"办结 {code} 已介绍到社区保洁岗位", "已办结")])
    woman.pushed()
    officer.pushed()
    clock.advance(days=3)
    answer = woman.say("不满意 那个岗位早就招满了")
    assert "重新交给朝阳区双井街道妇联办理" in answer and "前办结" in answer
    request = _request(database, code)
    assert (request.status, request.reopened, request.rating) == ("in_progress", 1, "unsatisfied")
    assert repo.as_utc(request.resolve_due or clock()) == Limits().resolve_due(
        clock(), primary="jobs"
    )
    assert any("【重新办理】" in p and "早就招满了" in p for p in officer.pushed())
    assert _kinds(database, request)[-2:] == ["rated", "reopened"]
    officer.run([(f"办结 {code} 又联系了两家超市", "已办结")])
    woman.pushed()
    answer = woman.say("不满意")
    assert "重新交给朝阳区妇联办理" in answer
    request = _request(database, code)
    assert (request.reopened, request.supervised) == (2, 1)
    with database.read() as session:
        unit = repo.get_unit(session, unit_id=request.unit_id)
        assert unit is not None and unit.path == "北京市/朝阳区"
    assert any("【重新办理】" in p for p in district.pushed())


async def test_staff_reopen_a_resolved_request_with_a_note(
    client: httpx.AsyncClient,
    chat: Callable[..., Chat],
    cadre: Callable[..., Chat],
    database: Database,
) -> None:
    """办理中 on a resolved request is a reopening: she is told who has it and by when."""
    officer = cadre("朝阳区/双井街道")
    woman = chat()
    code = _file(woman)
    officer.run([(f"办结 {code} 已介绍到社区保洁岗位", "已办结")])
    woman.pushed()
    make_staff(database, "chaoyang", "朝阳区")
    await logged_in(client, "chaoyang")
    page = await client.get(f"/console/requests/{code}")
    assert '<option value="in_progress">办理中</option>' in page.text
    answer = await client.post(
        f"/console/requests/{code}/status",
        data={
            "status": "in_progress",
            "note": "回访发现还没落实",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert answer.status_code == 303
    request = _request(database, code)
    assert (request.status, request.reopened) == ("in_progress", 1)
    assert any("已重新交给朝阳区双井街道妇联办理" in p for p in woman.pushed())
    detail = (await client.get(f"/console/requests/{code}")).text
    assert "重新办理" in detail and "办结期限" in detail


# ----------------------------------------------------------------------------- 督办


async def test_overdue_requests_climb_to_the_district_then_the_city(
    chat: Callable[..., Chat],
    cadre: Callable[..., Chat],
    database: Database,
    settings: Settings,
    clock: Clock,
) -> None:
    """Not accepted by the end of the next working day: the district's cadres are told and it
    is marked 区督办 (once); a working day later the city's duty staff (市督办). An accepted
    request is supervised again only when it is not resolved in time."""
    district = cadre("朝阳区", user="cadre-2", name="区干部")
    with database.transaction() as session:
        duty_user(session, now=clock())
    code = _file(chat())
    runner = Scheduler(
        settings=settings,
        db=database,
        dispatcher=Dispatcher(db=database, senders={}, clock=clock),
        clock=clock,
    )
    request = _request(database, code)
    accept_due = repo.as_utc(request.accept_due or clock())
    clock.now = accept_due
    assert (await runner.tick(clock())).supervised == []
    clock.now = accept_due + timedelta(minutes=1)
    assert (await runner.tick(clock())).supervised == [f"{code}:1"]
    assert (await runner.tick(clock())).supervised == []
    assert any("【督办】" in p and "超期未受理" in p for p in district.pushed())
    clock.now = Limits().end_of_working_day(accept_due, 1) + timedelta(minutes=1)
    assert (await runner.tick(clock())).supervised == [f"{code}:2"]
    assert any("【督办】" in p for p in chat("duty").pushed())
    request = _request(database, code)
    assert request.supervised == 2 and _kinds(database, request).count("supervised") == 2
    await runner.stop()


async def test_the_overdue_filter_and_the_api(
    client: httpx.AsyncClient,
    chat: Callable[..., Chat],
    database: Database,
    clock: Clock,
) -> None:
    """超期督办 in the queue lists only the requests past a deadline, marked 超期; the staff API
    gives each request's deadlines and whether it is overdue."""
    late = _file(chat())
    clock.advance(days=3)
    fresh = _file(chat("resident-2"))
    make_staff(database, "chaoyang", "朝阳区")
    await logged_in(client, "chaoyang")
    page = (await client.get("/console/requests", params={"overdue": "1"})).text
    assert late in page and fresh not in page and "超期" in page
    listed = (await client.get("/api/v1/help-requests", headers=ADMIN)).json()
    by_code = {r["code"]: r for r in listed}
    assert by_code[late]["overdue"] is True and by_code[fresh]["overdue"] is False
    assert by_code[fresh]["accept_due"].endswith("23:59:59+08:00")
    assert by_code[fresh]["resolve_due"] and by_code[fresh]["accepted_at"] is None


def test_a_request_nobody_is_bound_for_goes_to_the_duty_staff(
    chat: Callable[..., Chat], database: Database, clock: Clock
) -> None:
    """No cadre anywhere on her path: she is told the city's duty staff have it, and they are
    told (no request without an owner)."""
    with database.transaction() as session:
        duty_user(session, now=clock())
    woman = chat()
    woman.run(FILE)
    assert "市妇联的值班工作人员负责" in woman.say("确认")
    [notice] = chat("duty").pushed()
    assert notice.startswith("【无人负责·请值班处理】") and "保洁" in notice
