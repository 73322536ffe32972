"""Reading the data files and matching weighted term lists against text.

Every lexicon in `bot/nlp/data/` is a UTF-8, tab-separated file whose `#` lines say where it
comes from. A `Lexicon` holds (label, pattern, weight) entries: a plain term is matched as a
substring, a term written `re:…` as a regular expression. Matching collects every hit and
keeps the longest where hits overlap (a span listed under several labels counts for each,
once), so "护理补贴" (relief) wins over the "护理" (health)
inside it and "助学贷款" over "贷款". A hit right after a negation (不需要/不用/不想/无需…)
is dropped, and so is every shorter hit inside it ("不想找工作" drops "工作" too), except in
A-not-A questions such as "用不用" or "要不要".
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
# The stdlib's own regex parser (no stubs ship for it), used to find a pattern's first characters.
re_parser: Any = importlib.import_module("re._parser")

_NEGATION = re.compile(
    r"(不需要|不用|不想|不要|无需|不必|没必要|不打算|用不着)(再|去|来|太|了|怎么|交|给|掏|花)?$"
)
_A_NOT_A = re.compile(r"(用不用|要不要|想不想|需不需要|需要不需要|打不打算)(再|去|来|太|了)?$")


def read_table(name: str, columns: int, data_dir: Path = DATA_DIR) -> list[list[str]]:
    """Rows of a data file (comments and blank lines skipped), each with `columns` fields."""
    rows: list[list[str]] = []
    path = data_dir / name
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != columns:
            raise ValueError(f"{path}:{lineno}: expected {columns} columns, got {len(fields)}")
        rows.append([f.strip() for f in fields])
    return rows


@dataclass(frozen=True)
class Hit:
    """One accepted match of a lexicon entry."""

    label: str
    term: str
    start: int
    end: int
    weight: float


@dataclass(frozen=True)
class _Entry:
    label: str
    term: str
    pattern: re.Pattern[str] | None  # only `re:` terms; plain terms are matched as substrings
    weight: float


def first_chars(pattern: str) -> frozenset[str] | None:
    """The characters a match of `pattern` can start with, or None when that is open-ended.

    Used to try a regex only where the message has one of those characters; anything the
    parser cannot pin down (a class like [^，], a lookaround, an optional start) gives None and
    the regex is scanned the ordinary way.
    """
    try:
        parsed = re_parser.parse(pattern)
    except re.error:
        return None
    return _firsts(list(parsed))


def _firsts(items: list[Any]) -> frozenset[str] | None:
    if not items:
        return None
    op, arg = items[0]
    name = str(op)
    if name == "LITERAL":
        return frozenset(chr(arg))
    if name == "IN":
        chars = set()
        for kind, value in arg:
            if str(kind) != "LITERAL":
                return None
            chars.add(chr(value))
        return frozenset(chars)
    if name == "SUBPATTERN":
        return _firsts(list(arg[-1]))
    if name == "BRANCH":
        found: set[str] = set()
        for branch in arg[1]:
            first = _firsts(list(branch))
            if first is None:
                return None
            found |= first
        return frozenset(found)
    if name in ("MAX_REPEAT", "MIN_REPEAT") and arg[0] >= 1:
        return _firsts(list(arg[2]))
    return None


class _Index:
    """Entries arranged for matching: plain terms by first character, then the regexes.

    Looking plain terms up by the character at each position costs a dictionary look-up per
    character of the message instead of one regex scan per term (hundreds of terms).
    """

    def __init__(self, entries: Iterable[_Entry]) -> None:
        self.plain: dict[str, list[_Entry]] = {}
        # regexes whose first character is known, and the others
        self.anchored: dict[str, list[tuple[_Entry, re.Pattern[str]]]] = {}
        self.regex: list[tuple[_Entry, re.Pattern[str]]] = []
        for e in entries:
            if e.pattern is not None:
                firsts = first_chars(e.pattern.pattern)
                if firsts is None:
                    self.regex.append((e, e.pattern))
                for char in firsts or ():
                    self.anchored.setdefault(char, []).append((e, e.pattern))
            elif e.term:
                self.plain.setdefault(e.term[0], []).append(e)

    def matches(self, text: str) -> Iterator[tuple[_Entry, int, int]]:
        """Every (entry, start, end) match, overlapping ones included."""
        plain, anchored = self.plain, self.anchored
        for i, char in enumerate(text):
            for e in plain.get(char, ()):
                if text.startswith(e.term, i):
                    yield e, i, i + len(e.term)
            for e, pattern in anchored.get(char, ()):
                m = pattern.match(text, i)
                if m is not None and m.end() > i:
                    yield e, i, m.end()
        for e, pattern in self.regex:
            for m in pattern.finditer(text):
                if m.end() > m.start():
                    yield e, m.start(), m.end()


class Lexicon:
    """Weighted (label, term) entries matched longest-first, with negation handling."""

    def __init__(self, entries: Iterable[tuple[str, str, float]]) -> None:
        self._entries: list[_Entry] = []
        for label, term, weight in entries:
            # Plain terms are looked up by their first character; only patterns are compiled
            # (compiling every term cost a fifth of the start-up).
            pattern = re.compile(term[3:]) if term.startswith("re:") else None
            self._entries.append(_Entry(label, term, pattern, weight))
        self._index = _Index(self._entries)
        self._last: tuple[str, frozenset[str]] | None = None

    @classmethod
    def from_table(
        cls, name: str, data_dir: Path = DATA_DIR, *, labels: Iterable[str] | None = None
    ) -> Lexicon:
        """Load a `label<TAB>term<TAB>weight` file (only the given labels, if any)."""
        wanted = None if labels is None else set(labels)
        return cls(
            (label, term, float(weight))
            for label, term, weight in read_table(name, 3, data_dir)
            if wanted is None or label in wanted
        )

    def labels(self) -> set[str]:
        """The labels this lexicon knows."""
        return {e.label for e in self._entries}

    def has(self, label: str, text: str) -> bool:
        """Whether any entry with this label matches text (no overlap resolution)."""
        return label in self.labels_in(text)

    def labels_in(self, text: str) -> frozenset[str]:
        """The labels with at least one match in text (no overlap resolution).

        The last text's answer is kept: the tagger asks about several labels of one message.
        """
        last = self._last
        if last is not None and last[0] == text:
            return last[1]
        found = frozenset(e.label for e, _s, _t in self._index.matches(text))
        self._last = (text, found)
        return found

    def terms(self) -> list[str]:
        """The plain (non-regex) terms, e.g. to add to the tokenizer as words."""
        return [e.term for e in self._entries if not e.term.startswith("re:")]

    def hits(self, text: str, *, negation: bool = True) -> list[Hit]:
        """Non-overlapping hits in text, longest first where they overlap, in text order."""
        found = [Hit(e.label, e.term, s, t, e.weight) for e, s, t in self._index.matches(text)]
        found.sort(key=lambda h: (-(h.end - h.start), h.start))
        taken: list[Hit] = []
        negated: list[tuple[int, int]] = []
        for h in found:
            if negation and (
                _negated(text, h.start) or any(a <= h.start and h.end <= b for a, b in negated)
            ):
                negated.append((h.start, h.end))  # nothing inside a negated term counts
                continue
            same = [t for t in taken if (t.start, t.end) == (h.start, h.end)]
            if same and all(t.label != h.label for t in same):
                taken.append(h)  # one span may point to several categories (医药费)
                continue
            if any(h.start < t.end and t.start < h.end for t in taken):
                continue
            taken.append(h)
        return sorted(taken, key=lambda h: h.start)


def _negated(text: str, start: int) -> bool:
    window = text[max(0, start - 6) : start]
    return bool(_NEGATION.search(window)) and not _A_NOT_A.search(window)
