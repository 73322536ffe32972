"""Security headers (`bot/headers.py`) over the real app: the pages' Content-Security-Policy,
nosniff, no referrer, no framing; HSTS on every response in production only."""

from __future__ import annotations

import httpx
import pytest

from bot.config import Settings
from bot.engine import Engine
from bot.headers import CHAT_CSP, CONSOLE_CSP
from tests.conftest import API, served

PAGES = {  # path → its policy
    "/console/login": CONSOLE_CSP,
    "/console/requests": CONSOLE_CSP,  # a 303 to the login form
    "/console/static/console.css": CONSOLE_CSP,
    "/chat": CHAT_CSP,
    "/chat/static/chat.js": CHAT_CSP,
}


@pytest.mark.parametrize("env", ["test", "production"])
async def test_pages_carry_their_policy_and_production_is_https_only(
    settings: Settings, engine: Engine, env: str
) -> None:
    """Console and chat answers carry their CSP (frame-ancestors 'none', no inline anything),
    nosniff, no-referrer and DENY; HSTS comes on every answer in production, never elsewhere."""
    secrets = {"secret_key": "k" * 32, "api_token": "test-api-token", "admin_token": "b" * 32}
    async with served(settings.model_copy(update={"env": env, **secrets}), engine) as app:
        answers = {path: await app.http.get(path) for path in PAGES}
        api = await app.http.post(
            "/api/v1/messages", headers=API, json={"user": "u", "text": "你好"}
        )
        health = await app.http.get("/healthz")
    for path, answer in answers.items():
        headers = answer.headers
        assert headers["content-security-policy"] == PAGES[path], path
        assert "frame-ancestors 'none'" in PAGES[path] and "unsafe-inline" not in PAGES[path]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer" and headers["x-frame-options"] == "DENY"
    assert api.status_code == 200 and "content-security-policy" not in api.headers
    for answer in [*answers.values(), api, health]:
        hsts = answer.headers.get("strict-transport-security")
        assert hsts == ("max-age=31536000" if env == "production" else None)


async def test_a_client_error_on_a_page_keeps_the_headers(client: httpx.AsyncClient) -> None:
    """A 404 under /console has the headers too (they come from the middleware, not a page)."""
    answer = await client.get("/console/static/missing.css")
    assert answer.status_code == 404 and answer.headers["content-security-policy"] == CONSOLE_CSP
