"""The need model: one linear model per need category, over the crisis model's features.

Six logistic regressions (one per category of TAXONOMY.md: is this category among the
message's?) read the same features as the crisis model (`crisis_model.features`: character
1–3-grams, jieba tokens, Latin words, the vector scaled to length 1). The tagger (`tagger.py`)
adds `weight × P(category)` to each category's lexicon score before its boundary rules, so the
model decides where the lexicon has no word for the need (traditional characters read wrong,
English, pinyin, a new phrasing) and tips close calls, while the TAXONOMY rules still order the
result. Where the lexicon has no hit at all, the model's best category is taken only at
P ≥ `floor`. Weights, `weight` and `floor` come from `need_train.py` (cross-validated) and are
shipped in `data/needs_model.json`, keyed by the SHA-256 of `data/needs_train.tsv`; stale
weights are retrained once at start-up and cached, as the crisis model's are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from itertools import repeat
from pathlib import Path

from bot.nlp.categories import CATEGORIES
from bot.nlp.crisis_model import (
    _LATIN_WORD,
    FEATURE_VERSION,
    PINYIN_FILE,
    Tokenize,
    _sigmoid,
    cached_payload,
    features,
    norm,
)
from bot.nlp.lexicon import DATA_DIR

NEEDS_TRAIN_FILE = "needs_train.tsv"
NEEDS_MODEL_FILE = "needs_model.json"
#: trains on (text, categories, source) rows: `need_train.train`
NeedTrainer = Callable[..., dict[str, object]]


def needs_hash(data_dir: Path = DATA_DIR) -> str:
    """SHA-256 of the need training data, the feature version and the pinyin table."""
    digest = hashlib.sha256(("needs:" + FEATURE_VERSION).encode())
    digest.update((data_dir / NEEDS_TRAIN_FILE).read_bytes())
    digest.update((data_dir / PINYIN_FILE).read_bytes())
    return digest.hexdigest()


def read_needs_training(data_dir: Path = DATA_DIR) -> list[tuple[str, tuple[str, ...], str]]:
    """(text, categories with the primary first, source) rows of the need training data."""
    rows: list[tuple[str, tuple[str, ...], str]] = []
    for line in (data_dir / NEEDS_TRAIN_FILE).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            text, cats, source = line.split("\t")
            categories = tuple(cats.split(","))
            if not set(categories) <= set(CATEGORIES):
                raise ValueError(f"{NEEDS_TRAIN_FILE}: unknown category in {cats!r}")
            rows.append((text, categories, source))
    return rows


class NeedModel:
    """Exported weights of the six category models, their weight in the tagger and its floor."""

    def __init__(self, payload: dict[str, object]) -> None:
        weights, bias = payload["weights"], payload["bias"]
        assert isinstance(weights, dict) and isinstance(bias, list)
        # one dict per category: `sum(map(dict.get, found, zeros))` runs the lookups in C (a
        # numpy matrix gathered once was ~50 µs faster a message but cost 15 MB of the NLP's
        # 150 MB budget, numpy's import most of it)
        self._weights: list[dict[str, float]] = [
            {str(k): float(v[i]) for k, v in weights.items() if v[i]}
            for i in range(len(CATEGORIES))
        ]
        self._bias = [float(b) for b in bias]
        self.weight = float(payload["weight"])  # type: ignore[arg-type]
        self.floor = float(payload["floor"])  # type: ignore[arg-type]
        self.data_hash = str(payload["hash"])

    @classmethod
    def load(
        cls,
        tokenize: Tokenize,
        trainer: NeedTrainer,
        *,
        data_dir: Path = DATA_DIR,
        cache_dir: Path | None = None,
    ) -> NeedModel:
        """The shipped weights when they match the training data, else cached or retrained ones."""
        wanted = needs_hash(data_dir)
        return cls(
            cached_payload(
                wanted,
                data_dir / NEEDS_MODEL_FILE,
                cache_dir,
                "needs_model",
                lambda: trainer(read_needs_training(data_dir), tokenize, data_hash=wanted),
            )
        )

    def probabilities(self, text: str, tokens: Iterable[str]) -> dict[str, float]:
        """P(category among the message's) of a normalised text, for each category."""
        return self.probabilities_of(features(text, tokens), _LATIN_WORD.search(text) is not None)

    def probabilities_of(self, found: set[str], latin_text: bool = True) -> dict[str, float]:
        """The same from a text's features (`crisis_model.features`), when they are at hand."""
        n, scale = len(found), 1.0 / norm(found, latin_text)
        return {
            category: _sigmoid(bias + scale * sum(map(weights.get, found, repeat(0.0, n))))
            for category, weights, bias in zip(CATEGORIES, self._weights, self._bias, strict=True)
        }
