"""Clauses: where a past-tense or negation marker stops applying.

`clauses(text)` cuts a message at sentence and clause punctuation (。！？；，、 and their ASCII
forms, line breaks, "…", a space between Chinese characters: chat writes 他喝多了 我好怕) and
before a word that opens a new time or a turn (但是, 可是, 不过, 现在, 今天, 今晚, 刚才, 这次,
结果 …). The crisis detector reads the past/now markers of the
clause that holds a threat and of the clauses after it, not of the whole message: "以前他打过我，
现在他说今晚要弄死我" is a threat now, "他打过我，已经离婚三年了" has ended.
`sentences(text)` groups the clauses by sentence: a past time said at the start of a sentence
dates its later clauses too, until a clause opens a new time or a turn (`opens_turn`): "去年她
想不开，吞了一瓶药，幸好发现得早" is one past event. The words are data:
`data/clause_words.tsv` (turn, past_time, renewed, ask), read once at import.
`asking(text)` gives the clauses that carry a request or a question (想, 能不能, 有没有, 咋, 吗 …),
or all of them when none does: the need model reads their words apart from the background
(`need_model.request_grams`).
"""

from __future__ import annotations

import re

from bot.nlp.lexicon import DATA_DIR, read_table

_ROWS = read_table("clause_words.tsv", 2, DATA_DIR)


def _words(kind: str) -> str:
    """The alternation of `kind` in data/clause_words.tsv (its rows joined)."""
    return "|".join(pattern for k, pattern in _ROWS if k == kind)


_TURNS = _words("turn")
_CUT = re.compile(
    r"[。！？；，、,!?;\n…~～]+|\s{2,}|(?<=[\u4e00-\u9fff])\s(?=[\u4e00-\u9fff])"
    rf"|(?={_TURNS})"
)
_SENTENCE_END = re.compile(r"[。！？!?\n]+")
_TURN = re.compile(_TURNS)
_PAST_TIME = re.compile(_words("past_time"))
_RENEWED = re.compile(_words("renewed"))
_ASK = re.compile(_words("ask"))


def clauses(text: str) -> list[str]:
    """The non-empty clauses of text, in order."""
    return [part for part in (p.strip() for p in _CUT.split(text)) if part]


def asking(text: str) -> list[str]:
    """The clauses of text that ask for something or ask a question; every clause when none
    does (a need stated plainly, "学个手艺好找活，我在朝阳区": nothing tells the request from
    the background then), none for an empty text."""
    parts = clauses(text)
    return [c for c in parts if _ASK.search(c)] or parts


def sentences(text: str) -> list[list[str]]:
    """The clauses of text grouped by sentence (cut at 。！？ and line breaks), in order."""
    return [found for part in _SENTENCE_END.split(text) if (found := clauses(part))]


def sets_past_time(clause: str) -> bool:
    """True when a clause names a past time (去年, 那时候, 以前 …), a story (电视剧, 讲的是) or
    research (论文) and nothing renews it: the sentence's later clauses are then dated by it."""
    return _PAST_TIME.search(clause) is not None and not opens_turn(clause)


def opens_turn(clause: str) -> bool:
    """True when a clause starts with a word that opens a new time or a turn (现在, 但是 …), or
    renews what it tells (`renews`)."""
    return _TURN.match(clause) is not None or renews(clause)


def renews(clause: str) -> bool:
    """True when a clause says the thing is back, still going or still to come (又, 还在, 开始,
    周五晚上 …): a past time in it is where it began, not where it ended."""
    return _RENEWED.search(clause) is not None
