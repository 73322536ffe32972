"""Hand-off (转人工) as a conversation: one thread between a woman and the staff of one unit.

- Opening (`open_thread`): 转人工 in chat. The thread goes to the unit answering for her open
  request, else for her place (the flow's slots), else the city; up the tree to the nearest unit
  with a cadre bound (`bot.domain.routing`), the city's duty staff when nobody is bound on her
  path — and she is told who has it. Its cadres get the transcript (her last messages) and how
  to reply in chat; staff of the unit and above see it in the console's inbox.
- Her messages while handed over go into the thread and on to the cadres (`her_message`).
- Replies (`reply`): staff in the console (their units) or a cadre in chat (`回复 <编号> <文字>`,
  her unit or above); each reaches her on her own channel through the outbox (WeChat customer
  service or template message, Telegram, the web chat's push, the API's pull).
- Taking over (`take_over`, 接管): staff open the conversation themselves from a request in
  the console, with their first message; she is handed over at once (a form she was filling
  is dropped) and hears who is talking to her.
- Ending (`end`): staff or a cadre (结束会话), or she herself with a releasing command (菜单,
  取消 …). The bot takes over again and she is told (`storage.repo.release_handoff`).
- Honesty (`OfficeHours`, `late`): outside office hours (workdays by the holiday calendar) she is
  told at once when someone will reply; when nobody answers within the answer time (10 minutes
  by default) the scheduler tells her once, with the 12338 line.

The lifecycle is one `transitions` machine (waiting → answered → closed; `MOVES`, who may make
each move); handoff.mmd is generated from it and checked by a test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo

from sqlmodel import Session
from transitions import Machine

from bot import texts
from bot.domain import lifecycles, routing
from bot.domain.errors import Conflict, Forbidden, Invalid, NotFound
from bot.domain.org import cadre_over, unit_label
from bot.domain.quarters import CHINESE_HOLIDAYS, HolidayCalendar, next_working_day
from bot.domain.quiet_hours import SHANGHAI
from bot.nlp import mask_pii
from storage import repo
from storage.models import OPEN_STATUSES, Handoff, HandoffMessage, HelpRequest, OrgUnit, User
from storage.repo import as_utc

Role = Literal["resident", "cadre", "staff", "bot"]
ROLES: tuple[Role, ...] = ("resident", "cadre", "staff", "bot")
STATES = ("waiting", "answered", "closed")
MAX_REPLY = 1000  # characters of one reply


# ----------------------------------------------------------------------------- office hours


@dataclass(frozen=True)
class OfficeHours:
    """When staff answer: from `opens` to `closes` local time on working days of `calendar`."""

    opens: time = time(9, 0)
    closes: time = time(17, 30)
    tz: ZoneInfo = SHANGHAI
    calendar: HolidayCalendar = field(default_factory=lambda: CHINESE_HOLIDAYS, compare=False)

    @classmethod
    def parse(
        cls, text: str, tz: ZoneInfo, calendar: HolidayCalendar = CHINESE_HOLIDAYS
    ) -> OfficeHours:
        """'09:00-17:30' (FUQING_OFFICE_HOURS); ValueError for anything else."""
        start, sep, end = text.partition("-")
        if not sep:
            raise ValueError(f"office hours are HH:MM-HH:MM, not {text!r}")
        opens, closes = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
        if opens >= closes:
            raise ValueError(f"office hours must open before they close: {text!r}")
        return cls(opens, closes, tz, calendar)

    def is_open(self, now: datetime) -> bool:
        """True during office hours on a working day."""
        local = now.astimezone(self.tz)
        working = self.calendar.is_working_day(local.date())
        return working and self.opens <= local.time() < self.closes

    def next_open(self, now: datetime) -> datetime:
        """`now` during office hours, else when they next open (aware, local time)."""
        local = now.astimezone(self.tz)
        if self.is_open(now):
            return local
        day = local.date()
        if local.time() >= self.opens:
            day += timedelta(days=1)
        day = next_working_day(day, self.calendar)
        return datetime.combine(day, self.opens, tzinfo=self.tz)

    def when(self, now: datetime) -> str:
        """When someone will reply, in words: '今天 9:00' / '明天 9:00' / '12月7日 9:00'."""
        opens = self.next_open(now)
        today = now.astimezone(self.tz).date()
        clock = f"{opens.hour}:{opens.minute:02d}"
        if opens.date() == today:
            return texts.t("handoff.today", clock=clock)
        if opens.date() == today + timedelta(days=1):
            return texts.t("handoff.tomorrow", clock=clock)
        day = texts.t("day.label", month=opens.month, day=opens.day)
        return texts.t("handoff.on_day", day=day, clock=clock)


# ----------------------------------------------------------------------------- who


@dataclass(frozen=True)
class Person:
    """Who acts on a thread: the woman, a cadre in chat, or staff in the console."""

    user: User | None = None
    username: str | None = None  # staff: her console login
    unit_ids: tuple[int, ...] | None = ()  # staff: the units she may see (None: the city)
    unit_id: int | None = None  # staff: her own unit

    @classmethod
    def chat(cls, user: User) -> Person:
        """A resident or cadre talking to the bot."""
        return cls(user=user)

    @classmethod
    def console(
        cls, *, username: str, unit_ids: tuple[int, ...] | None, unit_id: int | None = None
    ) -> Person:
        """A console staff member of `unit_id` acting within `unit_ids` (None: the whole
        city)."""
        return cls(username=username, unit_ids=unit_ids, unit_id=unit_id)

    @property
    def name(self) -> str:
        """How a reply is signed in the thread."""
        if self.username is not None:
            return self.username
        return (self.user.name if self.user is not None else None) or texts.t("who.staff")


def roles(session: Session, *, person: Person, thread: Handoff) -> frozenset[Role]:
    """What `person` is to `thread`: its woman, a cadre of its unit or above, its staff."""
    if person.user is None:
        scope = person.unit_ids
        return frozenset({"staff"}) if scope is None or thread.unit_id in scope else frozenset()
    user, found = person.user, set[Role]()
    if thread.user_id is not None and thread.user_id == user.id:
        found.add("resident")
    if cadre_over(session, user=user, unit_id=thread.unit_id):
        found.add("cadre")
    if user.id in repo.duty_user_ids(session):  # the city's duty staff, answering from chat
        found.add("staff")
    return frozenset(found)


# ----------------------------------------------------------------------------- the machine


@dataclass
class Step:
    """The machine's model for one move on one thread."""

    session: Session
    thread: Handoff
    person: Person
    text: str | None
    now: datetime
    state: str
    office: OfficeHours | None = None
    told: bool = False


@dataclass(frozen=True)
class Move:
    """One move of a thread: from which states, into which (None: stays), who may make it."""

    name: str
    sources: tuple[str, ...]
    dest: str | None
    who: frozenset[Role]
    effect: Callable[[Step], None] = field(repr=False)


def _tell_her(step: Step, text: str, key: str) -> None:
    her = step.thread.user_id
    if her is None:
        return
    row = repo.enqueue(step.session, user_id=her, text=text, now=step.now, key=key)
    step.told = row is not None


def _her(step: Step) -> None:
    """Her message: into the thread (masked), on to the cadres."""
    assert step.text is not None
    masked = mask_pii(step.text)
    row = repo.add_message(
        step.session, thread=step.thread, author="resident", text=masked, now=step.now
    )
    text = texts.t("handoff.notify_message", code=step.thread.code, text=masked)
    _notify_cadres(step, text, key=f"human-msg:{step.thread.user_id}:{row.id}")


def _reply(step: Step) -> None:
    """A person's reply: into the thread, and to her on her channel."""
    _send(step, "handoff.to_her")


def _take(step: Step) -> None:
    """接管: her dialogue is handed over, the thread notes who took it, and the first message
    reaches her saying who is talking to her and how to go back."""
    thread = step.thread
    assert thread.user_id is not None
    repo.hold_handoff(step.session, user_id=thread.user_id, now=step.now)
    note = texts.t("handoff.taken_note", who=step.person.name)
    repo.add_message(step.session, thread=thread, author="bot", text=note, now=step.now)
    _send(step, "handoff.taken")


def _send(step: Step, template: str) -> None:
    """A person's message (`step.text`): into the thread, and to her as `template` says."""
    assert step.text is not None
    thread = step.thread
    author = "staff" if step.person.username is not None else "cadre"
    row = repo.add_message(
        step.session,
        thread=thread,
        author=author,
        text=step.text,
        now=step.now,
        name=step.person.name,
    )
    if thread.answered_at is None:
        thread.answered_at = step.now
    thread.status = step.state
    repo.save_thread(step.session, thread=thread)
    unit = repo.get_unit(step.session, unit_id=thread.unit_id)
    text = texts.t(template, unit=unit_label(unit) if unit else "", text=step.text)
    _tell_her(step, text, key=f"handoff:{thread.code}:reply:{row.id}")


def _end(step: Step) -> None:
    """Closed: the bot takes over again; she is told unless she ended it herself."""
    thread = step.thread
    thread.status = step.state
    thread.closed_at = step.now
    thread.closed_by = (
        step.person.name
        if step.person.user is None or step.person.user.id != thread.user_id
        else texts.t("handoff.by_her")
    )
    repo.save_thread(step.session, thread=thread)
    repo.add_message(
        step.session,
        thread=thread,
        author="bot",
        text=texts.t("handoff.ended_note", who=thread.closed_by),
        now=step.now,
    )
    if thread.user_id is not None and (
        step.person.user is None or step.person.user.id != thread.user_id
    ):
        repo.release_handoff(step.session, user_id=thread.user_id, now=step.now)
        _tell_her(step, texts.t("handoff.ended"), key=f"handoff:{thread.code}:end")


def _late(step: Step) -> None:
    """Nobody answered in time: she is told honestly (when someone will, out of office hours),
    with 12338, once; the unit's cadres are reminded."""
    thread = step.thread
    thread.late_told_at = step.now
    repo.save_thread(step.session, thread=thread)
    assert step.office is not None
    if step.office.is_open(step.now):
        text = texts.t("handoff.late")
    else:
        text = texts.t("handoff.late_closed", when=step.office.when(step.now))
    repo.add_message(step.session, thread=thread, author="bot", text=text, now=step.now)
    _tell_her(step, text, key=f"handoff:{thread.code}:late")
    minutes = int((step.now - as_utc(thread.opened_at)).total_seconds() // 60)
    chase = texts.t("handoff.chase", code=thread.code, minutes=minutes)
    _notify_cadres(step, chase, key=f"handoff:{thread.code}:chase")


_PEOPLE = frozenset[Role]({"cadre", "staff"})
OPEN = ("waiting", "answered")
MOVES: tuple[Move, ...] = (
    Move("her", OPEN, None, frozenset({"resident"}), _her),
    Move("take", ("waiting",), "answered", frozenset({"staff"}), _take),
    Move("reply", OPEN, "answered", _PEOPLE, _reply),
    Move("late", ("waiting",), None, frozenset({"bot"}), _late),
    Move("end", OPEN, "closed", frozenset({"resident", "cadre", "staff"}), _end),
)
WHO: dict[str, frozenset[Role]] = {m.name: m.who for m in MOVES}


@cache
def lifecycle() -> Machine:
    """The thread machine (built once; each move fires it on a fresh `Step`)."""
    return lifecycles.build(STATES, "waiting", MOVES)


def label(move: str) -> str:
    """'reply (cadre, staff)': the move and who may make it (the diagram's arrows)."""
    return lifecycles.label(move, ROLES, MOVES)


def _fire(step: Step, move: str) -> None:
    lifecycles.fire(lifecycle(), move, step)


# ----------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Opened:
    """A thread just opened (or the one already open), its unit, and what to tell her."""

    thread: Handoff
    unit: OrgUnit
    reply: str
    new: bool


def _notify_cadres(step: Step, text: str, *, key: str) -> int:
    """Tell the thread's unit (its cadres; the city's duty staff when it has none)."""
    unit = repo.get_unit(step.session, unit_id=step.thread.unit_id)
    assert unit is not None
    return routing.tell(
        step.session,
        user_ids=routing.responders(step.session, unit=unit),
        text=text,
        key=key,
        now=step.now,
        skip=step.person.user.id if step.person.user is not None else None,
    )


def _open_requests(session: Session, *, user_id: int) -> list[HelpRequest]:
    """Her open requests, newest first."""
    found = repo.requests_of(session, requester_id=user_id) if user_id else []
    return [r for r in found if r.status in OPEN_STATUSES]


def _answering_unit(session: Session, *, user: User, place: OrgUnit) -> OrgUnit:
    """Her open request's unit, else the unit of `place`; then the nearest unit with a cadre."""
    request = next(iter(_open_requests(session, user_id=user.id or 0)), None)
    start = repo.get_unit(session, unit_id=request.unit_id) if request is not None else None
    unit, _cadres = routing.responsible_unit(session, unit=start or place)
    return unit


def open_thread(
    session: Session,
    *,
    user: User,
    place: OrgUnit,
    channel: str,
    slots: str,
    said: list[str],
    now: datetime,
    office: OfficeHours,
) -> Opened:
    """转人工: her thread (a new one, or the one she has open), with `said` (her last messages,
    masked) as its start; its cadres are told with that transcript; the reply to her says who
    has it and, out of office hours, when they answer."""
    thread = repo.open_thread_of(session, user_id=user.id or 0)
    new = thread is None
    if thread is None:
        unit = _answering_unit(session, user=user, place=place)
        thread = repo.create_thread(
            session, user_id=user.id or 0, unit_id=unit.id or 0, channel=channel, now=now
        )
        for text in said:  # her last messages (masked), kept by the dialogue for this
            repo.add_message(session, thread=thread, author="resident", text=text, now=now)
        thread.last_at = now
        repo.save_thread(session, thread=thread)
    found = repo.get_unit(session, unit_id=thread.unit_id)
    assert found is not None
    unit = found
    step = Step(session, thread, Person.chat(user), None, now, thread.status, office)
    if new:
        transcript = "\n".join(
            f"· {m.text}" for m in repo.thread_messages(session, thread=thread)
        ) or texts.t("handoff.no_transcript")
        text = texts.t(
            "handoff.notify",
            code=thread.code,
            who=user.name or texts.t("who.resident", id=user.id),
            channel=channel,
            transcript=transcript,
            slots=mask_pii(slots),
        )
        _notify_cadres(step, text, key=f"human:{user.id}:{now.isoformat()}")
    city = unit.parent_id is None
    reply = texts.t(
        "handoff.started_city" if city else "handoff.started",
        unit=unit_label(unit),
        code=thread.code,
    )
    if not office.is_open(now):
        reply += "\n" + texts.t("handoff.after_hours", when=office.when(now))
        if new:  # told now: the scheduler's later message would say the same
            thread.late_told_at = now
            repo.save_thread(session, thread=thread)
    return Opened(thread, unit, reply, new)


def her_message(session: Session, *, user: User, text: str, now: datetime) -> Handoff | None:
    """Her message while handed over, into her open thread (None: she has none)."""
    thread = repo.open_thread_of(session, user_id=user.id or 0)
    if thread is None:
        return None
    _fire(Step(session, thread, Person.chat(user), text, now, thread.status), "her")
    return thread


def _visible(session: Session, *, code: str, person: Person) -> tuple[Handoff, frozenset[Role]]:
    thread = repo.thread_by_code(session, code=code)
    found = roles(session, person=person, thread=thread) if thread is not None else frozenset()
    if thread is None or not found:
        raise NotFound("handoff.not_found", code=code.upper())
    return thread, found


def _check(thread: Handoff, found: frozenset[Role], move: str) -> None:
    if not WHO[move] & found:
        raise Forbidden("handoff.not_yours", code=thread.code)
    if thread.status not in lifecycles.sources(move, MOVES):
        raise Conflict("handoff.closed", code=thread.code)


def reply(session: Session, *, code: str, person: Person, text: str, now: datetime) -> Handoff:
    """A person's reply to thread `code`: NotFound outside their units, Conflict once closed,
    Invalid for an empty or too long reply."""
    thread, found = _visible(session, code=code, person=person)
    text = (text or "").strip()
    if not text:
        raise Invalid("handoff.empty_reply", code=thread.code)
    if len(text) > MAX_REPLY:
        raise Invalid("handoff.long_reply", limit=MAX_REPLY)
    _check(thread, found, "reply")
    _fire(Step(session, thread, person, text, now, thread.status), "reply")
    return thread


def end(session: Session, *, code: str, person: Person, now: datetime) -> Handoff:
    """结束会话: the thread closes and the bot takes her messages again; she is told."""
    thread, found = _visible(session, code=code, person=person)
    _check(thread, found, "end")
    _fire(Step(session, thread, person, None, now, thread.status), "end")
    return thread


def end_hers(session: Session, *, user: User, now: datetime) -> Handoff | None:
    """She went back to the bot (菜单, 取消 …): her open thread closes (nobody is told)."""
    thread = repo.open_thread_of(session, user_id=user.id or 0)
    if thread is not None:
        _fire(Step(session, thread, Person.chat(user), None, now, thread.status), "end")
    return thread


def take_over(
    session: Session, *, request_code: str, person: Person, text: str, now: datetime
) -> Handoff:
    """接管: staff open a conversation with the woman of request `request_code` (one of their
    units') with `text` as its first message. The thread is with the staff member's own unit
    (else the request's); if she already talks to a person, `text` is a reply in that thread
    when the staff member may answer it. NotFound outside their units, Invalid when nobody can
    be reached in chat (no requester, or she erased her data) or for an empty or too long
    message, Conflict when she talks to another unit."""
    request = (
        repo.request_by_code(session, code=request_code)
        if person.unit_ids is None
        else repo.request_in_units(session, code=request_code, unit_ids=person.unit_ids)
    )
    if request is None:
        raise NotFound("handoff.no_request", code=request_code.upper())
    text = (text or "").strip()
    if not text:
        raise Invalid("handoff.empty_take", code=request.code)
    if len(text) > MAX_REPLY:
        raise Invalid("handoff.long_reply", limit=MAX_REPLY)
    user = repo.get_user(session, user_id=request.requester_id or 0)
    if user is None or user.deleted_at is not None:
        raise Invalid("handoff.no_requester", code=request.code)
    thread = repo.open_thread_of(session, user_id=user.id or 0)
    if thread is not None:
        if not roles(session, person=person, thread=thread):
            unit = repo.get_unit(session, unit_id=thread.unit_id)
            raise Conflict(
                "handoff.busy_elsewhere",
                code=thread.code,
                unit=unit_label(unit) if unit else "",
            )
        return reply(session, code=thread.code, person=person, text=text, now=now)
    thread = repo.create_thread(
        session,
        user_id=user.id or 0,
        unit_id=person.unit_id or request.unit_id,
        channel=request.channel or "chat",
        now=now,
        taken_by=person.name,
    )
    _fire(Step(session, thread, person, text, now, thread.status), "take")
    return thread


def tell_late(
    session: Session, *, now: datetime, office: OfficeHours, answer_within: timedelta
) -> list[Handoff]:
    """The scheduler's rule: every waiting thread nobody answered within `answer_within` gets
    one honest message: when someone will reply, and 12338 (a thread opened out of office hours
    was told so when it opened)."""
    told = []
    bot = Person(unit_ids=None)
    for thread in repo.unanswered_threads(session, opened_before=now - answer_within):
        _fire(Step(session, thread, bot, None, now, thread.status, office), "late")
        told.append(thread)
    return told


@dataclass(frozen=True)
class ThreadView:
    """A thread with its unit and messages, for the console and the API."""

    thread: Handoff
    unit: OrgUnit
    messages: list[HandoffMessage]
    requests: list[str]


def view(session: Session, *, code: str, person: Person) -> ThreadView:
    """Thread `code` as `person` may see it (NotFound outside their units)."""
    thread, _found = _visible(session, code=code, person=person)
    unit = repo.get_unit(session, unit_id=thread.unit_id)
    assert unit is not None
    messages = repo.thread_messages(session, thread=thread)
    codes = [r.code for r in _open_requests(session, user_id=thread.user_id or 0)]
    return ThreadView(thread, unit, messages, codes)
