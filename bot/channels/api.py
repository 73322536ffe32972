"""The JSON API channel: `POST /api/v1/messages` and `GET /api/v1/messages/{user}`.

A thin channel: it checks the bearer token and the limits, turns the body into an `Incoming` on
the `api` channel and renders the engine's replies as `{"replies": [{"text", "choices"}]}`.
The routes are built per app (`router(settings)`), so the schema shows the configured limits: a
user id over `FUQING_MAX_USER_CHARS` is refused (422); a text over `FUQING_MAX_TEXT_CHARS` is
not: the engine reads its beginning and the first reply says so, as on every channel.
"""

# No `from __future__ import annotations`: the routes' parameter types use the settings of the
# enclosing `router()`, which FastAPI could not resolve from strings.

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field, create_model

from bot.config import Settings
from bot.http import bearer_guard, read_json_body, services
from bot.limits import limits_of
from bot.messages import Incoming, Outgoing
from bot.paging import ChannelProfile, fit

CHANNEL = "api"
PROFILE = ChannelProfile()  # no length limit; choices go out as a list beside the text


class MessageIn(BaseModel):
    """A message from an integration's user."""

    user: str = Field(min_length=1, description="the user's id in your system")
    text: str = Field(description="what she wrote")
    msg_id: str | None = Field(
        default=None, max_length=128, description="optional id for de-duplicating retries"
    )


def message_model(settings: Settings) -> type[MessageIn]:
    """`MessageIn` with the user id's length and the text limit of `settings` in its schema."""
    limit = settings.max_text_chars
    return create_model(
        "MessageIn",
        __base__=MessageIn,
        __doc__=MessageIn.__doc__,
        user=(
            str,
            Field(
                min_length=1,
                max_length=settings.max_user_chars,
                description="the user's id in your system",
            ),
        ),
        text=(
            str,
            Field(
                description=f"what she wrote; past {limit} characters the text is cut to its "
                f"first {limit} and the first reply says so (a crisis hotline still first)"
            ),
        ),
    )


class ReplyOut(BaseModel):
    """One reply bubble."""

    text: str
    choices: list[str]


class RepliesOut(BaseModel):
    """The bot's replies to one message, or what was pushed since the last read."""

    replies: list[ReplyOut]


def router(settings: Settings) -> APIRouter:
    """The API's routes, their limits taken from `settings`."""
    message_in = message_model(settings)
    user_path = Path(min_length=1, max_length=settings.max_user_chars)
    api = APIRouter(prefix="/api/v1", tags=["messages"])

    @api.post(
        "/messages",
        response_model=RepliesOut,
        dependencies=[Depends(bearer_guard("api_token"))],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": message_in.model_json_schema()}},
            }
        },
        responses={429: {"description": "over the user's or the client's budget (Retry-After)"}},
    )
    async def post_message(request: Request) -> RepliesOut:
        """Send one message as `user`; get the bot's replies."""
        message = await read_json_body(request, message_in)
        limits_of(request).check_user(CHANNEL, message.user)  # 429 when over her budget
        svc = services(request)
        incoming = Incoming(
            channel=CHANNEL,
            user=message.user,
            text=message.text,
            msg_id=message.msg_id,
            at=svc.engine.clock(),
        )
        return _rendered(await svc.engine.handle(incoming))

    @api.get(
        "/messages/{user}",
        response_model=RepliesOut,
        dependencies=[Depends(bearer_guard("api_token"))],
    )
    async def pull_messages(request: Request, user: Annotated[str, user_path]) -> RepliesOut:
        """What was pushed to `user` (status changes, reminders) since the last read."""
        engine = services(request).engine
        pushed = await asyncio.to_thread(engine.pull, channel=CHANNEL, user=user)
        return _rendered(pushed)

    return api


def _rendered(replies: list[Outgoing]) -> RepliesOut:
    """The replies fitted to the API's `PROFILE`, as its JSON shape."""
    return RepliesOut(
        replies=[ReplyOut(text=r.text, choices=list(r.choices)) for r in fit(replies, PROFILE)]
    )
