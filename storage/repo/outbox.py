"""The outbox: messages pushed to users outside a reply (status changes, alerts, reminders)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import Outbox
from storage.repo._common import stored
from storage.repo.people import latest_identity


def enqueue(
    session: Session,
    *,
    user_id: int,
    text: str,
    now: datetime,
    key: str | None = None,
    urgent: bool = False,
) -> Outbox | None:
    """Queue a push to the user's most recent channel; None: no channel, or key seen."""
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
        due_at=stored(now),
        created_at=stored(now),
    )
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
