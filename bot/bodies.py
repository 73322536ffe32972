"""Reading a request body under a size cap, for every HTTP edge (JSON API, web chat, WeChat,
Telegram): a declared Content-Length over the cap is refused before reading, a streamed body
as soon as it passes the cap. Each edge turns `BodyTooLarge` into its own error shape. JSON
bodies are parsed by `parse_json`, which refuses a document nested too deeply for the parser
as it refuses one that is not JSON."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request


class BodyTooLarge(Exception):
    """The body is over `limit` bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is over {limit} bytes")
        self.limit = limit


async def read_capped(request: Request, limit: int) -> bytes:
    """The whole body, or BodyTooLarge once it passes `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and int(declared) > limit:
        raise BodyTooLarge(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(limit)
    return bytes(body)


def parse_json(body: bytes) -> Any:
    """The JSON document in `body`; ValueError when it is not JSON or is nested too deeply
    (`[[[…]]]` 100,000 deep makes Python's parser raise RecursionError, not a ValueError)."""
    try:
        return json.loads(body)
    except RecursionError as exc:
        raise ValueError("the JSON document is nested too deeply") from exc
