"""The reminder rules at their moments: summaries, requests, pairs and contact points.

Dates: 2026Q1's summary is due Friday 2026-04-10 (T); 2026Q2's middle day is 2026-05-16.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from scheduler.rules import Reminder, reminders
from storage import repo
from storage.db import Database
from storage.models import HelpRequest
from tests.conftest import Clock
from tests.factories import bind_cadre, help_request

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 1, 10, 0, tzinfo=SH)


def at(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2026) -> datetime:
    """A moment in Asia/Shanghai, as the aware UTC datetime the scheduler gets."""
    return datetime(year, month, day, hour, minute, tzinfo=SH).astimezone(UTC)


@dataclass
class World:
    """The cadres of the tests: city staff, 朝阳区, its 双井街道, and 海淀区."""

    db: Database
    city: int
    chaoyang: list[int]
    shuangjing: list[int]
    haidian: int

    def due(self, now: datetime, prefix: str = "", days: int = 10) -> list[Reminder]:
        """The reminders due at `now` whose key starts with `prefix`."""
        with self.db.read() as session:
            found = reminders(session, now=now, settings_due_days=days, tz=SH)
        return [r for r in found if r.key.startswith(prefix)]

    def keys(self, now: datetime, prefix: str = "") -> set[str]:
        """The keys of the reminders due at `now` starting with `prefix`."""
        return {r.key for r in self.due(now, prefix)}


def make_cadre(session: Session, *, unit: str, name: str) -> int:
    """Bind a new cadre (reachable on the api channel) to the unit at `unit`; her id."""
    user = bind_cadre(session, place=unit, name=name, now=START)
    assert user.id is not None
    return user.id


@pytest.fixture
def world(database: Database) -> World:
    """Cadres on the city, 朝阳区 (two), 朝阳区/双井街道 (two) and 海淀区."""
    with database.transaction() as session:
        return World(
            db=database,
            city=make_cadre(session, unit="", name="市妇联"),
            chaoyang=[
                make_cadre(session, unit="朝阳区", name="朝阳1"),
                make_cadre(session, unit="朝阳区", name="朝阳2"),
            ],
            shuangjing=[
                make_cadre(session, unit="朝阳区/双井街道", name="双井1"),
                make_cadre(session, unit="朝阳区/双井街道", name="双井2"),
            ],
            haidian=make_cadre(session, unit="海淀区", name="海淀1"),
        )


def report_keys(world: World, label: str, quarter: str = "2026Q1") -> set[str]:
    """The keys of 朝阳区's and 海淀区's cadres for one milestone."""
    users = [*world.chaoyang, world.haidian]
    names = ["朝阳区", "朝阳区", "海淀区"]
    return {f"report:{n}:{quarter}:{label}:u{u}" for n, u in zip(names, users, strict=True)}


# ----------------------------------------------------------------------------- summaries


@pytest.mark.parametrize(
    ("month", "day", "label"),
    [(4, 3, "T-7"), (4, 9, "T-1"), (4, 10, "T"), (4, 13, "T+3"), (4, 16, "T+6")],
)
def test_report_milestone_fires_at_nine(world: World, month: int, day: int, label: str) -> None:
    """Each milestone reaches the district cadres at 09:00, not a minute before."""
    assert not report_keys(world, label) & world.keys(at(month, day, 8, 59), "report:")
    assert report_keys(world, label) <= world.keys(at(month, day, 9, 0), "report:")


def test_report_quiet_between_milestones(world: World) -> None:
    """Days that are no milestone bring no summary reminder."""
    for day in (4, 5, 6, 7, 8, 11, 12, 14, 15):
        assert world.keys(at(4, day, 10), "report:") == set(), day


def test_report_reaches_only_the_units_own_cadres(world: World) -> None:
    """A street's cadres and the city staff get nothing before T+7."""
    users = {r.user_id for r in world.due(at(4, 13, 9, 5), "report:")}
    assert users == {*world.chaoyang, world.haidian}


def test_report_text_names_unit_quarter_and_due_date(world: World) -> None:
    """The text names the unit, the quarter, the due date and the command."""
    (first, *_rest) = [r for r in world.due(at(4, 3, 9), "report:") if r.user_id == world.haidian]
    assert "海淀区" in first.text and "2026年第1季度" in first.text
    assert "4月10日" in first.text and "季度汇总" in first.text and "7天" in first.text
    assert first.due_at is None and not first.urgent


def test_report_keys_are_stable(world: World) -> None:
    """Two ticks of the same window give the same keys and texts."""
    first = world.due(at(4, 10, 9, 0), "report:")
    second = world.due(at(4, 10, 9, 1), "report:")
    assert first and [(r.key, r.text) for r in first] == [(r.key, r.text) for r in second]


def test_report_catch_up_within_a_day_only(world: World) -> None:
    """A tick missed at 09:00 still sends until 08:59 next day, and no longer."""
    assert report_keys(world, "T-7") <= world.keys(at(4, 3, 20, 59), "report:")
    assert report_keys(world, "T-7") <= world.keys(at(4, 4, 8, 59), "report:")
    assert world.keys(at(4, 4, 9, 0), "report:") == set()


def test_city_staff_from_t_plus_7(world: World) -> None:
    """From T+7 the city staff get one list of the late units every 3 days."""
    assert all(r.user_id != world.city for r in world.due(at(4, 13, 9), "report:"))
    seven = world.due(at(4, 17, 9), "report:")
    assert {r.key for r in seven} == {f"report:city:2026Q1:T+7:u{world.city}"}
    assert "朝阳区" in seven[0].text and "海淀区" in seven[0].text and "7天" in seven[0].text
    assert world.keys(at(4, 19, 9), "report:city:") == set()
    assert world.keys(at(4, 20, 9), "report:") == {f"report:city:2026Q1:T+10:u{world.city}"}
    assert report_keys(world, "T+9") == world.keys(at(4, 19, 9), "report:")


def test_submitted_stops_and_returned_restarts(world: World) -> None:
    """A submitted summary stops its unit's reminders; returned, they start again."""
    with world.db.transaction() as session:
        unit = repo.unit_by_path(session, path="朝阳区")
        assert unit is not None and unit.id is not None
        report = repo.report_for(session, unit_id=unit.id, quarter="2026Q1", now=at(4, 11))
        repo.submit_report(
            session, report=report, figures={}, remark=None, by=world.chaoyang[0], now=at(4, 11)
        )
    users = {r.user_id for r in world.due(at(4, 13, 9), "report:")}
    assert users == {world.haidian}
    city = world.due(at(4, 17, 9), "report:city:")
    assert "海淀区" in city[0].text and "朝阳区" not in city[0].text
    with world.db.transaction() as session:
        report = repo.report_for(session, unit_id=unit.id, quarter="2026Q1", now=at(4, 14))
        repo.review_report(session, report=report, accept=False, comment="补充", now=at(4, 14))
    assert report_keys(world, "T+6") == world.keys(at(4, 16, 9), "report:")


def test_accepted_stays_stopped(world: World) -> None:
    """An accepted summary brings no more reminders, and the city list leaves it out."""
    with world.db.transaction() as session:
        for unit in repo.district_units(session):
            assert unit.id is not None
            report = repo.report_for(session, unit_id=unit.id, quarter="2026Q1", now=at(4, 9))
            repo.submit_report(
                session, report=report, figures={}, remark=None, by=None, now=at(4, 9)
            )
            repo.review_report(session, report=report, accept=True, comment=None, now=at(4, 9))
    assert world.keys(at(4, 10, 9), "report:") == set()
    assert world.keys(at(4, 17, 9), "report:") == set()


def test_override_moves_milestones(world: World) -> None:
    """An admin's due date moves every milestone with it."""
    with world.db.transaction() as session:
        repo.set_due_date(session, quarter="2026Q1", due=date(2026, 4, 20), note=None, now=START)
    assert world.keys(at(4, 3, 9), "report:") == set()
    assert report_keys(world, "T-7") <= world.keys(at(4, 13, 9), "report:")
    assert "4月20日" in world.due(at(4, 13, 9), "report:")[0].text


def test_due_days_setting(world: World) -> None:
    """FUQING_REPORT_DUE_DAYS moves the due date: 14 days → Tuesday 2026-04-14."""
    assert report_keys(world, "T-7") <= {r.key for r in world.due(at(4, 7, 9), "report:", days=14)}


def test_previous_quarter_still_reminded_in_the_next(world: World) -> None:
    """2025Q4 (due 2026-01-12) is overdue on 2026-02-11 (T+30) and still reminded."""
    assert report_keys(world, "T+30", quarter="2025Q4") <= world.keys(at(2, 11, 9), "report:")


# ----------------------------------------------------------------------------- quiet hours


def test_quiet_hours_hold_until_eight(world: World) -> None:
    """A catch-up at 22:00 is held until 08:00 next morning; 08:00 itself is not quiet."""
    late = world.due(at(4, 10, 22, 0), "report:")
    assert late and {r.due_at for r in late} == {at(4, 11, 8, 0)}
    early = world.due(at(4, 11, 7, 59), "report:")
    assert early and {r.due_at for r in early} == {at(4, 11, 8, 0)}
    assert {r.due_at for r in world.due(at(4, 11, 8, 0), "report:")} == {None}


# ----------------------------------------------------------------------------- requests


def file_request(
    world: World, *, unit: str = "朝阳区/双井街道", when: datetime, crisis: bool = False
) -> HelpRequest:
    """File a request with the unit at `unit` at the moment `when`."""
    with world.db.transaction() as session:
        return help_request(
            session, place=unit, need="想找份能照顾孩子的工作", crisis=crisis, now=when
        )


def move(
    world: World, request: HelpRequest, status: str, *, by: int | None, when: datetime
) -> None:
    """Move a request to `status`, acted by the cadre `by`."""
    with world.db.transaction() as session:
        found = repo.request_by_code(session, code=request.code)
        assert found is not None
        repo.set_status(
            session,
            request=found,
            status=status,
            actor_id=by,
            note="好",
            now=when,
            assigned_to=by if status in ("assigned", "in_progress") else None,
        )


FILED = at(3, 2, 10, 30)


def test_unassigned_after_24_hours(world: World) -> None:
    """A new request reaches the street's cadres 24 h after filing, not before."""
    request = file_request(world, when=FILED)
    assert world.keys(FILED + timedelta(hours=23, minutes=59), "request:") == set()
    due = world.due(FILED + timedelta(hours=24), "request:")
    assert {r.key for r in due} == {f"request:{request.code}:24h:u{u}" for u in world.shuangjing}
    assert request.code in due[0].text and f"受理 {request.code}" in due[0].text
    assert "岗位" in due[0].text and "双井街道" in due[0].text


def test_unassigned_catch_up_within_a_day_only(world: World) -> None:
    """The 24 h reminder is still computed 23 h later, not a day later; twice the same keys."""
    request = file_request(world, when=FILED)
    expected = {f"request:{request.code}:24h:u{u}" for u in world.shuangjing}
    assert world.keys(FILED + timedelta(hours=47, minutes=59), "request:") == expected
    assert world.keys(FILED + timedelta(hours=47, minutes=59), "request:") == expected
    assert world.keys(FILED + timedelta(hours=48), "request:") == set()


def test_assigned_request_is_not_unassigned(world: World) -> None:
    """A request taken within 24 h brings no 24 h reminder."""
    request = file_request(world, when=FILED)
    move(world, request, "assigned", by=world.shuangjing[1], when=FILED + timedelta(hours=2))
    assert world.keys(FILED + timedelta(hours=24), "request:") == set()


def test_unassigned_goes_up_to_the_first_unit_with_cadres(world: World) -> None:
    """A request filed where no cadre is bound reaches the district's cadres."""
    request = file_request(world, unit="朝阳区/三里屯街道", when=FILED)
    assert world.keys(FILED + timedelta(hours=24), "request:") == {
        f"request:{request.code}:24h:u{u}" for u in world.chaoyang
    }


def test_unresolved_after_7_days_to_the_assignee(world: World) -> None:
    """After 7 days an open request reaches its assignee only."""
    request = file_request(world, when=FILED)
    move(world, request, "in_progress", by=world.shuangjing[1], when=FILED + timedelta(days=1))
    assert world.keys(FILED + timedelta(days=7) - timedelta(minutes=1), "request:") == set()
    due = world.due(FILED + timedelta(days=7), "request:")
    assert [r.key for r in due] == [f"request:{request.code}:7d:u{world.shuangjing[1]}"]
    assert "7天" in due[0].text and "查询进度" in due[0].text


def test_unresolved_after_7_days_without_assignee(world: World) -> None:
    """After 7 days an unassigned request reaches the unit's cadres."""
    request = file_request(world, when=FILED)
    assert world.keys(FILED + timedelta(days=7, hours=1), "request:") == {
        f"request:{request.code}:7d:u{u}" for u in world.shuangjing
    }


def test_after_14_days_to_the_district(world: World) -> None:
    """After 14 days an open request reaches the district's cadres."""
    request = file_request(world, when=FILED)
    move(world, request, "assigned", by=world.shuangjing[0], when=FILED + timedelta(hours=1))
    due = world.due(FILED + timedelta(days=14), "request:")
    assert {r.key for r in due} == {f"request:{request.code}:14d:u{u}" for u in world.chaoyang}
    assert "双井街道" in due[0].text and "14天" in due[0].text


def test_resolved_request_is_not_reminded(world: World) -> None:
    """A resolved request brings no more reminders."""
    request = file_request(world, when=FILED)
    move(world, request, "resolved", by=world.shuangjing[0], when=FILED + timedelta(days=3))
    assert world.keys(FILED + timedelta(days=7), "request:") == set()
    assert world.keys(FILED + timedelta(days=14), "request:") == set()


def test_crisis_reminders_are_urgent_in_quiet_hours(world: World) -> None:
    """Reminders about a crisis request are urgent and not held by the quiet hours."""
    filed = at(3, 2, 22, 30)
    crisis = file_request(world, when=filed, crisis=True)
    plain = file_request(world, when=filed)
    due = {r.key.split(":")[1]: r for r in world.due(filed + timedelta(hours=24), "request:")}
    assert due[crisis.code].urgent and due[crisis.code].due_at is None
    assert "【紧急】" in due[crisis.code].text
    assert not due[plain.code].urgent and due[plain.code].due_at == at(3, 4, 8, 0)


def test_request_stages_with_the_clock(world: World, clock: Clock) -> None:
    """Moving the clock through three weeks fires each stage once, at its time."""
    clock.now = FILED.astimezone(UTC)
    file_request(world, when=clock())
    seen: dict[str, datetime] = {}
    for _ in range(21 * 8):
        for key in world.keys(clock(), "request:"):
            seen.setdefault(key.split(":")[2], clock())
        clock.advance(hours=3)
    assert seen == {
        "24h": FILED + timedelta(hours=24),
        "7d": FILED + timedelta(days=7),
        "14d": FILED + timedelta(days=14),
    }


# ----------------------------------------------------------------------------- pairs and points


def add_point(
    world: World, *, holder: int, kind: str, name: str, community: str | None, when: datetime
) -> int:
    """Register a contact point or paired household for `holder`; its id."""
    with world.db.transaction() as session:
        point = repo.add_contact_point(
            session,
            holder_id=holder,
            kind=kind,
            name=name,
            unit_id=None,
            community=community,
            now=when,
        )
        assert point.id is not None
        return point.id


def visit(
    world: World,
    *,
    cadre: int,
    on: date,
    whom: str = "王某，1人",
    district: str = "朝阳区",
    street: str | None = "双井街道",
    community: str | None = "九龙社区",
) -> None:
    """File a visit by `cadre` on `on`."""
    with world.db.transaction() as session:
        unit = repo.unit_by_path(session, path="朝阳区/双井街道")
        assert unit is not None and unit.id is not None
        repo.create_visit(
            session,
            cadre_id=cadre,
            unit_id=unit.id,
            on=on,
            district=district,
            street=street,
            community=community,
            visit_form="one_on_one",
            whom=whom,
            people=1,
            focus=[],
            notes="了解情况",
            primary=None,
            categories=[],
            help_request_id=None,
            now=datetime.combine(on, datetime.min.time(), tzinfo=SH),
        )


def test_pair_without_visit_after_30_days(world: World) -> None:
    """A pair never visited is nudged 30 days after registration, then every 30 days."""
    holder = world.city
    pid = add_point(
        world, holder=holder, kind="household", name="王某", community="九龙社区", when=START
    )
    assert world.keys(at(3, 31, 8, 59), "pair:") == set()
    due = world.due(at(3, 31, 9), "pair:")
    assert [r.key for r in due] == [f"pair:{pid}:2026-03-01:u{holder}"]
    assert "王某" in due[0].text and "九龙社区" in due[0].text and "30天" in due[0].text
    assert world.keys(at(4, 1, 9), "pair:") == set()
    assert world.keys(at(4, 30, 9), "pair:") == {f"pair:{pid}:2026-03-31:u{holder}"}


def test_pair_counts_from_the_last_visit(world: World) -> None:
    """A visit naming the pair restarts the 30 days; others' visits or places don't."""
    holder = world.city
    pid = add_point(
        world, holder=holder, kind="household", name="王某", community="九龙社区", when=START
    )
    visit(world, cadre=holder, on=date(2026, 3, 20), whom="王某 1人")
    visit(world, cadre=world.chaoyang[0], on=date(2026, 4, 10), whom="王某")
    visit(world, cadre=holder, on=date(2026, 4, 12), whom="王某", community="劲松社区")
    visit(world, cadre=holder, on=date(2026, 4, 15), whom="李某")
    assert world.keys(at(3, 31, 9), "pair:") == set()
    assert world.keys(at(4, 18, 9), "pair:") == set()
    due = world.due(at(4, 19, 9), "pair:")
    assert [r.key for r in due] == [f"pair:{pid}:2026-03-20:u{holder}"]
    assert "3月20日" in due[0].text


def test_pair_catch_up_and_stable_keys(world: World) -> None:
    """The pair nudge holds through the next morning, under one key, and then stops."""
    pid = add_point(
        world, holder=world.city, kind="household", name="王某", community=None, when=START
    )
    key = {f"pair:{pid}:2026-03-01:u{world.city}"}
    assert world.keys(at(3, 31, 20), "pair:") == key == world.keys(at(4, 1, 8, 59), "pair:")
    assert world.keys(at(4, 1, 9), "pair:") == set()


def test_contact_points_at_mid_quarter(world: World) -> None:
    """At the quarter's middle day, points not visited this quarter nudge their holder."""
    holder = world.city
    add_point(  # visited this quarter: not nudged
        world, holder=holder, kind="street", name="双井街道", community=None, when=START
    )
    district = add_point(
        world, holder=holder, kind="district", name="海淀区", community=None, when=START
    )
    community = add_point(
        world, holder=holder, kind="community", name="九龙社区", community=None, when=START
    )
    visit(world, cadre=holder, on=date(2026, 3, 25), community=None)  # last quarter
    visit(world, cadre=holder, on=date(2026, 4, 20), community=None)  # 双井街道, this quarter
    assert world.keys(at(5, 16, 8, 59), "point:") == set()
    due = world.due(at(5, 16, 9), "point:")
    assert {r.key for r in due} == {
        f"point:{district}:2026Q2:u{holder}",
        f"point:{community}:2026Q2:u{holder}",
    }
    assert all("2026年第2季度" in r.text and "走访记录" in r.text for r in due)
    assert world.keys(at(5, 17, 9), "point:") == set()


def test_contact_point_registered_after_mid_quarter(world: World) -> None:
    """A point registered after 09:00 on the middle day waits for the next quarter."""
    add_point(
        world,
        holder=world.city,
        kind="community",
        name="九龙社区",
        community=None,
        when=at(5, 16, 10),
    )
    assert world.keys(at(5, 16, 10, 1), "point:") == set()
    assert len(world.keys(at(8, 15, 9), "point:")) == 1  # the next quarter's middle day


def test_deleted_holder_is_not_nudged(world: World) -> None:
    """Points of a deleted user are skipped."""
    add_point(
        world, holder=world.haidian, kind="household", name="王某", community=None, when=START
    )
    with world.db.transaction() as session:
        user = repo.get_user(session, user_id=world.haidian)
        assert user is not None
        repo.erase_user(session, user=user, now=START)
    assert world.keys(at(3, 31, 9), "pair:") == set()


def test_the_citys_own_summary_is_reminded_until_submitted(world: World) -> None:
    """The city's summary is due ten days after the districts' (2026-04-20): its cadres are
    reminded at T−7, T−1, T and every 3 days overdue; once city staff submit it, no more."""
    expected = {
        (4, 13): "T-7",
        (4, 19): "T-1",
        (4, 20): "T",
        (4, 23): "T+3",
    }
    for (month, day), label in expected.items():
        found = world.due(at(month, day, 9, 5), "city-summary:")
        assert [(r.key, r.user_id) for r in found] == [
            (f"city-summary:2026Q1:{label}:u{world.city}", world.city)
        ], label
    assert world.due(at(4, 21, 9, 5), "city-summary:") == []
    [today] = world.due(at(4, 20, 9, 5), "city-summary:")
    assert "北京市" in today.text and "今天（4月20日）截止" in today.text and "工作台" in today.text
    with world.db.transaction() as session:
        city = repo.city_unit(session)
        report = repo.report_for(session, unit_id=city.id or 0, quarter="2026Q1", now=at(4, 20))
        repo.submit_report(session, report=report, figures={}, remark=None, by=None, now=at(4, 20))
    assert world.due(at(4, 23, 9, 5), "city-summary:") == []
