"""Builders for console tests: staff accounts, requests, cadres, and a logged-in httpx client."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from argon2 import PasswordHasher

from storage import repo
from storage.db import Database
from storage.models import StaffAccount
from tests import factories
from tests.factories import help_request

# Cheap argon2 parameters: the tests hash and verify many times (production uses the defaults).
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct-horse-9"


def make_staff(
    database: Database,
    username: str,
    unit: str = "朝阳区",
    password: str = PASSWORD,
    *,
    hasher: PasswordHasher = FAST,
) -> StaffAccount:
    """Create a staff account bound to `unit` (a path below the city, or 北京市)."""
    from bot.messages import utcnow

    with database.transaction() as session:
        found = repo.unit_by_path(session, path=unit)
        assert found is not None, unit
        return repo.create_staff(
            session,
            username=username,
            password_hash=hasher.hash(password),
            unit=found,
            now=utcnow(),
        )


def csrf_of(html: str) -> str:
    """The CSRF token a console page's forms carry."""
    found = _CSRF.search(html)
    assert found, html[:500]
    return found.group(1)


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, next_url: str = ""
) -> httpx.Response:
    """Open the login form and submit it (the client keeps the cookies); the POST's answer."""
    form = await client.get("/console/login")
    assert form.status_code == 200
    return await client.post(
        "/console/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_of(form.text),
            "next": next_url,
        },
    )


async def logged_in(client: httpx.AsyncClient, username: str) -> str:
    """Log in as `username` (made with `make_staff`); return the session's CSRF token."""
    answer = await login(client, username)
    assert answer.status_code == 303, answer.text
    page = await client.get("/console/requests")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


T0 = datetime(2026, 3, 18, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


async def post_json(
    client: httpx.AsyncClient, token: str, url: str, body: dict[str, object]
) -> httpx.Response:
    """POST `body` as JSON to a console API with the session's CSRF token (X-CSRF-Token)."""
    return await client.post(url, json=body, headers={"X-CSRF-Token": token})


def file_request(
    database: Database,
    district: str,
    street: str | None = None,
    *,
    requester: str | None = "woman-1",
    need: str = "想找一份离家近的保洁工作",
    categories: tuple[str, ...] = ("jobs",),
    crisis: bool = False,
    phone: str | None = None,
    at: datetime = T0,
) -> str:
    """File a request at the unit of `district`/`street` from an api-channel requester; its code."""
    with database.transaction() as session:
        user_id = None
        if requester is not None:
            _identity, user, _new = repo.get_or_create_identity(
                session, channel="api", external_id=requester, now=at
            )
            user_id = user.id
        place = f"{district}/{street}" if street else district
        request = help_request(
            session,
            place=place,
            need=need,
            categories=categories,
            crisis=crisis,
            phone=phone,
            requester_id=user_id,
            now=at,
        )
        return request.code


def bind_cadre(database: Database, unit: str, name: str, external_id: str) -> int:
    """A cadre bound to `unit`, on the api channel; her user id."""
    with database.transaction() as session:
        return (
            factories.bind_cadre(session, place=unit, name=name, external_id=external_id, now=T0).id
            or 0
        )


def take_request(database: Database, code: str, cadre_id: int, at: datetime = T0) -> None:
    """The cadre takes request `code` (status `assigned`, as stored data)."""
    with database.transaction() as session:
        request = repo.request_by_code(session, code=code)
        assert request is not None
        repo.set_status(
            session,
            request=request,
            status="assigned",
            actor_id=cadre_id,
            note=None,
            now=at,
            assigned_to=cadre_id,
        )
