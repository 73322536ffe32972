"""Dialogue sessions (flow state as JSON, optimistic version) and inbound messages (dedup)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, insert, update
from sqlmodel import Session, SQLModel, col, select

from storage.models import DialogueSession, InboundMessage
from storage.repo._common import ConcurrentUpdate, stored

# The plain table, for Core statements on the message path (no ORM unit of work).
INBOUND: Table = SQLModel.metadata.tables[InboundMessage.__tablename__]
DIALOGUES: Table = SQLModel.metadata.tables[DialogueSession.__tablename__]


def load_dialogue(session: Session, *, user_id: int, now: datetime) -> DialogueSession:
    """Return the user's dialogue session, creating an idle one if she has none."""
    dialogue = session.exec(
        select(DialogueSession).where(DialogueSession.user_id == user_id)
    ).first()
    if dialogue is None:
        dialogue = DialogueSession(user_id=user_id, data={}, version=0, updated_at=stored(now))
        session.add(dialogue)
        session.flush()
    return dialogue


def save_dialogue(
    session: Session,
    *,
    dialogue: DialogueSession,
    flow: str | None,
    state: str | None,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """Store the dialogue's new state; raise ConcurrentUpdate if someone saved it meanwhile."""
    session.flush()  # what the message changed through the ORM lands first, as before
    table = DIALOGUES
    statement = (
        update(table)
        .where(table.c.id == dialogue.id, table.c.version == dialogue.version)
        .values(
            flow=flow, state=state, data=data, version=dialogue.version + 1, updated_at=stored(now)
        )
    )
    result = cast("CursorResult[Any]", session.execute(statement))
    if result.rowcount != 1:
        raise ConcurrentUpdate(f"dialogue {dialogue.id} changed concurrently")


# ----------------------------------------------------------------------------- inbound


def find_inbound(session: Session, *, channel: str, msg_id: str) -> InboundMessage | None:
    """Return the stored message with this channel message id, if it was seen before."""
    return session.exec(
        select(InboundMessage).where(
            InboundMessage.channel == channel, InboundMessage.msg_id == msg_id
        )
    ).first()


def stored_reply(session: Session, *, channel: str, msg_id: str) -> list[dict[str, Any]] | None:
    """The reply stored for a message id seen before ([] if it had none); None if never seen.

    The dedup look-up of the message path: a Core SELECT of one column, no ORM entity."""
    row = session.execute(
        select(INBOUND.c.reply).where(INBOUND.c.channel == channel, INBOUND.c.msg_id == msg_id)
    ).first()
    return None if row is None else list(row[0] or [])


def record_inbound(
    session: Session,
    *,
    channel: str,
    msg_id: str,
    user_id: int,
    kind: str,
    text: str,
    now: datetime,
) -> int:
    """Claim a message id (unique per channel), keep the (already masked) text; return the row id.

    A Core INSERT (no unit of work): it runs at once, so a duplicate fails here, before any work.
    """
    statement = insert(INBOUND).values(
        channel=channel,
        msg_id=msg_id,
        user_id=user_id,
        kind=kind,
        text=text,
        received_at=stored(now),
    )
    result = cast("CursorResult[Any]", session.execute(statement))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def set_reply(session: Session, *, message_id: int, reply: list[dict[str, Any]]) -> None:
    """Store the reply given to a message (returned again to a duplicate delivery)."""
    session.execute(update(INBOUND).where(INBOUND.c.id == message_id).values(reply=reply))


def recent_inbound(session: Session, *, user_id: int, limit: int = 10) -> list[InboundMessage]:
    """Return the user's last messages, oldest first (the transcript for a hand-over)."""
    rows = session.exec(
        select(InboundMessage)
        .where(InboundMessage.user_id == user_id)
        .order_by(col(InboundMessage.id).desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))
