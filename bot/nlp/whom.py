"""Whom a visit note names, how many people, and whether it asks for a help request.

Pure `str -> value` readers over the words of `data/words.toml` ([visit_report.whom] and
[visit_report.help_in_note]); the visit flow uses them so that it asks only for what a note
lacks.

* `find_whom`: a pseudonym, a common surname and a title (王某, 李女士, 张大姐), with the role
  written before it (单亲妈妈王某) and a count after it (（1人）, 等3人) — one person when no
  count is written; or a group, a count and a role (8位全职妈妈, 3户低保家庭, 两名困难妇女).
  "几位宝妈" gives None: the note does not say how many. A full name is never read as whom
  (only pseudonym-shaped names are), so a note naming her in full is asked about.
* `split_count`: an answer "王某，1人" as ("王某", 1).
* `help_in_note`: "不用建求助单" / "不需要建单" → False, "帮她建个求助单" / "需要建单" → True,
  no mention → None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from bot.nlp.numbers import CN_NUM_CHARS, chinese_to_int, find_count
from bot.nlp.words import alternation, table

_FULLWIDTH = str.maketrans("０１２３４５６７８９（）", "0123456789()")
_NUM = rf"(?:\d+|[{CN_NUM_CHARS}]+)"
_PERSON = "人位名个"
_HOUSEHOLD = "户家"
_NOT_AFTER = "亲位"  # 建单亲档案, 开单位证明: not a help request


@dataclass(frozen=True)
class Whom:
    """Whom a note names: the name as written (role and pseudonym, or the group) and a count."""

    name: str
    people: int


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    words = table("visit_report.whom")
    surnames = "".join(words["surnames"])
    titles = alternation(words["titles"])
    roles = alternation(words["roles"])
    pseudonym = re.compile(
        rf"(?P<role>{roles})?(?P<name>[{surnames}](?:{titles}))"
        rf"(?:\s*\(?\s*(?:等|一共|共)?\s*(?P<num>{_NUM})\s*[{_PERSON}]\s*\)?)?"
    )
    group = re.compile(rf"(?P<num>{_NUM})(?P<cls>[{_PERSON}{_HOUSEHOLD}])?(?P<role>{roles})")
    note = table("visit_report.help_in_note")
    asks = re.compile(
        rf"(?P<neg>{alternation(note['negations'])})?(?:{alternation(note['fillers'])})*"
        rf"(?:{alternation(note['verbs'])})(?:{alternation(note['measures'])})?"
        rf"(?:{alternation(note['objects'])})(?![{_NOT_AFTER}])"
    )
    return pseudonym, group, asks


def find_whom(text: str) -> Whom | None:
    """The person or group a note names, with the count, else None."""
    text = text.translate(_FULLWIDTH)
    pseudonym, group, _asks = _patterns()
    named = pseudonym.search(text)
    if named is not None:
        count = chinese_to_int(named.group("num")) if named.group("num") else None
        return Whom(f"{named.group('role') or ''}{named.group('name')}", count or 1)
    for found in group.finditer(text):
        number = chinese_to_int(found.group("num"))
        if number:  # 几位宝妈 says no number: asked
            return Whom(found.group("role"), number)
    return None


def split_count(text: str) -> tuple[str, int | None]:
    """An answer as its name and count: "王某，1人" → ("王某", 1); "宝妈 5人" → ("宝妈", 5)."""
    text = text.strip()
    found = find_count(text)
    if found is None:
        return text, None
    value, start, end = found
    name = (text[:start] + text[end:]).strip(" \t,，、;；:：()（）")
    return name or text, value


def help_in_note(text: str) -> bool | None:
    """Whether a note asks for a help request for her: True, False, or None when it does not
    say."""
    found = _patterns()[2].search(text)
    if found is None:
        return None
    return found.group("neg") is None
