"""Each flow's Mermaid diagram matches its machine (regenerate: python -m bot.flows.diagram)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.flows import progress
from bot.flows.base import FlowMachine, FlowSpec
from bot.flows.diagram import SPECS, diagram_path, mermaid


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


def test_progress_diagram_lists_every_move() -> None:
    """progress.mmd draws each (command, from, to) of progress.MOVES."""
    diagram = Path(progress.__file__).with_suffix(".mmd").read_text(encoding="utf-8")
    for command, sources, target in progress.MOVES:
        for source in sources:
            assert f"{source} --> {target}: {command}" in diagram
