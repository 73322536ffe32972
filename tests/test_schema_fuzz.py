"""schemathesis against the app's OpenAPI schema: every operation, authenticated with the test
tokens, answers no 5xx and logs no error, through the real app on the test database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error

from bot.app import create_app
from bot.config import Settings
from bot.engine import Engine
from bot.nlp import NLP
from storage.db import Database
from tests.conftest import ADMIN, API, ErrorLog, served
from tests.console.sessions import file_request

FUZZ_SETTINGS: dict[str, Any] = {
    "env": "test",
    "secret_key": "test-secret",
    "api_token": "test-api-token",
    "admin_token": "test-admin-token",
    "wechat_token": "fuzz-token",
    "rate_user_per_minute": 0,
    "rate_ip_per_minute": 0,
}
CONFIG = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}})


def _schema() -> dict[str, Any]:
    return create_app(Settings(**FUZZ_SETTINGS)).openapi()


schema = schemathesis.openapi.from_dict(_schema(), config=CONFIG)


@pytest.fixture
async def http(database: Database, nlp: NLP, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the WeChat callback on and rate limits off, and a few requests filed."""
    changed = Settings(database_url=database.url, **FUZZ_SETTINGS)
    for district in ("朝阳区", "海淀区"):
        file_request(database, district, requester=f"fuzz-{district}")
    async with served(changed, engine) as app:
        yield app.http


def _token(path: str) -> dict[str, str]:
    return API if path.startswith("/api/v1/messages") else ADMIN


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
async def test_no_server_error(case: Case, http: httpx.AsyncClient, error_log: ErrorLog) -> None:
    """Generated requests for each operation: never a 5xx, never an error in the log."""
    kwargs = case.as_transport_kwargs(base_url="http://test", headers=_token(case.path))
    request = http.build_request(
        kwargs["method"],
        kwargs["url"],
        headers=kwargs.get("headers"),
        params=kwargs.get("params"),
        cookies=kwargs.get("cookies"),
        json=kwargs.get("json"),
        content=kwargs.get("data"),
    )
    response = await http.send(request)
    case.validate_response(response, checks=[not_a_server_error])
    error_log.check()
