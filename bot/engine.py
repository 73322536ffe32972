"""The dialogue engine: `handle(Incoming) -> list[Outgoing]`, the same for every channel.

The engine does dialogue only: where a message runs, its transaction, the per-user lock and the
retries are the unit of work's (`storage.unit_of_work`). One message is one transaction: lock
the sender (per-user serialisation) → dedup by
(channel, message id), returning the first reply → identity → safety (crisis hotlines first) →
global commands → the active flow or routing of free text → persist the dialogue and the reply.
A text longer than `FUQING_MAX_TEXT_CHARS` is cut to it here, for every channel: the cut text is
what is read and logged, and the reply says first (after any crisis hotline) how much was read.
Expected problems become friendly replies inside the flows; anything unexpected is logged with
its traceback and the user gets a short apology — except a database that cannot be reached
or cannot store (read-only, disk full): that raises `ServiceUnavailable`, which the HTTP edges
turn into 503 (Telegram's webhook too, so Telegram delivers the update again; WeChat: `success`,
the answer pushed once the database is back; Telegram's polling tries the update again) and the
terminal into the apology. `answered` is the dedup record's look-up for a channel that must not
answer a re-delivery twice (Telegram).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from bot import texts
from bot.config import Settings
from bot.conversation import Conversation, Setup
from bot.domain import deadlines, handoff
from bot.flows import FLOWS
from bot.flows.runner import FlowRunner
from bot.messages import Incoming, Outgoing, utcnow
from bot.nlp import NLP, digest, mask_pii
from bot.paging import paginate
from storage import repo
from storage.db import Database
from storage.unit_of_work import DatabaseBusy as DatabaseBusy
from storage.unit_of_work import ServiceUnavailable as ServiceUnavailable
from storage.unit_of_work import UnitOfWork
from storage.unit_of_work import database_unreachable as database_unreachable

log = logging.getLogger(__name__)

# On SQLite a message this long or shorter is handled on the event loop when the file is free;
# a longer one in the writer thread, so that its analysis does not hold the loop. analyze()
# costs ~3-5 µs a character (bench/nlp_scaling.py), ~1-1.5 ms at 300 characters: about what the
# rest of a message costs, and past the visit notes and requests residents usually write.
INLINE_MAX_CHARS = 300
MAX_MSG_ID = 128  # storage.models.InboundMessage.msg_id
MAX_ADDRESS = 128  # storage.models.Identity.external_id


class Engine:
    """Handles messages from every channel against one database and one NLP."""

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        nlp: NLP,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.nlp = nlp
        self.clock = clock
        self.tz = ZoneInfo(settings.timezone)
        self.runners = {flow.name: FlowRunner(flow.spec) for flow in FLOWS}
        # Parsed once (settings do not change): each message's Setup carries them.
        self.limits = deadlines.Limits.of(settings, self.tz)
        self.office = handoff.OfficeHours.parse(settings.office_hours, self.tz)
        self.work = UnitOfWork(db)  # transactions, retries, the SQLite writer thread
        # Called (in the event loop) after a message that queued pushes: the dispatcher's kick.
        self.on_pushes: Callable[[], None] | None = None
        # Called after each answered message with its channel and seconds taken (bot/metrics.py).
        self.on_handled: Callable[[str, float], None] | None = None

    async def handle(self, message: Incoming, *, max_bytes: int | None = None) -> list[Outgoing]:
        """Handle one message where the unit of work runs it (PostgreSQL: a worker thread;
        SQLite: the event loop when the database is free at once, else the writer thread; a
        text longer than INLINE_MAX_CHARS is analysed there too, not on the event loop).

        `max_bytes`: the channel takes one text of at most this many UTF-8 bytes (WeChat); the
        replies are joined and what does not fit waits behind `更多`.
        """
        started = time.perf_counter()
        replies, queued = await self.work.schedule(
            lambda wait: self._handle(message, max_bytes, wait=wait),
            inline=len(message.text) <= INLINE_MAX_CHARS,
        )
        if queued and self.on_pushes is not None:
            self.on_pushes()
        if self.on_handled is not None:
            self.on_handled(message.channel, time.perf_counter() - started)
        return replies

    @property
    def _sqlite_thread(self) -> ThreadPoolExecutor | None:
        """The unit of work's SQLite writer thread (None on PostgreSQL)."""
        return self.work.executor

    def handle_sync(self, message: Incoming, *, max_bytes: int | None = None) -> list[Outgoing]:
        """Handle one message in one transaction, retrying when a concurrent one got in first.

        Raises `ServiceUnavailable` when the database cannot be reached."""
        return self._handle(message, max_bytes)[0]

    def _handle(
        self, message: Incoming, max_bytes: int | None, *, wait: bool = True
    ) -> tuple[list[Outgoing], bool]:
        """The replies, and whether the message queued pushes (for others: a new request tells
        its cadres; a status change tells the requester). `wait=False`: raise `DatabaseBusy`, having
        done nothing, when another writer holds the database."""
        if not message.user or len(message.user) > MAX_ADDRESS:
            # Channels validate their addresses; this only guards the column against a bad one.
            log.warning("refused a message from an invalid address on %s", message.channel)
            return [Outgoing(texts.t("apology"))], False
        length = len(message.text)  # before the cut: her reply says how much was read
        limit = self.settings.max_text_chars
        if length > limit:
            message = dataclasses.replace(message, text=message.text[:limit])

        def work(session: Session) -> tuple[list[Outgoing], bool]:
            replies = self._process(session, message, max_bytes, length)
            return replies, repo.queued_pushes(session)

        try:
            return self.work.transact(
                f"user:{message.channel}:{message.user}",
                work,
                wait=wait,
                label=f"message {message.channel}/{_log_id(message.msg_id)}",
            )
        except (DatabaseBusy, ServiceUnavailable):
            raise
        except Exception:
            # Ids only: her words stay out of the log (a digest of her address and of the
            # message id tells repeated failures apart; the length tells a long text).
            log.exception(
                "message failed: channel=%s msg=%s user=%s chars=%d",
                message.channel,
                _log_id(message.msg_id),
                digest(message.user),
                length,
            )
        return [Outgoing(texts.t("apology"))], False

    def answered(self, channel: str, msg_id: str) -> bool:
        """True when the engine stored a reply for `msg_id` on `channel` (its dedup record), so
        a re-delivery of it is not answered again. Raises `ServiceUnavailable` when the database
        cannot be reached."""
        try:
            with self.db.read() as session:
                seen = repo.stored_reply(session, channel=channel, msg_id=_dedup_id(msg_id) or "")
        except DBAPIError as exc:
            if database_unreachable(exc):
                log.warning("database unreachable: %s", type(exc.orig).__name__)
                raise ServiceUnavailable("the database cannot be reached") from exc
            raise
        return seen is not None

    def pull(self, *, channel: str, user: str) -> list[Outgoing]:
        """Return (and mark delivered) what was pushed to a pull-channel user since last asked."""
        with self.db.transaction() as session:
            identity = repo.identity_of(session, channel=channel, external_id=user)
            if identity is None:
                return []
            rows = repo.take_pending(
                session, user_id=identity.user_id, channel=channel, now=self.clock()
            )
            return [Outgoing(row.text, urgent=row.urgent) for row in rows]

    # ------------------------------------------------------------------ one message

    def _process(
        self, session: Session, message: Incoming, max_bytes: int | None, length: int
    ) -> list[Outgoing]:
        """Handle `message` in `session`; `length`: her text's length before the cut."""
        now = message.at
        msg_id = _dedup_id(message.msg_id)
        if msg_id:
            seen = repo.stored_reply(session, channel=message.channel, msg_id=msg_id)
            if seen is not None:
                return [Outgoing.from_json(r) for r in seen]
        user, dialogue, is_new = repo.user_at(
            session, channel=message.channel, external_id=message.user, now=now
        )
        inbound_id = repo.record_inbound(
            session,
            channel=message.channel,
            msg_id=msg_id or f"auto:{uuid.uuid4().hex}",
            user_id=user.id or 0,
            kind=message.kind,
            text=_audit_text(
                message.text, consented=user.role == "cadre" or user.consent_at is not None
            ),
            now=now,
        )
        conversation = Conversation(
            max_bytes=max_bytes,
            setup=Setup(
                settings=self.settings,
                nlp=self.nlp,
                tz=self.tz,
                runners=self.runners,
                limits=self.limits,
                office=self.office,
            ),
            session=session,
            user=user,
            dialogue=dialogue,
            message=message,
            ref=now.astimezone(self.tz).date(),
        )
        replies = conversation.respond(is_new=is_new)
        if length > len(message.text):
            replies = _cut_notice(replies, read=len(message.text), length=length)
        if max_bytes is not None:
            replies, pages = paginate(replies, max_bytes)
            if pages:
                conversation.dialogue.pages = pages
        flow, state, data = conversation.dialogue.to_stored()
        repo.save_dialogue(session, dialogue=dialogue, flow=flow, state=state, data=data, now=now)
        repo.set_reply(
            session,
            message_id=inbound_id,
            reply=[{**r.to_json(), "urgent": r.urgent} for r in replies],
        )
        return replies


def _dedup_id(msg_id: str | None) -> str | None:
    """The channel's message id as stored: ids longer than the column are stored as a hash."""
    if msg_id is None or len(msg_id) <= MAX_MSG_ID:
        return msg_id
    return "sha256:" + hashlib.sha256(msg_id.encode()).hexdigest()


def _log_id(msg_id: str | None) -> str:
    """A message id as logged: a digest (a WeChat event's id holds the sender's openid)."""
    return digest(msg_id) if msg_id else "-"


def _audit_text(text: str, *, consented: bool) -> str:
    """The text kept in the message log: nothing before a resident consents; PII masked. It is
    the text that was read (cut to `FUQING_MAX_TEXT_CHARS`, at most 4000 characters)."""
    return mask_pii(text) if consented else ""


def _cut_notice(replies: list[Outgoing], *, read: int, length: int) -> list[Outgoing]:
    """The replies with, first, the notice that only `read` of her `length` characters were
    read; a crisis hotline (urgent) still comes before it."""
    notice = Outgoing(texts.t("text.cut", length=length, read=read, rest=length - read))
    urgent = [r for r in replies if r.urgent]
    return [*urgent, notice, *(r for r in replies if not r.urgent)]
