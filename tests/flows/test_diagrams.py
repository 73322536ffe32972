"""Each flow's Mermaid diagram, and the help-request lifecycle's, matches its machine
(regenerate: python -m bot.flows.diagram)."""

from __future__ import annotations

import pytest

from bot.domain import handoff, requests
from bot.flows.base import FlowMachine, FlowSpec
from bot.flows.diagram import (
    HANDOFF_PATH,
    LIFECYCLE_PATH,
    SPECS,
    diagram_path,
    handoff_mermaid,
    lifecycle_mermaid,
    mermaid,
)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_diagram_matches_machine(spec: FlowSpec) -> None:
    """The committed .mmd is exactly what the machine draws."""
    machine = FlowMachine(spec)
    assert diagram_path(spec).read_text(encoding="utf-8") == mermaid(machine)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_diagram_names_every_state_and_trigger(spec: FlowSpec) -> None:
    """Every state and every trigger of the machine appears in the diagram."""
    machine = FlowMachine(spec)
    text = diagram_path(spec).read_text(encoding="utf-8")
    for state in machine.states:
        assert f" {state}" in text, state
    for _source, trigger, _dest in machine.transitions():
        assert f": {trigger}" in text, trigger


def test_lifecycle_diagram_matches_machine() -> None:
    """bot/domain/requests.mmd is exactly what the lifecycle machine draws."""
    assert LIFECYCLE_PATH.read_text(encoding="utf-8") == lifecycle_mermaid()


def test_handoff_diagram_matches_machine() -> None:
    """bot/domain/handoff.mmd is exactly what the thread machine draws, every move with who may
    make it: her messages, a person's reply, the scheduler's honest note, the end."""
    diagram = HANDOFF_PATH.read_text(encoding="utf-8")
    assert diagram == handoff_mermaid()
    for move in handoff.MOVES:
        for source in move.sources:
            assert f"{source} --> {move.dest or source}: {handoff.label(move.name)}" in diagram
    assert "waiting --> answered: reply (cadre, staff)" in diagram
    assert "answered --> closed: end (resident, cadre, staff)" in diagram


def test_lifecycle_diagram_draws_every_move() -> None:
    """requests.mmd draws each (from, move, to) of the lifecycle with who may make it,
    including the arrows into in_progress."""
    diagram = LIFECYCLE_PATH.read_text(encoding="utf-8")
    for move in requests.MOVES:
        for source in move.sources:
            arrow = f"{source} --> {move.dest or source}: {requests.label(move.name)}"
            assert arrow in diagram
    for state in requests.STATES:
        assert f" {state}" in diagram, state
    assert "assigned --> in_progress: start (staff)" in diagram
