"""Helpers shared by the repository modules."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

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
