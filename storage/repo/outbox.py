"""The outbox: messages pushed to users outside a reply (status changes, alerts, reminders)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from storage.models import Identity, Outbox
from storage.repo._common import stored
from storage.repo.people import latest_identity

QUEUED = "fuqing.queued_pushes"  # session.info: this transaction queued pushes


def queued_pushes(session: Session) -> bool:
    """True when pushes were queued in this session (so the dispatcher may send them now)."""
    return bool(session.info.get(QUEUED))


def enqueue(
    session: Session,
    *,
    user_id: int,
    text: str,
    now: datetime,
    key: str | None = None,
    urgent: bool = False,
    due_at: datetime | None = None,
) -> Outbox | None:
    """Queue a push to the user's most recent channel (sent from `due_at`, default now);
    None: no channel, or `key` seen."""
    if key is not None and session.exec(select(Outbox.id).where(Outbox.key == key)).first():
        return None
    identity = latest_identity(session, user_id=user_id)
    if identity is None:
        return None
    row = Outbox(
        key=key,
        user_id=user_id,
        channel=identity.channel,
        text=text,
        urgent=urgent,
        due_at=stored(due_at or now),
        created_at=stored(now),
    )
    session.info[QUEUED] = True
    session.add(row)
    session.flush()
    return row


def take_pending(session: Session, *, user_id: int, channel: str, now: datetime) -> list[Outbox]:
    """Return the user's pending pushes on a pull channel (API, terminal) and mark them sent."""
    rows = list(
        session.exec(
            select(Outbox)
            .where(Outbox.user_id == user_id, Outbox.channel == channel, Outbox.status == "pending")
            .order_by(col(Outbox.id))
        ).all()
    )
    for row in rows:
        row.status = "sent"
        row.attempts += 1
        row.sent_at = stored(now)
        session.add(row)
    return rows


def list_outbox(session: Session, *, status: str | None = None, limit: int = 100) -> list[Outbox]:
    """Return outbox rows, newest first."""
    query = select(Outbox)
    if status:
        query = query.where(Outbox.status == status)
    return list(session.exec(query.order_by(col(Outbox.id).desc()).limit(limit)).all())


def enqueue_to(
    session: Session,
    *,
    channel: str,
    external_id: str,
    text: str,
    now: datetime,
    key: str | None = None,
    urgent: bool = False,
) -> Outbox | None:
    """Queue a push to one channel address (e.g. a slow WeChat answer); None if `key` exists."""
    if key is not None and session.exec(select(Outbox.id).where(Outbox.key == key)).first():
        return None
    identity = session.exec(
        select(Identity).where(Identity.channel == channel, Identity.external_id == external_id)
    ).first()
    if identity is None:
        return None
    row = Outbox(
        key=key,
        user_id=identity.user_id,
        channel=channel,
        text=text,
        urgent=urgent,
        due_at=stored(now),
        created_at=stored(now),
    )
    session.info[QUEUED] = True
    session.add(row)
    session.flush()
    return row


def outbox_rows(session: Session, *, ids: Sequence[int]) -> list[tuple[Outbox, str | None]]:
    """The rows with these ids and the external id of each row's channel address."""
    rows = session.exec(select(Outbox).where(col(Outbox.id).in_(list(ids)))).all()
    found = []
    for row in rows:
        identity = session.exec(
            select(Identity)
            .where(Identity.user_id == row.user_id, Identity.channel == row.channel)
            .order_by(col(Identity.last_seen_at).desc())
        ).first()
        found.append((row, identity.external_id if identity and identity.active else None))
    return found


def outbox_row(session: Session, *, row_id: int) -> Outbox | None:
    """One outbox row by id (recording a send's outcome needs no address)."""
    return session.get(Outbox, row_id)


def mark_sent(session: Session, *, row: Outbox, now: datetime) -> None:
    """Record a delivered push."""
    row.status = "sent"
    row.attempts += 1
    row.sent_at = stored(now)
    row.last_error = None
    session.add(row)


def mark_failed(
    session: Session, *, row: Outbox, error: str, now: datetime, retry_at: datetime | None
) -> None:
    """Record a failed attempt: due again at `retry_at`, or dead when there is none."""
    row.attempts += 1
    row.last_error = error[:2000]
    row.claimed_at = None
    if retry_at is None:
        row.status = "dead"
    else:
        row.status = "pending"
        row.due_at = stored(retry_at)
    session.add(row)


def due_pushes(
    session: Session, *, now: datetime, channels: Sequence[str], limit: int = 100
) -> list[int]:
    """Ids of pending pushes due by `now` on these channels, oldest first (urgent ones first)."""
    rows = session.exec(
        select(Outbox.id)
        .where(
            Outbox.status == "pending",
            col(Outbox.due_at) <= stored(now),
            col(Outbox.channel).in_(list(channels)),
        )
        .order_by(col(Outbox.urgent).desc(), col(Outbox.id))
        .limit(limit)
    ).all()
    return [r for r in rows if r is not None]


def claim_due(
    session: Session,
    *,
    now: datetime,
    channels: Sequence[str],
    lease: timedelta,
    limit: int = 100,
    ids: Sequence[int] | None = None,
    urgent_only: bool = False,
) -> list[int]:
    """Take due pushes for sending (pending, or claimed longer than `lease` ago by a dispatcher
    that never finished): all due ones, or only `ids`; only urgent ones in quiet hours. On
    PostgreSQL rows locked by another dispatcher are skipped (FOR UPDATE SKIP LOCKED), so two
    dispatchers never send the same row."""
    stale = stored(now - lease)
    query = (
        select(Outbox)
        .where(
            col(Outbox.channel).in_(list(channels)),
            col(Outbox.due_at) <= stored(now),
            or_(
                col(Outbox.status) == "pending",
                and_(col(Outbox.status) == "sending", col(Outbox.claimed_at) < stale),
            ),
        )
        .order_by(col(Outbox.urgent).desc(), col(Outbox.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if ids is not None:
        query = query.where(col(Outbox.id).in_(list(ids)))
    if urgent_only:
        query = query.where(col(Outbox.urgent).is_(True))
    rows = list(session.exec(query).all())
    for row in rows:
        row.status = "sending"
        row.claimed_at = stored(now)
        session.add(row)
    return [row.id for row in rows if row.id is not None]
