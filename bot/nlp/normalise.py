"""Normalisation before matching: one spelling for the crisis lexicon, the model and the tagger.

`Normaliser.normalise(text)` does, in order:

1. full-width ASCII letters, digits and the ideographic space → half-width (NFKC on those
   code points only: the Chinese punctuation ，。！？ the lexicon is written with stays as it is);
2. traditional → simplified characters with OpenCC's `t2s` tables (phrase-level, so 乾淨 →
   干净 but 乾隆 stays), with 著 after a verb read as 着 (拿著 → 拿着), for any non-ASCII text;
3. dialect words (Cantonese 咗/喺/佢, Wu 侬/弗, Min Nan 伫/袂 …) → Mandarin, from
   `data/dialect.tsv` (literal words longest first with pyahocorasick, a few in context by regex);
4. Latin lower-cased, tone marks dropped (jiùmìng → jiuming);
5. a text mostly in pinyin read back into Chinese (`pinyin.py`: "ta na zhe dao" → 他拿着刀),
   so pinyin reaches everything the Chinese lexicon and model know;
6. pinyin and English danger words left → Chinese, from `data/danger_words.tsv` (whole words,
   English in its regular inflections from `data/danger_inflections.tsv`: beating → beat;
   longest first: "ta yao sha wo" → 他要杀我, "help me" → 救救我).

Offsets are not kept: nothing downstream of the crisis and need readers needs them (dates,
places and PII read the original text). OpenCC is imported when a `Normaliser` is built.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import ahocorasick

from bot.nlp.lexicon import DATA_DIR, read_table
from bot.nlp.pinyin import PinyinReader

# Full-width ！ to ～ (U+FF01–U+FF5E) map to ASCII by subtracting 0xFEE0; only letters and digits
# are folded, the full-width punctuation the lexicon is written with is kept.
_WIDE = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F) if chr(c - 0xFEE0).isalnum()}
_WIDE[0x3000] = 0x20
_LATIN = re.compile(r"[A-Za-zÀ-ɏ]")
# OpenCC keeps 著 (a simplified character too: 著名); after a verb it is the aspect marker 着.
_ZHE = re.compile(
    r"(?<=[拿攥握提拎举抓揣带跟看盯守等关锁躺坐站靠抱背牵睡拉藏追蹲堵捂掐按逼忍瞒])著(?![名作称述书录者])"
    r"|著急"
)
DANGER_WORDS_FILE = "danger_words.tsv"
INFLECTIONS_FILE = "danger_inflections.tsv"
_UPPER = re.compile("[A-Z]")
_HAS_WIDE = re.compile("[\u3000\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


class Normaliser:
    """Folds width, script, case and pinyin/English danger words; build once, call per text."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        import opencc  # the C++ converter; loaded at start-up, never at import time

        converter: Any = opencc.OpenCC("t2s")
        self._t2s = converter.convert
        reader = PinyinReader(data_dir)
        self._pinyin = reader.read
        self._dialect = DialectReader(data_dir).read
        self._inflections = Inflections(reader, data_dir)
        pairs = sorted(read_table(DANGER_WORDS_FILE, 2, data_dir), key=lambda r: -len(r[0]))
        self._map: dict[str, str] = {}
        for latin, chinese in pairs:  # longest first: "hitting me" (在打我) before "hit me"
            self._map.setdefault(self._inflections.key(latin), chinese)
        alternatives = "|".join(
            r"\s*".join(self._inflections.pattern(part) for part in latin.split())
            for latin, _ in pairs
        )
        self._words = re.compile(rf"(?<![a-z])(?:{alternatives})(?![a-z])")
        self._words_any_case = re.compile(
            rf"(?<![a-zA-Z])(?:{alternatives})(?![a-zA-Z])", re.IGNORECASE
        )

    def normalise(self, text: str, *, lower: bool = True) -> str:
        """Text in simplified characters, half-width, lower case, danger words in Chinese.

        With lower=False the Latin keeps its case (the need lexicon has terms such as ICU, PICC)
        and danger words are still found, whatever their case.
        """
        if _HAS_WIDE.search(text):
            text = text.translate(_WIDE)
        if not text.isascii():
            text = self._t2s(text)
            if "著" in text:
                text = _ZHE.sub(lambda m: "着" + m.group()[1:], text)
            text = self._dialect(text)
        if _LATIN.search(text):
            text = _strip_tones(text.lower() if lower else text)
            read = self._pinyin(text if lower else text.lower())
            if read != (text if lower else text.lower()):
                text = read
            words = self._words if lower else self._words_any_case
            text = words.sub(self._danger_word, text)
        return text

    def cased(self, text: str, lowered: str) -> str:
        """text as the need lexicon reads it: normalised with its Latin case kept (the lexicon has
        ICU, PICC), or `lowered` (text's normal form) when it has no capital letter."""
        return self.normalise(text, lower=False) if _UPPER.search(text) else lowered

    def _danger_word(self, match: re.Match[str]) -> str:
        """The Chinese of a matched danger word, or the match itself when its inflection is
        another word (an English word is matched by its stem and any ending: "killer" ≠ kill)."""
        return self._map.get(self._inflections.key(match.group()), match.group())


class Inflections:
    """English words of the danger table matched in any regular inflection (beating, beats →
    beat): `data/danger_inflections.tsv` lists each English word's forms with their Snowball
    stem (generated at build time, `inflections_build.py`); a matched word is looked up by its
    stem. Pinyin words (ta, sha, wo) are kept as they are."""

    def __init__(self, pinyin: PinyinReader, data_dir: Path = DATA_DIR) -> None:
        self._pinyin = pinyin
        self._stems = dict(read_table(INFLECTIONS_FILE, 2, data_dir))
        self._forms: dict[str, set[str]] = {}
        for form, stem in self._stems.items():
            self._forms.setdefault(stem, set()).add(form)

    def stem(self, word: str) -> str:
        """A word's stem (lower case): from the table, else the word itself."""
        word = word.lower()
        return self._stems.get(word, word) if english_word(word, self._pinyin) else word

    def key(self, latin: str) -> str:
        """A danger word's key: its words stemmed, no spaces."""
        return "".join(self.stem(word) for word in latin.split())

    def pattern(self, word: str) -> str:
        """A regex for one word of the table: an English word in each of its listed forms."""
        word = word.lower()
        if not english_word(word, self._pinyin):
            return re.escape(word)
        forms = self._forms.get(self.stem(word), set()) | {word}
        return "(?:" + "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)) + ")"


def english_word(word: str, pinyin: PinyinReader) -> bool:
    """True for a Latin word of three letters or more that does not split into pinyin."""
    return len(word) >= 3 and pinyin.syllables(word) is None


class DialectReader:
    """Dialect words → Mandarin (`data/dialect.tsv`): literal words in one Aho–Corasick pass
    (longest match, left to right), then the few words that need a context, by regex."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        rows = read_table("dialect.tsv", 2, data_dir)
        self._words = ahocorasick.Automaton()
        for dialect, mandarin in rows:
            if not dialect.startswith("re:"):
                self._words.add_word(dialect, (dialect, mandarin))
        self._words.make_automaton()
        self._rules = [
            (re.compile(dialect.removeprefix("re:")), mandarin)
            for dialect, mandarin in rows
            if dialect.startswith("re:")
        ]

    def read(self, text: str) -> str:
        """Text with its dialect words in Mandarin (unchanged when it has none)."""
        parts: list[str] = []
        done = 0
        for end, (dialect, mandarin) in self._words.iter_long(text):
            start = end - len(dialect) + 1
            parts += [text[done:start], mandarin]
            done = end + 1
        if parts:
            text = "".join(parts) + text[done:]
        for rule, mandarin in self._rules:
            text = rule.sub(mandarin, text)
        return text


def _strip_tones(text: str) -> str:
    """Latin letters without their tone marks (ǎ → a, ü stays ü-less as u)."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not ("\u0300" <= c <= "\u036f"))
    )
