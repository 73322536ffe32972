"""The JSON API channel: `POST /api/v1/messages` and `GET /api/v1/messages/{user}`.

A thin channel: it checks the bearer token and the limits, turns the body into an `Incoming` on
the `api` channel and renders the engine's replies as `{"replies": [{"text", "choices"}]}`.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from bot.http import bearer_guard, read_json_body, services
from bot.limits import limits_of
from bot.messages import Incoming

router = APIRouter(prefix="/api/v1", tags=["messages"])
CHANNEL = "api"


class MessageIn(BaseModel):
    """A message from an integration's user."""

    user: str = Field(min_length=1, max_length=64, description="the user's id in your system")
    text: str = Field(max_length=2000, description="what she wrote")
    msg_id: str | None = Field(
        default=None, max_length=128, description="optional id for de-duplicating retries"
    )


class ReplyOut(BaseModel):
    """One reply bubble."""

    text: str
    choices: list[str]


class RepliesOut(BaseModel):
    """The bot's replies to one message, or what was pushed since the last read."""

    replies: list[ReplyOut]


async def _read_message(request: Request) -> MessageIn:
    return await read_json_body(request, MessageIn)


@router.post(
    "/messages",
    response_model=RepliesOut,
    dependencies=[Depends(bearer_guard("api_token"))],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": MessageIn.model_json_schema()}},
        }
    },
    responses={429: {"description": "over the user's or the client's budget (Retry-After)"}},
)
async def post_message(request: Request) -> RepliesOut:
    """Send one message as `user`; get the bot's replies."""
    message = await _read_message(request)
    limits_of(request).check_user(CHANNEL, message.user)  # 429 when over her budget
    svc = services(request)
    incoming = Incoming(
        channel=CHANNEL,
        user=message.user,
        text=message.text,
        msg_id=message.msg_id,
        at=svc.engine.clock(),
    )
    replies = await svc.engine.handle(incoming)
    return RepliesOut(replies=[ReplyOut(text=r.text, choices=list(r.choices)) for r in replies])


@router.get(
    "/messages/{user}",
    response_model=RepliesOut,
    dependencies=[Depends(bearer_guard("api_token"))],
)
async def pull_messages(
    request: Request, user: Annotated[str, Path(min_length=1, max_length=64)]
) -> RepliesOut:
    """What was pushed to `user` (status changes, reminders) since the last read."""
    engine = services(request).engine
    pushed = await asyncio.to_thread(engine.pull, channel=CHANNEL, user=user)
    return RepliesOut(replies=[ReplyOut(text=r.text, choices=list(r.choices)) for r in pushed])
