"""The help-request lifecycle (bot/domain/requests.py): each move, who may make it, its effects
(event, the requester told, her rating asked) and its refusals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest
from sqlmodel import Session, col, select

from bot import texts
from bot.console.api import Status
from bot.domain import requests
from bot.domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from bot.domain.requests import Actor
from storage import repo
from storage.db import Database
from storage.models import HelpRequest, HelpRequestEvent, Outbox, User
from tests.factories import bind_cadre, help_request

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


@pytest.fixture
def world(sqlite_database: Database) -> Iterator[Session]:
    """A resident's request at 朝阳区/双井街道; cadres of that street, of 朝阳区 and of 海淀区;
    a neighbour with a request of her own. The session stays open for the test."""
    with sqlite_database.transaction() as session:
        _i, woman, _n = repo.get_or_create_identity(
            session, channel="api", external_id="woman", now=NOW
        )
        _i, neighbour, _n = repo.get_or_create_identity(
            session, channel="api", external_id="neighbour", now=NOW
        )
        bind_cadre(session, place="朝阳区/双井街道", name="张干部", now=NOW)
        bind_cadre(session, place="朝阳区", name="李干部", now=NOW)
        bind_cadre(session, place="海淀区", name="王干部", now=NOW)
        help_request(session, need="想找工作，电话13812345678", requester_id=woman.id, now=NOW)
        help_request(session, place="海淀区", need="想学电脑", requester_id=neighbour.id, now=NOW)
        yield session


def user(session: Session, name: str) -> User:
    """A user of the world by external id (residents) or name (cadres)."""
    for candidate in session.exec(select(User)).all():
        if candidate.name == name:
            return candidate
    _i, found, _n = repo.get_or_create_identity(session, channel="api", external_id=name, now=NOW)
    return found


def actor(session: Session, who: str) -> Actor:
    """'woman', 'neighbour', a cadre's name, or 'staff:朝阳区' / 'staff:海淀区' (console)."""
    if who.startswith("staff:"):
        unit = repo.unit_by_path(session, path=who.removeprefix("staff:"))
        assert unit is not None
        return Actor.console(
            username="chaoyang", unit_id=unit.id or 0, unit_ids=repo.units_below(session, unit=unit)
        )
    return Actor.chat(user(session, who))


def woman_request(session: Session, status: str = "new") -> HelpRequest:
    """The woman's request, put in `status` directly (as stored data, not through a move)."""
    woman = user(session, "woman")
    found = session.exec(select(HelpRequest).where(HelpRequest.requester_id == woman.id)).one()
    found.status = status
    session.add(found)
    return found


def pushes(session: Session, name: str = "woman") -> list[Outbox]:
    """What was queued for `name`, oldest first."""
    who = user(session, name)
    return list(
        session.exec(select(Outbox).where(Outbox.user_id == who.id).order_by(col(Outbox.id)))
    )


def last_event(session: Session, request: HelpRequest) -> HelpRequestEvent:
    """The request's newest event."""
    return session.exec(
        select(HelpRequestEvent)
        .where(HelpRequestEvent.request_id == request.id)
        .order_by(col(HelpRequestEvent.id).desc())
    ).first() or pytest.fail("no event")


# ----------------------------------------------------------------------------- the machine


def test_machine_has_the_statuses_and_only_the_declared_moves() -> None:
    """One machine: the five statuses, no auto transitions, every move of MOVES and no other."""
    machine = requests.lifecycle()
    assert list(machine.states) == list(requests.STATES)
    assert set(machine.events) == {m.name for m in requests.MOVES}
    assert not any(name.startswith("to_") for name in machine.events)


@pytest.mark.parametrize(
    ("status", "role", "expected"),
    [
        ("new", "staff", ["assigned", "in_progress", "resolved", "cancelled"]),
        ("assigned", "staff", ["in_progress", "resolved", "cancelled"]),
        ("in_progress", "staff", ["resolved", "cancelled"]),
        ("resolved", "staff", ["in_progress"]),  # reopened with a note
        ("cancelled", "staff", []),
        ("new", "cadre", ["assigned", "resolved", "cancelled"]),
        ("assigned", "requester", ["cancelled"]),
    ],
)
def test_targets(status: str, role: requests.Role, expected: list[str]) -> None:
    """The statuses each role may move a request into, from each status."""
    assert requests.targets(status, role) == expected


# ----------------------------------------------------------------------------- each move

MOVES = [
    # (who, from, move, note, to)
    ("张干部", "new", "take", None, "assigned"),
    ("李干部", "new", "take", None, "assigned"),  # a cadre of the unit above
    ("staff:朝阳区", "new", "take", None, "assigned"),
    ("staff:朝阳区", "new", "start", None, "in_progress"),
    ("staff:朝阳区", "assigned", "start", "已联系", "in_progress"),
    ("张干部", "new", "resolve", "已介绍工作", "resolved"),
    ("张干部", "in_progress", "resolve", "已介绍工作", "resolved"),
    ("staff:朝阳区", "assigned", "resolve", "已介绍工作", "resolved"),
    ("woman", "new", "withdraw", None, "cancelled"),
    ("woman", "in_progress", "withdraw", None, "cancelled"),
    ("张干部", "assigned", "withdraw", None, "cancelled"),
    ("staff:朝阳区", "in_progress", "withdraw", "重复提交", "cancelled"),
]


@pytest.mark.parametrize(("who", "start", "move", "note", "dest"), MOVES)
def test_each_move(world: Session, who: str, start: str, move: str, note: str, dest: str) -> None:
    """Each allowed (who, from, move) reaches its status and records one event of it."""
    request = woman_request(world, start)
    moved = requests.move(
        world, code=request.code, actor=actor(world, who), move=move, note=note, now=LATER
    )
    assert moved.request.status == dest
    assert last_event(world, request).kind == dest


def test_assign_moves_a_new_request_and_keeps_a_started_one(world: Session) -> None:
    """Assigning sets the assignee; a new request becomes assigned, one in progress stays."""
    cadre = user(world, "张干部")
    request = woman_request(world, "new")
    staff = actor(world, "staff:朝阳区")
    requests.move(
        world, code=request.code, actor=staff, move="assign", note=None, now=NOW, cadre_id=cadre.id
    )
    assert (request.status, request.assigned_to) == ("assigned", cadre.id)
    request.status = "in_progress"
    above = user(world, "李干部")
    moved = requests.move(
        world,
        code=request.code,
        actor=staff,
        move="assign",
        note="请跟进",
        now=LATER,
        cadre_id=above.id,
    )
    assert (moved.request.status, moved.request.assigned_to) == ("in_progress", above.id)
    assert moved.assignee is not None and moved.assignee.id == above.id
    event = last_event(world, request)
    assert event.kind == "assigned"
    assert event.note == texts.t("console.assign_note", name="李干部") + texts.t(
        "console.tell_note", note="请跟进"
    ) + texts.t("console.by", username="chaoyang")
    assert [p.key for p in pushes(world)] == [
        f"request:{request.code}:take",
        f"request:{request.code}:take:{above.id}:{LATER.isoformat()}",
    ]


def test_rate_records_her_rating(world: Session) -> None:
    """Her rating of her resolved request is stored with a 'rated' event."""
    request = woman_request(world, "resolved")
    requests.rate(
        world,
        code=request.code,
        actor=actor(world, "woman"),
        rating="basic",
        note="慢了点",
        now=NOW,
    )
    assert (request.rating, request.rating_note, request.status) == ("basic", "慢了点", "resolved")
    event = last_event(world, request)
    assert (event.kind, event.note) == ("rated", "基本满意：慢了点")


# ----------------------------------------------------------------------------- effects


def test_a_cadre_taking_it_becomes_its_assignee_and_she_is_told(world: Session) -> None:
    """受理 in chat: the cadre is the assignee, the event names her, the woman is told who."""
    cadre = user(world, "张干部")
    request = woman_request(world)
    moved = requests.move(
        world, code=request.code, actor=Actor.chat(cadre), move="take", note=None, now=NOW
    )
    assert moved.told and request.assigned_to == cadre.id
    assert last_event(world, request).actor_id == cadre.id
    [push] = pushes(world)
    assert push.key == f"request:{request.code}:take"
    assert "朝阳区双井街道妇联的张干部" in push.text


def test_staff_taking_it_names_her_unit_and_marks_the_note(world: Session) -> None:
    """The console's 已受理: no assignee, the staff member's unit in the push, her mark."""
    request = woman_request(world)
    requests.move(
        world,
        code=request.code,
        actor=actor(world, "staff:朝阳区"),
        move="take",
        note="好",
        now=NOW,
    )
    assert request.assigned_to is None
    event = last_event(world, request)
    assert (event.actor_id, event.note) == (None, "好（控制台：chaoyang）")
    assert "朝阳区妇联" in pushes(world)[0].text


def test_resolving_stores_the_note_masked_tells_her_and_asks_her_rating(world: Session) -> None:
    """办结: resolution masked, resolved_at set; the push has the note as typed and asks her
    rating; her dialogue waits for the rating."""
    request = woman_request(world, "assigned")
    note = "已联系，回电13812345678"
    requests.move(
        world, code=request.code, actor=actor(world, "张干部"), move="resolve", note=note, now=NOW
    )
    assert request.resolution is not None and "13812345678" not in request.resolution
    assert request.resolved_at is not None
    [push] = pushes(world)
    assert note in push.text and texts.t("rate.ask") in push.text
    woman = user(world, "woman")
    assert repo.load_dialogue(world, user_id=woman.id or 0, now=NOW).data["rate"] == request.code


@pytest.mark.parametrize(("move", "key"), [("start", "in_progress"), ("withdraw", "cancelled")])
def test_staff_moves_tell_her_with_the_note(world: Session, move: str, key: str) -> None:
    """办理中 and 撤销 from the console tell her, with the staff member's note."""
    request = woman_request(world, "assigned")
    requests.move(
        world,
        code=request.code,
        actor=actor(world, "staff:朝阳区"),
        move=move,
        note="已核实",
        now=NOW,
    )
    [push] = pushes(world)
    assert push.key == f"request:{request.code}:{key}"
    assert "已核实" in push.text


def test_her_own_moves_are_not_pushed_to_her(world: Session) -> None:
    """She withdraws her own request: no push, no rating asked."""
    request = woman_request(world)
    moved = requests.move(
        world, code=request.code, actor=actor(world, "woman"), move="withdraw", note=None, now=NOW
    )
    assert not moved.told and pushes(world) == []


# ----------------------------------------------------------------------------- refusals

REFUSALS = [
    # (who, from, move, note, error, text key)
    ("woman", "new", "take", None, Forbidden, "progress.cadre_only"),
    ("woman", "new", "resolve", "好", Forbidden, "progress.cadre_only"),
    ("woman", "new", "start", None, Forbidden, "progress.cadre_only"),
    ("张干部", "new", "start", None, Forbidden, "progress.not_yours"),
    ("张干部", "new", "assign", None, Forbidden, "progress.not_yours"),
    ("王干部", "new", "take", None, NotFound, "progress.not_found"),  # another district's cadre
    ("neighbour", "new", "withdraw", None, NotFound, "progress.not_found"),  # another woman
    ("staff:海淀区", "new", "resolve", "好", NotFound, "progress.not_found"),
    ("张干部", "resolved", "rate", None, NotFound, "progress.not_found"),
    ("张干部", "assigned", "take", None, Conflict, "progress.closed"),
    ("woman", "resolved", "withdraw", None, Conflict, "progress.closed"),
    ("staff:朝阳区", "in_progress", "start", None, Conflict, "progress.closed"),
    ("staff:朝阳区", "cancelled", "assign", None, Conflict, "progress.closed"),
    ("woman", "new", "rate", None, Conflict, "progress.closed"),
    ("staff:朝阳区", "new", "reopen", None, Conflict, "progress.closed"),  # no such move
    ("张干部", "new", "resolve", None, Invalid, "progress.need_note"),
    ("staff:朝阳区", "in_progress", "resolve", "", Invalid, "progress.need_note"),
]


@pytest.mark.parametrize(("who", "start", "move", "note", "error", "key"), REFUSALS)
def test_refusals(
    world: Session,
    who: str,
    start: str,
    move: str,
    note: str | None,
    error: type[DomainError],
    key: str,
) -> None:
    """A move not hers to see, not hers to make, not from this status or without its
    arguments is refused with its exception and text key, and changes nothing."""
    request = woman_request(world, start)
    with pytest.raises(error) as refused:
        requests.move(
            world, code=request.code, actor=actor(world, who), move=move, note=note, now=NOW
        )
    assert refused.value.key == key
    assert request.status == start and pushes(world) == []


def test_a_cadre_filing_elsewhere_may_not_take_her_own_request(world: Session) -> None:
    """A 海淀区 cadre's own request filed in 朝阳区: she sees it, may withdraw it, not take it."""
    cadre = user(world, "王干部")
    request = woman_request(world)
    request.requester_id = cadre.id
    with pytest.raises(Forbidden) as refused:
        requests.move(
            world, code=request.code, actor=Actor.chat(cadre), move="take", note=None, now=NOW
        )
    assert (refused.value.key, refused.value.fields) == (
        "progress.not_yours",
        {"code": request.code},
    )
    requests.move(
        world, code=request.code, actor=Actor.chat(cadre), move="withdraw", note=None, now=NOW
    )
    assert request.status == "cancelled"


def test_assign_refuses_a_cadre_outside_the_request_units(world: Session) -> None:
    """Assigning to another district's cadre is Invalid."""
    request = woman_request(world)
    with pytest.raises(Invalid) as refused:
        requests.move(
            world,
            code=request.code,
            actor=actor(world, "staff:朝阳区"),
            move="assign",
            note=None,
            now=NOW,
            cadre_id=user(world, "王干部").id,
        )
    assert refused.value.key == "console.bad_cadre"


def test_a_rating_must_be_one_of_three(world: Session) -> None:
    """A rating outside satisfied / basic / unsatisfied is Invalid."""
    request = woman_request(world, "resolved")
    with pytest.raises(Invalid):
        requests.rate(
            world,
            code=request.code,
            actor=actor(world, "woman"),
            rating="great",
            note=None,
            now=NOW,
        )


def test_unknown_code_is_not_found(world: Session) -> None:
    """A code nobody filed is NotFound, naming the code."""
    with pytest.raises(NotFound) as refused:
        requests.move(
            world, code="ZZZZZZ", actor=actor(world, "张干部"), move="take", note=None, now=NOW
        )
    assert refused.value.fields == {"code": "ZZZZZZ"}


def test_the_rest_status_filter_lists_the_lifecycle_states() -> None:
    """The staff REST API's `status` filter (a Literal for validation) names exactly the states."""
    assert get_args(Status) == requests.STATES
