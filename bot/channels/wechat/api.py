"""Outbound clients for the WeChat Official Account API and the WeCom (企业微信) API.

Both share one base: an access token fetched once at a time, cached until shortly before it
expires and refreshed when WeChat calls it invalid (40001/40014/42001); every request retried on
transient failures (transport errors, HTTP 5xx, unreadable JSON, errcode -1 "system busy") with
a short backoff, then raised as `WeChatApiError` — never swallowed. Log lines never carry the
secret or the access token: both are masked in URLs, also in httpx's own request log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypedDict

import httpx
from typing_extensions import Unpack

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid credential / invalid token / expired
OUT_OF_WINDOW = 45015  # customer-service message outside the 48-hour window
SYSTEM_BUSY = -1
RECOVERABLE = TOKEN_ERRORS | {OUT_OF_WINDOW}  # logged as warnings: the caller recovers from them
DEFAULT_BACKOFF: tuple[float, ...] = (0.2, 0.5)
DEFAULT_TIMEOUT = 10.0

_SECRET_IN_URL = re.compile(r"(?i)\b(access_token|corpsecret|secret)=[^&\s\"']*")


def mask_secrets(text: str) -> str:
    """Replace the values of access_token=, secret= and corpsecret= in `text` with ***."""
    return _SECRET_IN_URL.sub(r"\1=***", text)


class _MaskSecretsFilter(logging.Filter):
    """Masks secrets in records of the `httpx` logger, which logs each request's full URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def _install_httpx_filter() -> None:
    """Attach the masking filter to the `httpx` logger once."""
    httpx_log = logging.getLogger("httpx")
    if not any(isinstance(f, _MaskSecretsFilter) for f in httpx_log.filters):
        httpx_log.addFilter(_MaskSecretsFilter())


class WeChatApiError(Exception):
    """A failed WeChat/WeCom API call: `errcode` (−1 for HTTP/transport failures), `errmsg`."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errcode, errmsg)
        self.errcode = errcode
        self.errmsg = errmsg

    def __str__(self) -> str:
        return f"WeChat API error {self.errcode}: {self.errmsg}"


class _Transient(Exception):
    """A failure worth retrying; becomes `WeChatApiError(-1 or errcode, …)` when retries run out."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errcode, errmsg)
        self.errcode = errcode
        self.errmsg = errmsg


class ClientOptions(TypedDict, total=False):
    """What both clients take besides their credentials (see `_TokenClient`)."""

    http: httpx.AsyncClient | None
    clock: Callable[[], float]
    refresh_margin: float
    attempts: int
    backoff: Sequence[float]


class _TokenClient:
    """Token caching, JSON requests and retries shared by the Official Account and WeCom clients."""

    _token_path = ""  # set by subclasses

    def __init__(
        self,
        *,
        base_url: str,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        refresh_margin: float = 300.0,
        attempts: int = 3,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._base_url = base_url.rstrip("/")
        self._own_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)
        self._clock = clock
        self._refresh_margin = refresh_margin
        self._attempts = attempts
        self._backoff = tuple(backoff)
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._token_lock = asyncio.Lock()
        _install_httpx_filter()

    def _token_params(self) -> dict[str, str]:
        """Query parameters of the token request (holding the secret)."""
        raise NotImplementedError

    async def access_token(self, *, force: bool = False) -> str:
        """The cached access token; fetched (one at a time) if missing, near expiry or forced."""
        return await self._current_token(stale=None, force=force)

    async def _current_token(self, *, stale: str | None, force: bool = False) -> str:
        """The token; refetched if forced, expired, or still equal to `stale` (a rejected token).

        Concurrent callers that all saw `stale` rejected share a single refetch.
        """
        async with self._token_lock:
            fresh = (
                self._token is not None
                and self._clock() < self._token_expires_at
                and self._token != stale
            )
            if fresh and not force:
                assert self._token is not None
                return self._token
            data = await self._request("GET", self._token_path, params=self._token_params())
            token = data.get("access_token")
            expires_in = data.get("expires_in", 7200)
            if not isinstance(token, str) or not token or not isinstance(expires_in, int | float):
                raise self._failure("GET", self._token_path, -1, "token response without a token")
            lifetime = float(expires_in) - self._refresh_margin
            if lifetime <= 0:  # a margin longer than the token lives: keep it half its life
                lifetime = float(expires_in) / 2
            self._token = token
            self._token_expires_at = self._clock() + lifetime
            return token

    async def _post_with_token(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST `body` with the access token; on a token error refresh it once and retry."""
        token = await self._current_token(stale=None)
        try:
            return await self._request("POST", path, params={"access_token": token}, body=body)
        except WeChatApiError as error:
            if error.errcode not in TOKEN_ERRORS:
                raise
        token = await self._current_token(stale=token)
        return await self._request("POST", path, params={"access_token": token}, body=body)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str],
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One API call with retries; the decoded JSON when errcode is 0 or absent, else raises."""
        last: _Transient | None = None
        for attempt in range(self._attempts):
            if attempt and self._backoff:
                await asyncio.sleep(self._backoff[min(attempt - 1, len(self._backoff) - 1)])
            try:
                return await self._request_once(method, path, params=params, body=body)
            except _Transient as transient:
                last = transient
                log.warning(
                    "WeChat API %s %s failed (attempt %d/%d): %s %s",
                    method,
                    path,
                    attempt + 1,
                    self._attempts,
                    transient.errcode,
                    mask_secrets(transient.errmsg),
                )
        assert last is not None
        raise self._failure(
            method, path, last.errcode, f"{last.errmsg} (after {self._attempts} attempts)"
        )

    async def _request_once(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str],
        body: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        """One HTTP exchange: raises `_Transient` for retryable failures, `WeChatApiError` else."""
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {} if body is None else {"Content-Type": "application/json; charset=utf-8"}
        try:
            response = await self._http.request(
                method, self._base_url + path, params=dict(params), content=content, headers=headers
            )
        except httpx.TransportError as exc:
            raise _Transient(-1, f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500:
            raise _Transient(-1, f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise self._failure(method, path, -1, f"HTTP {response.status_code}")
        try:
            data = json.loads(response.content)
        except ValueError as exc:
            raise _Transient(-1, "response is not JSON") from exc
        if not isinstance(data, dict):
            raise _Transient(-1, "response is not a JSON object")
        errcode = data.get("errcode", 0)
        errmsg = str(data.get("errmsg", ""))
        if not isinstance(errcode, int):
            raise _Transient(-1, f"unreadable errcode {errcode!r}")
        if errcode == SYSTEM_BUSY:
            raise _Transient(SYSTEM_BUSY, errmsg or "system busy")
        if errcode:
            raise self._failure(method, path, errcode, errmsg)
        return data

    def _failure(self, method: str, path: str, errcode: int, errmsg: str) -> WeChatApiError:
        """Log a failed call (secrets masked) and return the error to raise."""
        errmsg = mask_secrets(errmsg)
        level = logging.WARNING if errcode in RECOVERABLE else logging.ERROR
        log.log(level, "WeChat API %s %s failed: %s %s", method, path, errcode, errmsg)
        return WeChatApiError(errcode, errmsg)

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._own_http:
            await self._http.aclose()


class OfficialAccountClient(_TokenClient):
    """The WeChat Official Account (公众号) API: customer-service and template messages, menu."""

    _token_path = "/cgi-bin/token"

    def __init__(
        self,
        *,
        base_url: str,
        appid: str,
        secret: str,
        template_id: str | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(base_url=base_url, **options)
        self._appid = appid
        self._secret = secret
        self._template_id = template_id

    def _token_params(self) -> dict[str, str]:
        return {"grant_type": "client_credential", "appid": self._appid, "secret": self._secret}

    async def send_text(self, openid: str, text: str) -> str:
        """Send `text` to `openid`: "custom" inside the 48-hour window, else "template" (45015)."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        try:
            await self._post_with_token("/cgi-bin/message/custom/send", body)
            return "custom"
        except WeChatApiError as error:
            if error.errcode != OUT_OF_WINDOW:
                raise
            if self._template_id is None:
                raise WeChatApiError(
                    OUT_OF_WINDOW, f"{error.errmsg} (outside 48 hours and no template configured)"
                ) from error
        log.info("WeChat user outside the 48-hour window; sending a template message")
        template = {
            "touser": openid,
            "template_id": self._template_id,
            "data": {"content": {"value": text}},
        }
        await self._post_with_token("/cgi-bin/message/template/send", template)
        return "template"

    async def create_menu(self, menu: dict[str, object]) -> None:
        """Install the custom menu (`{"button": [...]}`)."""
        await self._post_with_token("/cgi-bin/menu/create", menu)


class WeComClient(_TokenClient):
    """The WeCom (企业微信) API: application text messages to a member."""

    _token_path = "/cgi-bin/gettoken"

    def __init__(
        self,
        *,
        base_url: str,
        corp_id: str,
        secret: str,
        agent_id: int,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(base_url=base_url, **options)
        self._corp_id = corp_id
        self._secret = secret
        self._agent_id = agent_id

    def _token_params(self) -> dict[str, str]:
        return {"corpid": self._corp_id, "corpsecret": self._secret}

    async def send_text(self, userid: str, text: str) -> str:
        """Send `text` to the member `userid` from the application; returns "message"."""
        body = {
            "touser": userid,
            "msgtype": "text",
            "agentid": self._agent_id,
            "text": {"content": text},
        }
        data = await self._post_with_token("/cgi-bin/message/send", body)
        if data.get("invaliduser"):  # WeCom answers 0 but names recipients it could not reach
            raise self._failure(
                "POST", "/cgi-bin/message/send", 81013, f"invalid user: {data['invaliduser']}"
            )
        return "message"
