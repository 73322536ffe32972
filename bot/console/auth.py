"""The console's staff sessions: login, the signed session cookie, CSRF, page rendering.

A session is a cookie signed with `settings.secret_key` (itsdangerous, timestamped by the
engine's clock so tests can move time) carrying the staff id, the account's session generation
and a CSRF token made at login; it is HttpOnly, SameSite=Lax, Secure in production (and over
https), and void after 8 hours or once the staff member logs out (logout moves the account's
generation on). Before login, a pre-session cookie carries the login form's CSRF token, good
only while there is no live session. Every POST checks the token (`check_csrf`); every page
checks the session (`current_staff`), which also resolves the units the staff member may see:
her unit's subtree, every unit for the city's staff; and counts the urgent cases in them nobody
has accepted yet (bot/domain/urgency.py), which every page's navigation shows. Logins are
throttled per username (bot/console/throttle.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

from bot import texts
from bot.console import throttle
from bot.domain import urgency
from bot.domain.org import unit_label
from bot.http import Services, secure_cookies, services
from storage import repo
from storage.db import Database
from storage.models import StaffAccount
from storage.orgtree import UnitPath

SESSION_COOKIE = "fuqing_console"
PRE_COOKIE = "fuqing_console_pre"
FLASH_COOKIE = "fuqing_console_flash"
COOKIE_PATH = "/console"
SESSION_SECONDS = 8 * 3600
PRE_SECONDS = 2 * 3600
FLASH_SECONDS = 120
LOGIN_PATH = "/console/login"
HOME_PATH = "/console"
MIN_PASSWORD = 8
TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
NAV = (  # (the label's key under console.nav. in bot/texts.py, the path)
    ("home", "/console"),
    ("requests", "/console/requests"),
    ("inbox", "/console/inbox"),
    ("assessment", "/console/assessment"),
    ("visits", "/console/visits"),
    ("quarters", "/console/quarters"),
    ("contacts", "/console/contacts"),
    ("org", "/console/org"),
    ("outbox", "/console/outbox"),
)


@dataclass(frozen=True)
class Staff:
    """The logged-in staff member and the units she may see."""

    id: int
    username: str
    unit_id: int
    unit_path: str  # the unit's full path: "北京市" or "北京市/朝阳区"
    unit_label: str  # "朝阳区妇联", "北京市妇联"
    is_city: bool  # bound to the city unit: sees every unit
    unit_ids: tuple[int, ...]  # her unit's subtree; every unit for city staff
    district: str | None  # her district's name (None for city staff)


@dataclass(frozen=True)
class NavItem:
    """One link of the top navigation (`count`: what waits behind it, shown as a badge)."""

    label: str
    href: str
    active: bool
    key: str = ""
    count: int = 0


class LoginRequired(HTTPException):
    """Not logged in, or the session expired: the app's HTTP error handler answers with a 303
    to the login page (its `next` brings her back to a page she was opening)."""

    def __init__(self, next_url: str = HOME_PATH) -> None:
        location = f"{LOGIN_PATH}?next={quote(next_url, safe='/')}"
        super().__init__(303, "login required", headers={"Location": location})


# ----------------------------------------------------------------------------- passwords


@cache
def hasher() -> PasswordHasher:
    """The argon2id hasher with argon2-cffi's current recommended parameters."""
    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    return hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return hasher().hash(password)


@dataclass(frozen=True)
class LoginResult:
    """What a login attempt came to: a staff member and her session generation, or not."""

    staff_id: int | None  # None: refused
    generation: int = 0  # the account's session generation, carried by the new session
    failures: int = 0  # failed attempts in a row for this username, this one included
    retry_after: int = 0  # > 0: the username must wait this many seconds (throttled)


def verify_login(
    db: Database, *, username: str, password: str, now: datetime, secret: str
) -> LoginResult:
    """Check a login against the username's throttle (bot/console/throttle.py) and its
    password; on success clear the throttle and note the login.

    An unknown username is throttled and verified against a dummy hash like a known one, so
    neither the answer nor its time tells whether it exists; a hash made with older
    parameters is replaced on success. `secret` keys the throttle's digest of the username.
    """
    name = username.strip()
    key = throttle.throttle_key(secret, name)
    with db.transaction() as session:
        attempt = throttle.begin_attempt(session, key=key, now=now)
        if not attempt.allowed:
            return LoginResult(None, failures=attempt.failures, retry_after=attempt.retry_after)
        account = repo.staff_by_username(session, username=name)
        stored = account.password_hash if account is not None else _dummy_hash()
        staff_id = account.id if account is not None and account.active else None
    failed = LoginResult(None, failures=attempt.failures)
    try:
        hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return failed
    if staff_id is None:
        return failed
    new_hash = hash_password(password) if hasher().check_needs_rehash(stored) else None
    with db.transaction() as session:
        repo.clear_login_failures(session, key=key)
        found = repo.get_staff(session, staff_id=staff_id)
        if found is None:
            return failed
        repo.record_login(session, staff=found, new_hash=new_hash, now=now)
        return LoginResult(staff_id, generation=found.session_generation)


# ----------------------------------------------------------------------------- signed cookies


class _ClockSigner(TimestampSigner):
    """A timestamp signer reading the app's clock (the engine's; tests move it)."""

    def __init__(self, *args: Any, clock: Callable[[], datetime], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        """Now, in whole seconds."""
        return int(self._clock().timestamp())


def _serializer(svc: Services, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        svc.settings.secret_key,
        salt=f"fuqing-console-{purpose}",
        signer=_ClockSigner,
        signer_kwargs={"clock": svc.engine.clock},
    )


def _read(request: Request, cookie: str, purpose: str, max_age: int) -> tuple[Any, datetime]:
    raw = request.cookies.get(cookie)
    if not raw:
        raise BadSignature("no cookie")
    data, issued = _serializer(services(request), purpose).loads(
        raw, max_age=max_age, return_timestamp=True
    )
    return data, issued


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )


def _delete_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(
        name, path=COOKIE_PATH, httponly=True, samesite="lax", secure=secure_cookies(request)
    )


@dataclass(frozen=True)
class _Session:
    staff_id: int
    generation: int
    csrf: str


def _session(request: Request) -> _Session | None:
    """The signed, unexpired session cookie's content (not yet checked against the account)."""
    try:
        data, _issued = _read(request, SESSION_COOKIE, "session", SESSION_SECONDS)
        return _Session(int(data["s"]), int(data["g"]), str(data["c"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def _pre_token(request: Request) -> str | None:
    try:
        data, _issued = _read(request, PRE_COOKIE, "pre", PRE_SECONDS)
        return str(data["c"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def start_session(request: Request, response: Response, login: LoginResult) -> None:
    """Set the session cookie of a successful `login` with a fresh CSRF token (the login
    form's token is not carried over) and its account's generation; drop the pre-session."""
    assert login.staff_id is not None
    token = secrets.token_urlsafe(32)
    data = {"s": login.staff_id, "g": login.generation, "c": token}
    value = _serializer(services(request), "session").dumps(data)
    _set_cookie(request, response, SESSION_COOKIE, value, SESSION_SECONDS)
    _delete_cookie(request, response, PRE_COOKIE)


async def end_session(request: Request, response: Response) -> None:
    """Void the staff member's sessions, every one issued so far (server side), and delete the
    cookie. Only a live session ends them: an old cookie (posted with the login form's token)
    cannot log her out elsewhere."""
    try:
        staff: Staff | None = await current_staff(request)
    except LoginRequired:
        staff = None
    if staff is not None:
        svc, staff_id = services(request), staff.id

        def void() -> None:
            with svc.db.transaction() as session:
                account = repo.get_staff(session, staff_id=staff_id)
                if account is not None:
                    repo.end_sessions(session, staff=account)

        await asyncio.to_thread(void)
    _delete_cookie(request, response, SESSION_COOKIE)


# ----------------------------------------------------------------------------- dependencies


@dataclass(frozen=True)
class Waiting:
    """What waits for someone in her units, shown in the navigation of every page: urgent
    cases nobody accepted, hand-offs (转人工) nobody answered yet."""

    urgent: int = 0
    handoffs: int = 0


def _load_staff(svc: Services, found: _Session) -> tuple[Staff, Waiting] | None:
    """The session's staff member and what waits in her units (`Waiting`); None when the
    session is void."""
    with svc.db.read() as session:
        account: StaffAccount | None = repo.get_staff(session, staff_id=found.staff_id)
        if account is None or not account.active:
            return None
        if account.session_generation != found.generation:  # logged out since
            return None
        unit = repo.get_unit(session, unit_id=account.unit_id)
        if unit is None:
            return None
        staff = Staff(
            id=account.id or 0,
            username=account.username,
            unit_id=unit.id or 0,
            unit_path=unit.path,
            unit_label=unit_label(unit),
            is_city=unit.parent_id is None,
            unit_ids=tuple(sorted(repo.units_below(session, unit=unit))),
            district=UnitPath.parse(unit.path).district,
        )
        scope = None if staff.is_city else staff.unit_ids
        return staff, Waiting(
            urgent=urgency.count_waiting(session, unit_ids=scope),
            handoffs=repo.count_waiting_threads(session, unit_ids=scope),
        )


def _here(request: Request) -> str:
    if request.method != "GET":
        return HOME_PATH
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


async def current_staff(request: Request) -> Staff:
    """FastAPI dependency: the logged-in staff member; else LoginRequired (a 303 to login)."""
    cached = getattr(request.state, "console_staff", None)
    if isinstance(cached, Staff):
        return cached
    found = _session(request)
    if found is None:
        raise LoginRequired(_here(request))
    loaded = await asyncio.to_thread(_load_staff, services(request), found)
    if loaded is None:
        raise LoginRequired(_here(request))
    staff, request.state.console_waiting = loaded
    request.state.console_staff = staff
    request.state.console_csrf = found.csrf
    return staff


def waiting(request: Request) -> Waiting:
    """What waits in the logged-in staff member's units, as counted when `current_staff`
    checked her session (nothing before that)."""
    found = getattr(request.state, "console_waiting", None)
    return found if isinstance(found, Waiting) else Waiting()


def urgent_waiting(request: Request) -> int:
    """How many urgent cases in the logged-in staff member's units nobody has accepted yet."""
    return waiting(request).urgent


async def check_csrf(request: Request) -> None:
    """FastAPI dependency for every POST: the form field `csrf_token` (or the X-CSRF-Token
    header) must match the session's token; only without a live session (the login form),
    the pre-session's. Else 403: a login form's token is no good once she is logged in."""
    try:
        await current_staff(request)
        expected = getattr(request.state, "console_csrf", None)
    except LoginRequired:
        expected = _pre_token(request)
    sent: object = request.headers.get("x-csrf-token")
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            sent = (await request.form()).get("csrf_token")
    if not (
        isinstance(sent, str)
        and isinstance(expected, str)
        and secrets.compare_digest(sent.encode(), expected.encode())
    ):
        raise HTTPException(403, "CSRF token missing or wrong")


# ----------------------------------------------------------------------------- rendering


@cache
def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.globals["t"] = texts.t
    templates.env.globals["category_labels"] = texts.category_labels
    # The stylesheet's address names its content: a new version is fetched at once, not after
    # the cache's hour (the pages' styles all live there since the CSP allows no inline ones).
    css = (STATIC / "console.css").read_bytes()
    templates.env.globals["css_version"] = hashlib.sha256(css).hexdigest()[:12]
    script = (STATIC / "urgent.js").read_bytes() + (STATIC / "inbox.js").read_bytes()
    templates.env.globals["js_version"] = hashlib.sha256(script).hexdigest()[:12]
    return templates


def safe_next(target: str | None) -> str:
    """A local console path to go to after login (anything else: the console's home)."""
    if not target or any(c in target for c in "\\\r\n"):
        return HOME_PATH
    path = target.split("?", 1)[0]
    inside = path == HOME_PATH or path.startswith(HOME_PATH + "/")
    if not inside or ".." in path.split("/") or path.startswith(LOGIN_PATH):
        return HOME_PATH
    return target


def local_wall_time(at: datetime | None, tz: ZoneInfo) -> datetime | None:
    """A stored UTC time as the federation's wall-clock time, to the minute, without a zone
    (what an export's date cell holds: Excel has no time zones); None stays None."""
    if at is None:
        return None
    return repo.as_utc(at).astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)


def local_time(at: datetime | None, tz: ZoneInfo) -> str:
    """'2026-03-18 10:00' in the federation's time zone ('' for None)."""
    if at is None:
        return ""
    return repo.as_utc(at).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def flash(request: Request, response: Response, text: str, kind: str = "ok") -> None:
    """Show `text` on the next page rendered (kind: ok | error)."""
    value = _serializer(services(request), "flash").dumps([[kind, text]])
    _set_cookie(request, response, FLASH_COOKIE, value, FLASH_SECONDS)


def redirect(
    request: Request, url: str, *, message: str | None = None, kind: str = "ok"
) -> Response:
    """A 303 to `url` (after a POST), with an optional flash message."""
    response = RedirectResponse(url, status_code=303)
    if message:
        flash(request, response, message, kind)
    return response


def _flashes(request: Request) -> list[tuple[str, str]]:
    try:
        data, _issued = _read(request, FLASH_COOKIE, "flash", FLASH_SECONDS)
        return [(str(kind), str(text)) for kind, text in data]
    except (BadSignature, TypeError, ValueError, json.JSONDecodeError):
        return []


def render(request: Request, template: str, staff: Staff | None, **context: object) -> HTMLResponse:
    """Render a console page (bot/console/templates) with `staff`, `csrf_token`, `nav`,
    `flashes` [(kind, text)], `urgent_waiting` (the navigation's count of urgent cases nobody
    has accepted), `local` (a datetime in the federation's time zone) and `t`.

    Without a staff member (the login page) the CSRF token comes from the pre-session cookie,
    set here when missing. Set `status_code` on the result for anything but 200.
    """
    svc = services(request)
    tz = ZoneInfo(svc.settings.timezone)
    new_pre: str | None = None
    token: str | None
    if staff is not None:
        token = getattr(request.state, "console_csrf", None)
    else:
        token = _pre_token(request)
        if token is None:
            token = new_pre = secrets.token_urlsafe(32)
    path = request.url.path
    counts = {"inbox": waiting(request).handoffs} if staff is not None else {}
    nav = [
        NavItem(
            texts.t("console.nav." + key),
            href,
            path == href or (href != HOME_PATH and path.startswith(href + "/")),
            key,
            counts.get(key, 0),
        )
        for key, href in NAV
    ]
    flashes = _flashes(request)
    response = _templates().TemplateResponse(
        request,
        template,
        {
            "staff": staff,
            "csrf_token": token or "",
            "nav": nav,
            "flashes": flashes,
            "urgent_waiting": urgent_waiting(request) if staff is not None else 0,
            "local": lambda at: local_time(at, tz),
            **context,
        },
    )
    response.headers["Cache-Control"] = "no-store"  # the security headers: bot/headers.py
    if new_pre is not None:
        value = _serializer(svc, "pre").dumps({"c": new_pre})
        _set_cookie(request, response, PRE_COOKIE, value, PRE_SECONDS)
    if flashes:
        _delete_cookie(request, response, FLASH_COOKIE)
    return response
