"""Key behaviours of `storage.repo`, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from storage import repo
from storage.db import Database
from storage.models import HelpRequest, HelpRequestEvent, OrgUnit, User
from storage.repo._common import CODE_ALPHABET, REQUEST_CODE_LENGTH
from tests.factories import bind_cadre

NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def _unit(session: Session, path: str) -> OrgUnit:
    unit = repo.unit_by_path(session, path=path)
    assert unit is not None, path
    return unit


def _cadre(session: Session, path: str, name: str) -> User:
    return bind_cadre(session, place=path, name=name, now=NOW)


def _request(
    session: Session,
    *,
    unit: OrgUnit,
    district: str = "朝阳区",
    primary: str = "job",
    categories: tuple[str, ...] = ("job",),
    requester_id: int | None = None,
    phone: str | None = None,
) -> HelpRequest:
    return repo.create_help_request(
        session,
        unit_id=unit.id or 0,
        need="想找一份离家近的工作",
        primary=primary,
        categories=categories,
        crisis=False,
        district=district,
        street=None,
        community=None,
        contact="phone" if phone else "chat",
        phone=phone,
        requester_id=requester_id,
        created_by=requester_id,
        source="chat",
        now=NOW,
    )


def test_get_or_create_identity_creates_once(database: Database) -> None:
    """The first message of a channel address creates a resident; the next finds her."""
    with database.transaction() as session:
        identity, user, created = repo.get_or_create_identity(
            session, channel="api", external_id="u1", now=NOW
        )
        assert created and user.role == "resident"
    with database.transaction() as session:
        again, same, created_again = repo.get_or_create_identity(
            session, channel="api", external_id="u1", now=NOW
        )
        assert not created_again
        assert (again.id, same.id) == (identity.id, user.id)
        assert len(session.exec(select(User)).all()) == 1


def test_save_dialogue_refuses_a_stale_version(database: Database) -> None:
    """Saving a dialogue someone saved meanwhile raises ConcurrentUpdate."""
    with database.transaction() as session:
        _, user, _ = repo.get_or_create_identity(session, channel="api", external_id="u1", now=NOW)
        user_id = user.id or 0
    with database.transaction() as session:
        stale = repo.load_dialogue(session, user_id=user_id, now=NOW)
    with database.transaction() as session:
        fresh = repo.load_dialogue(session, user_id=user_id, now=NOW)
        repo.save_dialogue(
            session, dialogue=fresh, flow="help", state="need", data={"a": 1}, now=NOW
        )
    with pytest.raises(repo.ConcurrentUpdate), database.transaction() as session:
        repo.save_dialogue(session, dialogue=stale, flow="help", state="x", data={}, now=NOW)
    with database.read() as session:
        stored = repo.load_dialogue(session, user_id=user_id, now=NOW)
        assert (stored.version, stored.state, stored.data) == (1, "need", {"a": 1})


def test_help_requests_get_unique_codes_and_a_created_event(database: Database) -> None:
    """Each request gets its own 6-character typable code and a 'created' event."""
    with database.transaction() as session:
        unit = _unit(session, "朝阳区/双井街道")
        requests = [_request(session, unit=unit) for _ in range(30)]
        codes = [request.code for request in requests]
        events = session.exec(select(HelpRequestEvent)).all()
    assert len(set(codes)) == len(codes)
    assert all(len(code) == REQUEST_CODE_LENGTH for code in codes)
    assert all(set(code) <= set(CODE_ALPHABET) for code in codes)
    assert sorted(event.request_id for event in events) == sorted(r.id or 0 for r in requests)
    assert {event.kind for event in events} == {"created"}
    with database.read() as session:
        found = repo.request_by_code(session, code=codes[0].lower())
        assert found is not None and found.id == requests[0].id


def test_unit_for_place_finds_the_most_specific_unit(database: Database) -> None:
    """A place resolves to its street, a new community is added under it, unknown names stop."""
    with database.transaction() as session:
        street = repo.unit_for_place(session, district="朝阳区", street="双井街道")
        assert street.path == "北京市/朝阳区/双井街道"
        community = repo.unit_for_place(
            session,
            district="朝阳区",
            street="双井街道",
            community="九龙社区",
            create_community=True,
        )
        assert (community.level, community.parent_id) == ("community", street.id)
        unknown = repo.unit_for_place(session, district="朝阳区", street="不存在街道")
        assert unknown.path == "北京市/朝阳区"


def test_list_help_requests_filters(database: Database) -> None:
    """Requests are filtered by status, category and district, newest first."""
    with database.transaction() as session:
        chaoyang = _unit(session, "朝阳区")
        haidian = _unit(session, "海淀区")
        job = _request(session, unit=chaoyang)
        health = _request(
            session, unit=chaoyang, primary="health", categories=("health", "knowledge")
        )
        elsewhere = _request(session, unit=haidian, district="海淀区")
        repo.set_status(
            session,
            request=health,
            status="resolved",
            actor_id=None,
            note="ok",
            now=NOW,
            resolution="ok",
        )
    with database.read() as session:

        def codes(
            status: str | None = None, category: str | None = None, district: str | None = None
        ) -> list[str]:
            rows = repo.list_help_requests(
                session, status=status, category=category, district=district
            )
            return [request.code for request, _ in rows]

        assert codes() == [elsewhere.code, health.code, job.code]
        assert codes(status="new") == [elsewhere.code, job.code]
        assert codes(status="resolved") == [health.code]
        assert codes(category="knowledge") == [health.code]
        assert codes(category="job") == [elsewhere.code, job.code]
        assert codes(district="海淀区") == [elsewhere.code]
        assert codes(status="new", district="朝阳区", category="job") == [job.code]


def test_erase_requests_of_keeps_counts_not_content(database: Database) -> None:
    """Erasing a resident's requests keeps the rows but removes her need, phone and link."""
    with database.transaction() as session:
        _, user, _ = repo.get_or_create_identity(session, channel="api", external_id="u1", now=NOW)
        request = _request(
            session, unit=_unit(session, "朝阳区"), requester_id=user.id, phone="13800138000"
        )
        erased = repo.erase_requests_of(
            session, requester_id=user.id or 0, placeholder="（已删除）", note="erased", now=NOW
        )
        assert erased == 1
    with database.read() as session:
        rows = session.exec(select(HelpRequest)).all()
        assert len(rows) == 1
        kept = rows[0]
        assert kept.code == request.code
        assert kept.phone is None and kept.requester_id is None
        assert "想找" not in kept.need
        assert kept.status == "cancelled"
        assert kept.categories == ["job"]


def test_unaccepted_urgent_and_duty_staff(database: Database) -> None:
    """The chases' query lists the urgent requests in the waiting statuses filed by a moment,
    oldest first; the duty queries see only active accounts on duty."""
    from tests.factories import help_request

    now = datetime(2026, 3, 18, 2, tzinfo=UTC)
    with database.transaction() as session:
        first = help_request(session, need="他拿刀", crisis=True, now=now)
        help_request(session, need="找工作", now=now)
        other = help_request(session, place="海淀区", need="被关起来了", crisis=True, now=now)
        taken = help_request(session, need="他又动手", crisis=True, now=now)
        repo.set_status(
            session, request=taken, status="assigned", actor_id=None, note=None, now=now
        )
        found = repo.unaccepted_urgent(session, created_before=now, statuses=("new",))
        assert [r.code for r in found] == [first.code, other.code]
        assert found[0].created_at == now and found[0].danger_kind is None
        earlier = now.replace(hour=1)
        assert repo.unaccepted_urgent(session, created_before=earlier, statuses=("new",)) == []
        city = repo.unit_by_path(session, path="北京市")
        assert city is not None
        cadre = bind_cadre(session, place="", now=now)
        on = repo.create_staff(session, username="on", password_hash="x", unit=city, now=now)
        repo.create_staff(session, username="off", password_hash="x", unit=city, now=now)
        repo.set_duty(session, staff=on, on_duty=True, user_id=cadre.id)
        assert [s.username for s in repo.duty_staff(session)] == ["on"]
        assert repo.duty_user_ids(session) == [cadre.id]
        on.active = False
        session.add(on)
        assert repo.duty_staff(session) == [] and repo.duty_user_ids(session) == []
