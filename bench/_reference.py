"""The reference endpoints of `bench/load.py`: the bare FastAPI endpoint and the two floors.

Not a benchmark of its own (`make bench` skips files starting with `_`); `load.py` starts each
in its own process (`load.py --bare PORT`, `load.py --floor PORT …`).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

from bot.config import Settings

API_TOKEN = "bench-api-token-1f3c"


class BareMessageIn(BaseModel):
    """The JSON API's message shape."""

    user: str = Field(min_length=1, max_length=Settings.model_fields["max_user_chars"].default)
    text: str  # no max_length: the API cuts a long text (in the engine) instead of refusing it
    msg_id: str | None = Field(default=None, max_length=128)


class BareReply(BaseModel):
    """One reply bubble."""

    text: str
    choices: list[str]


class BareReplies(BaseModel):
    """The JSON API's answer shape."""

    replies: list[BareReply]


def bare_app() -> FastAPI:
    """A FastAPI app answering `POST /api/v1/messages` with the same shapes and no engine."""
    app = FastAPI()

    @app.post("/api/v1/messages", response_model=BareReplies)
    async def post_message(message: BareMessageIn, request: Request) -> BareReplies:
        if request.headers.get("authorization") != f"Bearer {API_TOKEN}":
            raise HTTPException(401)
        return BareReplies(replies=[BareReply(text=f"收到：{message.text}", choices=["确认"])])

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def floor_app(data_dir: Path, *, core: bool) -> FastAPI:
    """The bare endpoint plus the work every message must do on this stack, and nothing else:
    the NLP analysis of the text (crisis first), and one SQLite transaction with the message
    path's own statements (the user and her dialogue, the inbound row, the dialogue save, the
    reply) — no flow, no routing. What fuqing could reach if its flows cost nothing.

    `core=False`: through the repository functions the engine uses (a Session, the user loaded
    as an ORM object). `core=True`: the leanest SQLAlchemy can do the same — one Connection,
    prebuilt Core statements, rows as tuples — the floor of any SQLAlchemy-based message path.
    """
    from sqlalchemy import bindparam, insert, select, update

    from bot.messages import utcnow
    from bot.nlp import NLP
    from bot.places import place_units
    from storage import crypto, repo
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.repo.dialogue import DIALOGUE_COLUMNS, DIALOGUES, INBOUND
    from storage.repo.people import IDENTITIES, USERS

    crypto.configure("bench-floor-key")  # the message text and the dialogue are encrypted
    db = Database(f"sqlite:///{data_dir / 'floor.db'}")
    upgrade(db)
    with db.read() as session:
        nlp = NLP.load(place_units(session), cache_dir=data_dir / "jieba")
    user_at = (
        select(USERS.c.id, USERS.c.role, USERS.c.consent_at, IDENTITIES.c.id, *DIALOGUE_COLUMNS)
        .select_from(IDENTITIES)
        .join(USERS, USERS.c.id == IDENTITIES.c.user_id)
        .outerjoin(DIALOGUES, DIALOGUES.c.user_id == IDENTITIES.c.user_id)
        .where(IDENTITIES.c.channel == "api", IDENTITIES.c.external_id == bindparam("ext"))
    )
    new_user = insert(USERS).values(role="resident", created_at=bindparam("at"))
    new_identity = insert(IDENTITIES).values(
        user_id=bindparam("uid"),
        channel="api",
        external_id=bindparam("ext"),
        active=True,
        created_at=bindparam("at"),
        last_seen_at=bindparam("at"),
    )
    seen = update(IDENTITIES).where(IDENTITIES.c.id == bindparam("iid"))
    seen = seen.values(last_seen_at=bindparam("at"))
    inbound = insert(INBOUND).values(
        channel="api", msg_id=bindparam("mid"), user_id=bindparam("uid"), kind="text", text=""
    )
    inbound = inbound.values(received_at=bindparam("at"))
    new_dialogue = insert(DIALOGUES).values(
        user_id=bindparam("uid"),
        flow="help_request",
        state="need",
        data=bindparam("new_data"),
        version=1,
        updated_at=bindparam("at"),
    )
    save = (
        update(DIALOGUES)
        .where(DIALOGUES.c.id == bindparam("did"), DIALOGUES.c.version == bindparam("seen"))
        .values(data=bindparam("new_data"), version=bindparam("next"), updated_at=bindparam("at"))
    )
    answer = update(INBOUND).where(INBOUND.c.id == bindparam("row"))
    answer = answer.values(reply=bindparam("answer"))

    def with_core(user: str, categories: list[str], reply: list[dict[str, Any]]) -> None:
        now = utcnow()
        with db.engine.begin() as connection:
            found = connection.execute(user_at, {"ext": user}).first()
            data: dict[str, Any]
            if found is None:
                created = connection.execute(new_user, {"at": now}).inserted_primary_key
                uid = created[0] if created else 0
                connection.execute(new_identity, {"uid": uid, "ext": user, "at": now})
                did, data, version = None, {}, 0
            else:
                uid, did, data, version = found[0], found[4], found[7] or {}, found[8]
                connection.execute(seen, {"iid": found[3], "at": now})
            mid = f"auto:{uuid.uuid4().hex}"
            row = connection.execute(inbound, {"mid": mid, "uid": uid, "at": now})
            data = {**data, "categories": categories}
            if did is None:
                connection.execute(new_dialogue, {"uid": uid, "new_data": data, "at": now})
            else:
                values = {"did": did, "seen": version, "next": version + 1}
                connection.execute(save, {**values, "new_data": data, "at": now})
            key = row.inserted_primary_key
            connection.execute(answer, {"row": key[0] if key else 0, "answer": reply})

    def with_repo(user: str, categories: list[str], reply: list[dict[str, Any]]) -> None:
        now = utcnow()
        with db.transaction(wait=False) as session:
            found, dialogue, _new = repo.user_at(session, channel="api", external_id=user, now=now)
            row = repo.record_inbound(
                session,
                channel="api",
                msg_id=f"auto:{uuid.uuid4().hex}",
                user_id=found.id or 0,
                kind="text",
                text="",
                now=now,
            )
            data = {**dialogue.data, "categories": categories}
            repo.save_dialogue(
                session, dialogue=dialogue, flow="help_request", state="need", data=data, now=now
            )
            repo.set_reply(session, message_id=row, reply=reply)

    store = with_core if core else with_repo
    app = FastAPI()

    @app.post("/api/v1/messages", response_model=BareReplies)
    async def post_message(message: BareMessageIn, request: Request) -> BareReplies:
        if request.headers.get("authorization") != f"Bearer {API_TOKEN}":
            raise HTTPException(401)
        analysis = nlp.analyze(message.text, utcnow().date())
        reply = [{"text": f"收到：{message.text}", "choices": ["确认"]}]
        store(message.user, list(analysis.categories), reply)
        return BareReplies(replies=[BareReply(text=r["text"], choices=["确认"]) for r in reply])

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
