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

Limits, measured by the tests in tests/nlp/test_names.py: a name that is a dictionary word
(李白, 马建国 are in jieba's dictionary) or has a surname outside the hundred most common stays
in a note as written; the whom field does not depend on the segmenter.
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
    return re.sub(r"\s+", " ", mask_pii(text)).strip(" ，,、;；:：")


def pseudonym(whom: str) -> str:
    """Whom a visit was with, as a report may show it (see the module's rules)."""
    surnames, shaped, roles = _words()
    text = _strip_contacts(whom)
    bare = re.sub(r"[\s（）()]|\d+[人位名个户]|等", "", text)
    if not bare:
        return MASK + "居民"
    if MASK in bare or shaped.match(bare) or roles.search(bare):
        return text
    if bare[0] in surnames:
        return bare[0] + MASK
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
