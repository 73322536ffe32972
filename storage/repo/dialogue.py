"""Dialogue sessions (flow state as JSON, optimistic version) and inbound messages (dedup)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, func, insert, or_, update
from sqlalchemy import select as select_columns
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from storage import crypto
from storage.models import DialogueSession, InboundMessage
from storage.repo._common import ConcurrentUpdate, as_utc, stored

# The plain table, for Core statements on the message path (no ORM unit of work).
INBOUND: Table = SQLModel.metadata.tables[InboundMessage.__tablename__]
DIALOGUES: Table = SQLModel.metadata.tables[DialogueSession.__tablename__]


@dataclass
class Dialogue:
    """A user's dialogue state as stored (`id` None until the first save creates the row)."""

    id: int | None
    user_id: int
    flow: str | None
    state: str | None
    data: dict[str, Any]
    version: int
    updated_at: datetime


# The message path's statements, built once: building a statement costs more than running it.
# The columns `dialogue_from_row` reads, in its order (also joined into `people.user_at`).
DIALOGUE_COLUMNS = (
    DIALOGUES.c.id,
    DIALOGUES.c.flow,
    DIALOGUES.c.state,
    DIALOGUES.c.data,
    DIALOGUES.c.version,
    DIALOGUES.c.updated_at,
)
_DIALOGUE_OF = select_columns(*DIALOGUE_COLUMNS).where(DIALOGUES.c.user_id == bindparam("uid"))
_SAVE_DIALOGUE = (
    update(DIALOGUES)
    .where(DIALOGUES.c.id == bindparam("did"), DIALOGUES.c.version == bindparam("seen"))
    .values(
        flow=bindparam("new_flow"),
        state=bindparam("new_state"),
        data=bindparam("new_data"),
        version=bindparam("new_version"),
        updated_at=bindparam("at"),
        safety_asked_at=bindparam("asked"),
    )
)
_CREATE_DIALOGUE = insert(DIALOGUES).values(
    user_id=bindparam("uid"),
    flow=bindparam("new_flow"),
    state=bindparam("new_state"),
    data=bindparam("new_data"),
    version=1,
    updated_at=bindparam("at"),
    safety_asked_at=bindparam("asked"),
)


def dialogue_from_row(user_id: int, row: Sequence[Any] | None, *, now: datetime) -> Dialogue:
    """The dialogue of a row of (id, flow, state, data, version, updated_at); an idle one, not
    yet stored, when the row is None or its id is NULL (an outer join found none)."""
    if row is None or row[0] is None:
        return Dialogue(None, user_id, None, None, {}, 0, stored(now))
    return Dialogue(row[0], user_id, row[1], row[2], dict(row[3] or {}), row[4], row[5])


def load_dialogue(session: Session, *, user_id: int, now: datetime) -> Dialogue:
    """Return the user's dialogue state (an idle one if she has none yet)."""
    row = session.execute(_DIALOGUE_OF, {"uid": user_id}).first()
    return dialogue_from_row(user_id, row, now=now)


def save_dialogue(
    session: Session,
    *,
    dialogue: Dialogue,
    flow: str | None,
    state: str | None,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """Store the dialogue's new state; raise ConcurrentUpdate if someone saved it meanwhile
    (its version moved, or a first save raced another: the unique user_id refuses it)."""
    session.flush()  # what the message changed through the ORM lands first
    values = {
        "new_flow": flow,
        "new_state": state,
        "new_data": data,
        "at": stored(now),
        "asked": safety_asked_at(data),
    }
    if dialogue.id is None:
        try:
            result = cast(
                "CursorResult[Any]",
                session.execute(_CREATE_DIALOGUE, {"uid": dialogue.user_id, **values}),
            )
        except IntegrityError as exc:  # her first dialogue was saved meanwhile
            raise ConcurrentUpdate(
                f"dialogue of user {dialogue.user_id} created meanwhile"
            ) from exc
        key = result.inserted_primary_key
        assert key is not None
        dialogue.id, dialogue.version = int(key[0]), 1
        return
    result = cast(
        "CursorResult[Any]",
        session.execute(
            _SAVE_DIALOGUE,
            {
                "did": dialogue.id,
                "seen": dialogue.version,
                "new_version": dialogue.version + 1,
                **values,
            },
        ),
    )
    if result.rowcount != 1:
        raise ConcurrentUpdate(f"dialogue {dialogue.id} changed concurrently")
    dialogue.version += 1


def safety_asked_at(data: dict[str, Any]) -> datetime | None:
    """When the dialogue's pending safety check was asked (`data["safety"]["at"]`, the stored
    form of `bot.domain.safety.SafetyCheck`); None without one. Stored beside the data, which is
    encrypted, so that the scheduler can find the unanswered ones."""
    check = data.get("safety")
    if not isinstance(check, dict) or not check.get("at"):
        return None
    return stored(datetime.fromisoformat(str(check["at"])))


def unanswered_safety_checks(session: Session, *, asked_by: datetime, limit: int) -> list[Dialogue]:
    """Up to `limit` dialogues whose safety check was asked at or before `asked_by` and is
    still pending, the oldest first."""
    rows = session.execute(
        select_columns(DIALOGUES.c.user_id, *DIALOGUE_COLUMNS)
        .where(DIALOGUES.c.safety_asked_at <= stored(asked_by))
        .order_by(DIALOGUES.c.safety_asked_at, DIALOGUES.c.id)
        .limit(limit)
    ).all()
    return [dialogue_from_row(row[0], row[1:], now=asked_by) for row in rows]


# The stored length of an empty dialogue state: `data` is one ciphertext, whose length follows
# the JSON's (AES-GCM hides what it says, not how long it is), and `{}` is the shortest JSON.
EMPTY_STATE_LENGTH = crypto.stored_length("{}")


def expect_rating(session: Session, *, user_id: int, code: str, now: datetime) -> None:
    """Mark the user's dialogue as waiting for her rating of request `code` (after the push
    telling her it is resolved: in chat, or from the console).

    The version bump makes a message of hers handled at the same moment retry (or this one),
    so the mark is never lost; her idle time is kept as it was. The mark is the stored form of
    `bot.domain.dialogue.DialogueState.expect_rating` (`rate`, a fresh reminder: no
    `rate_asked`; `from_stored` reads it as awaiting_rating when nothing above it is held);
    this is its one writer outside a dialogue.
    """
    dialogue = load_dialogue(session, user_id=user_id, now=now)
    data = {k: v for k, v in (dialogue.data or {}).items() if k != "rate_asked"}
    data["rate"] = code
    _save_data(session, dialogue, data)


def _save_data(session: Session, dialogue: Dialogue, data: dict[str, Any]) -> None:
    """Save `data` as the dialogue's, from outside it: flow and state as they are, her idle
    time kept (the version bump makes a message of hers handled at the same moment retry)."""
    save_dialogue(
        session,
        dialogue=dialogue,
        flow=dialogue.flow,
        state=dialogue.state,
        data=data,
        now=as_utc(dialogue.updated_at),
    )


def release_handoff(session: Session, *, user_id: int, now: datetime) -> None:
    """End the hand-over mark of the user's dialogue (staff ended her 转人工 thread): her next
    message goes to the bot again. The stored form of `DialogueState.release`, written from
    outside a dialogue like `expect_rating` (the version bump makes a message of hers handled
    at the same moment retry)."""
    dialogue = load_dialogue(session, user_id=user_id, now=now)
    data = dict(dialogue.data or {})
    if data.pop("handoff", None):
        _save_data(session, dialogue, data)


def hold_handoff(session: Session, *, user_id: int, now: datetime) -> None:
    """Mark the user's dialogue as handed over (staff took her conversation over from the
    console, 接管): her next message goes into her thread. The stored form of
    `DialogueState.hand_over`: a form she was filling is dropped with its pending question
    (as when she asks for a person herself); the inverse of `release_handoff`."""
    dialogue = load_dialogue(session, user_id=user_id, now=now)
    data = {k: v for k, v in (dialogue.data or {}).items() if k not in ("run", "pending")}
    data["handoff"] = True
    save_dialogue(
        session,
        dialogue=dialogue,
        flow=None,
        state=None,
        data=data,
        now=as_utc(dialogue.updated_at),
    )


def idle_dialogues(session: Session, *, before: datetime, limit: int) -> list[Dialogue]:
    """Up to `limit` stored dialogues last saved before `before` that hold something (a flow,
    or any state: longer than an empty one), the longest idle first."""
    rows = session.execute(
        select_columns(DIALOGUES.c.user_id, *DIALOGUE_COLUMNS)
        .where(
            DIALOGUES.c.updated_at < stored(before),
            or_(
                DIALOGUES.c.flow.is_not(None),
                func.length(DIALOGUES.c.data) > EMPTY_STATE_LENGTH,
            ),
        )
        .order_by(DIALOGUES.c.updated_at, DIALOGUES.c.id)
        .limit(limit)
    ).all()
    return [dialogue_from_row(row[0], row[1:], now=before) for row in rows]


# ----------------------------------------------------------------------------- inbound


_STORED_REPLY = select(INBOUND.c.reply).where(
    INBOUND.c.channel == bindparam("ch"), INBOUND.c.msg_id == bindparam("mid")
)
_RECORD_INBOUND = insert(INBOUND).values(
    channel=bindparam("ch"),
    msg_id=bindparam("mid"),
    user_id=bindparam("uid"),
    kind=bindparam("kd"),
    text=bindparam("tx"),
    received_at=bindparam("at"),
)
_SET_REPLY = (
    update(INBOUND).where(INBOUND.c.id == bindparam("row")).values(reply=bindparam("answer"))
)


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
    row = session.execute(_STORED_REPLY, {"ch": channel, "mid": msg_id}).first()
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
    result = cast(
        "CursorResult[Any]",
        session.execute(
            _RECORD_INBOUND,
            {
                "ch": channel,
                "mid": msg_id,
                "uid": user_id,
                "kd": kind,
                "tx": text,
                "at": stored(now),
            },
        ),
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def set_reply(session: Session, *, message_id: int, reply: list[dict[str, Any]]) -> None:
    """Store the reply given to a message (returned again to a duplicate delivery)."""
    session.execute(_SET_REPLY, {"row": message_id, "answer": reply})


def recent_inbound(session: Session, *, user_id: int, limit: int = 10) -> list[InboundMessage]:
    """Return the user's last messages, oldest first (the transcript for a hand-over)."""
    rows = session.exec(
        select(InboundMessage)
        .where(InboundMessage.user_id == user_id)
        .order_by(col(InboundMessage.id).desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))
