"""The dialogue engine: `handle(Incoming) -> list[Outgoing]`, the same for every channel.

One message is one transaction: lock the sender (per-user serialisation) → dedup by
(channel, message id), returning the first reply → identity → safety (crisis hotlines first) →
global commands → the active flow or routing of free text → persist the dialogue and the reply.
A text longer than `FUQING_MAX_TEXT_CHARS` is cut to it here, for every channel: the cut text is
what is read and logged, and the reply says first (after any crisis hotline) how much was read.
Expected problems become friendly replies inside the flows; anything unexpected is logged with
its traceback and the user gets a short apology — except a database that cannot be reached
or cannot store (read-only, disk full): that raises `ServiceUnavailable`, which the HTTP edges
turn into 503 (WeChat: `success`, the answer pushed once the database is back) and the terminal
and Telegram into the apology.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session

from bot import actions, texts
from bot.config import Settings
from bot.conversation import Conversation
from bot.flows import help_request, onboarding, quarterly, visit_report
from bot.flows.base import FlowRun
from bot.flows.runner import FlowRunner
from bot.messages import Incoming, Outgoing, utcnow
from bot.nlp import NLP, digest, mask_pii
from bot.paging import paginate
from storage import repo
from storage.db import Database, cannot_store

log = logging.getLogger(__name__)

SPECS = (help_request.SPEC, visit_report.SPEC, onboarding.SPEC, quarterly.SPEC)
FINISHERS: dict[str, Callable[[actions.Effects, FlowRun], list[Outgoing]]] = {
    "help_request": actions.file_help_request,
    "visit_report": actions.file_visit,
    "onboarding": actions.bind_cadre,
    "quarterly": actions.submit_quarterly,
}
MAX_ATTEMPTS = 5
# On SQLite a message this long or shorter is handled on the event loop when the file is free;
# a longer one in the writer thread, so that its analysis does not hold the loop. analyze()
# costs ~3-5 µs a character (bench/nlp_scaling.py), ~1-1.5 ms at 300 characters: about what the
# rest of a message costs, and past the visit notes and requests residents usually write.
INLINE_MAX_CHARS = 300
MAX_MSG_ID = 128  # storage.models.InboundMessage.msg_id
MAX_ADDRESS = 128  # storage.models.Identity.external_id


class ServiceUnavailable(RuntimeError):
    """The database cannot be reached (down, restarting, refusing connections) or cannot store
    (read-only, disk full); nothing of the message was stored, so the sender may send it again."""


class DatabaseBusy(Exception):
    """SQLite is being written by someone else: run the message where it may wait."""


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
        self.runners = {spec.name: FlowRunner(spec) for spec in SPECS}
        self.finishers = FINISHERS
        self.resume_after = timedelta(minutes=settings.resume_after_minutes)
        self.drop_after = timedelta(days=settings.drop_after_days)
        # SQLite has one writer at a time: messages of this process queue on a lock instead of
        # polling the busy timeout (its sleeps of up to 100 ms made the p99 latency soar).
        self._sqlite_writer = threading.Lock() if db.is_sqlite else None
        # On SQLite the event loop runs a message itself when nobody else is writing: handing it
        # to a worker thread cost more CPU than the message (GIL hand-overs; measured +30 %
        # messages/s inline). Only when the database is busy does it go to one writer thread.
        self._sqlite_thread = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="fuqing-sqlite")
            if db.is_sqlite
            else None
        )
        self._waiting = 0  # messages handed to the writer thread and not answered yet
        # Called (in the event loop) after a message that queued pushes: the dispatcher's kick.
        self.on_pushes: Callable[[], None] | None = None
        # Called after each answered message with its channel and seconds taken (bot/metrics.py).
        self.on_handled: Callable[[str, float], None] | None = None

    async def handle(self, message: Incoming, *, max_bytes: int | None = None) -> list[Outgoing]:
        """Handle one message (PostgreSQL: in a worker thread, the database calls block;
        SQLite: in the event loop when the database is free at once, else in the writer thread).

        `max_bytes`: the channel takes one text of at most this many UTF-8 bytes (WeChat); the
        replies are joined and what does not fit waits behind `更多`.
        """
        started = time.perf_counter()
        if self._sqlite_thread is not None:
            try:
                # Messages wait in the writer thread: keep their order behind them. A long text
                # is analysed there too, not on the event loop.
                if self._waiting or len(message.text) > INLINE_MAX_CHARS:
                    raise DatabaseBusy
                replies, queued = self._handle(message, max_bytes, wait=False)
            except DatabaseBusy:
                call = functools.partial(self._handle, message, max_bytes)
                self._waiting += 1
                try:
                    loop = asyncio.get_running_loop()
                    replies, queued = await loop.run_in_executor(self._sqlite_thread, call)
                finally:
                    self._waiting -= 1
        else:
            replies, queued = await asyncio.to_thread(self._handle, message, max_bytes)
        if queued and self.on_pushes is not None:
            self.on_pushes()
        if self.on_handled is not None:
            self.on_handled(message.channel, time.perf_counter() - started)
        return replies

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
        try:
            for attempt in range(1, MAX_ATTEMPTS + 1):
                try:
                    with self._writing(wait), self.db.transaction(wait=wait) as session:
                        replies = self._process(session, message, max_bytes, length)
                    return replies, repo.queued_pushes(session)
                except (repo.ConcurrentUpdate, IntegrityError, OperationalError) as exc:
                    if not wait and isinstance(exc, OperationalError) and _is_locked(exc):
                        raise DatabaseBusy from exc
                    if attempt == MAX_ATTEMPTS or (
                        isinstance(exc, OperationalError) and not _is_transient(exc)
                    ):
                        raise
                    log.info(
                        "retrying message %s/%s after %s",
                        message.channel,
                        _log_id(message.msg_id),
                        type(exc).__name__,
                    )
        except DatabaseBusy:
            raise
        except Exception as exc:
            if isinstance(exc, DBAPIError) and database_unreachable(exc):
                log.warning("database unreachable: %s", type(exc.orig).__name__)
                raise ServiceUnavailable("the database cannot be reached") from exc
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

    @contextmanager
    def _writing(self, wait: bool) -> Iterator[None]:
        """Hold this process's SQLite writer lock (nothing on PostgreSQL)."""
        lock = self._sqlite_writer
        if lock is None:
            yield
            return
        if not lock.acquire(blocking=wait):
            raise DatabaseBusy
        try:
            yield
        finally:
            lock.release()

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
        self.db.lock_key(session, f"user:{message.channel}:{message.user}")
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
            engine=self,
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
                conversation.data["more"] = pages
        repo.save_dialogue(
            session,
            dialogue=dialogue,
            flow=conversation.flow,
            state=conversation.state,
            data=conversation.data,
            now=now,
        )
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


def database_unreachable(exc: DBAPIError) -> bool:
    """True when `exc` says the database is unavailable — it cannot be reached (connection
    refused or lost, server shutting down or starting up) or cannot store now (read-only, disk
    full, I/O error: `storage.db.cannot_store`) — not that a statement failed."""
    if exc.connection_invalidated or cannot_store(exc.orig):
        return True
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is None:  # psycopg: no server answer at all (refused, reset, timed out)
        return not _is_transient(exc) and "psycopg" in type(exc.orig).__module__
    return str(sqlstate).startswith(("08", "57P"))  # connection exception; admin shutdown


def _is_locked(exc: OperationalError) -> bool:
    return "locked" in str(exc.orig).lower()


def _is_transient(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "locked" in text or "deadlock" in text or "serializ" in text
