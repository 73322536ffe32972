"""Shared pieces of the HTTP layer: the app's services and bearer-token guards."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request

from bot.channels.setup import PushChannels
from bot.config import Settings
from bot.engine import Engine
from bot.errors import ApiError
from bot.nlp import NLP
from storage.db import Database


@dataclass
class Services:
    """What the routes use, built once by the app's lifespan."""

    settings: Settings
    db: Database
    nlp: NLP
    engine: Engine
    channels: PushChannels


def services(request: Request) -> Services:
    """The app's services (set up at start-up)."""
    found: Services = request.app.state.services
    return found


def bearer_guard(setting: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency that requires `Authorization: Bearer <settings.<setting>>` (else 401)."""

    async def guard(request: Request) -> None:
        expected = str(getattr(services(request).settings, setting))
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "unauthorized", "a bearer token is required")
        if not secrets.compare_digest(token.strip().encode(), expected.encode()):
            raise ApiError(401, "unauthorized", "the token is not valid")

    return guard
