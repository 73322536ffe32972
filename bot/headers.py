"""Security headers: what the console and the web chat pages may load, and HTTPS only.

The console (`/console…`) and the web chat (`/chat…`) get a Content-Security-Policy that
allows nothing but this origin's own stylesheets, scripts and fetches, no inline script or
style, no framing (`frame-ancestors 'none'`, and X-Frame-Options for old browsers), no
referrer, and `nosniff`. The pages satisfy it: their styles live in
`bot/console/static/console.css` and `bot/channels/webchat/chat.css`, their scripts in
`bot/console/static/urgent.js` (the console's count of urgent cases) and `chat.js` (browser
tests listen for violations). In production every response also carries
`Strict-Transport-Security`: TLS ends at the proxy, and the browser should never try plain http
again.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders

from bot.limits import ASGIApp, Message, Receive, Scope, Send

_COMMON_CSP = "default-src 'none'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
CONSOLE_CSP = (
    _COMMON_CSP + "script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'"
)
CHAT_CSP = (
    _COMMON_CSP + "script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'"
)
PAGE_POLICIES = (("/console", CONSOLE_CSP), ("/chat", CHAT_CSP))  # (path prefix, policy)
HSTS = "max-age=31536000"  # a year; not includeSubDomains: other hosts of the domain are not ours


def page_headers(path: str) -> dict[str, str]:
    """The security headers of a response to `path` (none outside the pages)."""
    for prefix, policy in PAGE_POLICIES:
        if path == prefix or path.startswith(prefix + "/"):
            return {
                "Content-Security-Policy": policy,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "X-Frame-Options": "DENY",
            }
    return {}


class SecurityHeadersMiddleware:
    """ASGI middleware: the pages' security headers, and HSTS on everything in production."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to the response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = page_headers(scope["path"])
        if self.production:
            extra["Strict-Transport-Security"] = HSTS
        if not extra:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
