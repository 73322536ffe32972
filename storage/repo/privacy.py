"""Personal data: a resident's erasure across every table, and re-encryption under a new key.

Erasure (`删除我的信息`) keeps the rows that anonymous counts are made of (her help requests with
their category, place and status; the user row, marked deleted) and removes what is personal:
her contact fields, the texts she wrote or that quote her, and her channel addresses. Her
identities are deleted, not hashed: a later message from the same WeChat openid starts over as
a new person, and nothing is left that links the two.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, or_, select

from storage import crypto
from storage.db import FORGET_FILES
from storage.models import HelpRequest, HelpRequestEvent, Identity, InboundMessage, Outbox, User
from storage.repo._common import as_utc, stored
from storage.repo.dialogue import INBOUND
from storage.repo.handoff import erase_threads_of
from storage.repo.labels import delete_corrections_of
from storage.repo.people import erase_user
from storage.repo.requests import erase_requests_of

ERASED_PUSH_ERROR = "not sent: the recipient erased her personal data"


@dataclass(frozen=True, slots=True)
class Erased:
    """What an erasure touched."""

    requests: int
    events: int
    messages: int
    pushes: int
    identities: int
    corrections: int = 0


def erase_resident(
    session: Session, *, user: User, placeholder: str, note: str, now: datetime
) -> Erased:
    """Remove a resident's personal data from every table; the anonymous counts stay.

    Her requests keep category, place and status (open ones are cancelled with `note`) and lose
    need, phone, resolution, rating words and their link to her; their history keeps its steps
    without notes; pushes to her, and pushes about her requests or her hand-over to the cadres,
    lose their text (`placeholder`; those not yet sent are dead); her messages, the cadres'
    messages naming her requests, her dialogue state, contact fields and identities go; her
    hand-off threads lose their messages and her (the rows stay for the units' figures).
    """
    session.info[FORGET_FILES] = True  # once committed, the database files forget her too
    user_id = user.id or 0
    requests = session.exec(select(HelpRequest).where(HelpRequest.requester_id == user_id)).all()
    codes = [r.code for r in requests]
    identities = session.exec(select(Identity).where(Identity.user_id == user_id)).all()
    externals = [i.external_id for i in identities]
    events = _scrub_events(session, request_ids=[r.id or 0 for r in requests])
    pushes = _scrub_pushes(
        session, user_id=user_id, codes=codes, externals=externals, placeholder=placeholder
    )
    messages = _scrub_message_ids(session, user_id=user_id, externals=externals)
    first = min((as_utc(r.created_at) for r in requests), default=None)
    messages += _scrub_messages_about(session, codes=codes, since=first)
    corrections = delete_corrections_of(session, request_ids=[r.id or 0 for r in requests])
    erase_threads_of(session, user_id=user_id)
    erase_requests_of(session, requester_id=user_id, placeholder=placeholder, note=note, now=now)
    erase_user(session, user=user, now=now)
    for identity in identities:
        session.delete(identity)
    return Erased(
        requests=len(codes),
        events=events,
        messages=messages,
        pushes=pushes,
        identities=len(identities),
        corrections=corrections,
    )


def _scrub_events(session: Session, *, request_ids: list[int]) -> int:
    events = session.exec(
        select(HelpRequestEvent).where(col(HelpRequestEvent.request_id).in_(request_ids))
    ).all()
    for event in events:
        if event.note is not None:
            event.note = None
            session.add(event)
    return len(events)


def _scrub_pushes(
    session: Session, *, user_id: int, codes: list[str], externals: list[str], placeholder: str
) -> int:
    about_her = [col(Outbox.key).startswith(f"request:{code}:") for code in codes] + [
        col(Outbox.key).startswith(f"human:{user_id}:"),
        col(Outbox.key).startswith(f"human-msg:{user_id}:"),
    ]
    rows = session.exec(select(Outbox).where(or_(Outbox.user_id == user_id, *about_her))).all()
    for row in rows:
        row.text = placeholder
        row.last_error = None
        if row.key is not None and _mentions(row.key, externals):
            row.key = f"erased:{row.id}"
        if row.status in ("pending", "sending"):
            row.status = "dead"
            row.last_error = ERASED_PUSH_ERROR
        session.add(row)
    return len(rows)


def _scrub_message_ids(session: Session, *, user_id: int, externals: list[str]) -> int:
    """Message ids that carry her address (WeChat events, the web chat's) are replaced; her
    texts and replies are blanked by `erase_user`."""
    messages = session.exec(select(InboundMessage).where(InboundMessage.user_id == user_id)).all()
    for message in messages:
        if _mentions(message.msg_id, externals):
            message.msg_id = f"erased:{message.id}"
            session.add(message)
    return len(messages)


def _scrub_messages_about(session: Session, *, codes: list[str], since: datetime | None) -> int:
    """Other people's messages naming her requests (a cadre's `办结 <code> <note>`, the reply to
    `详情 <code>`) may quote her: their text and reply are blanked.

    Texts and replies are encrypted, so they are searched here, not in SQL: the messages received
    since her first request was filed (none can name a code before it exists)."""
    if not codes or since is None:
        return 0
    rows = session.execute(
        sa.select(INBOUND.c.id, INBOUND.c.text, INBOUND.c.reply).where(
            INBOUND.c.received_at >= stored(since)
        )
    )
    naming = [
        row_id
        for row_id, text, reply in rows
        if _names_any(codes, text, json.dumps(reply or [], ensure_ascii=False))
    ]
    for message in session.exec(select(InboundMessage).where(col(InboundMessage.id).in_(naming))):
        message.text = ""
        message.reply = None
        session.add(message)
    return len(naming)


def _names_any(codes: list[str], *texts: str) -> bool:
    return any(code in text for code in codes for text in texts)


def _mentions(text: str, externals: Iterable[str]) -> bool:
    return any(e and e in text for e in externals)


# ----------------------------------------------------------------------------- idle web users

# Rows that belong to a web-chat visitor and go with her; a reference from any other table
# (a request, an event, a visit, …) keeps her.
_OWNED_BY_USER = ("identities", "dialogue_sessions", "inbound_messages", "outbox")


def forget_idle_web_visitors(session: Session, *, seen_before: datetime, limit: int = 500) -> int:
    """Delete up to `limit` web-chat visitors who never consented, are referenced by nothing
    (no request, event, …) and have not written since `seen_before`: their address, dialogue,
    messages (blank: she never consented) and pushes, and the user row. How many went."""
    cutoff = stored(seen_before)
    users = SQLModel.metadata.tables[User.__tablename__]
    identities = SQLModel.metadata.tables[Identity.__tablename__]
    other = identities.alias("other")
    kept_by = [
        ~sa.exists().where(fk.parent == users.c.id)
        for table in SQLModel.metadata.sorted_tables
        if table.name not in _OWNED_BY_USER
        for fk in table.foreign_keys
        if fk.column.table is users
    ]
    ids = [
        int(row[0])
        for row in session.execute(
            sa.select(users.c.id)
            .join(identities, identities.c.user_id == users.c.id)
            .where(
                identities.c.channel == "web",
                identities.c.last_seen_at < cutoff,
                users.c.role == "resident",
                users.c.consent_at.is_(None),
                ~sa.exists().where(
                    other.c.user_id == users.c.id,
                    sa.or_(other.c.channel != "web", other.c.last_seen_at >= cutoff),
                ),
                *kept_by,
            )
            .distinct()
            .limit(limit)
        )
    ]
    if not ids:
        return 0
    for name in _OWNED_BY_USER:
        table = SQLModel.metadata.tables[name]
        session.execute(sa.delete(table).where(table.c.user_id.in_(ids)))
    session.execute(sa.delete(users).where(users.c.id.in_(ids)))
    return len(ids)


# ----------------------------------------------------------------------------- key rotation


@dataclass(frozen=True, slots=True)
class EncryptedColumn:
    """An encrypted column (`crypto.is_encrypted`): its table and name."""

    table: str
    column: str

    @property
    def label(self) -> str:
        """'users.phone'."""
        return f"{self.table}.{self.column}"


@dataclass
class Rotated:
    """The outcome of re-encrypting one batch of one column."""

    rewritten: int = 0  # under an old key, or plaintext: now under the current key
    current: int = 0  # already under the current key
    unreadable: int = 0  # under a key not configured (or corrupted): left as they are
    last_id: int = 0  # the cursor: the highest row id looked at


def encrypted_columns() -> list[EncryptedColumn]:
    """Every encrypted column of the schema, in table order."""
    return [
        EncryptedColumn(table.name, column.name)
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if crypto.is_encrypted(column.type)
    ]


def reencrypt_batch(
    session: Session,
    *,
    target: EncryptedColumn,
    keyring: crypto.Keyring,
    after_id: int,
    limit: int,
) -> Rotated:
    """Re-encrypt under `keyring`'s current key up to `limit` non-null values of `target` with
    row ids above `after_id`. A row changed meanwhile (its ciphertext differs) is left alone;
    values already under the current key are counted, not rewritten."""
    raw = sa.table(
        target.table, sa.column("id", sa.Integer()), sa.column(target.column, sa.String())
    )
    value = raw.c[target.column]
    rows = session.execute(
        sa.select(raw.c.id, value)
        .where(raw.c.id > after_id, value.is_not(None))
        .order_by(raw.c.id)
        .limit(limit)
    ).all()
    result = Rotated(last_id=after_id)
    for row_id, held in rows:
        result.last_id = row_id
        key_id = crypto.key_id_of(held)
        if key_id == keyring.key_id:
            result.current += 1
            continue
        try:
            plain = held if key_id is None else keyring.decrypt(held)
        except crypto.UnknownKey:
            result.unreadable += 1
            continue
        session.execute(
            raw.update()
            .where(raw.c.id == row_id, value == held)
            .values({target.column: keyring.encrypt(plain)})
        )
        result.rewritten += 1
    return result
