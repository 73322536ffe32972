"""The docs keep up with the code, both ways: every setting, command and flow command is
documented, and every documented setting exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from bot.cli import app
from bot.commands import WORDS
from bot.config import Settings

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md"))}
ALL_DOCS = README + "".join(DOCS.values())
SOURCE = "".join(
    path.read_text(encoding="utf-8")
    for package in ("bot", "storage", "scheduler")
    for path in sorted((ROOT / package).rglob("*.py"))
)


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_documented(field: str) -> None:
    """Each Settings field appears as FUQING_<NAME> in the README or docs/."""
    assert f"FUQING_{field.upper()}" in ALL_DOCS


def test_every_documented_setting_exists() -> None:
    """Each FUQING_<NAME> the docs mention is a Settings field (or one read outside the app:
    the tests' database URL, docker-compose's worker count)."""
    named = set(re.findall(r"FUQING_([A-Z0-9_]+)", ALL_DOCS))
    known = {f.upper() for f in Settings.model_fields} | {"TEST_DATABASE_URL", "WORKERS"}
    assert named - known == set()


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_read(field: str) -> None:
    """Each Settings field is read somewhere in the product (`settings.<field>` or `self.<field>`):
    no documented setting that nothing obeys."""
    assert re.search(rf"\.{field}\b", SOURCE), f"FUQING_{field.upper()} is never read"


def test_readme_links_every_doc() -> None:
    """Each file of docs/ is linked from the README, and the README stays short."""
    for name in DOCS:
        assert f"(docs/{name})" in README
    assert len(README.splitlines()) <= 210


def _commands() -> list[str]:
    group = typer.main.get_group(app)
    names = []
    for name, command in group.commands.items():
        sub = getattr(command, "commands", None)
        names += [f"{name} {s}" for s in sub] if sub else [name]
    return sorted(names)


@pytest.mark.parametrize("command", _commands())
def test_every_cli_command_is_documented(command: str) -> None:
    """Each `fuqing` command has a row in docs/operations.md's command table."""
    assert f"| `fuqing {command}" in DOCS["operations.md"]


def test_every_documented_command_exists() -> None:
    """Each row of the command table names a real `fuqing` command (or a group of them)."""
    rows = re.findall(r"^\| `fuqing ([a-z-]+(?: [a-z]+)?)", DOCS["operations.md"], re.M)
    known = set(_commands()) | {name.split()[0] for name in _commands()}
    assert rows and set(rows) - known == set()


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
