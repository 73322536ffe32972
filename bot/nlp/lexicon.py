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

import ahocorasick

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
    #: the characters a regex match can start with (None: unknown, or a plain term)
    firsts: frozenset[str] | None = None
    #: where the entry's hits sort among hits of the same span and start: plain terms first,
    #: then regexes with a known first character, then the others, each in file order
    rank: tuple[int, int] = (0, 0)


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
    """Entries arranged for matching in time linear in the text.

    Plain terms: one Aho–Corasick automaton (pyahocorasick) finds every occurrence of every
    term in one pass in C. Regexes whose first characters are known are tried only where the
    text has one of those characters (a character class finds the places); the others are
    scanned with `finditer`. Every regex must have a bounded reach from where it starts (see
    the notes in `data/needs.tsv`), so trying it at each place stays linear in the text.
    """

    def __init__(self, entries: Iterable[_Entry]) -> None:
        # Built here, then only read: each iter() keeps its own state in its iterator, so
        # messages in several threads may search it at once.
        self.automaton = ahocorasick.Automaton()
        plain: dict[str, list[_Entry]] = {}
        # regexes whose first character is known, and the others
        self.anchored: dict[str, list[tuple[_Entry, re.Pattern[str]]]] = {}
        self.regex: list[tuple[_Entry, re.Pattern[str]]] = []
        for e in entries:
            if e.pattern is not None:
                if e.firsts is None:
                    self.regex.append((e, e.pattern))
                for char in e.firsts or ():
                    self.anchored.setdefault(char, []).append((e, e.pattern))
            elif e.term:
                plain.setdefault(e.term, []).append(e)
        for term, same in plain.items():
            self.automaton.add_word(term, (len(term), tuple(same)))
        if plain:
            self.automaton.make_automaton()
        self.starts = (
            re.compile("[" + "".join(re.escape(c) for c in sorted(self.anchored)) + "]")
            if self.anchored
            else None
        )

    def matches(self, text: str) -> Iterator[tuple[_Entry, int, int]]:
        """Every (entry, start, end) match, overlapping ones included, in no particular order."""
        if self.automaton.kind == ahocorasick.AHOCORASICK:
            for last, (length, same) in self.automaton.iter(text):
                for e in same:
                    yield e, last + 1 - length, last + 1
        if self.starts is not None:
            anchored = self.anchored
            for at in self.starts.finditer(text):
                i = at.start()
                for e, pattern in anchored[text[i]]:
                    m = pattern.match(text, i)
                    if m is not None and m.end() > i:
                        yield e, i, m.end()
        for e, pattern in self.regex:
            for m in pattern.finditer(text):
                if m.end() > m.start():
                    yield e, m.start(), m.end()


class _PrefixMax:
    """Largest value put at positions 0..i, for i in 0..size-1 (a Fenwick tree): O(log size)
    per call, so resolving overlaps stays O(h log n) for h hits in n characters."""

    def __init__(self, size: int) -> None:
        self._tree = [-1] * (size + 1)

    def put(self, i: int, value: int) -> None:
        """Record `value` at position i."""
        tree = self._tree
        i += 1
        while i < len(tree):
            if tree[i] < value:
                tree[i] = value
            i += i & -i

    def upto(self, i: int) -> int:
        """The largest value put at a position ≤ i (-1 when none)."""
        tree = self._tree
        best = -1
        i = min(i + 1, len(tree) - 1)
        while i > 0:
            if tree[i] > best:
                best = tree[i]
            i -= i & -i
        return best


class Lexicon:
    """Weighted (label, term) entries matched longest-first, with negation handling."""

    def __init__(self, entries: Iterable[tuple[str, str, float]]) -> None:
        self._entries: list[_Entry] = []
        for order, (label, term, weight) in enumerate(entries):
            # Plain terms go into one automaton; only patterns are compiled (compiling every
            # term cost a fifth of the start-up).
            if term.startswith("re:"):
                pattern, firsts = re.compile(term[3:]), first_chars(term[3:])
                kind = 2 if firsts is None else 1
            else:
                pattern, firsts, kind = None, None, 0
            self._entries.append(_Entry(label, term, pattern, weight, firsts, (kind, order)))
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

    def spans(self, text: str) -> list[tuple[str, int, int]]:
        """Every (label, start, end) match in text, overlapping ones included, unordered."""
        return [(e.label, start, end) for e, start, end in self._index.matches(text)]

    def terms(self) -> list[str]:
        """The plain (non-regex) terms, e.g. to add to the tokenizer as words."""
        return [e.term for e in self._entries if not e.term.startswith("re:")]

    def hits(self, text: str, *, negation: bool = True) -> list[Hit]:
        """Non-overlapping hits in text, longest first where they overlap, in text order.

        O(h log n) for h matches in n characters: the spans taken and the negated ones are
        kept in prefix-max trees (start → furthest end), not compared pairwise.
        """
        found = sorted(self._index.matches(text), key=lambda m: (m[1] - m[2], m[1], m[0].rank))
        taken: list[Hit] = []
        labels_at: dict[tuple[int, int], set[str]] = {}  # labels taken for each span
        reach = _PrefixMax(len(text))  # taken spans: start → furthest end
        negated = _PrefixMax(len(text))  # negated spans: start → furthest end
        for e, start, end in found:
            if negation and (_negated(text, start) or negated.upto(start) >= end):
                negated.put(start, end)  # nothing inside a negated term counts
                continue
            same = labels_at.get((start, end))
            if same is not None:
                if e.label not in same:
                    same.add(e.label)  # one span may point to several categories (医药费)
                    taken.append(Hit(e.label, e.term, start, end, e.weight))
                continue
            if reach.upto(end - 1) > start:  # a span taken before overlaps this one
                continue
            labels_at[(start, end)] = {e.label}
            reach.put(start, end)
            taken.append(Hit(e.label, e.term, start, end, e.weight))
        return sorted(taken, key=lambda h: h.start)


def _negated(text: str, start: int) -> bool:
    window = text[max(0, start - 6) : start]
    return bool(_NEGATION.search(window)) and not _A_NOT_A.search(window)
