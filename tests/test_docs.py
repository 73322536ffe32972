"""The README keeps up with the code: every setting, command and flow command is documented."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from bot.cli import app
from bot.commands import WORDS
from bot.config import Settings

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_documented(field: str) -> None:
    """Each Settings field appears as FUQING_<NAME> in the README."""
    assert f"FUQING_{field.upper()}" in README


def _commands() -> list[str]:
    group = typer.main.get_group(app)
    names = []
    for name, command in group.commands.items():
        sub = getattr(command, "commands", None)
        names += [f"{name} {s}" for s in sub] if sub else [name]
    return sorted(names)


@pytest.mark.parametrize("command", _commands())
def test_every_cli_command_is_documented(command: str) -> None:
    """Each `fuqing` command appears in the README's command table."""
    assert f"`fuqing {command}" in README


@pytest.mark.parametrize(
    "command", ["cancel", "back", "help", "menu", "human", "progress", "delete"]
)
def test_every_global_command_is_documented(command: str) -> None:
    """The main word of each global command is in the README's table."""
    assert f"`{WORDS[command][0]}`" in README


def test_readme_starts_with_the_two_commands() -> None:
    """A newcomer sees `make run` and `make test` first."""
    head = README[:800]
    assert "make run" in head and "make test" in head
