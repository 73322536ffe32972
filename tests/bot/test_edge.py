"""The app's edge: oversized request heads get 431 before any route parses a cookie, and
X-Forwarded-For moves the client IP the rate limits see only when it comes from a listed proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import Request

from bot.config import Settings
from bot.engine import Engine
from tests.conftest import Served, served

PROXY = "10.9.8.7"


@asynccontextmanager
async def _app(settings: Settings, engine: Engine, **update: Any) -> AsyncIterator[Served]:
    async with served(settings.model_copy(update=update), engine) as app:
        yield app


def _from(app: Served, peer: str) -> httpx.AsyncClient:
    """A client of the app whose TCP peer is `peer`."""
    transport = httpx.ASGITransport(app=app.app, client=(peer, 4000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        ({"Cookie": "a=" + "b" * 60_000}, "Cookie header"),
        ({"Cookie": 'a="' + "\\" * 5_000 + '"'}, "Cookie header"),
        ({f"X-Pad-{n}": "p" * 1000 for n in range(20)}, "request headers"),
    ],
    ids=["60KB cookie", "5KB of backslashes", "20 x 1KB headers"],
)
async def test_oversized_heads_are_refused_with_431(
    settings: Settings, engine: Engine, headers: dict[str, str], refused: str
) -> None:
    """A Cookie over 4 KB or headers over 16 KB in all: 431 JSON naming the cap, on any route."""
    async with _app(settings, engine) as app:
        for path in ("/chat", "/console/login", "/api/v1/messages/u1"):
            response = await app.http.get(path, headers=headers)
            assert response.status_code == 431, path
            assert response.json()["error"] == "headers_too_large"
            assert refused in response.json()["message"]
        assert (
            await app.http.get("/chat", headers={"Cookie": "a=" + "x" * 3000})
        ).status_code == 200


async def test_header_caps_follow_the_settings(settings: Settings, engine: Engine) -> None:
    """FUQING_MAX_COOKIE_BYTES / FUQING_MAX_HEADER_BYTES move the caps."""
    async with _app(settings, engine, max_cookie_bytes=256, max_header_bytes=2048) as app:
        assert (
            await app.http.get("/chat", headers={"Cookie": "a=" + "b" * 300})
        ).status_code == 431
        assert (await app.http.get("/chat", headers={"X-Pad": "p" * 2100})).status_code == 431
        assert (
            await app.http.get("/chat", headers={"Cookie": "a=" + "b" * 200})
        ).status_code == 200


async def _statuses(client: httpx.AsyncClient, forwarded_for: list[str]) -> list[int]:
    """The status of one request per X-Forwarded-For value (a page the IP budget counts)."""
    return [
        (await client.get("/console/login", headers={"X-Forwarded-For": ip})).status_code
        for ip in forwarded_for
    ]


async def test_forwarded_for_is_ignored_by_default(settings: Settings, engine: Engine) -> None:
    """With no proxy configured, a client cannot pick a new IP per request: its own budget (2 a
    minute) runs out whatever X-Forwarded-For says."""
    async with _app(settings, engine, rate_ip_per_minute=2) as app, _from(app, PROXY) as http:
        assert await _statuses(http, ["1.1.1.1", "2.2.2.2", "3.3.3.3"]) == [200, 200, 429]


async def test_forwarded_for_counts_from_a_listed_proxy_only(
    settings: Settings, engine: Engine
) -> None:
    """FUQING_FORWARDED_ALLOW_IPS lists the proxy: its X-Forwarded-For is the client (each has
    its own budget); another peer's header is still ignored."""
    update = {"rate_ip_per_minute": 2, "forwarded_allow_ips": f"127.0.0.1, {PROXY}"}
    async with _app(settings, engine, **update) as app:
        async with _from(app, PROXY) as proxy:
            assert await _statuses(proxy, ["1.1.1.1", "2.2.2.2", "3.3.3.3"]) == [200] * 3
            assert await _statuses(proxy, ["1.1.1.1", "1.1.1.1"]) == [200, 429]
        async with _from(app, "10.0.0.99") as stranger:
            assert await _statuses(stranger, ["4.4.4.4", "5.5.5.5", "6.6.6.6"]) == [200, 200, 429]


async def test_forwarded_proto_from_the_proxy_sets_the_scheme(
    settings: Settings, engine: Engine
) -> None:
    """Behind a listed proxy, X-Forwarded-Proto: https makes the request https (so cookies get
    Secure) and X-Forwarded-For its client; from anyone else both headers are ignored."""

    async def probe(request: Request) -> dict[str, str]:
        return {
            "scheme": request.url.scheme,
            "client": request.client.host if request.client else "",
        }

    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "1.1.1.1"}
    async with _app(settings, engine, forwarded_allow_ips=PROXY) as app:
        app.app.add_api_route("/probe", probe)
        async with _from(app, PROXY) as proxy:
            assert (await proxy.get("/probe", headers=headers)).json() == {
                "scheme": "https",
                "client": "1.1.1.1",
            }
        async with _from(app, "10.0.0.99") as stranger:
            assert (await stranger.get("/probe", headers=headers)).json() == {
                "scheme": "http",
                "client": "10.0.0.99",
            }
