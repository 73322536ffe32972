"""Push channels' senders that record what they are asked to send (or fail while broken, or
wait at a gate)."""

from __future__ import annotations

import asyncio


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


class GatedSender(RecordingSender):
    """A sender that holds each send at a gate: `sending` is set when a send has begun, and
    nothing goes out until the test opens `gate` (a dispatcher caught mid-send, no sleeps)."""

    def __init__(self) -> None:
        super().__init__()
        self.sending = asyncio.Event()
        self.gate = asyncio.Event()

    async def send(self, external_id: str, text: str) -> None:
        """Wait at the gate, then record."""
        self.sending.set()
        await self.gate.wait()
        await super().send(external_id, text)
