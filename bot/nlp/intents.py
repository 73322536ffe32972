"""What a message asks of the bot itself, in plain words (a pure function of the text).

People do not type commands: they ask "我上周反映的事怎么样了" (progress), "该给谁打电话啊" (who to
call), say "你好" or "我想问个事" and stop, or send only "😭😭😭". `intent_of` names these kinds
of message; the conversation answers them at any time (bot/conversation.py). The words are in
`data/words.toml` [intents], as kinds of sentence (a subject and a status for progress), not the
testers' sentences. A message that says more than this (a need, a place) is longer than
`MAX_CHARS` and is not an intent: the need reading takes it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Literal

from bot.nlp.words import alternation, words

Intent = Literal["progress", "call", "greeting", "ask", "emoji"]

#: longer messages say more than an intent: they are read as needs
MAX_CHARS = 24
_PUNCT = re.compile(r"[\s\W_]+")


@cache
def _particles() -> re.Pattern[str]:
    found = sorted(words("intents", "particles"), key=len, reverse=True)
    return re.compile(alternation(tuple(found)))


def _only(text: str, phrases: tuple[str, ...]) -> bool:
    """True when `text` is one of `phrases` with nothing but particles around it."""
    hit = [p for p in sorted(phrases, key=len, reverse=True) if p in text]
    if not hit:
        return False
    rest = text
    for phrase in hit:
        rest = rest.replace(phrase, "")
    rest = _particles().sub("", rest)
    return not rest


def _emoji_only(text: str) -> bool:
    """Symbols (emoji) and punctuation, not a letter or digit."""
    kinds = [unicodedata.category(c) for c in text if not c.isspace()]
    return any(k == "So" for k in kinds) and not any(k[0] in "LN" for k in kinds)


def intent_of(text: str) -> Intent | None:
    """The plain-language intent of a short message, or None (a need, an answer, a command)."""
    if _emoji_only(text):
        return "emoji"
    compact = _PUNCT.sub("", text.lower())
    if not compact or len(compact) > MAX_CHARS:
        return None
    if any(w in compact for w in words("intents", "call")):
        return "call"
    if any(w in compact for w in words("intents", "progress_alone")) or (
        any(w in compact for w in words("intents", "progress_subject"))
        and any(w in compact for w in words("intents", "progress_status"))
    ):
        return "progress"
    greeting = words("intents", "greeting")
    if _only(compact, greeting):
        return "greeting"
    if _only(compact, (*words("intents", "ask"), *greeting)):
        return "ask"
    return None
