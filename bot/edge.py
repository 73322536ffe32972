"""The app's outer edge, before any route or limit sees a request: capped request heads and the
client address behind a trusted proxy.

- Header caps (`FUQING_MAX_HEADER_BYTES`, `FUQING_MAX_COOKIE_BYTES`): a request whose headers
  sum to more, or whose `Cookie` header is longer, gets 431 before anything parses a cookie.
  CPython before 3.11.10 / 3.12.6 parses quoted cookies in quadratic time (CVE-2024-7592: a
  60 KB `Cookie` held the event loop for 7.7 s); the cap bounds that on an old interpreter, and
  `fuqing serve` also makes uvicorn refuse an oversized head while reading it
  (`bot/runtime.py`).
- Forwarded headers (`FUQING_FORWARDED_ALLOW_IPS`): only a listed proxy's `X-Forwarded-For` and
  `X-Forwarded-Proto` set the client address and scheme the rate limits and cookies see; none is
  listed by default. The app does this itself (uvicorn's own handling is turned off in
  `fuqing serve`), so every server and every test sees the same rule.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot.config import Settings
from bot.limits import ASGIApp, Receive, Scope, Send


class HeaderCapMiddleware:
    """ASGI middleware: 431 for a request whose headers, or whose Cookie header, are too long."""

    def __init__(self, app: ASGIApp, *, max_header_bytes: int, max_cookie_bytes: int) -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes
        self.max_cookie_bytes = max_cookie_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an oversized head; pass the rest on untouched."""
        if scope["type"] in ("http", "websocket"):
            total = cookies = 0
            for name, value in scope.get("headers", ()):
                total += len(name) + len(value)
                if name == b"cookie":
                    cookies += len(value)
            problem = None
            if cookies > self.max_cookie_bytes:
                problem = f"the Cookie header is over {self.max_cookie_bytes} bytes"
            elif total > self.max_header_bytes:
                problem = f"the request headers are over {self.max_header_bytes} bytes"
            if problem is not None:
                await _refuse(send, scope, problem)
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, scope: Scope, message: str) -> None:
    if scope["type"] == "websocket":  # before accept: a close is the refusal
        await send({"type": "websocket.close", "code": 1009})
        return
    body = json.dumps({"error": "headers_too_large", "message": message}).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 431, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def trusted_proxies(settings: Settings) -> list[str]:
    """The proxies named by FUQING_FORWARDED_ALLOW_IPS (empty: trust none)."""
    return [item.strip() for item in settings.forwarded_allow_ips.split(",") if item.strip()]


def install_edge(app: FastAPI, settings: Settings) -> None:
    """Add the proxy-headers rule, then the header caps outside it (call after the other
    middleware: the last added runs first)."""
    proxies = trusted_proxies(settings)
    if proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
    caps: dict[str, Any] = {
        "max_header_bytes": settings.max_header_bytes,
        "max_cookie_bytes": settings.max_cookie_bytes,
    }
    app.add_middleware(HeaderCapMiddleware, **caps)
