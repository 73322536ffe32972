"""Hand-off threads (转人工) and their messages: reads and writes for `bot.domain.handoff`.

A woman has at most one thread not closed; `open_thread_of` finds it. Staff list the threads
of their units (`threads_in`, None: the whole city), waiting ones first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from storage.models import Handoff, HandoffMessage, OrgUnit
from storage.repo._common import stored, unused_code

HANDOFF_CODE_LENGTH = 5
OPEN_THREAD = ("waiting", "answered")


def create_thread(
    session: Session,
    *,
    user_id: int,
    unit_id: int,
    channel: str,
    now: datetime,
    taken_by: str | None = None,
) -> Handoff:
    """A new waiting thread of `user_id` with `unit_id`, under a fresh code ("H" + 5);
    `taken_by`: the staff login who opened it (接管), None when she asked for a person."""
    code = unused_code(session, Handoff.code, HANDOFF_CODE_LENGTH, prefix="H")
    row = Handoff(
        code=code,
        user_id=user_id,
        unit_id=unit_id,
        channel=channel,
        status="waiting",
        opened_at=stored(now),
        last_at=stored(now),
        taken_by=taken_by,
    )
    session.add(row)
    session.flush()
    return row


def open_thread_of(session: Session, *, user_id: int) -> Handoff | None:
    """Her thread not closed yet, if any."""
    return session.exec(
        select(Handoff)
        .where(Handoff.user_id == user_id, col(Handoff.status).in_(OPEN_THREAD))
        .order_by(col(Handoff.id).desc())
    ).first()


def thread_by_code(session: Session, *, code: str) -> Handoff | None:
    """The thread under `code` (any case)."""
    return session.exec(select(Handoff).where(Handoff.code == code.upper())).first()


def add_message(
    session: Session,
    *,
    thread: Handoff,
    author: str,
    text: str,
    now: datetime,
    name: str | None = None,
) -> HandoffMessage:
    """Append a message to `thread` (and date the thread's last activity)."""
    row = HandoffMessage(
        handoff_id=thread.id or 0, author=author, name=name, text=text, at=stored(now)
    )
    thread.last_at = stored(now)
    session.add(row)
    session.add(thread)
    session.flush()
    return row


def thread_messages(session: Session, *, thread: Handoff) -> list[HandoffMessage]:
    """The thread's messages, oldest first."""
    return list(
        session.exec(
            select(HandoffMessage)
            .where(HandoffMessage.handoff_id == thread.id)
            .order_by(col(HandoffMessage.id))
        ).all()
    )


def save_thread(session: Session, *, thread: Handoff) -> None:
    """Write the thread's changed fields."""
    session.add(thread)
    session.flush()


@dataclass(frozen=True)
class ThreadRow:
    """One line of the console's inbox."""

    thread: Handoff
    unit: OrgUnit
    messages: int


def threads_in(
    session: Session, *, unit_ids: Sequence[int] | None, closed: bool = False, limit: int = 100
) -> list[ThreadRow]:
    """Threads of the units `unit_ids` (None: every unit): open ones (waiting first, the oldest
    first), or with `closed` the latest closed ones."""
    query = select(Handoff, OrgUnit).join(OrgUnit, col(OrgUnit.id) == Handoff.unit_id)
    if unit_ids is not None:
        query = query.where(col(Handoff.unit_id).in_(list(unit_ids)))
    if closed:
        query = query.where(Handoff.status == "closed").order_by(col(Handoff.closed_at).desc())
    else:
        waiting_first = case((col(Handoff.status) == "waiting", 0), else_=1)
        query = query.where(col(Handoff.status).in_(OPEN_THREAD)).order_by(
            waiting_first, col(Handoff.last_at)
        )
    rows = session.exec(query.limit(limit)).all()
    ids = [thread.id for thread, _unit in rows]
    counts = dict(
        session.execute(
            select(HandoffMessage.handoff_id, func.count())
            .where(col(HandoffMessage.handoff_id).in_(ids))
            .group_by(col(HandoffMessage.handoff_id))
        ).all()
    )
    return [ThreadRow(thread, unit, int(counts.get(thread.id, 0))) for thread, unit in rows]


def count_waiting_threads(session: Session, *, unit_ids: Sequence[int] | None) -> int:
    """How many threads of `unit_ids` (None: every unit) wait for a person's first reply."""
    query = select(func.count()).select_from(Handoff).where(Handoff.status == "waiting")
    if unit_ids is not None:
        query = query.where(col(Handoff.unit_id).in_(list(unit_ids)))
    return int(session.exec(query).one())


def unanswered_threads(session: Session, *, opened_before: datetime) -> list[Handoff]:
    """Waiting threads opened by `opened_before` whose woman was not told yet that nobody
    had answered (the scheduler tells her once)."""
    return list(
        session.exec(
            select(Handoff)
            .where(
                Handoff.status == "waiting",
                col(Handoff.late_told_at).is_(None),
                col(Handoff.opened_at) <= stored(opened_before),
            )
            .order_by(col(Handoff.id))
        ).all()
    )


def erase_threads_of(session: Session, *, user_id: int) -> int:
    """Her threads lose her and their messages (the rows stay for the units' figures)."""
    threads = session.exec(select(Handoff).where(Handoff.user_id == user_id)).all()
    for thread in threads:
        for message in thread_messages(session, thread=thread):
            session.delete(message)
        thread.user_id = None
        session.add(thread)
    session.flush()
    return len(threads)


def threads_opened(
    session: Session, *, since: datetime, until: datetime, unit_ids: Sequence[int] | None
) -> list[Handoff]:
    """The hand-offs she asked for (not those staff took over) opened in [since, until) with
    one of `unit_ids` (None: every unit)."""
    query = select(Handoff).where(
        col(Handoff.opened_at) >= stored(since),
        col(Handoff.opened_at) < stored(until),
        col(Handoff.taken_by).is_(None),
    )
    if unit_ids is not None:
        query = query.where(col(Handoff.unit_id).in_(list(unit_ids)))
    return list(session.exec(query).all())
