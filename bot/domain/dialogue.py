"""The dialogue's modes: one typed `DialogueState` driven by one `transitions` machine.

A dialogue is in exactly one mode: idle, in a flow, awaiting her answer to the offer to resume
a flow, awaiting her confirmation of 删除我的信息, handed over to a person, or awaiting her
rating of a resolved request, in a crisis (her urgent case is open: a phone she leaves and
anything else she writes go to it), or awaiting her answer to the safety check (您现在安全吗？:
a message with danger signals, remembered until she answers; `bot.domain.safety`). Beside the
mode it holds the flow underneath (name, step, run), a rating she owes (and whether she was
reminded), replies waiting behind 更多, the name of a flow dropped unattended, the code of her
urgent case and the remembered message of a pending safety check.

Precedence is declared, not inferred: `PRECEDENCE` orders the modes a dialogue may hold at once
(a crisis above a safety check above a pending 删除 above a hand-over above a resume offer above
a flow above a rating above idle); leaving a mode falls back to the highest one still held
(`FALLBACK`). A crisis may begin in any mode: a flow underneath is paused (leaving the crisis
offers to resume it), a pending 删除 or a hand-over is dropped. A rating waits in the modes
above it: it is heard in all but `awaiting_delete`, `crisis` and `safety_check` and asked
only in `RATING_ASKED_IN`.
A safety check may begin in any mode but a crisis and a hand-over (her words go to a person
there): a flow underneath is kept (her 安全 goes on with the remembered message in it), a
pending 删除 or a resume offer is dropped; a clear 安全 falls back to the highest mode still
held, anything else enters the crisis.

Stored as before (`storage.repo.dialogue`: columns flow and state, JSON data): `pending`
("delete" or "resume"), `handoff`, `rate` and `rate_asked`, `run`, `more`, `expired`, and now
`crisis` (the urgent case's code) and `safety` (the remembered message of a pending safety
check: its words, when it was asked, what the message asked for), and `said` (her last few
messages, masked: the transcript a person sees when she asks for one). The format only grew, so
every stored row — and `storage.repo.expect_rating`, which writes `rate` from outside a
dialogue — reads as before.
Diagram: dialogue.mmd (`python -m bot.flows.diagram`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from transitions import EventData, Machine


class Mode(StrEnum):
    """What her next message means."""

    IDLE = "idle"
    IN_FLOW = "in_flow"
    AWAITING_RESUME = "awaiting_resume"
    AWAITING_DELETE = "awaiting_delete"
    HANDED_OVER = "handed_over"
    AWAITING_RATING = "awaiting_rating"
    CRISIS = "crisis"
    SAFETY_CHECK = "safety_check"


IDLE = Mode.IDLE
IN_FLOW = Mode.IN_FLOW
AWAITING_RESUME = Mode.AWAITING_RESUME
AWAITING_DELETE = Mode.AWAITING_DELETE
HANDED_OVER = Mode.HANDED_OVER
AWAITING_RATING = Mode.AWAITING_RATING
CRISIS = Mode.CRISIS
SAFETY_CHECK = Mode.SAFETY_CHECK

# When a dialogue holds several marks at once, the first of these it holds is its mode.
PRECEDENCE = (
    CRISIS,
    SAFETY_CHECK,
    AWAITING_DELETE,
    HANDED_OVER,
    AWAITING_RESUME,
    IN_FLOW,
    AWAITING_RATING,
    IDLE,
)
# A rating she owes is asked (reminded once) only in these; in the others it waits.
RATING_ASKED_IN = frozenset({IDLE, IN_FLOW, AWAITING_RATING})
# ... and heard (her 满意 / 不满意 taken) in all but a pending 删除, a crisis (her words then
# go to her urgent case) and a safety check (her words answer it).
RATING_HEARD_IN = frozenset(m for m in Mode if m not in (AWAITING_DELETE, CRISIS, SAFETY_CHECK))
# How many of her last messages the state keeps for a hand-off's transcript.
SAID = 6
SAID_CHARS = 500  # ... each cut to this many characters
# Stored `pending` values of the two confirmations.
PENDING = {AWAITING_DELETE: "delete", AWAITING_RESUME: "resume"}


@dataclass
class DialogueState:
    """One user's dialogue: its mode (the machine's state) and what the modes hold."""

    mode: Mode = IDLE
    flow: str | None = None  # the flow underneath (in_flow, and a resume offer or 删除 above it)
    step: str | None = None  # the flow's state (stored in the column `state`)
    run: dict[str, Any] | None = None  # the flow's slots, misses, history, meta
    rating: str | None = None  # the request code whose rating she owes
    rating_asked: bool = False  # reminded once already: dropped after her next other message
    pages: list[str] | None = None  # replies waiting behind 更多
    expired: str | None = None  # a flow dropped unattended: she hears it was cancelled
    case: str | None = None  # in a crisis: the code of her urgent case
    check: dict[str, Any] | None = None  # a pending safety check: the remembered message
    # Her last few messages (masked): what a person sees when she asks for one (转人工), since
    # the message log keeps nothing of hers before she consents.
    said: list[str] | None = None

    # ------------------------------------------------------------------ stored form

    @classmethod
    def from_stored(
        cls, flow: str | None, step: str | None, data: dict[str, Any] | None
    ) -> DialogueState:
        """The state of a stored dialogue (columns flow and state, JSON data)."""
        data = dict(data or {})
        held = {
            CRISIS: bool(data.get("crisis")),
            SAFETY_CHECK: bool(data.get("safety")),
            AWAITING_DELETE: data.get("pending") == "delete",
            HANDED_OVER: bool(data.get("handoff")),
            AWAITING_RESUME: data.get("pending") == "resume" and flow is not None,
            IN_FLOW: flow is not None,
            AWAITING_RATING: bool(data.get("rate")),
            IDLE: True,
        }
        return cls(
            mode=next(mode for mode in PRECEDENCE if held[mode]),
            flow=flow,
            step=step if flow is not None else None,
            run=dict(data["run"]) if flow is not None and data.get("run") else None,
            rating=str(data["rate"]) if data.get("rate") else None,
            rating_asked=bool(data.get("rate_asked")),
            pages=list(data["more"]) if data.get("more") else None,
            expired=str(data["expired"]) if data.get("expired") else None,
            case=str(data["crisis"]) if data.get("crisis") else None,
            check=dict(data["safety"]) if data.get("safety") else None,
            said=[str(x) for x in data["said"]] if data.get("said") else None,
        )

    def to_stored(self) -> tuple[str | None, str | None, dict[str, Any]]:
        """(flow, state, data) to store: the inverse of `from_stored`."""
        data: dict[str, Any] = {}
        if self.mode in PENDING:
            data["pending"] = PENDING[self.mode]
        if self.mode is HANDED_OVER:
            data["handoff"] = True
        if self.mode is CRISIS and self.case:
            data["crisis"] = self.case
        if self.mode is SAFETY_CHECK and self.check:
            data["safety"] = self.check
        if self.flow is not None and self.run is not None:
            data["run"] = self.run
        if self.rating:
            data["rate"] = self.rating
            if self.rating_asked:
                data["rate_asked"] = True
        if self.pages:
            data["more"] = self.pages
        if self.expired:
            data["expired"] = self.expired
        if self.said:
            data["said"] = self.said
        return self.flow, self.step if self.flow is not None else None, data

    # ------------------------------------------------------------------ the moves

    def start_flow(self, flow: str, step: str, run: dict[str, Any]) -> None:
        """A flow begins (replacing any flow underneath)."""
        self._fire("start_flow")
        self.flow, self.step, self.run = flow, step, run

    def advance(self, step: str, run: dict[str, Any]) -> None:
        """The flow underneath moved to `step` (no change of mode)."""
        self.step, self.run = step, run

    def finish_flow(self) -> None:
        """The flow was filed or cancelled."""
        self._drop_flow()
        self._fire("finish_flow")

    def pause(self) -> None:
        """She came back after a while: offer to resume the flow."""
        self._fire("pause")

    def resume(self) -> None:
        """Any answer to the resume offer returns to the flow."""
        self._fire("resume")

    def expire(self) -> None:
        """The flow was left too long: drop it, remembering its name for her next message."""
        self.expired = self.flow
        self._drop_flow()
        self.said = None  # her words do not outlive the flow she left
        self._fire("expire")

    def ask_delete(self) -> None:
        """删除我的信息 asks for confirmation."""
        self._fire("ask_delete")

    def confirm_delete(self) -> None:
        """确认删除: everything goes."""
        self._fire("confirm_delete")
        self.flow = self.step = self.run = self.rating = self.pages = self.expired = None
        self.said = None
        self.rating_asked = False

    def keep(self) -> None:
        """Anything but 确认删除 keeps her data."""
        self._fire("keep")

    def remember(self, text: str) -> None:
        """Keep `text` (masked by the caller, cut to `SAID_CHARS`) among her last `SAID`
        messages: the stored state stays small, however long she writes."""
        self.said = [*(self.said or []), text[:SAID_CHARS]][-SAID:]

    def take_said(self) -> list[str]:
        """Her last messages, gone from the state (they go into the hand-off's thread)."""
        said, self.said = self.said or [], None
        return said

    def hand_over(self) -> None:
        """转人工: her messages go to a person (the flow is dropped)."""
        self._drop_flow()
        self._fire("hand_over")

    def release(self) -> None:
        """A global command ends the hand-over."""
        self._fire("release")

    def enter_crisis(self, case: str) -> None:
        """A crisis message opened urgent case `case`: a flow underneath is paused (she may
        resume it after), a pending 删除 or a hand-over is dropped."""
        self._fire("enter_crisis")
        self.case = case

    def end_crisis(self) -> None:
        """She moved on (a command, or a while later): back to a paused flow's resume offer, a
        rating she owes, or idle."""
        self.case = None
        self._fire("end_crisis")

    def ask_safety(self, check: dict[str, Any]) -> None:
        """A message with danger signals: 您现在安全吗？ is asked, the message remembered (`check`,
        `bot.domain.safety.SafetyCheck.to_json`); a flow underneath is kept, a pending 删除 or a
        resume offer is dropped (never asked in a crisis or handed over)."""
        self._fire("ask_safety")
        self.check = check

    def safe(self) -> dict[str, Any]:
        """A clear 安全: back to the highest mode still held; returns the remembered message
        (it goes on as any other)."""
        check, self.check = self.check or {}, None
        self._fire("safe")
        return check

    def take_check(self) -> dict[str, Any]:
        """The remembered message of a pending safety check, gone from the state (the crisis
        path then takes the dialogue: `enter_crisis`)."""
        check, self.check = self.check or {}, None
        return check

    def expect_rating(self, code: str) -> None:
        """Request `code` was resolved: she owes its rating (`storage.repo.expect_rating` writes
        the same mark from outside a dialogue)."""
        self.rating, self.rating_asked = code, False
        self._fire("expect_rating")

    def reminded(self) -> None:
        """She was reminded of the rating she owes (once)."""
        self.rating_asked = True

    def rated(self) -> None:
        """She rated: the rating is no longer owed."""
        self.rating, self.rating_asked = None, False
        self._fire("rated")

    def drop_rating(self) -> None:
        """Reminded once and answered with something else: the rating is no longer asked."""
        self.rating, self.rating_asked = None, False
        self._fire("drop_rating")

    def owe(self, code: str, *, asked: bool) -> None:
        """Keep a rating she owes as it was (a message that waited on it, or wiped it)."""
        self.rating, self.rating_asked = code, asked
        if self.mode is IDLE:
            self._fire("expect_rating")

    def take_pages(self) -> list[str] | None:
        """The replies waiting behind 更多 (gone from the state: each message drops them)."""
        pages, self.pages = self.pages, None
        return pages

    def take_expired(self) -> str | None:
        """The name of a flow dropped unattended, once."""
        expired, self.expired = self.expired, None
        return expired

    def _drop_flow(self) -> None:
        self.flow = self.step = self.run = None

    def _fire(self, event: str) -> None:
        DIALOGUE_MACHINE.fire(self, event)


# ----------------------------------------------------------------------------- the machine


def has_flow(event: EventData) -> bool:
    """A flow is underneath."""
    return cast(DialogueState, event.model).flow is not None


def owes_rating(event: EventData) -> bool:
    """She owes a rating."""
    return cast(DialogueState, event.model).rating is not None


Condition = Callable[[EventData], bool]
# Leaving a mode falls back to the highest mode still held, in PRECEDENCE order.
FALLBACK: tuple[tuple[Mode, Condition | None], ...] = (
    (IN_FLOW, has_flow),
    (AWAITING_RATING, owes_rating),
    (IDLE, None),
)


@dataclass(frozen=True)
class Move:
    """One transition: `trigger` from `sources` to `dest` (None: stays) when `condition`."""

    trigger: str
    sources: tuple[Mode, ...]
    dest: Mode | None
    condition: Condition | None = None


def _fallback(trigger: str, *sources: Mode, flow: bool = False) -> tuple[Move, ...]:
    """`trigger` leaves `sources` for the highest mode still held (`flow`: a flow may be
    underneath; the moves that drop or never hold one fall back past it)."""
    return tuple(
        Move(trigger, sources, dest, cond) for dest, cond in FALLBACK if flow or dest is not IN_FLOW
    )


def _except(*modes: Mode) -> tuple[Mode, ...]:
    return tuple(m for m in Mode if m not in modes)


MOVES: tuple[Move, ...] = (
    Move("start_flow", (IDLE, AWAITING_RATING, IN_FLOW), IN_FLOW),
    *_fallback("finish_flow", IN_FLOW),
    Move("pause", (IN_FLOW, AWAITING_RESUME, AWAITING_DELETE), AWAITING_RESUME, has_flow),
    Move("resume", (AWAITING_RESUME,), IN_FLOW),
    *_fallback("expire", IN_FLOW, AWAITING_RESUME),
    Move("expire", _except(IN_FLOW, AWAITING_RESUME), None),
    Move("ask_delete", (IDLE, AWAITING_RATING, IN_FLOW), AWAITING_DELETE),
    Move("confirm_delete", (AWAITING_DELETE,), IDLE),
    *_fallback("keep", AWAITING_DELETE, flow=True),
    Move("hand_over", (IDLE, AWAITING_RATING, IN_FLOW), HANDED_OVER),
    *_fallback("release", HANDED_OVER),
    Move("enter_crisis", tuple(Mode), CRISIS),
    Move("ask_safety", _except(CRISIS, SAFETY_CHECK, HANDED_OVER), SAFETY_CHECK),
    *_fallback("safe", SAFETY_CHECK, flow=True),
    Move("end_crisis", (CRISIS,), AWAITING_RESUME, has_flow),
    *_fallback("end_crisis", CRISIS),
    Move("expect_rating", (IDLE,), AWAITING_RATING),
    Move("expect_rating", _except(IDLE), None),
    Move("rated", (AWAITING_RATING,), IDLE),
    Move("rated", _except(AWAITING_RATING, AWAITING_DELETE, SAFETY_CHECK), None),
    Move("drop_rating", (AWAITING_RATING,), IDLE),
    Move("drop_rating", _except(AWAITING_RATING), None),
)


class DialogueMachine:
    """The one `transitions` machine of the dialogue modes, shared by all dialogues."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        logging.getLogger("transitions.core").setLevel(logging.ERROR)
        self.machine = Machine(
            model=None,
            states=list(Mode),
            initial=IDLE,
            auto_transitions=False,
            model_override=True,
            send_event=True,
            model_attribute="mode",
        )
        for move in MOVES:
            self.machine.add_transition(
                move.trigger,
                list(move.sources),
                move.dest,
                conditions=[move.condition] if move.condition else None,
            )

    def fire(self, state: DialogueState, event: str) -> None:
        """Fire `event` on `state` (raises `transitions.MachineError` for a move not declared);
        as `FlowMachine.fire`, without binding the state to the machine."""
        with self._lock:
            if not self.machine.events[event].trigger(state):
                raise ValueError(f"{event} from {state.mode}: no condition held")


DIALOGUE_MACHINE = DialogueMachine()


def forget_abandoned(flow: str | None, data: dict[str, Any]) -> dict[str, Any]:
    """The stored data left of a dialogue idle longer than FUQING_DROP_AFTER_DAYS (the
    scheduler's purge): no flow, no slots, no paged replies, none of her last words; a rating
    she owes and a hand-over stay, and a dropped flow's name, so her next message hears it was
    cancelled as it would had she written before the purge."""
    state = DialogueState.from_stored(flow, None, data)
    state.pages = state.said = None
    if state.flow is not None:
        state.expire()
    return state.to_stored()[2]
