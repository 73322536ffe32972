"""Console staff accounts, and the staff's request queue (always within a set of units)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, case, cast, delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import (
    HelpRequest,
    HelpRequestEvent,
    LoginThrottle,
    OrgUnit,
    StaffAccount,
    User,
)
from storage.repo._common import stored
from storage.repo.requests import overdue_clause

# ----------------------------------------------------------------------------- accounts


def create_staff(
    session: Session, *, username: str, password_hash: str, unit: OrgUnit, now: datetime
) -> StaffAccount:
    """Create a console account bound to `unit` (the username must be new)."""
    staff = StaffAccount(
        username=username,
        password_hash=password_hash,
        unit_id=unit.id or 0,
        created_at=stored(now),
    )
    session.add(staff)
    session.flush()
    return staff


def staff_by_username(session: Session, *, username: str) -> StaffAccount | None:
    """Return the account with this username, if any."""
    return session.exec(select(StaffAccount).where(StaffAccount.username == username)).first()


def get_staff(session: Session, *, staff_id: int) -> StaffAccount | None:
    """Return one account by id."""
    return session.get(StaffAccount, staff_id)


def list_staff(session: Session) -> list[tuple[StaffAccount, OrgUnit]]:
    """Return every account with its unit, by username."""
    rows = session.exec(
        select(StaffAccount, OrgUnit)
        .join(OrgUnit, col(OrgUnit.id) == col(StaffAccount.unit_id))
        .order_by(col(StaffAccount.username))
    ).all()
    return [(row[0], row[1]) for row in rows]


def set_duty(
    session: Session, *, staff: StaffAccount, on_duty: bool, user_id: int | None = None
) -> None:
    """Put an account on duty or off it; `user_id`: link it to that chat user as well."""
    staff.on_duty = on_duty
    if user_id is not None:
        staff.user_id = user_id
    session.add(staff)


def duty_staff(session: Session) -> list[StaffAccount]:
    """The active accounts on duty (they get every urgent case), by id."""
    query = select(StaffAccount).where(
        col(StaffAccount.active).is_(True), col(StaffAccount.on_duty).is_(True)
    )
    return list(session.exec(query.order_by(col(StaffAccount.id))).all())


def record_login(
    session: Session, *, staff: StaffAccount, new_hash: str | None, now: datetime
) -> None:
    """Note a successful login; store `new_hash` when the password was rehashed."""
    staff.last_login_at = stored(now)
    if new_hash is not None:
        staff.password_hash = new_hash
    session.add(staff)


def remove_staff(session: Session, *, staff: StaffAccount) -> None:
    """Delete a console account (nothing refers to it; its sessions then find no account)."""
    session.delete(staff)
    session.flush()


def end_sessions(session: Session, *, staff: StaffAccount) -> None:
    """Void every session of this account issued so far (logout): its generation moves on."""
    staff.session_generation += 1
    session.add(staff)


# ----------------------------------------------------------------------------- login throttle


def login_throttle(session: Session, *, key: str, now: datetime) -> LoginThrottle:
    """The throttle row of a username's `key`, created when missing, held until the
    transaction ends (PostgreSQL: a row lock; SQLite's transactions are serial)."""
    found = session.exec(
        select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
    ).first()
    if found is not None:
        return found
    row = LoginThrottle(key=key, last_failure_at=stored(now))
    try:
        with session.begin_nested():  # another worker's first failure got in first
            session.add(row)
    except IntegrityError:
        return session.exec(
            select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
        ).one()
    return row


def clear_login_failures(session: Session, *, key: str) -> None:
    """Forget a username's failed logins (she logged in)."""
    session.execute(delete(LoginThrottle).where(col(LoginThrottle.key) == key))


def forget_login_failures(session: Session, *, before: datetime) -> int:
    """Delete the throttle rows whose last failure is older than `before`; how many."""
    result = session.execute(
        delete(LoginThrottle).where(col(LoginThrottle.last_failure_at) < stored(before))
    )
    return int(getattr(result, "rowcount", 0) or 0)


# ----------------------------------------------------------------------------- the queue


def _queue_filters(
    *,
    unit_ids: Sequence[int],
    status: str | None,
    category: str | None,
    district: str | None,
    urgent: bool,
    code: str | None,
    overdue_at: datetime | None = None,
) -> list[Any]:
    clauses: list[Any] = [col(HelpRequest.unit_id).in_(list(unit_ids))]
    if overdue_at is not None:  # 超期督办: open and past a deadline
        clauses.append(overdue_clause(overdue_at))
    if status:
        clauses.append(col(HelpRequest.status) == status)
    if category:
        # Categories are a JSON list; its text form contains the quoted code on both databases.
        clauses.append(cast(HelpRequest.categories, String).contains(f'"{category}"'))
    if district:
        clauses.append(col(HelpRequest.district) == district)
    if urgent:
        clauses.append(col(HelpRequest.crisis).is_(True))
    if code:
        clauses.append(col(HelpRequest.code).contains(code.strip().upper(), autoescape=True))
    return clauses


def queue_requests(
    session: Session,
    *,
    unit_ids: Sequence[int],
    status: str | None = None,
    category: str | None = None,
    district: str | None = None,
    urgent: bool = False,
    code: str | None = None,
    pinned: Sequence[str] = (),
    limit: int = 20,
    offset: int = 0,
    overdue_at: datetime | None = None,
) -> tuple[list[tuple[HelpRequest, User | None]], int]:
    """Requests filed with one of `unit_ids` matching the filters (`overdue_at`: only those
    open and past a deadline then), with their assignee: the crisis requests in one of the
    `pinned` statuses first, then newest first; and how many match in all."""
    clauses = _queue_filters(
        unit_ids=unit_ids,
        status=status,
        category=category,
        district=district,
        urgent=urgent,
        code=code,
        overdue_at=overdue_at,
    )
    total = session.exec(select(func.count()).select_from(HelpRequest).where(*clauses)).one()
    rows = session.exec(
        select(HelpRequest, User)
        .join(User, col(User.id) == col(HelpRequest.assigned_to), isouter=True)
        .where(*clauses)
        .order_by(
            *_urgent_first(pinned),
            col(HelpRequest.created_at).desc(),
            col(HelpRequest.id).desc(),
        )
        .offset(offset)
        .limit(limit)
    ).all()
    return [(row[0], row[1]) for row in rows], int(total)


def _urgent_first(statuses: Sequence[str]) -> list[Any]:
    """The ORDER BY term that puts crisis requests in one of `statuses` first (none: [])."""
    if not statuses:
        return []
    waiting = and_(col(HelpRequest.crisis).is_(True), col(HelpRequest.status).in_(list(statuses)))
    return [case((waiting, 0), else_=1)]


def count_urgent_requests(
    session: Session, *, unit_ids: Sequence[int] | None, statuses: Sequence[str]
) -> int:
    """How many crisis requests in one of `statuses` are filed with one of `unit_ids` (None:
    every unit)."""
    query = (
        select(func.count())
        .select_from(HelpRequest)
        .where(col(HelpRequest.crisis).is_(True), col(HelpRequest.status).in_(list(statuses)))
    )
    if unit_ids is not None:
        query = query.where(col(HelpRequest.unit_id).in_(list(unit_ids)))
    return int(session.exec(query).one())


def request_in_units(session: Session, *, code: str, unit_ids: Sequence[int]) -> HelpRequest | None:
    """The request with this code when it was filed with one of `unit_ids`, else None."""
    return session.exec(
        select(HelpRequest).where(
            HelpRequest.code == code.strip().upper(),
            col(HelpRequest.unit_id).in_(list(unit_ids)),
        )
    ).first()


def request_events(
    session: Session, *, request_id: int
) -> list[tuple[HelpRequestEvent, User | None]]:
    """A request's history, oldest first, with the acting user (None: the system or staff)."""
    rows = session.exec(
        select(HelpRequestEvent, User)
        .join(User, col(User.id) == col(HelpRequestEvent.actor_id), isouter=True)
        .where(HelpRequestEvent.request_id == request_id)
        .order_by(col(HelpRequestEvent.at), col(HelpRequestEvent.id))
    ).all()
    return [(row[0], row[1]) for row in rows]


def queue_cadres(session: Session, *, unit_ids: Sequence[int]) -> list[tuple[User, OrgUnit]]:
    """The cadres bound to any of `unit_ids`, with their unit, by unit path and name."""
    rows = session.exec(
        select(User, OrgUnit)
        .join(OrgUnit, col(OrgUnit.id) == col(User.unit_id))
        .where(
            col(User.unit_id).in_(list(unit_ids)),
            User.role == "cadre",
            col(User.deleted_at).is_(None),
        )
        .order_by(col(OrgUnit.path), col(User.id))
    ).all()
    # Names are encrypted (storage/crypto.py): sorted here, not in SQL.
    return sorted(
        ((row[0], row[1]) for row in rows), key=lambda p: (p[1].path, p[0].name or "", p[0].id)
    )
