"""The chases of unaccepted urgent cases on the scheduler's clock: 10 minutes → the unit,
30 minutes → the district and the city's duty staff, then every 30 minutes, day or night."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import Settings
from bot.domain.urgent import ChaseTimes, chase_stage
from bot.outbox import Dispatcher
from scheduler.rules import Reminder, reminders
from scheduler.runner import Scheduler
from storage import repo
from storage.db import Database
from tests.conftest import Clock
from tests.factories import bind_cadre, help_request
from tests.fakes.senders import RecordingSender
from tests.scheduler.test_rules import SH, World, at, file_request, move
from tests.scheduler.test_rules import world as world  # the fixture

FILED = at(3, 2, 23, 0)  # 23:00 Beijing time: quiet hours do not hold an urgent chase


def chases(world: World, minutes: float, times: ChaseTimes | None = None) -> list[Reminder]:
    """The urgent chases due `minutes` after FILED."""
    with world.db.read() as session:
        found = reminders(
            session,
            now=FILED + timedelta(minutes=minutes),
            settings_due_days=10,
            tz=SH,
            chases=times,
        )
    return [r for r in found if r.key.startswith("urgent:")]


def on_duty(world: World) -> int:
    """A city duty account linked to the chat user of the city cadre; that user's id."""
    with world.db.transaction() as session:
        city = repo.unit_by_path(session, path="北京市")
        assert city is not None
        staff = repo.create_staff(session, username="duty", password_hash="x", unit=city, now=FILED)
        repo.set_duty(session, staff=staff, on_duty=True, user_id=world.city)
    return world.city


STAGES = [
    (9, None),
    (10, (10, False)),
    (29, (10, False)),
    (30, (30, True)),
    (59, (30, True)),
    (60, (60, True)),
    (95, (90, True)),
]


@pytest.mark.parametrize(("minutes", "stage"), STAGES)
def test_chase_stage(minutes: int, stage: tuple[int, bool] | None) -> None:
    """The latest chase reached at an age: none before 10 minutes, the unit's at 10, the
    escalation at 30 and every 30 after."""
    assert chase_stage(timedelta(minutes=minutes), ChaseTimes()) == stage


def test_ten_minutes_chase_the_unit(world: World) -> None:
    """After 10 minutes the responsible unit's cadres are chased, urgent, even at 23:10."""
    case = file_request(world, when=FILED, crisis=True)
    assert chases(world, 9) == []
    due = chases(world, 10)
    assert {r.user_id for r in due} == set(world.shuangjing)
    assert all(r.urgent and r.due_at is None and case.code in r.text for r in due)
    assert {r.key for r in due} == {f"urgent:{case.code}:10m:u{u}" for u in world.shuangjing}


def test_thirty_minutes_reach_the_district_and_duty_staff(world: World) -> None:
    """After 30 minutes the district's cadres and the duty staff are told too; then every 30
    minutes under a new key, until someone accepts."""
    duty = on_duty(world)
    case = file_request(world, when=FILED, crisis=True)
    due = chases(world, 30)
    assert {r.user_id for r in due} == {*world.shuangjing, *world.chaoyang, duty}
    assert all(r.key.startswith(f"urgent:{case.code}:30m:") for r in due)
    assert any("督办" in r.text for r in due if r.user_id == duty)
    again = chases(world, 61)
    assert {r.key for r in again} == {r.key.replace(":30m:", ":60m:") for r in due}
    move(world, case, "assigned", by=world.shuangjing[0], when=FILED + timedelta(minutes=62))
    assert chases(world, 90) == []


def test_plain_requests_and_settings(world: World) -> None:
    """Only urgent cases are chased; the times come from the settings."""
    file_request(world, when=FILED)
    assert chases(world, 30) == []
    case = file_request(world, when=FILED, crisis=True)
    times = ChaseTimes.of_minutes(5, 15, 15)
    assert {r.key.split(":")[2] for r in chases(world, 5, times)} == {"5m"}
    assert {r.key.split(":")[2] for r in chases(world, 46, times)} == {"45m"}
    assert case.code


async def test_the_runner_chases_on_its_clock_with_the_settings(database: Database) -> None:
    """The scheduler's tick, on its clock at 23:00 Beijing time, queues and sends the unit's chase
    at FUQING_URGENT_FIRST_CHASE_MINUTES (here 5) — once — and the escalation at 15 minutes."""
    with database.transaction() as session:
        cadre = bind_cadre(session, place="朝阳区/双井街道", channel="wechat", now=FILED).id
        district = bind_cadre(
            session, place="朝阳区", name="区干部", channel="wechat", now=FILED
        ).id
        case = help_request(session, need="他拿着刀说要砍死我", crisis=True, now=FILED)
    settings = Settings(
        env="test",
        database_url=database.url,
        urgent_first_chase_minutes=5,
        urgent_escalate_minutes=15,
        urgent_repeat_minutes=15,
    )
    sender = RecordingSender()
    clock = Clock()
    clock.now = FILED
    dispatcher = Dispatcher(db=database, senders={"wechat": sender}, clock=clock)
    runner = Scheduler(settings=settings, db=database, dispatcher=dispatcher, clock=clock)
    clock.advance(minutes=4)
    assert [k for k in (await runner.tick(clock())).enqueued if k.startswith("urgent:")] == []
    clock.advance(minutes=1)
    first = await runner.tick(clock())
    assert f"urgent:{case.code}:5m:u{cadre}" in first.enqueued and first.sent >= 1
    assert (await runner.tick(clock())).enqueued == []
    clock.advance(minutes=10)
    later = await runner.tick(clock())
    assert f"urgent:{case.code}:15m:u{district}" in later.enqueued
    assert any(case.code in text for _user, text in sender.sent)
    await runner.stop()
