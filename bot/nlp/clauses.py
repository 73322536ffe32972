"""Clauses: where a past-tense or negation marker stops applying.

`clauses(text)` cuts a message at sentence and clause punctuation (。！？；，、 and their ASCII
forms, line breaks, "…", a space between Chinese characters: chat writes 他喝多了 我好怕) and
before a word that opens a new time or a turn (但是, 可是, 不过, 现在, 今天, 今晚, 刚才, 这次,
结果 …). The crisis detector reads the past/now markers of the
clause that holds a threat and of the clauses after it, not of the whole message: "以前他打过我，
现在他说今晚要弄死我" is a threat now, "他打过我，已经离婚三年了" has ended.
"""

from __future__ import annotations

import re

_CUT = re.compile(
    r"[。！？；，、,!?;\n…~～]+|\s{2,}|(?<=[\u4e00-\u9fff])\s(?=[\u4e00-\u9fff])"
    r"|(?=但是|可是|不过|然而|现在|如今|今天|今晚|今儿|刚才|刚刚|这次|这回|结果|最近|昨晚|昨天)"
)


def clauses(text: str) -> list[str]:
    """The non-empty clauses of text, in order."""
    return [part for part in (p.strip() for p in _CUT.split(text)) if part]
