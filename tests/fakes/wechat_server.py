"""A fake WeChat Official Account / WeCom API: a real HTTP server on 127.0.0.1 in a daemon thread.

    with FakeWeChatServer(expires_in=7200) as server:
        client = OfficialAccountClient(base_url=server.base_url, appid=APPID, secret=SECRET, ...)
        server.fail_next("/cgi-bin/message/custom/send", errcode=45015)
        server.expire_token()            # the current token now answers 42001
        server.requests_to("/cgi-bin/token")

Tokens are issued as "T1", "T2", …; every issued token stays valid (as WeChat keeps the old one
for a while) until `expire_token()`. Unknown tokens answer 40001, a wrong secret 40125.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.loopback import LoopbackServer

APPID = "wx-fake-appid"
SECRET = "fake-oa-secret-5ab1"
CORP_ID = "ww-fake-corp"
CORP_SECRET = "fake-wecom-secret-9c2e"

TOKEN_PATHS = ("/cgi-bin/token", "/cgi-bin/gettoken")
MESSAGE_PATHS = (
    "/cgi-bin/message/custom/send",
    "/cgi-bin/message/template/send",
    "/cgi-bin/message/send",
    "/cgi-bin/menu/create",
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any  # the decoded JSON body, or None


@dataclass(frozen=True)
class _Scripted:
    """A scripted answer: an HTTP status, an errcode, or raw bytes."""

    status: int = 200
    errcode: int | None = None
    errmsg: str | None = None
    raw: bytes | None = None


@dataclass
class _State:
    expires_in: int
    appid: str
    secret: str
    corp_id: str
    corp_secret: str
    requests: list[RecordedRequest] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    expired: set[str] = field(default_factory=set)
    scripted: dict[str, deque[_Scripted]] = field(default_factory=lambda: defaultdict(deque))
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeWeChatServer(LoopbackServer):
    """A scriptable fake of the WeChat and WeCom APIs on loopback; a context manager."""

    name = "fake-wechat"

    def __init__(
        self,
        *,
        expires_in: int = 7200,
        appid: str = APPID,
        secret: str = SECRET,
        corp_id: str = CORP_ID,
        corp_secret: str = CORP_SECRET,
    ) -> None:
        self._state = _State(expires_in, appid, secret, corp_id, corp_secret)
        super().__init__(_Handler, self._state)

    # ------------------------------------------------------------------ scripting
    def fail_next(
        self,
        path: str,
        *,
        errcode: int | None = None,
        errmsg: str | None = None,
        status: int = 200,
        raw: bytes | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests to `path` with `errcode`, an HTTP `status`, or `raw`."""
        with self._state.lock:
            for _ in range(times):
                self._state.scripted[path].append(_Scripted(status, errcode, errmsg, raw))

    def expire_token(self) -> None:
        """Expire the latest token: calls that use it answer 42001 from now on."""
        with self._state.lock:
            if self._state.issued:
                self._state.expired.add(self._state.issued[-1])

    # ------------------------------------------------------------------ inspection
    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order (a copy)."""
        with self._state.lock:
            return list(self._state.requests)

    @property
    def issued_tokens(self) -> list[str]:
        """The tokens issued so far, in order."""
        with self._state.lock:
            return list(self._state.issued)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """The requests received on `path`, in order."""
        return [r for r in self.requests if r.path == path]


@contextmanager
def fake_wechat_server(*, expires_in: int = 7200) -> Iterator[FakeWeChatServer]:
    """Run a `FakeWeChatServer` for the duration of a `with` block (or a pytest fixture)."""
    with FakeWeChatServer(expires_in=expires_in) as server:
        yield server


class _Handler(BaseHTTPRequestHandler):
    """Serves the fake's endpoints from its shared `_State`."""

    fake: _State
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        """Token endpoints."""
        self._handle("GET")

    def do_POST(self) -> None:
        """Message and menu endpoints."""
        self._handle("POST")

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            body = None
        state = self.fake
        with state.lock:
            state.requests.append(RecordedRequest(method, parts.path, query, body))
            queue = state.scripted.get(parts.path)
            scripted = queue.popleft() if queue else None
            if scripted is None:
                status, answer = 200, self._answer(method, parts.path, query, body)
        if scripted is not None:
            if scripted.raw is not None:
                self._send(scripted.status, scripted.raw)
                return
            status = scripted.status
            if scripted.errcode is not None:
                answer = {"errcode": scripted.errcode, "errmsg": scripted.errmsg or "scripted"}
            else:
                answer = {"errcode": -1, "errmsg": scripted.errmsg or f"HTTP {status}"}
        self._send(status, json.dumps(answer, ensure_ascii=False).encode("utf-8"))

    def _answer(self, method: str, path: str, query: dict[str, str], body: Any) -> dict[str, Any]:
        """The default answer to a request (called with the state's lock held)."""
        state = self.fake
        if path in TOKEN_PATHS:
            if method != "GET":
                return {"errcode": 43001, "errmsg": "require GET method"}
            if path == "/cgi-bin/token":
                good = query.get("appid") == state.appid and query.get("secret") == state.secret
                good = good and query.get("grant_type") == "client_credential"
            else:
                good = (
                    query.get("corpid") == state.corp_id
                    and query.get("corpsecret") == state.corp_secret
                )
            if not good:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            token = f"T{len(state.issued) + 1}"
            state.issued.append(token)
            return {"access_token": token, "expires_in": state.expires_in}
        if path not in MESSAGE_PATHS:
            return {"errcode": 404, "errmsg": f"unknown path {path}"}
        if method != "POST":
            return {"errcode": 43002, "errmsg": "require POST method"}
        token = query.get("access_token", "")
        if not token:
            return {"errcode": 41001, "errmsg": "access_token missing"}
        if token in state.expired:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        if token not in state.issued:
            return {"errcode": 40001, "errmsg": "invalid credential"}
        if not isinstance(body, dict):
            return {"errcode": 47001, "errmsg": "data format error"}
        if path == "/cgi-bin/menu/create":
            return {"errcode": 0, "errmsg": "ok"}
        return {"errcode": 0, "errmsg": "ok", "msgid": len(state.requests)}

    def _send(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
