"""Counts for the operator's gauges (`/metrics`), each one indexed query, read at every scrape."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import Outbox

BACKLOG_STATUSES = ("pending", "sending", "dead")  # never `sent`: that count only grows


def outbox_backlog(session: Session) -> dict[str, int]:
    """How many outbox rows wait (`pending`), are being sent (`sending`) or gave up (`dead`);
    every one of the three is present (0 when none), through the (status, due_at) index."""
    rows = session.exec(
        select(Outbox.status, func.count())
        .where(col(Outbox.status).in_(BACKLOG_STATUSES))
        .group_by(Outbox.status)
    ).all()
    found = {status: int(n) for status, n in rows}
    return {status: found.get(status, 0) for status in BACKLOG_STATUSES}
