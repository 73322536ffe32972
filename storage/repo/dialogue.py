"""Dialogue sessions (flow state as JSON, optimistic version) and inbound messages (dedup)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.models import DialogueSession, InboundMessage
from storage.repo._common import ConcurrentUpdate, stored


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
    result = session.execute(
        update(DialogueSession)
        .where(
            col(DialogueSession.id) == dialogue.id,
            col(DialogueSession.version) == dialogue.version,
        )
        .values(
            flow=flow, state=state, data=data, version=dialogue.version + 1, updated_at=stored(now)
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 1) != 1:
        raise ConcurrentUpdate(f"dialogue {dialogue.id} changed concurrently")


# ----------------------------------------------------------------------------- inbound


def find_inbound(session: Session, *, channel: str, msg_id: str) -> InboundMessage | None:
    """Return the stored message with this channel message id, if it was seen before."""
    return session.exec(
        select(InboundMessage).where(
            InboundMessage.channel == channel, InboundMessage.msg_id == msg_id
        )
    ).first()


def record_inbound(
    session: Session,
    *,
    channel: str,
    msg_id: str,
    user_id: int,
    kind: str,
    text: str,
    now: datetime,
) -> InboundMessage:
    """Claim a message id (unique per channel) and keep the (already masked) text."""
    message = InboundMessage(
        channel=channel,
        msg_id=msg_id,
        user_id=user_id,
        kind=kind,
        text=text,
        received_at=stored(now),
    )
    session.add(message)
    session.flush()
    return message


def set_reply(session: Session, *, message: InboundMessage, reply: list[dict[str, Any]]) -> None:
    """Store the reply given to a message (returned again to a duplicate delivery)."""
    message.reply = reply
    session.add(message)


def recent_inbound(session: Session, *, user_id: int, limit: int = 10) -> list[InboundMessage]:
    """Return the user's last messages, oldest first (the transcript for a hand-over)."""
    rows = session.exec(
        select(InboundMessage)
        .where(InboundMessage.user_id == user_id)
        .order_by(col(InboundMessage.id).desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))
