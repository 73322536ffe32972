"""Recognise the global commands and menu entries (pure functions of the text).

Global commands work first at every state (DESIGN.md "Dialogue"): 取消, 返回/上一步, 帮助/?,
菜单, 转人工, 查询进度, 删除我的信息. A flow's entry words (declared in its module, `bot.flows`)
start it; its command is its name. Cadres' request commands
(`受理 <编号>`, `办结 <编号> <说明>`) and a resident's `撤销 <编号>` carry a code. Cadres register
contact points (`联系点 九龙社区`) and paired households (`结对 王某 九龙社区`) and list them
(`我的联系点`); the place or pair comes back in `note`. District cadres also get 季度汇总.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot import texts
from bot.flows import FLOWS
from bot.flows.base import normalize
from bot.nlp.words import alternation, pattern, table, words

# The global commands, then each flow's entry words (its command is its name), then the rest
# (bot/nlp/data/words.toml [commands]).
_GLOBAL = ("cancel", "back", "help", "menu", "human", "progress", "delete")
WORDS: dict[str, tuple[str, ...]] = {
    **{name: words("commands", name) for name in _GLOBAL},
    **{flow.name: flow.words for flow in FLOWS},
    **{name: found for name, found in table("commands").items() if name not in _GLOBAL},
}
# The idle menu: (rank, entry, label, who sees it), with each flow's own entry; sorted by rank.
# Cadres also see 走访记录; district cadres (who submit quarterly summaries) 季度汇总.
_MENU_ENTRIES = (
    (30, "progress", texts.t("menu.entry.progress"), "any"),
    (50, "human", texts.t("menu.entry.human"), "any"),
    *((f.menu[0], f.name, f.menu[1], f.menu_for) for f in FLOWS if f.menu is not None),
)


def _menu_of(*audiences: str) -> tuple[tuple[str, str], ...]:
    return tuple((e, label) for _r, e, label, who in sorted(_MENU_ENTRIES) if who in audiences)


MENU = _menu_of("any")
CADRE_MENU = _menu_of("any", "cadre")
DISTRICT_MENU = _menu_of("any", "cadre", "district")
# WeChat/WeCom custom-menu keys → the text entry they stand for (same as typing it); the entry's
# label is the menu button's name.
MENU_KEYS = {
    key: texts.t(f"menu.entry.{entry}")
    for key, entry in (
        ("HELP_REQUEST", "help_request"),
        ("PROGRESS", "progress"),
        ("VISIT_REPORT", "visit_report"),
        ("HUMAN", "human"),
        ("MENU", "menu"),
        ("DELETE_DATA", "delete"),
    )
}
# 受理 <编号> … → the request move it makes.
CODE_COMMANDS = {word: move for move, found in table("code_commands").items() for word in found}
_CODE_RE = re.compile(
    rf"^({alternation(tuple(CODE_COMMANDS))})\s*([A-Za-z0-9]{{4,8}})?\s*(.*)$", re.S
)
# `联系点 九龙社区` (a short place name); `结对 王某 九龙社区` (spaces required, so that a visit
# note beginning with 结对帮扶 stays a visit note).
_POINT_RE = pattern("contact_point")
_PAIR_RE = pattern("pair")


@dataclass(frozen=True)
class Command:
    """A recognised command: its name, and the request code and note it carries."""

    name: str
    code: str | None = None
    note: str | None = None


def parse_command(text: str) -> Command | None:
    """Return the command `text` is, or None for ordinary text."""
    answer = normalize(text)
    if not answer:
        return None
    for name, said in WORDS.items():
        if answer in said or answer.lower() in said:
            return Command(name)
    for flow in FLOWS:
        if flow.pattern is not None and flow.pattern.match(answer):
            return Command(flow.name)
    point = _POINT_RE.match(answer)
    if point:
        return Command("contact_point", note=point.group(1).strip())
    pair = _PAIR_RE.match(answer)
    if pair:
        return Command("pair", note=pair.group(1).strip())
    match = _CODE_RE.match(answer)
    if match:
        code = match.group(2).upper() if match.group(2) else None
        note = match.group(3).strip() or None
        return Command(CODE_COMMANDS[match.group(1)], code=code, note=note)
    return None


def _menu(*, cadre: bool, district: bool) -> tuple[tuple[str, str], ...]:
    if not cadre:
        return MENU
    return DISTRICT_MENU if district else CADRE_MENU


def menu_entry(text: str, *, cadre: bool, district: bool = False) -> str | None:
    """The menu entry a bare number names at idle (1 我要求助 …), if any."""
    answer = normalize(text)
    if not answer.isdecimal():
        return None
    entries = _menu(cadre=cadre, district=district)
    index = int(answer) - 1
    return entries[index][0] if 0 <= index < len(entries) else None


def menu_labels(*, cadre: bool, district: bool = False) -> tuple[str, ...]:
    """The labels of the idle menu (`district`: a district-level cadre's, with 季度汇总)."""
    return tuple(label for _, label in _menu(cadre=cadre, district=district))
