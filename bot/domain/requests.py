"""The help-request lifecycle: one `transitions` machine of statuses, moves, who may make each
move, and what each move does. Chat (the progress commands take / resolve / withdraw, the
rating answer) and the console's queue are thin callers of `move` and `rate`; nothing else
changes a request's status (bar erasing a resident, storage.repo.erase_requests_of).

- States: new → assigned → in_progress → resolved | cancelled (`storage.models.OPEN_STATUSES`
  are the first three). Diagram: requests.mmd, generated from the machine
  (`python -m bot.flows.diagram`) and checked by a test.
- Who: the requester (her own request), a cadre of the request's unit or of a unit above it
  (chat), the console's staff within their units. Anyone else finds the code does not exist.
- Effects of a move: the status (and assignee / resolution / rating) written with one event;
  the requester told through the outbox of every move she did not make herself; a resolve by
  someone else also marks her dialogue as waiting for her rating (`repo.expect_rating`).

Notes are stored with phone and ID numbers masked; the push tells her the note as typed. A
console move's event note ends with the staff member's mark (`console.by`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Literal

from sqlmodel import Session
from transitions import Machine

from bot import texts
from bot.domain import deadlines, lifecycles, routing
from bot.domain.errors import Conflict, Forbidden, Invalid, NotFound
from bot.domain.org import cadre_over, unit_label
from bot.nlp import mask_pii
from storage import repo
from storage.models import OPEN_STATUSES, HelpRequest, OrgUnit, User

Role = Literal["requester", "cadre", "staff", "bot"]
ROLES: tuple[Role, ...] = ("requester", "cadre", "staff", "bot")  # bot: the scheduler (督办)
STATES = ("new", "assigned", "in_progress", "resolved", "cancelled")
RATINGS = ("satisfied", "basic", "unsatisfied")


@dataclass(frozen=True)
class Actor:
    """Who makes a move: a chat user (resident or cadre), or a console staff member."""

    user: User | None = None
    username: str | None = None  # staff: her console login (marks her notes)
    unit_id: int | None = None  # staff: her own unit
    unit_ids: tuple[int, ...] = ()  # staff: the units whose requests she may act on

    @classmethod
    def chat(cls, user: User) -> Actor:
        """A resident or cadre talking to the bot."""
        return cls(user=user)

    @classmethod
    def console(cls, *, username: str, unit_id: int, unit_ids: Sequence[int]) -> Actor:
        """A console staff member acting within `unit_ids`."""
        return cls(username=username, unit_id=unit_id, unit_ids=tuple(unit_ids))

    @property
    def user_id(self) -> int | None:
        """The chat user's id (None for staff: their events name them in the note)."""
        return self.user.id if self.user is not None else None


@dataclass
class Step:
    """The machine's model for one move: the request, who moves it and the move's arguments."""

    session: Session
    request: HelpRequest
    actor: Actor
    roles: frozenset[Role]
    note: str | None
    now: datetime
    state: str
    cadre: tuple[User, OrgUnit] | None = None  # assign: the cadre and her unit
    rating: str | None = None  # rate: the rating
    told: bool = False  # set by the effects: the requester was told
    limits: deadlines.Limits = deadlines.DEFAULT_LIMITS  # reopen: the fresh deadline
    level: int = 0  # supervise: 1 the district, 2 the city
    notify: tuple[int, ...] = ()  # supervise: the chat users told


@dataclass(frozen=True)
class Move:
    """One move of the lifecycle: from which statuses, into which (None: the status stays),
    who may make it, and its effect on the request (run after the machine changed state)."""

    name: str
    sources: tuple[str, ...]
    dest: str | None
    who: frozenset[Role]
    effect: Callable[[Step], None] = field(repr=False)


@dataclass(frozen=True)
class Moved:
    """What a move did: the request as it is now, and whether the requester was told."""

    request: HelpRequest
    told: bool
    assignee: User | None = None


# ----------------------------------------------------------------------------- effects


def _stored_note(step: Step, note: str | None) -> str | None:
    """The note as stored in the event: masked, with the console's mark for staff."""
    masked = mask_pii(note) if note else note
    return masked if step.actor.username is None else _with_mark(step, masked or "")


def _enqueue(step: Step, text: str, key: str) -> None:
    requester = step.request.requester_id
    if requester is None or requester == step.actor.user_id:
        return
    row = repo.enqueue(step.session, user_id=requester, text=text, now=step.now, key=key)
    step.told = row is not None


def _tell_taken(step: Step, *, key: str) -> None:
    """Tell her who took her request (the assignee, else the acting unit)."""
    session, request = step.session, step.request
    assignee = repo.get_user(session, user_id=request.assigned_to or 0)
    home = assignee.unit_id if assignee is not None and assignee.unit_id else None
    if home is None:
        home = step.actor.user.unit_id if step.actor.user is not None else step.actor.unit_id
    unit = repo.get_unit(session, unit_id=home or 0)
    text = texts.t(
        "progress.tell_taken",
        code=request.code,
        unit=unit_label(unit) if unit else "",
        name=(assignee.name if assignee else None) or texts.t("who.staff"),
    )
    _enqueue(step, text, key)


def _take(step: Step) -> None:
    """Taken: assigned; a cadre taking it in chat becomes its assignee; she is told."""
    cadre = step.actor.user if "cadre" in step.roles and step.actor.user is not None else None
    _write(
        step,
        note=_stored_note(step, step.note),
        assigned_to=cadre.id if cadre is not None else None,
    )
    _tell_taken(step, key=f"request:{step.request.code}:take")


def _assign(step: Step) -> None:
    """Assigned: the request goes to a cadre (a new one becomes assigned); she is told who."""
    assert step.cadre is not None
    cadre, _unit = step.cadre
    request = step.request
    first = request.assigned_to is None
    what = texts.t("console.assign_note", name=cadre.name or texts.t("who.staff"))
    if step.note:
        what += texts.t("console.tell_note", note=mask_pii(step.note))
    _write(step, note=_with_mark(step, what), kind="assigned", assigned_to=cadre.id)
    again = f"request:{request.code}:take:{cadre.id}:{step.now.isoformat()}"
    _tell_taken(step, key=f"request:{request.code}:take" if first else again)


def _with_mark(step: Step, text: str) -> str:
    """`text` with the console's mark for staff."""
    if step.actor.username is None:
        return text
    return text + texts.t("console.by", username=step.actor.username)


def _start(step: Step) -> None:
    """In progress; she is told (with the note, as typed)."""
    _write_and_tell(step, "console.tell_in_progress", "in_progress")


def _resolve(step: Step) -> None:
    """Resolved with its resolution; she is told and asked to rate it."""
    request = step.request
    _write(
        step,
        note=_stored_note(step, step.note),
        resolution=mask_pii(step.note) if step.note else step.note,
    )
    text = texts.t("progress.tell_resolved", code=request.code, note=step.note or "")
    _enqueue(step, text + "\n" + texts.t("rate.ask"), f"request:{request.code}:resolve")
    if request.requester_id is not None and request.requester_id != step.actor.user_id:
        repo.expect_rating(
            step.session, user_id=request.requester_id, code=request.code, now=step.now
        )


def _withdraw(step: Step) -> None:
    """Cancelled; she is told unless she withdrew it herself."""
    _write_and_tell(step, "console.tell_cancelled", "cancelled")


def _write(
    step: Step,
    *,
    note: str | None,
    kind: str | None = None,
    assigned_to: int | None = None,
    resolution: str | None = None,
) -> None:
    """Write the machine's new state on the request, with the event (`kind`) and `note`."""
    repo.set_status(
        step.session,
        request=step.request,
        status=step.state,
        actor_id=step.actor.user_id,
        note=note,
        now=step.now,
        kind=kind,
        assigned_to=assigned_to,
        resolution=resolution,
    )


def _write_and_tell(step: Step, text_key: str, key_suffix: str) -> None:
    """Write the new status and tell her with `text_key` (the note, as typed, after a colon)."""
    _write(step, note=_stored_note(step, step.note))
    note = texts.t("console.tell_note", note=step.note) if step.note else ""
    text = texts.t(text_key, code=step.request.code, note=note)
    _enqueue(step, text, f"request:{step.request.code}:{key_suffix}")


def _reopen(step: Step) -> None:
    """Reopened (her 不满意 with her words, or staff with a note): back in progress with a fresh
    resolve deadline, to the unit that resolved it — the second time to its district
    (督办: `supervised` 1) — whose cadres are told; she is told who has it and by when."""
    session, request = step.session, step.request
    unit = repo.get_unit(session, unit_id=request.unit_id)
    assert unit is not None
    if request.reopened >= 1 and "requester" in step.roles:
        unit = repo.district_of(session, unit=unit)
        request.unit_id = unit.id or request.unit_id
        request.supervised = max(request.supervised, 1)
    request.reopened += 1
    due = step.limits.resolve_due(step.now, primary=request.primary)
    request.resolve_due = due
    note = texts.t("reopen.note", unit=unit_label(unit)) + (
        texts.t("console.tell_note", note=mask_pii(step.note)) if step.note else ""
    )
    _write(step, note=_with_mark(step, note), kind="reopened")
    when = deadlines.day_label(due, step.limits.tz)
    text = texts.t("reopen.tell", code=request.code, unit=unit_label(unit), when=when)
    _enqueue(step, text, f"request:{request.code}:reopen:{request.reopened}")
    step.told = step.told or "requester" in step.roles
    alert = texts.t(
        "reopen.notify", code=request.code, unit=unit_label(unit), when=when, note=step.note or ""
    )
    routing.tell(
        session,
        user_ids=routing.responders(session, unit=unit),
        text=alert,
        key=f"request:{request.code}:reopen:{request.reopened}",
        now=step.now,
        skip=step.actor.user_id,
    )


def _supervise(step: Step) -> None:
    """督办: past a deadline, the request is reported one level up (`level`); the event records
    why (`note`) and the people above are told (`notify`). The status stays."""
    request = step.request
    request.supervised = step.level
    repo.add_event(
        step.session,
        request=request,
        kind="supervised",
        actor_id=None,
        note=step.note,
        now=step.now,
    )
    text = texts.t("supervise.notify", code=request.code, note=step.note or "")
    key = f"request:{request.code}:supervised:{step.level}"
    routing.tell(step.session, user_ids=list(step.notify), text=text, key=key, now=step.now)
    step.session.add(request)


def supervise(
    session: Session,
    *,
    request: HelpRequest,
    level: int,
    note: str,
    notify: Sequence[int],
    now: datetime,
) -> None:
    """The scheduler's 督办 move on `request` (`bot.domain.supervision` decides when and whom)."""
    step = Step(
        session,
        request,
        Actor(),
        frozenset({"bot"}),
        note,
        now,
        state=request.status,
        level=level,
        notify=tuple(notify),
    )
    lifecycles.fire(lifecycle(), "supervise", step)


def _rate(step: Step) -> None:
    """Rated: her rating of the resolved request, with a 'rated' event."""
    assert step.rating is not None
    label = texts.t(f"rate.{step.rating}")
    extra = texts.t("console.tell_note", note=step.note) if step.note else ""
    repo.set_rating(
        step.session,
        request=step.request,
        rating=step.rating,
        note=step.note,
        actor_id=step.actor.user_id,
        event_note=label + extra,
        now=step.now,
    )


# ----------------------------------------------------------------------------- the machine

_STAFF_OR_CADRE = frozenset[Role]({"cadre", "staff"})
OPEN = tuple(OPEN_STATUSES)
# Every move, in the order the console offers them; requests.mmd draws these.
MOVES: tuple[Move, ...] = (
    Move("take", ("new",), "assigned", _STAFF_OR_CADRE, _take),
    Move("assign", ("new",), "assigned", frozenset({"staff"}), _assign),
    Move("assign", ("assigned", "in_progress"), None, frozenset({"staff"}), _assign),
    Move("start", ("new", "assigned"), "in_progress", frozenset({"staff"}), _start),
    Move("resolve", OPEN, "resolved", _STAFF_OR_CADRE, _resolve),
    Move("withdraw", OPEN, "cancelled", frozenset({"requester", "cadre", "staff"}), _withdraw),
    Move("rate", ("resolved",), None, frozenset({"requester"}), _rate),
    Move("reopen", ("resolved",), "in_progress", frozenset({"requester", "staff"}), _reopen),
    Move("supervise", OPEN, None, frozenset({"bot"}), _supervise),
)
WHO: dict[str, frozenset[Role]] = {m.name: m.who for m in MOVES}
# The move that brings a request into each status (what the console's status picker means).
MOVE_INTO: dict[str, str] = {
    "assigned": "take",
    "in_progress": "start",
    "resolved": "resolve",
    "cancelled": "withdraw",
}


@cache
def lifecycle() -> Machine:
    """The lifecycle machine (built once; each move fires it on a fresh `Step`)."""
    return lifecycles.build(STATES, "new", MOVES)


def label(move: str) -> str:
    """'take (cadre, staff)': the move and who may make it, as the diagram names its arrows."""
    return lifecycles.label(move, ROLES, MOVES)


def sources(move: str) -> set[str]:
    """The statuses `move` may be made from."""
    return lifecycles.sources(move, MOVES)


def move_into(status: str, target: str) -> str:
    """The move that brings a request in `status` into `target` ("" for none): back into
    progress from resolved is a reopening."""
    if status == "resolved" and target == "in_progress":
        return "reopen"
    return MOVE_INTO.get(target, "")


def targets(status: str, role: Role) -> list[str]:
    """The statuses `role` may move a request in `status` into (the console's choices)."""
    return [
        target
        for target in MOVE_INTO
        if (move := move_into(status, target)) and role in WHO[move] and status in sources(move)
    ]


# ----------------------------------------------------------------------------- who


def roles(session: Session, *, actor: Actor, request: HelpRequest) -> frozenset[Role]:
    """What `actor` is to `request`: its requester, a cadre of its unit or above, its staff."""
    if actor.user is None:
        return frozenset({"staff"}) if request.unit_id in actor.unit_ids else frozenset()
    found: set[Role] = set()
    user = actor.user
    if request.requester_id is not None and request.requester_id == user.id:
        found.add("requester")
    if cadre_over(session, user=user, unit_id=request.unit_id):
        found.add("cadre")
    return frozenset(found)


def visible(session: Session, *, code: str, actor: Actor) -> tuple[HelpRequest, frozenset[Role]]:
    """The request `code` and what `actor` is to it; NotFound when it is nothing of hers (a
    request of another unit or another woman looks exactly like a code that does not exist)."""
    request = repo.request_by_code(session, code=code)
    found = roles(session, actor=actor, request=request) if request is not None else frozenset()
    if request is None or not found:
        raise NotFound("progress.not_found", code=code)
    return request, found


def assignable(
    session: Session, *, unit: OrgUnit, scope: Sequence[int]
) -> list[tuple[User, OrgUnit]]:
    """The cadres a request of `unit` may be assigned to: of its unit and below, and of the
    units above it within `scope` (the staff member's units)."""
    ids: set[int | None] = set(repo.units_below(session, unit=unit))
    ids |= {u.id for u in repo.ancestors(session, unit=unit) if u.id in scope}
    return repo.queue_cadres(session, unit_ids=sorted(i for i in ids if i is not None))


# ----------------------------------------------------------------------------- moves


def move(
    session: Session,
    *,
    code: str,
    actor: Actor,
    move: str,
    note: str | None,
    now: datetime,
    cadre_id: int | None = None,
    rating: str | None = None,
    limits: deadlines.Limits = deadlines.DEFAULT_LIMITS,
) -> Moved:
    """Make `move` on request `code` as `actor`, with its effects; raises NotFound (not hers
    to see), Forbidden (not hers to make), Conflict (not from this status) or Invalid (a
    resolve without a note, an assign to a cadre outside the request's units, a bad rating)."""
    request, found = visible(session, code=code, actor=actor)
    allowed = WHO.get(move, frozenset(ROLES))  # an unknown move is refused as a Conflict
    if not allowed & found:
        if allowed == {"requester"}:
            raise NotFound("progress.not_found", code=code)
        user = actor.user
        if user is not None and user.role == "cadre":
            raise Forbidden("progress.not_yours", code=request.code)
        raise Forbidden("progress.cadre_only")
    if request.status not in sources(move):
        raise Conflict(
            "progress.closed",
            code=request.code,
            state=request.status,
            status=texts.t(f"status.{request.status}"),
        )
    if move == "resolve" and not note:
        raise Invalid("progress.need_note")
    if move == "rate" and rating not in RATINGS:
        raise Invalid("rate.again", code=request.code)
    step = Step(
        session,
        request,
        actor,
        found,
        note,
        now,
        state=request.status,
        rating=rating,
        limits=limits,
    )
    if move == "assign":
        unit = repo.get_unit(session, unit_id=request.unit_id)
        assert unit is not None
        matches = [
            c for c in assignable(session, unit=unit, scope=actor.unit_ids) if c[0].id == cadre_id
        ]
        if not matches:
            raise Invalid("console.bad_cadre")
        step.cadre = matches[0]
    lifecycles.fire(lifecycle(), move, step)
    return Moved(request, step.told, step.cadre[0] if step.cadre else None)


def move_to(
    session: Session,
    *,
    code: str,
    actor: Actor,
    target: str,
    note: str | None,
    now: datetime,
    limits: deadlines.Limits = deadlines.DEFAULT_LIMITS,
) -> Moved:
    """Move request `code` into status `target` (the console's status picker) by the move that
    leads there from its status now; refusals as `move`'s."""
    request, _found = visible(session, code=code, actor=actor)
    name = move_into(request.status, target)
    return move(session, code=code, actor=actor, move=name, note=note, now=now, limits=limits)


def rate(
    session: Session,
    *,
    code: str,
    actor: Actor,
    rating: str,
    note: str | None,
    now: datetime,
    limits: deadlines.Limits = deadlines.DEFAULT_LIMITS,
) -> Moved:
    """Record the requester's rating ('satisfied' | 'basic' | 'unsatisfied', words after it)
    of her resolved request `code`; 不满意 reopens it with her words (回访: the second time at
    the district)."""
    rated = move(session, code=code, actor=actor, move="rate", note=note, now=now, rating=rating)
    if rating != "unsatisfied":
        return rated
    return move(session, code=code, actor=actor, move="reopen", note=note, now=now, limits=limits)
