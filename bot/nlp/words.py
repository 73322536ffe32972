"""The words people type, from one data file: `data/words.toml`.

Commands, flows' entry words, confirm/skip/edit answers, choice synonyms, slot aliases, rating
and quarter words live there, each section with its source; labels and buttons the bot *shows*
are in `bot/texts.py`. The file is parsed once (stdlib `tomllib`) on first use.

    words("commands", "cancel")          -> ("取消", "退出", …)
    table("visit_report.forms")          -> {"一对一访谈": ("一对一", …), …}  (file order)
    pattern("pair")                      -> re.Pattern
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from typing import Any

from bot.nlp.lexicon import DATA_DIR

WORDS_FILE = DATA_DIR / "words.toml"


@cache
def _data() -> dict[str, Any]:
    with WORDS_FILE.open("rb") as handle:
        return tomllib.load(handle)


def _section(section: str) -> dict[str, Any]:
    node: Any = _data()
    for part in section.split("."):
        node = node[part]
    if not isinstance(node, dict):
        raise KeyError(section)
    return node


@cache
def table(section: str) -> dict[str, tuple[str, ...]]:
    """Every word list of a section (dotted for a sub-table: "visit_report.forms"), in order."""
    return {
        key: tuple(str(w) for w in value)
        for key, value in _section(section).items()
        if isinstance(value, list)
    }


def words(section: str, key: str) -> tuple[str, ...]:
    """The words listed under `key` in `section` ("commands", "cancel" -> ("取消", …))."""
    return table(section)[key]


@cache
def pattern(key: str) -> re.Pattern[str]:
    """A regular expression of the [patterns] section, compiled (re.S)."""
    return re.compile(str(_section("patterns")[key]), re.S)


def alternation(items: tuple[str, ...]) -> str:
    """The words as one regex alternative group body ("修改|更改|…"), each escaped, in order."""
    return "|".join(map(re.escape, items))


def sections() -> list[str]:
    """The dotted names of every section that lists words."""
    found: list[str] = []

    def walk(prefix: str, node: dict[str, Any]) -> None:
        if any(isinstance(v, list) for v in node.values()):
            found.append(prefix)
        for key, value in node.items():
            if isinstance(value, dict):
                walk(f"{prefix}.{key}" if prefix else key, value)

    walk("", _data())
    return found
