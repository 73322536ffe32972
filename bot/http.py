"""Shared pieces of the HTTP layer: the app's services and bearer-token guards."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from bot.bodies import BodyTooLarge, parse_json, read_capped
from bot.config import Settings
from bot.engine import Engine
from bot.errors import ApiError
from bot.nlp import NLP
from bot.outbox import Dispatcher
from storage.db import Database

ModelT = TypeVar("ModelT", bound=BaseModel)


class Pushes(Protocol):
    """What the routes need of the push channels: their dispatcher, and closing them. The app
    builds `bot.channels.setup.PushChannels`, which has this and the channels themselves; this
    module sits below the channels, so it names only what it needs (the layers' contract)."""

    dispatcher: Dispatcher

    async def aclose(self) -> None:
        """Close every API client."""


@dataclass
class Services:
    """What the routes use, built once by the app's lifespan."""

    settings: Settings
    db: Database
    nlp: NLP
    engine: Engine
    channels: Pushes


def services(request: Request) -> Services:
    """The app's services (set up at start-up)."""
    found: Services = request.app.state.services
    return found


def secure_cookies(request: Request) -> bool:
    """Whether the cookies set now get `Secure`: always in production (TLS ends at the proxy,
    so the app may see plain http), else when the request came over https."""
    return services(request).settings.env == "production" or request.url.scheme == "https"


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


async def read_json_body(request: Request, model: type[ModelT]) -> ModelT:
    """The request's JSON body as `model`: 413 over `max_body_bytes` (declared or streamed),
    400 when it is not JSON, 422 with the field errors when it does not fit the schema."""
    try:
        body = await read_capped(request, services(request).settings.max_body_bytes)
    except BodyTooLarge as exc:
        raise ApiError(413, "body_too_large", str(exc)) from exc
    try:
        data: Any = parse_json(body or b"null")
    except ValueError as exc:
        raise ApiError(400, "invalid_json", "the body is not valid JSON") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        raise ApiError(
            422, "invalid_message", "the message does not fit the schema", errors
        ) from exc
