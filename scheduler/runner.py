"""The scheduler: every minute, due reminders become outbox rows, then the dispatcher sends.

Reminder state lives in our tables; APScheduler only ticks. A tick asks `scheduler.rules` what
is due at that moment and inserts one outbox row per reminder under its business key (unique),
so a repeated tick, a restart or a second scheduler cannot send twice; it escalates the safety
checks left unanswered longer than FUQING_SAFETY_CHECK_MINUTES (`bot.domain.safety`: the
urgent case opened, her hotlines pushed); then it clears the
dialogues abandoned longer than FUQING_DROP_AFTER_DAYS (her story and phone typed into a flow
she never finished, before she consented) and dispatches what is due. On PostgreSQL a
session-level advisory lock lets one scheduler act: a second one stays idle and takes over when
the first goes away. After each tick the active one completes, the loop writes its heartbeat
(`storage/heartbeat.py`: the health check and `/metrics` read it).

Once an hour a tick also forgets the web-chat visitors who never consented, filed nothing and
have not written for `WEB_VISITOR_IDLE` (`repo.forget_idle_web_visitors`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.config import Settings
from bot.domain import deadlines, handoff, supervision
from bot.domain.dialogue import forget_abandoned
from bot.domain.safety import escalate_unanswered
from bot.domain.urgent import ChaseTimes
from bot.messages import utcnow
from bot.outbox import Dispatcher
from scheduler.rules import reminders
from storage import repo
from storage.db import Database
from storage.heartbeat import beat, heartbeat_path

log = logging.getLogger(__name__)

# pg_advisory_lock key of the scheduler ("fuqing:s" in ASCII).
SCHEDULER_LOCK_KEY = 0x66_75_71_69_6E_67_3A_73
WEB_VISITOR_IDLE = timedelta(days=30)  # a web visitor who never consented is forgotten after
SWEEP_EVERY = timedelta(hours=1)
ABANDONED_BATCH = 500  # idle dialogues cleared per tick (the next tick takes the rest)


@dataclass
class TickResult:
    """What one tick did: the keys it enqueued and how many pushes went out."""

    at: datetime
    enqueued: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)  # urgent cases of unanswered safety checks
    late: list[str] = field(default_factory=list)  # hand-off threads nobody answered in time
    supervised: list[str] = field(default_factory=list)  # 督办 steps: "<code>:<level>"
    sent: int = 0
    forgotten: int = 0  # idle web visitors deleted
    cleared: int = 0  # abandoned dialogues cleared
    active: bool = True  # False: another scheduler holds the lock; this one did nothing


class Scheduler:
    """Ticks the reminder rules and the dispatcher; one active per deployment."""

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        dispatcher: Dispatcher,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.dispatcher = dispatcher
        self.clock = clock
        self.tz = ZoneInfo(settings.timezone)
        self.heartbeat = heartbeat_path(settings.data_dir)
        self._lock_connection: Connection | None = None
        self._apscheduler: AsyncIOScheduler | None = None
        self._swept_at: datetime | None = None

    # ------------------------------------------------------------------ one tick

    def enqueue_due(self, now: datetime) -> list[str]:
        """Insert the reminders due at `now` (each key once); return the keys inserted."""
        inserted: list[str] = []
        with self.db.transaction() as session:
            due = reminders(
                session,
                now=now,
                settings_due_days=self.settings.report_due_days,
                tz=self.tz,
                chases=ChaseTimes.of_minutes(
                    self.settings.urgent_first_chase_minutes,
                    self.settings.urgent_escalate_minutes,
                    self.settings.urgent_repeat_minutes,
                ),
            )
            known = repo.existing_outbox_keys(session, keys=[r.key for r in due])
            for reminder in due:
                if reminder.key in known:
                    continue
                try:
                    with session.begin_nested():  # a key already there is skipped, not fatal
                        row = repo.enqueue(
                            session,
                            user_id=reminder.user_id,
                            text=reminder.text,
                            now=now,
                            key=reminder.key,
                            urgent=reminder.urgent,
                            due_at=reminder.due_at,
                        )
                except IntegrityError:
                    row = None
                if row is not None:
                    inserted.append(reminder.key)
        return inserted

    def escalate_safety_checks(self, now: datetime) -> list[str]:
        """Open the urgent cases of the safety checks unanswered for FUQING_SAFETY_CHECK_MINUTES
        at `now` (`bot.domain.safety.escalate_unanswered`); return their codes."""
        wait = timedelta(minutes=self.settings.safety_check_minutes)
        with self.db.transaction() as session:
            return escalate_unanswered(session, now=now, wait=wait)

    def tell_late_handoffs(self, now: datetime) -> list[str]:
        """Tell each woman whose 转人工 nobody answered within FUQING_HANDOFF_ANSWER_MINUTES when
        someone will, with 12338 (`bot.domain.handoff.tell_late`, once); return the threads."""
        office = handoff.OfficeHours.parse(self.settings.office_hours, self.tz)
        wait = deadlines.Limits.of(self.settings, self.tz).answer_within
        with self.db.transaction() as session:
            told = handoff.tell_late(session, now=now, office=office, answer_within=wait)
            return [t.code for t in told]

    def supervise_overdue(self, now: datetime) -> list[str]:
        """督办: escalate the requests past a deadline (`bot.domain.supervision`)."""
        limits = deadlines.Limits.of(self.settings, self.tz)
        with self.db.transaction() as session:
            return supervision.supervise(session, now=now, limits=limits)

    def clear_abandoned(self, now: datetime) -> int:
        """Clear the dialogues idle longer than FUQING_DROP_AFTER_DAYS at `now`
        (`bot.domain.dialogue.forget_abandoned`); return how many. One she answered meanwhile is
        left alone."""
        idle_since = now - timedelta(days=self.settings.drop_after_days)
        cleared = 0
        with self.db.transaction() as session:
            for dialogue in repo.idle_dialogues(session, before=idle_since, limit=ABANDONED_BATCH):
                try:
                    repo.save_dialogue(
                        session,
                        dialogue=dialogue,
                        flow=None,
                        state=None,
                        data=forget_abandoned(dialogue.flow, dialogue.data),
                        now=now,  # looked at now: not again before it is idle that long again
                    )
                except repo.ConcurrentUpdate:
                    continue
                cleared += 1
        return cleared

    async def tick(self, now: datetime | None = None) -> TickResult:
        """One tick: enqueue what is due, clear abandoned dialogues, then dispatch what is due
        (if this one is active)."""
        at = now or self.clock()
        if not await asyncio.to_thread(self.acquire):
            return TickResult(at=at, active=False)
        escalated = await asyncio.to_thread(self.escalate_safety_checks, at)
        late = await asyncio.to_thread(self.tell_late_handoffs, at)
        supervised = await asyncio.to_thread(self.supervise_overdue, at)
        enqueued = await asyncio.to_thread(self.enqueue_due, at)
        cleared = await asyncio.to_thread(self.clear_abandoned, at)
        sent = await self.dispatcher.deliver_due(limit=500)
        forgotten = await asyncio.to_thread(self.sweep, at)
        if escalated:
            log.warning("tick %s: unanswered safety checks escalated: %s", at, escalated)
        if enqueued or sent or cleared or forgotten:
            log.info(
                "tick %s: %d reminders queued, %d idle dialogues cleared, %d pushes sent, "
                "%d idle web visitors forgotten",
                at.isoformat(),
                len(enqueued),
                cleared,
                sent,
                forgotten,
            )
        return TickResult(
            at=at,
            enqueued=enqueued,
            escalated=escalated,
            late=late,
            supervised=supervised,
            sent=sent,
            cleared=cleared,
            forgotten=forgotten,
        )

    def sweep(self, now: datetime) -> int:
        """Forget the idle web visitors (at most once per `SWEEP_EVERY`); how many."""
        if self._swept_at is not None and now - self._swept_at < SWEEP_EVERY:
            return 0
        with self.db.transaction() as session:
            forgotten = repo.forget_idle_web_visitors(session, seen_before=now - WEB_VISITOR_IDLE)
        self._swept_at = now
        return forgotten

    # ------------------------------------------------------------------ one active scheduler

    def acquire(self) -> bool:
        """True when this scheduler may act (SQLite: always; PostgreSQL: holds the lock)."""
        if self.db.is_sqlite:
            return True
        if self._lock_connection is not None:
            return True
        connection = self.db.engine.connect()
        got = connection.execute(
            text("SELECT pg_try_advisory_lock(:k)"), {"k": SCHEDULER_LOCK_KEY}
        ).scalar()
        connection.commit()
        if got:
            self._lock_connection = connection
            log.info("this scheduler is the active one")
            return True
        connection.close()
        return False

    def release(self) -> None:
        """Give up the lock (its connection closes, and PostgreSQL frees the lock with it)."""
        if self._lock_connection is not None:
            connection, self._lock_connection = self._lock_connection, None
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SCHEDULER_LOCK_KEY})
            connection.commit()
            connection.close()

    # ------------------------------------------------------------------ the loop

    def start(self, *, interval: float = 60.0) -> None:
        """Tick every `interval` seconds on the running asyncio loop (APScheduler)."""
        scheduler = AsyncIOScheduler(timezone=self.tz)
        scheduler.add_job(
            self._safe_tick,
            "interval",
            seconds=interval,
            id="tick",
            max_instances=1,
            coalesce=True,
            next_run_time=self.clock(),
        )
        scheduler.start()
        self._apscheduler = scheduler

    async def stop(self) -> None:
        """Stop ticking and release the lock."""
        if self._apscheduler is not None:
            self._apscheduler.shutdown(wait=False)
            self._apscheduler = None
        await self.dispatcher.settle()
        await asyncio.to_thread(self.release)

    async def _safe_tick(self) -> None:
        try:
            result = await self.tick()
        except Exception:  # a failed tick is logged; the next one tries again
            log.exception("scheduler tick failed")
            return
        if result.active:
            try:
                await asyncio.to_thread(beat, self.heartbeat, self.clock())
            except OSError as exc:
                log.warning("scheduler heartbeat not written to %s: %s", self.heartbeat, exc)
