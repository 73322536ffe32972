"""Lexicon matching: the same hits as the plain algorithm it replaced, on any text, also huge.

`reference_hits` is that algorithm, kept as the specification: every term tried at every
position, overlaps resolved by comparing each hit with every hit taken (quadratic, fine for
short texts). The real `Lexicon` (Aho–Corasick, prefix-max trees) must agree with it on random
and adversarial texts, and on a 20,000-character text it must give the hits of its blocks.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.nlp.lexicon import Hit, Lexicon, _negated, first_chars, read_table
from bot.nlp.numbers import _COUNT_RE
from bot.nlp.tagger import CATEGORIES, CUES

Row = tuple[str, str, float]
TABLES: dict[str, list[Row]] = {
    "needs": [
        (label, term, float(w))
        for label, term, w in read_table("needs.tsv", 3)
        if label in CATEGORIES
    ],
    "cues": [
        (label, term, float(w)) for label, term, w in read_table("needs.tsv", 3) if label in CUES
    ],
    "forms": [(label, term, float(w)) for label, term, w in read_table("visit_forms.tsv", 3)],
    "focus": [(label, term, float(w)) for label, term, w in read_table("focus.tsv", 3)],
}
LEXICONS = {name: Lexicon(rows) for name, rows in TABLES.items()}
# Pieces of text: terms of every table, negations, A-not-A questions, numerals, punctuation.
PIECES = sorted(
    {term for rows in TABLES.values() for _label, term, _w in rows if not term.startswith("re:")}
    | {"不需要", "不用", "不想", "要不要", "用不用", "没", "一", "二", "五", "百", "万", "元", "块"}
    | {"1", "23", "，", "。", "！", "？", " ", "想", "找", "我", "孩子", "工资", "被", "老板"}
)
# No term, regex ({0,12} at most, never across 。) or negation window spans this.
SEPARATOR = "。" * 13


@functools.cache
def _prepared(rows: tuple[Row, ...]) -> tuple[dict[str, list[Row]], list[Any]]:
    plain: dict[str, list[Row]] = {}  # by first character, in file order
    for label, term, w in rows:
        if term and not term.startswith("re:"):
            plain.setdefault(term[0], []).append((label, term, w))
    regexes = [
        (label, term, re.compile(term[3:]), w) for label, term, w in rows if term[:3] == "re:"
    ]
    return plain, [(r, first_chars(r[2].pattern)) for r in regexes]


def reference_matches(rows: list[Row], text: str) -> list[Hit]:
    """Every match, overlapping ones included, longest first (then by start, then file order
    within plain terms, regexes with a known first character, other regexes)."""
    plain, anchored = _prepared(tuple(rows))
    found: list[Hit] = []
    for i in range(len(text)):
        for label, term, w in plain.get(text[i], ()):
            if text.startswith(term, i):
                found.append(Hit(label, term, i, i + len(term), w))
        for (label, term, pattern, w), firsts in anchored:
            if firsts is not None and text[i] in firsts:
                m = pattern.match(text, i)
                if m is not None and m.end() > i:
                    found.append(Hit(label, term, i, m.end(), w))
    for (label, term, pattern, w), firsts in anchored:
        if firsts is None:
            found += [
                Hit(label, term, m.start(), m.end(), w)
                for m in pattern.finditer(text)
                if m.end() > m.start()
            ]
    found.sort(key=lambda h: (-(h.end - h.start), h.start))
    return found


def reference_hits(rows: list[Row], text: str, *, negation: bool = True) -> list[Hit]:
    """The hits as the quadratic algorithm found them (the specification)."""
    taken: list[Hit] = []
    negated: list[tuple[int, int]] = []
    for h in reference_matches(rows, text):
        if negation and (
            _negated(text, h.start) or any(a <= h.start and h.end <= b for a, b in negated)
        ):
            negated.append((h.start, h.end))
            continue
        same = [t for t in taken if (t.start, t.end) == (h.start, h.end)]
        if same and all(t.label != h.label for t in same):
            taken.append(h)
            continue
        if any(h.start < t.end and t.start < h.end for t in taken):
            continue
        taken.append(h)
    return sorted(taken, key=lambda h: h.start)


def _agree(text: str) -> None:
    for name, rows in TABLES.items():
        for negation in (True, False):
            expected = reference_hits(rows, text, negation=negation)
            assert LEXICONS[name].hits(text, negation=negation) == expected, (name, text)
        labels = {h.label for h in reference_matches(rows, text)}
        assert LEXICONS[name].labels_in(text) == labels, (name, text)


TEXTS = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_hits_agree_with_the_reference(text: str) -> None:
    """Any mix of terms, negations, numerals and punctuation: the same hits, in the same order."""
    _agree(text)


@pytest.mark.parametrize(
    "unit",
    ["找工作", "不需要找工作", "一", "不", "想", "1", "五百", "3块", "离婚带孩子", "要不要找工作"],
)
def test_repeated_units_agree_with_the_reference(unit: str) -> None:
    """One unit repeated (the adversarial shape that made matching quadratic): the same hits."""
    _agree((unit * 600)[:600])


@pytest.mark.parametrize(
    "block",
    [
        "我是单亲妈妈，不需要补助，想找份工作，孩子上学要交三百五十元",
        "老板拖欠工资三个月，要不要去告他？一万二千块",
        "找工作" * 5 + "不想找工作" * 3,
    ],
)
def test_a_huge_text_has_the_hits_of_its_blocks(block: str) -> None:
    """20,000 characters of blocks set apart: every block's hits, as the reference finds them
    in one block, at each block's offset (the reference itself would take minutes here)."""
    piece = block + SEPARATOR
    copies = 20_000 // len(piece) + 1
    huge = piece * copies
    for name, rows in TABLES.items():
        one = reference_hits(rows, piece)
        expected = [
            Hit(h.label, h.term, h.start + k * len(piece), h.end + k * len(piece), h.weight)
            for k in range(copies)
            for h in one
        ]
        assert LEXICONS[name].hits(huge) == expected, name


AMOUNT_CHARS = "0123456789一二两三四五六七八九十几好百千万块钱元克米瓦儿人位个口家多余来几宝妈x"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=AMOUNT_CHARS, max_size=24))
def test_the_linear_numeral_patterns_match_as_before(text: str) -> None:
    """The numeral patterns of needs.tsv and numbers.py now start a run of digits only where it
    starts and read a Chinese numeral up to 25 characters: on numerals of that size they find
    exactly what the unbounded forms found."""
    before_after = [
        (old, new)
        for _label, new, _w in TABLES["needs"] + TABLES["cues"]
        if new.startswith("re:") and "(?<!\\d)\\d+" in new
        for old in [new.replace("(?<!\\d)\\d+", "\\d+").replace("]{0,24}", "]*")]
    ]
    assert len(before_after) == 3
    for old, new in before_after:
        spans = [m.span() for m in re.finditer(old[3:], text)]
        assert [m.span() for m in re.finditer(new[3:], text)] == spans
    count_before = _COUNT_RE.pattern.replace("(?<!\\d)\\d+", "\\d+")
    count_before = re.sub(r"\(\?<!\[[^\]]*\]\)", "", count_before)
    assert count_before != _COUNT_RE.pattern
    expected = [m.group(0) for m in re.finditer(count_before, text)]
    assert [m.group(0) for m in _COUNT_RE.finditer(text)] == expected
