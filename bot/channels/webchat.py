"""The web chat channel: the page at `/chat`, its assets, and its JSON and SSE endpoints.

A thin channel like the JSON API. Her identity is a random id in a signed, HttpOnly session
cookie (channel `web`) that the page sets; a message without it is refused with a new one (the
page sends again), so a client that keeps no cookies cannot make a resident per message. The
cookie lasts the browser session (no expiry date) and its signature `IDENTITY_SECONDS` since it
was last renewed (each visit, message and push read renews it): an abuser who picks up her
phone later finds no conversation to continue. The dialogue state lives on the server under
that id, the visible transcript in her browser's tab (sessionStorage). The page's 快速离开
wipes the transcript and opens `EXIT_PATH`, a neutral page whose answer deletes the cookie.
`POST /chat/api/messages` runs one message through the engine; pushes (status changes,
reminders) are pulled from the outbox, every second by the SSE stream `GET /chat/api/events` or
on demand by `GET /chat/api/pending` — pulling needs no shared memory, so it works with several
web workers.

Cross-site requests cannot talk as her: the cookie is SameSite=Lax and the JSON endpoints need
the header `X-Requested-With: fuqing`, which a form cannot send and a cross-origin script cannot
send without a CORS preflight this app never grants.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import BaseModel, Field

from bot import texts
from bot.commands import MENU
from bot.config import Settings
from bot.errors import ApiError
from bot.http import read_json_body, secure_cookies, services
from bot.limits import limits_of
from bot.messages import Incoming, Outgoing
from bot.paging import ChannelProfile, fit

router = APIRouter(prefix="/chat", tags=["web chat"])
neutral = APIRouter(include_in_schema=False)  # the quick exit's page, outside /chat

CHANNEL = "web"
PROFILE = ChannelProfile()  # no length limit; choices are buttons under the bubble
ASSETS = Path(__file__).with_name("webchat")
# Served files and their media types; nothing else under ASSETS is reachable.
STATIC_TYPES = {
    "chat.css": "text/css; charset=utf-8",
    "chat.js": "text/javascript; charset=utf-8",
}
COOKIE = "fuqing_web"
COOKIE_PATH = "/chat"
# How long a signed identity holds since it was last renewed; the cookie itself has no expiry
# date (it ends with the browser session). Was a year, kept by the browser: see docs/privacy.md.
IDENTITY_SECONDS = 12 * 3600
EXIT_PATH = "/tips"  # the neutral page 快速离开 opens: nothing on it names the federation
COOKIE_SALT = "fuqing.webchat.identity"
USER_RE = re.compile(r"^w[0-9a-f]{32}$")
CSRF_HEADER = "x-requested-with"
CSRF_VALUE = "fuqing"
POLL_SECONDS = 1.0  # how often the event stream looks for pushes
HEARTBEAT_SECONDS = 15.0  # a comment line keeps proxies from closing an idle stream
STREAM_SECONDS = 60.0  # then the stream ends (EventSource reconnects); bounds a shutdown's wait
RETRY_MS = 2000  # the reconnection delay EventSource is told to use


# ----------------------------------------------------------------------------- identity


@dataclass(frozen=True)
class WebUser:
    """The sender of a web-chat request: her id, and whether it was issued just now."""

    id: str
    fresh: bool


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=COOKIE_SALT)


def new_user_id() -> str:
    """A random web-chat user id (`w` and 32 hex digits)."""
    return "w" + secrets.token_hex(16)


def read_identity(settings: Settings, cookie: str | None) -> str | None:
    """The user id in a signed cookie; None when it is missing, tampered with or too old."""
    if not cookie:
        return None
    try:
        value = _serializer(settings).loads(cookie, max_age=IDENTITY_SECONDS)
    except BadSignature:
        return None
    return value if isinstance(value, str) and USER_RE.fullmatch(value) else None


async def web_user(request: Request) -> WebUser:
    """The request's web user: from the cookie, else a new id (set by `remember`)."""
    found = read_identity(services(request).settings, request.cookies.get(COOKIE))
    return WebUser(found, fresh=False) if found else WebUser(new_user_id(), fresh=True)


def remember(request: Request, response: Response, user: WebUser, *, renew: bool = False) -> None:
    """Set the identity cookie when the id is new (or `renew`: signed again, so it holds
    `IDENTITY_SECONDS` from now); a session cookie, Secure in production whatever the scheme
    (TLS ends at the proxy)."""
    if not (user.fresh or renew):
        return
    response.set_cookie(
        COOKIE,
        _serializer(services(request).settings).dumps(user.id),
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )


def need_identity(request: Request, user: WebUser) -> None:
    """Refuse (403 `no_identity`) a message without an identity cookie, setting one: the page
    sets it before she can write (its script sends again at once), so only a client that keeps
    no cookies arrives without one — and each of its messages would be a new resident."""
    if not user.fresh:
        return
    issued = Response()
    remember(request, issued, user)
    raise ApiError(
        403,
        "no_identity",
        "no chat identity: open the chat page, or send again with the cookie just set",
        headers={"Set-Cookie": issued.headers["set-cookie"]},
    )


async def same_site_only(request: Request) -> None:
    """Refuse (403) a request without `X-Requested-With: fuqing`: a form or a cross-site page."""
    if request.headers.get(CSRF_HEADER, "").lower() != CSRF_VALUE:
        raise ApiError(403, "forbidden", "the header X-Requested-With: fuqing is required")


User = Annotated[WebUser, Depends(web_user)]


# ----------------------------------------------------------------------------- shapes


class WebMessageIn(BaseModel):
    """A message she typed or tapped."""

    # No max_length: the engine cuts a text over FUQING_MAX_TEXT_CHARS and says so to her.
    text: str = Field(description="what she wrote (past FUQING_MAX_TEXT_CHARS: cut, and said)")
    msg_id: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="optional id chosen by the page, so a retried send is answered once",
    )


class WebReply(BaseModel):
    """One bot bubble; `urgent` marks crisis replies (hotlines), shown highlighted."""

    text: str
    choices: list[str]
    urgent: bool = False


class WebReplies(BaseModel):
    """The bot's replies to one message, or what was pushed since the last read."""

    replies: list[WebReply]


def _rendered(replies: list[Outgoing]) -> WebReplies:
    """The replies fitted to the web chat's `PROFILE`, as its JSON shape."""
    return WebReplies(
        replies=[
            WebReply(text=r.text, choices=list(r.choices), urgent=r.urgent)
            for r in fit(replies, PROFILE)
        ]
    )


async def _read_message(request: Request) -> WebMessageIn:
    return await read_json_body(request, WebMessageIn)


# ----------------------------------------------------------------------------- the page


@cache
def _asset(name: str) -> bytes:
    return (ASSETS / name).read_bytes()


@cache
def _version() -> str:
    digest = hashlib.sha256()
    for name in sorted(STATIC_TYPES):
        digest.update(_asset(name))
    return digest.hexdigest()[:12]


@cache
def page_html() -> str:
    """The chat page, with the welcome text, the quick exit's page and asset versions filled
    in (built once)."""
    welcome = {"text": texts.t("webchat.welcome"), "choices": [label for _, label in MENU]}
    page = _asset("index.html").decode()
    return (
        page.replace("{{version}}", _version())
        .replace("{{welcome}}", _escape_attribute(json.dumps(welcome, ensure_ascii=False)))
        .replace("{{exit}}", EXIT_PATH)
    )


def _escape_attribute(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


@router.get("", response_class=HTMLResponse, include_in_schema=False)
async def page(request: Request, user: User) -> HTMLResponse:
    """The chat page; it renews her identity cookie."""
    # Its Content-Security-Policy and the other security headers: bot/headers.py.
    response = HTMLResponse(page_html(), headers={"Cache-Control": "no-cache"})
    remember(request, response, user, renew=True)
    return response


@router.get("/static/{name}", include_in_schema=False)
async def static(request: Request, name: str) -> Response:
    """The page's stylesheet and script (cached for a day; the page names their version)."""
    media_type = STATIC_TYPES.get(name)
    if media_type is None:
        raise ApiError(404, "not_found", "no such file")
    headers = {"Cache-Control": "public, max-age=86400", "ETag": f'"{_version()}"'}
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return Response(_asset(name), media_type=media_type, headers=headers)


# ----------------------------------------------------------------------------- messages


@router.post(
    "/api/messages",
    response_model=WebReplies,
    dependencies=[Depends(same_site_only)],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": WebMessageIn.model_json_schema()}},
        }
    },
)
async def post_message(request: Request, response: Response, user: User) -> WebReplies:
    """Send one message as the cookie's user; get the bot's replies. Without the cookie:
    403 `no_identity` with a new cookie (send again)."""
    message = await _read_message(request)
    need_identity(request, user)
    limits_of(request).check_user(CHANNEL, user.id)  # 429 when over her budget
    svc = services(request)
    incoming = Incoming(
        channel=CHANNEL,
        user=user.id,
        text=message.text,
        # Scoped to her: a page cannot replay another user's id and read their reply.
        msg_id=f"{user.id}:{message.msg_id}" if message.msg_id else None,
        at=svc.engine.clock(),
    )
    replies = await svc.engine.handle(incoming)
    remember(request, response, user, renew=True)
    return _rendered(replies)


@router.get("/api/pending", response_model=WebReplies, dependencies=[Depends(same_site_only)])
async def pending(request: Request, response: Response, user: User) -> WebReplies:
    """What was pushed to her since the last read (for pages without SSE, and tests)."""
    engine = services(request).engine
    pushed = await asyncio.to_thread(engine.pull, channel=CHANNEL, user=user.id)
    remember(request, response, user, renew=True)
    return _rendered(pushed)


def _event(reply: Outgoing) -> str:
    data = json.dumps({"text": reply.text, "urgent": reply.urgent}, ensure_ascii=False)
    return f"data: {data}\n\n"


async def event_stream(
    pull: Callable[[], Awaitable[list[Outgoing]]],
    disconnected: Callable[[], Awaitable[bool]],
    *,
    poll: float = POLL_SECONDS,
    heartbeat: float = HEARTBEAT_SECONDS,
    lifetime: float = STREAM_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncIterator[str]:
    """SSE text: every `poll` seconds the pushes pulled, as `data: {"text", "urgent"}` events;
    a comment every `heartbeat` seconds; ends when the client goes or after `lifetime`."""
    started = last_sent = clock()
    yield f"retry: {RETRY_MS}\n\n"
    while not await disconnected():
        for reply in await pull():
            yield _event(reply)
            last_sent = clock()
        now = clock()
        if now - started >= lifetime:
            return
        if now - last_sent >= heartbeat:
            yield ": keep-alive\n\n"
            last_sent = now
        await sleep(poll)


@router.get("/api/events", include_in_schema=False)
async def events(request: Request, user: User) -> StreamingResponse:
    """Server-Sent Events: her pushes as they arrive (an EventSource from this page only)."""
    site = request.headers.get("sec-fetch-site")
    if "text/event-stream" not in request.headers.get("accept", "") or site not in (
        None,
        "same-origin",
    ):
        raise ApiError(403, "forbidden", "only the chat page may open the event stream")
    engine = services(request).engine

    async def pull() -> list[Outgoing]:
        return await asyncio.to_thread(engine.pull, channel=CHANNEL, user=user.id)

    response = StreamingResponse(
        event_stream(
            pull,
            request.is_disconnected,
            poll=POLL_SECONDS,
            heartbeat=HEARTBEAT_SECONDS,
            lifetime=STREAM_SECONDS,
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
    remember(request, response, user, renew=True)
    return response


# ----------------------------------------------------------------------------- quick exit


@cache
def _neutral_page() -> tuple[bytes, str]:
    """The neutral page and its Content-Security-Policy (its one inline style, by hash)."""
    page = _asset("tips.html")
    style = page.split(b"<style>", 1)[1].split(b"</style>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(style).digest()).decode()
    policy = (
        f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )
    return page, policy


def forget_identity(request: Request, response: Response) -> None:
    """Delete the identity cookie (expired at once, on the chat's path)."""
    response.delete_cookie(
        COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax", secure=secure_cookies(request)
    )


@neutral.get(EXIT_PATH)
async def neutral_page(request: Request) -> Response:
    """The page 快速离开 opens in place of the chat: everyday tips, nothing about the
    federation, no script; its answer deletes the identity cookie, unless another site sent
    her here (Sec-Fetch-Site `cross-site`: a link elsewhere must not end her conversation)."""
    page, policy = _neutral_page()
    response = Response(
        page,
        media_type="text/html; charset=utf-8",
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": policy,
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
        },
    )
    if request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none"):
        forget_identity(request, response)
    return response
