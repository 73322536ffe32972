"""Pseudonyms in reports: no resident's real name leaves the system in a summary or an export.

Cadres are asked for a pseudonym (王某, 李阿姨, 单亲妈妈) when they report a visit, but some
write the full name (刘晓红), and older rows may hold a phone beside it. A report shows:

- `pseudonym(whom)`: whom a visit was with — phones and ID numbers dropped; a pseudonym-shaped
  name (a common surname with 某, 女士, 阿姨 …, see `bot.nlp.whom`), a role or a group kept as
  written; anything else that starts with a common surname becomes that surname and 某
  (刘晓红 → 刘某); anything else 某居民.
- `mask_names(text, names, keep)`: in a note, each possible name (`names`: the words jieba's
  HMM put together that no dictionary or gazetteer has, `NLP.person_names`) that starts with a
  common surname, is two to four characters long and is not already pseudonym-shaped becomes
  surname + 某 — except the names in `keep` (staff and cadres, whose names are no secret in
  their own reports). A guessed word that swallowed the next character (刘晓红聊) is masked
  whole (刘某): a word lost, never a name kept.

Measured on a blind round (tests/data/blind/names_r1_*.tsv, docs/reports.md): whom 20/20 real
names masked; notes 30/53 hidden, 74/74 words to keep kept. A name that is a jieba dictionary
word (王建华, 马红梅) or has a surname outside the hundred most common stays in a note as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cache

from bot.nlp.pii import find_id_numbers, find_phones, mask_pii
from bot.nlp.words import alternation, table

MASK = "某"


@cache
def _words() -> tuple[frozenset[str], re.Pattern[str], re.Pattern[str]]:
    words = table("visit_report.whom")
    surnames = frozenset(words["surnames"])
    shaped = re.compile(rf"^[{''.join(surnames)}](?:{alternation(words['titles'])})$")
    roles = re.compile(rf"(?:{alternation(words['roles'])})")
    return surnames, shaped, roles


def _strip_contacts(text: str) -> str:
    for found in [*find_phones(text), *find_id_numbers(text)]:
        text = text.replace(found, "")
    text = re.sub(r"[\dXx]*\*+[\dXx]*", "", mask_pii(text))  # numbers stored masked already
    return re.sub(r"\s+", " ", text).strip(" ，,、;；:：")


def pseudonym(whom: str) -> str:
    """Whom a visit was with, as a report may show it (see the module's rules), piece by piece
    when several are named (王建华、刘某 → 王某、刘某; a role beside a name keeps the role)."""
    text = _strip_contacts(whom)
    pieces = [p for p in re.split(r"([、,，;；/\s]+)", text)]
    shown = [_piece(p) if i % 2 == 0 else p for i, p in enumerate(pieces)]
    if not any(re.sub(r"\d+[人位名个户]", "", p) for p in shown[::2]):
        return MASK + "居民"
    return re.sub(r"^[、,，;；/\s]+|[、,，;；/\s]+$", "", "".join(shown))


def _piece(piece: str) -> str:
    """One name, role or group of a whom value, as a report may show it ('' for nothing)."""
    surnames, shaped, roles = _words()
    bare = re.sub(r"[（）()]|\d+[人位名个户]|等", "", piece)
    if not bare:  # a count (5人) stays beside what it counts
        return piece
    if MASK in bare or shaped.match(bare):
        return piece
    role = roles.search(bare)
    rest = roles.sub("", bare) if role else bare
    if not rest:  # a role or a group alone (宝妈 5人, 8位全职妈妈)
        return piece
    if role and rest[0] not in surnames:  # a role with other words (低保户老周, 困境儿童家长)
        return piece
    if rest[0] in surnames:
        masked = rest[0] + MASK
        return piece.replace(rest, masked) if role else masked
    return MASK + "居民"


def resident_name(word: str) -> bool:
    """True for a possible name that looks like a real one: two to four characters starting
    with a common surname, not a pseudonym (王某, 李阿姨)."""
    surnames, shaped, _roles = _words()
    if not 2 <= len(word) <= 4 or word[0] not in surnames:
        return False
    return MASK not in word and not shaped.match(word)


def mask_names(text: str, names: Iterable[str], *, keep: Iterable[str] = ()) -> str:
    """`text` with each real-looking person name of `names` replaced by surname + 某."""
    kept = set(keep)
    for name in sorted(set(names), key=len, reverse=True):
        if name not in kept and resident_name(name):
            text = text.replace(name, name[0] + MASK)
    return text


def redact(text: str, names_of: Callable[[str], list[str]], *, keep: Iterable[str] = ()) -> str:
    """A note as a report may show it: phones and ID numbers masked, real-looking names of
    residents as surname + 某 (`names_of`: `NLP.person_names`)."""
    masked = mask_pii(text)
    return mask_names(masked, names_of(masked), keep=keep)
