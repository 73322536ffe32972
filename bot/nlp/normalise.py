"""Normalisation before matching: one spelling for the crisis lexicon, the model and the tagger.

`Normaliser.normalise(text)` does, in order:

1. full-width ASCII letters, digits and the ideographic space → half-width (NFKC on those
   code points only: the Chinese punctuation ，。！？ the lexicon is written with stays as it is);
2. traditional → simplified characters with OpenCC's `t2s` tables (phrase-level, so 乾淨 →
   干净 but 乾隆 stays), with 著 after a verb read as 着 (拿著 → 拿着), for any non-ASCII text;
3. Latin lower-cased, tone marks dropped (jiùmìng → jiuming);
4. a text mostly in pinyin read back into Chinese (`pinyin.py`: "ta na zhe dao" → 他拿着刀),
   so pinyin reaches everything the Chinese lexicon and model know;
5. pinyin and English danger words left → Chinese, from `data/danger_words.tsv` (whole words,
   longest first: "ta yao sha wo" → 他要杀我, "help me" → 救救我).

Offsets are not kept: nothing downstream of the crisis and need readers needs them (dates,
places and PII read the original text). OpenCC is imported when a `Normaliser` is built.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

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
_HAS_WIDE = re.compile("[\u3000\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


class Normaliser:
    """Folds width, script, case and pinyin/English danger words; build once, call per text."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        import opencc  # the C++ converter; loaded at start-up, never at import time

        converter: Any = opencc.OpenCC("t2s")
        self._t2s = converter.convert
        self._pinyin = PinyinReader(data_dir).read
        pairs = sorted(read_table("danger_words.tsv", 2, data_dir), key=lambda r: -len(r[0]))
        self._map = {_squash(latin): chinese for latin, chinese in pairs}
        alternatives = "|".join(
            r"\s*".join(re.escape(part) for part in latin.split()) for latin, _ in pairs
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
        if _LATIN.search(text):
            text = _strip_tones(text.lower() if lower else text)
            read = self._pinyin(text if lower else text.lower())
            if read != (text if lower else text.lower()):
                text = read
            words = self._words if lower else self._words_any_case
            text = words.sub(lambda m: self._map[_squash(m.group())], text)
        return text


def _squash(latin: str) -> str:
    """A danger word's key: lower case, no spaces."""
    return "".join(latin.lower().split())


def _strip_tones(text: str) -> str:
    """Latin letters without their tone marks (ǎ → a, ü stays ü-less as u)."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not ("\u0300" <= c <= "\u036f"))
    )
