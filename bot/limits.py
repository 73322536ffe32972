"""Abuse limits: request budgets per user and per client IP (HTTP 429), and a body cap (413).

Budgets are token buckets kept in memory, per process: a key may spend `per_minute` requests at
once and earns them back at `per_minute / 60` a second. With `fuqing serve --workers N` each worker
keeps its own buckets, so a client spread over the workers may get up to N times the budget; the
limits are there to stop floods, not to meter exact quotas, and a shared counter in the database
would put a write on every message's path. A setting of 0 turns that limit off.

- Per user (`FUQING_RATE_USER_PER_MINUTE`): messages of one user of a channel (the API's `user`,
  the web chat's cookie id, the WeChat openid, the Telegram chat id). The API and the web chat
  answer 429; WeChat and Telegram get their usual "received" answer (`success` / `{"ok": true}`)
  without the engine being asked, because an error would make them deliver the same message
  again and again. The first refusal in a row is logged, with a digest of the user id only.
- Per client IP (`FUQING_RATE_IP_PER_MINUTE`): every request, except the platform callbacks,
  health checks, and requests with a valid API or admin bearer token (an integration's server).
  Behind a reverse proxy the client IP is the one uvicorn takes from `X-Forwarded-For` (the
  proxy must be in `FUQING_FORWARDED_ALLOW_IPS`).
- Per client IP on the platform callbacks (`/wechat`, `/wecom`, `/telegram`;
  `FUQING_RATE_CALLBACK_IP_PER_MINUTE`, default 600): their own, larger budget, because every
  resident's messages arrive from the platform's few addresses. Sized from WeChat's pattern: a
  message is delivered at most 4 times (3 retries, 5 s apart, within ~15 s) and fuqing answers
  within 4 s, so retries are the exception; 600 a minute per address is 150 messages a minute
  through one WeChat address even if every one were delivered 4 times, and WeChat spreads its
  deliveries over a pool of addresses (one message's retries come from several). Over budget
  the callback still gets its "received" answer (`success` / `{"ok": true}`), so the platform
  does not retry into the limit, and the engine is not asked; the first refusal of a burst is
  logged. A flood from one address (the security probe made 1,499 new openids in 7.4 s) is cut
  off after the burst.
- Body cap (`FUQING_MAX_REQUEST_BYTES`): every request body, console forms and the staff API
  included; a declared `Content-Length` over the cap is refused before reading, and a body sent
  without one (chunked) is read up to the cap and refused beyond it, so the app never sees it.
  The JSON API and the web chat keep their smaller cap (`FUQING_MAX_BODY_BYTES`).
- NUL, which PostgreSQL cannot store, is refused (400) in paths, query strings and bodies (raw,
  `%00` or a JSON `\\u0000`), except the platform callbacks' bodies, which their parsers judge.
"""

from __future__ import annotations

import json
import logging
import math
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from bot.config import Settings
from bot.errors import ApiError
from bot.nlp.pii import digest

log = logging.getLogger(__name__)

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

WINDOW_SECONDS = 60.0
MAX_KEYS = 100_000  # buckets kept at most (the oldest go first: a full budget again)
CALLBACK_PREFIXES = ("/wechat", "/wecom", "/telegram")  # own IP budget; own parsers for bodies
EXEMPT_PREFIXES = ("/healthz", "/readyz")
# NUL, which PostgreSQL cannot store: raw or a JSON escape (not `\\u0000`); `%00` when encoded.
NUL = re.compile(rb"\x00|(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
NUL_ENCODED = re.compile(rb"\x00|%00")


@dataclass(frozen=True)
class Verdict:
    """One request's fate: allowed, or refused for `retry_after` seconds (`first` refusal)."""

    allowed: bool
    retry_after: int = 0
    first: bool = False


@dataclass
class _Bucket:
    tokens: float
    at: float
    refused: bool = False


@dataclass
class RateLimiter:
    """Token buckets per key: bursts of up to `per_minute`, refilled evenly over a minute;
    `per_minute=0` allows everything."""

    per_minute: int
    clock: Callable[[], float] = time.monotonic
    max_keys: int = MAX_KEYS
    _buckets: OrderedDict[str, _Bucket] = field(default_factory=OrderedDict)

    @property
    def enabled(self) -> bool:
        """False when the limit is off (0)."""
        return self.per_minute > 0

    def hit(self, key: str) -> Verdict:
        """Spend one request of `key`'s budget, or say how long until one is earned."""
        if not self.enabled:
            return Verdict(True)
        now = self.clock()
        rate = self.per_minute / WINDOW_SECONDS
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(tokens=float(self.per_minute), at=now)
            self._buckets[key] = bucket
        else:
            elapsed = max(now - bucket.at, 0.0)
            bucket.tokens = min(float(self.per_minute), bucket.tokens + elapsed * rate)
            bucket.at = now
            self._buckets.move_to_end(key)
        self._prune(now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.refused = False
            return Verdict(True)
        first = not bucket.refused
        bucket.refused = True
        return Verdict(
            False, retry_after=max(1, math.ceil((1.0 - bucket.tokens) / rate)), first=first
        )

    def __len__(self) -> int:
        return len(self._buckets)

    def _prune(self, now: float) -> None:
        # Oldest first: a bucket idle for a whole window is full again, the same as none.
        while self._buckets:
            key, bucket = next(iter(self._buckets.items()))
            if now - bucket.at < WINDOW_SECONDS and len(self._buckets) <= self.max_keys:
                return
            del self._buckets[key]


@dataclass
class Limits:
    """The app's limits (built from the settings in `create_app`, kept in `app.state.limits`)."""

    users: RateLimiter
    ips: RateLimiter
    max_request_bytes: int
    trusted_tokens: tuple[str, ...] = ()
    callbacks: RateLimiter = field(default_factory=lambda: RateLimiter(0))  # per IP, callbacks

    @classmethod
    def from_settings(
        cls, settings: Settings, *, clock: Callable[[], float] = time.monotonic
    ) -> Limits:
        """The limits the settings ask for, on `clock` (monotonic seconds)."""
        return cls(
            users=RateLimiter(settings.rate_user_per_minute, clock=clock),
            ips=RateLimiter(settings.rate_ip_per_minute, clock=clock),
            max_request_bytes=settings.max_request_bytes,
            trusted_tokens=(settings.api_token, settings.admin_token),
            callbacks=RateLimiter(settings.rate_callback_ip_per_minute, clock=clock),
        )

    def admit(self, channel: str, user: str) -> bool:
        """True when `user` of `channel` may send one more message (the first refusal logged)."""
        verdict = self.users.hit(f"{channel}:{user}")
        if not verdict.allowed and verdict.first:
            log.warning(
                "rate limited: %s user %s (over %s messages a minute)",
                channel,
                digest(user),
                self.users.per_minute,
            )
        return verdict.allowed

    def check_user(self, channel: str, user: str) -> None:
        """Raise a 429 ApiError when `user` of `channel` is over her budget."""
        verdict = self.users.hit(f"{channel}:{user}")
        if verdict.allowed:
            return
        if verdict.first:
            log.warning("rate limited: %s user %s", channel, digest(user))
        raise rate_limited(verdict.retry_after)

    def trusted(self, authorization: str) -> bool:
        """True for a valid API or admin bearer token (server-to-server calls)."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        given = token.strip().encode("utf-8", "surrogateescape")
        return any(secrets.compare_digest(given, t.encode()) for t in self.trusted_tokens if t)


def limits_of(request: Request) -> Limits:
    """The app's limits (set by `create_app`)."""
    found: Limits = request.app.state.limits
    return found


def rate_limited(retry_after: int) -> ApiError:
    """The 429 error: `{"error": "rate_limited", …}` with `Retry-After`."""
    return ApiError(
        429,
        "rate_limited",
        f"too many requests; try again in {retry_after} s",
        {"retry_after": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def _received(send: Send, path: str) -> None:
    """The platform's "received" answer, so that it does not deliver the request again:
    `{"ok": true}` to Telegram, `success` to WeChat and WeCom."""
    if path.startswith("/telegram"):
        await _json(send, 200, {"ok": True}, {})
        return
    raw = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"7")]
    await send({"type": "http.response.start", "status": 200, "headers": raw})
    await send({"type": "http.response.body", "body": b"success"})


async def _json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
    content = json.dumps(body, ensure_ascii=False).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content})


class LimitsMiddleware:
    """ASGI middleware: the per-IP budget (429) and the body cap (413) of every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse over-budget clients and over-sized bodies; pass the rest on."""
        limits: Limits | None = getattr(scope.get("app"), "state", None) and getattr(
            scope["app"].state, "limits", None
        )
        if scope["type"] != "http" or limits is None:
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        if path.startswith(CALLBACK_PREFIXES):
            if not self._callback_admitted(scope, limits):
                await _received(send, path)
                return
        else:
            refused = self._over_budget(scope, limits)
            if refused is not None:
                error = rate_limited(refused)
                body = {"error": error.code, "message": error.message, "details": error.details}
                await _json(send, 429, body, error.headers)
                return
        if "\x00" in path or NUL_ENCODED.search(bytes(scope.get("query_string", b""))):
            await self._has_nul(send)
            return
        declared = _header(scope, b"content-length")
        chunked = _header(scope, b"transfer-encoding") is not None
        if declared is None and not chunked:
            await self.app(scope, receive, send)
            return
        cap = limits.max_request_bytes
        if declared is not None and declared.strip().isdecimal() and int(declared) > cap:
            await self._too_large(send, cap)
            return
        # Read the body up to the cap (never more), then hand it to the app in one piece.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([], message, receive), send)
                return
            chunk = bytes(message.get("body", b""))
            size += len(chunk)
            if size > cap:
                await self._too_large(send, cap)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        whole: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        form = "urlencoded" in (_header(scope, b"content-type") or "")
        if not path.startswith(CALLBACK_PREFIXES) and (NUL_ENCODED if form else NUL).search(
            whole["body"]
        ):
            await self._has_nul(send)
            return
        await self.app(scope, _replay([whole], None, receive), send)

    @staticmethod
    def _callback_admitted(scope: Scope, limits: Limits) -> bool:
        """True when the callback's client IP is within the callbacks' budget."""
        if not limits.callbacks.enabled:
            return True
        ip = _client_ip(scope)
        verdict = limits.callbacks.hit(ip)
        if not verdict.allowed and verdict.first:
            log.warning(
                "rate limited: callbacks from %s (over %s a minute); answered as received, "
                "the engine not asked",
                ip,
                limits.callbacks.per_minute,
            )
        return verdict.allowed

    @staticmethod
    def _over_budget(scope: Scope, limits: Limits) -> int | None:
        if not limits.ips.enabled:
            return None
        path = str(scope.get("path", ""))
        if path.startswith(EXEMPT_PREFIXES):
            return None
        authorization = _header(scope, b"authorization")
        if authorization and limits.trusted(authorization):
            return None
        ip = _client_ip(scope)
        verdict = limits.ips.hit(ip)
        if verdict.allowed:
            return None
        if verdict.first:
            log.warning(
                "rate limited: client %s (over %s requests a minute)", ip, limits.ips.per_minute
            )
        return verdict.retry_after

    @staticmethod
    async def _has_nul(send: Send) -> None:
        body = {"error": "invalid_request", "message": "NUL characters are not accepted"}
        await _json(send, 400, body, {})

    @staticmethod
    async def _too_large(send: Send, cap: int) -> None:
        body = {"error": "body_too_large", "message": f"the body is over {cap} bytes"}
        await _json(send, 413, body, {"Connection": "close"})


def _replay(first: list[Message], then: Message | None, receive: Receive) -> Receive:
    queued = [*first, *([then] if then is not None else [])]

    async def replay() -> Message:
        if queued:
            return queued.pop(0)
        return await receive()

    return replay
