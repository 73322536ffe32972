"""Callback nonces: the signed (timestamp, nonce) pairs of platform callbacks, for replays.

`claim_nonce` is on every callback's path, so it also takes a bare Core `Connection` (its own
short transaction: a third of a `Session`'s cost on PostgreSQL, measured)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Table, bindparam, delete
from sqlalchemy import select as select_columns
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

from storage.models import CallbackNonce
from storage.repo._common import stored

NONCES: Table = SQLModel.metadata.tables[CallbackNonce.__tablename__]

# Built once (the message path): an insert that leaves an existing pair alone, per dialect.
_ROW: dict[str, Any] = {
    "channel": bindparam("ch"),
    "timestamp": bindparam("ts"),
    "nonce": bindparam("nc"),
    "digest": bindparam("dg"),
    "expires_at": bindparam("until"),
}
_REMEMBER = {
    "sqlite": sqlite.insert(NONCES).values(_ROW).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(NONCES).values(_ROW).on_conflict_do_nothing(),
}
_DIGEST_OF = select_columns(NONCES.c.digest).where(
    NONCES.c.channel == bindparam("ch"),
    NONCES.c.timestamp == bindparam("ts"),
    NONCES.c.nonce == bindparam("nc"),
)
_PRUNE = delete(NONCES).where(NONCES.c.expires_at < bindparam("now"))


def claim_nonce(
    session: Session | Connection,
    *,
    channel: str,
    timestamp: int,
    nonce: str,
    digest: str,
    expires_at: datetime,
) -> str | None:
    """Remember `(channel, timestamp, nonce)` with the digest of its message until `expires_at`.
    Return None when the pair is new (one statement), else the digest it was first seen with."""
    params = {"ch": channel, "ts": timestamp, "nc": nonce}
    bind = session.get_bind() if isinstance(session, Session) else session
    statement = _REMEMBER[bind.dialect.name]
    result = cast(
        "CursorResult[Any]",
        session.execute(statement, {**params, "dg": digest, "until": stored(expires_at)}),
    )
    if result.rowcount == 1:
        return None
    return cast(str, session.execute(_DIGEST_OF, params).scalar_one())


def prune_nonces(session: Session | Connection, *, now: datetime) -> int:
    """Forget the pairs whose window has passed; return how many."""
    result = cast("CursorResult[Any]", session.execute(_PRUNE, {"now": stored(now)}))
    return result.rowcount
