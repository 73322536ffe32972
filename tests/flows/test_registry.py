"""The flows registry: each flow declares itself once, and commands and menus come from it."""

from __future__ import annotations

import pytest

from bot.commands import CADRE_MENU, DISTRICT_MENU, MENU, WORDS, Command, parse_command
from bot.flows import BY_NAME, FLOWS
from bot.flows.base import UserView
from bot.flows.runner import Flow


def test_names_and_entry_words_are_unique() -> None:
    """No two flows share a name or an entry word, and no entry word is a global command's."""
    assert len(BY_NAME) == len(FLOWS)
    words = [w for flow in FLOWS for w in flow.words]
    assert len(words) == len(set(words))
    others = {w for name, ws in WORDS.items() if name not in BY_NAME for w in ws}
    assert not others & set(words)


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.name)
def test_each_entry_word_starts_its_flow(flow: Flow) -> None:
    """Every declared entry word is read as the flow's command."""
    for word in flow.words:
        assert parse_command(word) == Command(flow.name)


def test_menus_are_built_from_the_declarations() -> None:
    """The idle menus, in order, for residents, cadres and district cadres."""
    assert [e for e, _ in MENU] == ["help_request", "progress", "human"]
    assert [e for e, _ in CADRE_MENU] == ["visit_report", "help_request", "progress", "human"]
    assert [e for e, _ in DISTRICT_MENU] == [
        "visit_report",
        "help_request",
        "progress",
        "quarterly",
        "human",
    ]


@pytest.mark.parametrize(
    ("name", "cadre", "allowed"),
    [
        ("help_request", False, True),
        ("help_request", True, True),
        ("visit_report", False, False),
        ("visit_report", True, True),
        ("onboarding", False, True),
        ("onboarding", True, False),
    ],
)
def test_who_may_start(name: str, cadre: bool, allowed: bool) -> None:
    """`who` decides who may start a flow; the others get its refusal text."""
    role = "cadre" if cadre else "resident"
    user = UserView(1, role, name=None, unit_path=None, district=None, street=None)
    flow = BY_NAME[name]
    assert flow.may_start(user) is allowed
    assert allowed or flow.refusal
