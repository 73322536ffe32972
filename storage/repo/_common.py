"""Helpers shared by the repository modules."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

# Codes people type: no 0/O, 1/I/L, so that a code read aloud or copied by hand still matches.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REQUEST_CODE_LENGTH = 6
INVITE_CODE_LENGTH = 8


class ConcurrentUpdate(RuntimeError):
    """The dialogue session changed under us (its version moved): retry the message."""


def stored(at: datetime) -> datetime:
    """Return an aware datetime in UTC, the way it is stored."""
    return at.astimezone(UTC)


def as_utc(at: datetime) -> datetime:
    """Return a stored datetime as an aware UTC datetime (SQLite may hand back naive UTC)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def new_code(length: int) -> str:
    """Return a random code of unambiguous letters and digits."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def unused_code(session: Session, column: Any, length: int, prefix: str = "") -> str:
    """`prefix` + a random code of `length` that `column` (a unique code column) does not hold."""
    while True:
        code = prefix + new_code(length)
        if session.exec(select(column).where(column == code)).first() is None:
            return code
