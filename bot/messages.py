"""Typed messages between channels and the engine.

A channel turns its transport (HTTP JSON, WeChat XML, a Telegram update, a terminal line) into an
`Incoming`, calls `Engine.handle`, and renders the `Outgoing` list it gets back. Nothing here knows
about any transport.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

Kind = Literal["text", "voice", "image", "location", "link", "event"]


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Incoming:
    """One message from a user on one channel.

    `user` is the channel's own id for the sender (an API user id, a WeChat openid, a Telegram chat
    id); `msg_id` is the channel's message id used for de-duplication (None: every delivery is new).
    """

    channel: str
    user: str
    text: str
    kind: Kind = "text"
    msg_id: str | None = None
    at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class Outgoing:
    """One reply bubble: text, and numbered choices a channel may render as buttons."""

    text: str
    choices: tuple[str, ...] = ()
    urgent: bool = False

    def to_json(self) -> dict[str, object]:
        """Return the JSON shape used by the API: {"text", "choices"}."""
        return {"text": self.text, "choices": list(self.choices)}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Outgoing:
        """Rebuild an Outgoing stored as JSON (the dedup cache keeps replies this way)."""
        choices = data.get("choices") or []
        assert isinstance(choices, list)
        return cls(
            text=str(data["text"]),
            choices=tuple(str(c) for c in choices),
            urgent=bool(data.get("urgent", False)),
        )
