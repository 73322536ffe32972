"""Word segmentation: one private jieba `Tokenizer`, warmed at start-up.

The app never touches jieba's global tokenizer. `build_tokenizer` makes a `jieba.Tokenizer`
on jieba's default dictionary, points its cache file at a directory we own (so two apps on
one machine, or a read-only /tmp, do not fight over `/tmp/jieba.cache`), initialises it, and
adds the domain words: `data/userdict.txt`, every lexicon term and every place name and
alias. After that, segmenting a message does no I/O.

jieba is imported inside `build_tokenizer`, so importing `bot.nlp` loads nothing.
"""

from __future__ import annotations

import logging
import marshal
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.nlp.lexicon import DATA_DIR

DEFAULT_CACHE_DIR = Path(tempfile.gettempdir()) / "fuqing-jieba"
CACHE_FILE = "jieba.cache"
#: frequency given to domain words so that jieba keeps them whole
DOMAIN_FREQ = 20000


def read_userdict(data_dir: Path = DATA_DIR) -> list[tuple[str, int | None, str | None]]:
    """Entries of `userdict.txt` (jieba format `word [freq] [tag]`, `#` comments allowed)."""
    out: list[tuple[str, int | None, str | None]] = []
    for line in (data_dir / "userdict.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdecimal() else None
        tag = parts[-1] if len(parts) > 1 and not parts[-1].isdecimal() else None
        out.append((parts[0], freq, tag))
    return out


class Segmenter:
    """A warmed private jieba tokenizer with the domain words added."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer

    def unknown(self, words: list[str]) -> list[str]:
        """The words of two to four characters no dictionary has: jieba's HMM glued them
        together (where a person's name in running text usually ends up: 刘晓红, 赵丽). No
        part-of-speech table is loaded for names (jieba.posseg's costs a millisecond a text and
        tens of megabytes, and tags places such as 王府井 as names)."""
        freq = self._tokenizer.FREQ
        return [w for w in words if 2 <= len(w) <= 4 and not freq.get(w)]

    @classmethod
    def build(
        cls,
        words: Iterable[str],
        *,
        cache_dir: Path | None = None,
        data_dir: Path = DATA_DIR,
    ) -> Segmenter:
        """Make, initialise and extend the tokenizer (the only place jieba is loaded)."""
        import jieba  # loaded at start-up only, never at import time

        jieba.setLogLevel(logging.WARNING)
        cache = cache_dir or DEFAULT_CACHE_DIR
        cache.mkdir(mode=0o700, parents=True, exist_ok=True)  # jieba writes its cache 600
        tokenizer = jieba.Tokenizer()
        tokenizer.tmp_dir = str(cache)
        tokenizer.cache_file = CACHE_FILE
        if not _load_cache(tokenizer, cache / CACHE_FILE):
            tokenizer.initialize()  # builds the prefix dictionary and writes the cache
        for word, freq, tag in read_userdict(data_dir):
            tokenizer.add_word(word, freq or DOMAIN_FREQ, tag)
        for word in words:
            if len(word) >= 2:
                tokenizer.add_word(word, DOMAIN_FREQ)
        return cls(tokenizer)

    def segment(self, text: str) -> list[str]:
        """Words of text, whitespace dropped."""
        return [w for w in self._tokenizer.lcut(text) if w.strip()]

    def tokens(self, text: str) -> list[str]:
        """Dictionary words of text (no HMM guesses for unknown words: a third faster), the
        crisis model's tokens."""
        return self._tokenizer.lcut(text, HMM=False)  # type: ignore[no-any-return]


def _load_cache(tokenizer: Any, path: Path) -> bool:
    """Fill the tokenizer's prefix dictionary from its cache file, as `initialize()` would, but
    from the bytes at once: jieba's `marshal.load(file)` reads the file in small pieces and
    takes 3× as long (0.63 s against 0.22 s here). False when there is no usable cache."""
    try:
        tokenizer.FREQ, tokenizer.total = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return False
    tokenizer.initialized = True
    return True
