"""A push channel's sender that records what it is asked to send (or fails while broken)."""

from __future__ import annotations


class RecordingSender:
    """A sender that records pushes, or fails while `broken`."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.broken = False

    async def send(self, external_id: str, text: str) -> None:
        """Record or fail."""
        if self.broken:
            raise ConnectionError("api down")
        self.sent.append((external_id, text))
