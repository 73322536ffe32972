"""Lifecycles as data: a table of moves (name, from which states, into which, who may make it,
its effect) run by one `transitions` machine. The help request's (`bot.domain.requests`) and the
hand-off thread's (`bot.domain.handoff`) are built here; each move fires on a fresh model (the
step: what is moved, by whom, with what), under one lock, since a `transitions` machine without
a bound model is shared."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from transitions import EventData, Machine

_lock = threading.Lock()


class MoveRow(Protocol):
    """One row of a lifecycle's table of moves."""

    @property
    def name(self) -> str: ...

    @property
    def sources(self) -> tuple[str, ...]: ...

    @property
    def dest(self) -> str | None: ...

    @property
    def who(self) -> frozenset[str]: ...

    @property
    def effect(self) -> Callable[[Any], None]: ...


def _after(effect: Callable[[Any], None]) -> Callable[[EventData], None]:
    def after(event: EventData) -> None:
        effect(event.model)

    return after


def build(states: Sequence[str], initial: str, moves: Iterable[MoveRow]) -> Machine:
    """The machine of `moves` over `states` (no automatic transitions; each move's effect runs
    after the state changed; a move with no `dest` keeps the state)."""
    machine = Machine(
        model=None,
        states=list(states),
        initial=initial,
        auto_transitions=False,
        model_override=True,
        send_event=True,
    )
    for move in moves:
        machine.add_transition(move.name, list(move.sources), move.dest, after=_after(move.effect))
    return machine


def fire(machine: Machine, move: str, step: object) -> None:
    """Make `move` on `step` (its `state` is the current state; effects run inside)."""
    with _lock:
        machine.events[move].trigger(step)


def label(move: str, roles: Sequence[str], moves: Iterable[MoveRow]) -> str:
    """'reply (cadre, staff)': the move and who may make it, in the order of `roles` (the
    diagrams' arrows)."""
    who = {role for m in moves if m.name == move for role in m.who}
    return f"{move} ({', '.join(r for r in roles if r in who)})"


def sources(move: str, moves: Iterable[MoveRow]) -> set[str]:
    """The states `move` may be made from."""
    return {s for m in moves if m.name == move for s in m.sources}
