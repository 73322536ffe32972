"""The key terms of a quarter's texts (the 倾向性 problems): jieba words of 2+ Chinese characters
in visit notes and request texts, minus `data/stopwords.txt`, pseudonyms (某) and place names,
each counted once per text. Only known words count (jieba's dictionary and the domain's): the
pieces jieba's HMM glues together — fillers such as 想先, residents' names — never become terms."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from bot import texts
from bot.nlp import NLP
from storage.models import HelpRequest, Visit

STOPWORDS_FILE = Path(__file__).parent / "data" / "stopwords.txt"


@cache
def stopwords() -> frozenset[str]:
    """The stopword list (`data/stopwords.txt`, `#` comments), read once."""
    lines = STOPWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(s for s in (line.split("#", 1)[0].strip() for line in lines) if s)


def is_term(word: str, nlp: NLP, places: dict[str, bool]) -> bool:
    """True for a key term: 2+ characters, Chinese, no stopword, pseudonym or place name
    (`places` caches the place lookups)."""
    if len(word) < 2 or word in stopwords() or "某" in word:
        return False
    if not any("\u4e00" <= ch <= "\u9fff" for ch in word):
        return False
    if word not in places:
        places[word] = any(nlp.match_places(word))
    return not places[word]


class Terms:
    """The key terms of texts for one summary: each text segmented once, however often the
    summary asks (the quarter, the one before, the parts). A term is a known word — of jieba's
    dictionary or the domain's (the lexicons, the userdict) — so the pieces jieba's HMM glues
    together are left out: fillers such as 想先 or 多办, and residents' names (刘晓红)."""

    def __init__(self, nlp: NLP) -> None:
        self._nlp = nlp
        self._places: dict[str, bool] = {}
        self._seen: dict[str, frozenset[str]] = {}

    def of(self, text: str) -> frozenset[str]:
        """The key terms of `text`."""
        found = self._seen.get(text)
        if found is None:
            nlp = self._nlp
            words = [w.strip() for w in nlp.segment(text)]
            guessed = set(nlp.guessed_words(words))
            found = frozenset(
                w for w in words if w not in guessed and is_term(w, nlp, self._places)
            )
            self._seen[text] = found
        return found

    def counts(self, docs: Iterable[str]) -> Counter[str]:
        """How many of `docs` each key term occurs in."""
        counts: Counter[str] = Counter()
        for doc in docs:
            counts.update(self.of(doc))
        return counts


def problem_texts(visits: Sequence[Visit], requests: Sequence[HelpRequest]) -> list[str]:
    """The texts whose key terms count: visit notes, and the needs of requests not opened
    from a visit (erased ones left out)."""
    erased = texts.t("delete.placeholder")
    return [v.notes for v in visits] + [
        r.need for r in requests if r.source != "visit" and r.need != erased
    ]
