"""The API docs: /docs and /redoc load every script, style and icon from the app itself (an
intranet has no CDN), and the three doc routes are off in production unless turned on."""

from __future__ import annotations

import re

import pytest

from bot.config import Settings
from bot.engine import Engine
from tests.conftest import served

REFERENCE = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_doc_pages_load_everything_from_the_app(
    settings: Settings, engine: Engine, page: str
) -> None:
    """The page names no other host (no `//` anywhere in its HTML outside the spec's
    namespace URLs), and each script, style and icon it references loads (200) from the app."""
    async with served(settings, engine) as app:
        response = await app.http.get(page)
        assert response.status_code == 200
        html = response.text
        references = REFERENCE.findall(html)
        assert len(references) >= 2, html
        assert re.findall(r"https?://|//[a-z]", html) == []
        for reference in references:
            assert reference.startswith("/docs/assets/"), reference
            asset = await app.http.get(reference)
            assert asset.status_code == 200 and len(asset.content) > 1000, reference
        assert (await app.http.get("/openapi.json")).json()["info"]["title"].startswith("妇情通")


@pytest.mark.parametrize(
    ("env", "api_docs", "served_docs"),
    [
        ("development", None, True),
        ("test", None, True),
        ("production", None, False),
        ("production", "on", True),
        ("development", "off", False),
    ],
)
async def test_doc_routes_follow_the_environment_and_setting(
    settings: Settings, engine: Engine, env: str, api_docs: str | None, served_docs: bool
) -> None:
    """/docs, /redoc and /openapi.json: on outside production, off in production, and
    FUQING_API_DOCS=on|off overrides either."""
    changed = settings.model_copy(update={"env": env, "api_docs": api_docs})
    async with served(changed, engine) as app:
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/assets/swagger-ui.css"):
            status = (await app.http.get(path)).status_code
            assert status == (200 if served_docs else 404), (path, status)
