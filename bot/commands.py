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

from bot.flows import FLOWS
from bot.flows.base import normalize

# The global commands, then each flow's entry words (its command is its name), then the rest.
WORDS: dict[str, tuple[str, ...]] = {
    "cancel": ("取消", "退出", "不办了", "放弃", "结束"),
    "back": ("返回", "上一步", "后退", "回到上一步"),
    "help": ("帮助", "?", "？", "help", "怎么用", "说明"),
    "menu": ("菜单", "主菜单", "目录", "开始", "/start", "/menu"),
    "human": ("转人工", "人工", "人工服务", "找人工", "真人"),
    "progress": ("查询进度", "进度", "查进度", "我的求助", "求助进度", "待办"),
    "delete": ("删除我的信息", "删除个人信息", "删除我的数据"),
    **{flow.name: flow.words for flow in FLOWS},
    "contacts": ("我的联系点", "联系点", "我的结对户", "查看联系点"),
    "resume": ("继续", "接着", "继续办"),
    "more": ("更多", "更多内容", "继续看", "下一页"),
    "greet": ("你好", "您好", "在吗", "在不在", "有人吗", "hello", "hi", "嗨", "哈喽"),
}
# The idle menu: (rank, entry, label, who sees it), with each flow's own entry; sorted by rank.
# Cadres also see 走访记录; district cadres (who submit quarterly summaries) 季度汇总.
_MENU_ENTRIES = (
    (30, "progress", "查询进度", "any"),
    (50, "human", "转人工", "any"),
    *((f.menu[0], f.name, f.menu[1], f.menu_for) for f in FLOWS if f.menu is not None),
)


def _menu_of(*audiences: str) -> tuple[tuple[str, str], ...]:
    return tuple((e, label) for _r, e, label, who in sorted(_MENU_ENTRIES) if who in audiences)


MENU = _menu_of("any")
CADRE_MENU = _menu_of("any", "cadre")
DISTRICT_MENU = _menu_of("any", "cadre", "district")
# WeChat/WeCom custom-menu keys → the text entry they stand for (same as typing it).
MENU_KEYS = {
    "HELP_REQUEST": "我要求助",
    "PROGRESS": "查询进度",
    "VISIT_REPORT": "走访记录",
    "HUMAN": "转人工",
    "MENU": "菜单",
    "DELETE_DATA": "删除我的信息",
}
CODE_COMMANDS = {
    "受理": "take",
    "接手": "take",
    "办结": "resolve",
    "撤销": "withdraw",
    "详情": "detail",
}
_CODE_RE = re.compile(r"^(受理|接手|办结|撤销|详情)\s*([A-Za-z0-9]{4,8})?\s*(.*)$", re.S)
# `联系点 九龙社区` (a short place name); `结对 王某 九龙社区` (spaces required, so that a visit
# note beginning with 结对帮扶 stays a visit note).
_POINT_RE = re.compile(r"^(?:登记)?联系点[\s:：]*(\S.{0,29})$", re.S)
_PAIR_RE = re.compile(r"^(?:登记)?结对(?:户)?[\s:：]+(?!帮扶)(\S{1,12}[\s,，]+\S.{0,29})$", re.S)


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
    for name, words in WORDS.items():
        if answer in words or answer.lower() in words:
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
