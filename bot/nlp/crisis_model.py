"""The statistical crisis model: a linear model over character n-grams and jieba tokens.

Three logistic regressions share one feature set (characters 1–3-grams of the normalised text's
Chinese, its jieba tokens, and its Latin words in their own `l:` namespace, each present or not):
`crisis` (crisis against the rest), `danger` (crisis or safety_check against none) and `self`
(a danger to herself against the rest: the reply adds 12356 when the model alone raises a
crisis). Latin words are kept out of the character n-grams and trained at a small value
(`LATIN_SCALE`, i.e. a stronger L2 penalty): the training data has far more Latin in crises
than in ordinary messages, and the model must not learn that Latin script itself means danger
(the danger words of pinyin and English are mapped to Chinese before, `normalise.py`). Each
text's feature vector is scaled to length 1 (`norm`): a crisis is usually told at length, and
without it every common character (我, 在, 说) learned to mean danger, so that a short, calm
message ("走访了几户，大家都挺好") leaned to a safety check. Their
weights are exported to `data/crisis_model.json`, keyed by
the SHA-256 of the training data (`data/crisis_train.tsv`), with the two thresholds chosen by
cross-validation (`crisis_train.py`). Scoring is our own sparse dot product over a dict, so
scikit-learn is not imported at run time; when the shipped weights do not match the training
data, `CrisisModel.load` retrains once (scikit-learn) and caches the weights in the cache dir.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

from bot.nlp.lexicon import DATA_DIR

TRAIN_FILE = "crisis_train.tsv"
MODEL_FILE = "crisis_model.json"
PINYIN_FILE = "pinyin_words.tsv"
#: bump when `features` changes: old weights then no longer match
FEATURE_VERSION = "5"  # 2: jieba tokens without HMM; 3: Latin words in `l:`, a self-harm head;
#: 4: pinyin read as Chinese (the pinyin table is hashed with the training data), no English
#: function words; 5: each text's feature vector has length 1 (`norm`)
LABELS = ("crisis", "safety_check", "none")
_BLANK = re.compile(r"\s+")
#: Latin words (and the blanks between them): out of the n-grams, into `l:` features
_LATIN_RUN = re.compile(r"[a-z]+(?:[\s'-]+[a-z]+)*")
_LATIN_WORD = re.compile(r"[a-z]+")
#: English function words: no `l:` feature (they say nothing about danger)
_FUNCTION_WORDS = frozenset(
    [
        "the",
        "to",
        "at",
        "on",
        "in",
        "of",
        "an",
        "and",
        "or",
        "for",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "with",
        "from",
        "by",
        "as",
        "so",
        "but",
        "if",
    ]
)
#: the value a Latin feature has in training (the exported weights are scaled by it)
LATIN_SCALE = 0.5

Tokenize = Callable[[str], list[str]]
#: trains on (text, label, source) rows: `crisis_train.train`
Trainer = Callable[..., dict[str, object]]


def features(text: str, tokens: Iterable[str]) -> set[str]:
    """The model's features of a normalised text: 1–3-grams of characters, `w:` and `l:` words.

    Latin letters are not in the n-grams: each Latin word is one `l:` feature, and jieba's Latin
    tokens are dropped (the `l:` words already hold them). English function words (the, to, at)
    are no feature: longer English crises have more of them, and they would mean danger.
    """
    t = _BLANK.sub(" ", text).strip()
    latin: list[str] = []
    if _LATIN_WORD.search(t):
        latin = _LATIN_WORD.findall(t)
        t = _BLANK.sub(" ", _LATIN_RUN.sub(" ", t)).strip()
    out = set(t)
    out.update(map(t.__getitem__, map(slice, range(len(t) - 1), range(2, len(t) + 1))))
    out.update(map(t.__getitem__, map(slice, range(len(t) - 2), range(3, len(t) + 1))))
    out.update("w:" + token for token in tokens if len(token) > 1 and not token.isascii())
    out.update("l:" + word for word in latin if len(word) > 1 and word not in _FUNCTION_WORDS)
    return out


def cached_payload(
    wanted: str,
    shipped: Path,
    cache_dir: Path | None,
    prefix: str,
    train: Callable[[], dict[str, object]],
) -> dict[str, object]:
    """The shipped weights when their hash is `wanted`, else cached ones, else `train()`'s (then
    cached under cache_dir as `{prefix}-{hash[:16]}.json`). Shared by the crisis and need models."""
    candidates = [shipped]
    if cache_dir is not None:
        candidates.append(cache_dir / f"{prefix}-{wanted[:16]}.json")
    for path in candidates:
        if path.is_file():
            payload = json.loads(path.read_text(encoding="utf-8"))
            if payload.get("hash") == wanted:
                return dict(payload)
    payload = train()
    if cache_dir is not None:
        cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        candidates[-1].write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return payload


def norm(found: set[str], latin_text: bool = True) -> float:
    """The length of a text's feature vector: each feature counts 1, a Latin word LATIN_SCALE (the
    value it is trained at); 1 for a text without features. `latin_text` False says the text has
    no Latin word (no `l:` feature to count)."""
    latin = sum(1 for f in found if f.startswith("l:")) if latin_text else 0
    return math.sqrt((len(found) - latin) + LATIN_SCALE * LATIN_SCALE * latin) or 1.0


def training_hash(data_dir: Path = DATA_DIR) -> str:
    """SHA-256 of the training data and the feature version (what the weights are keyed by)."""
    digest = hashlib.sha256(FEATURE_VERSION.encode())
    digest.update((data_dir / TRAIN_FILE).read_bytes())
    digest.update((data_dir / PINYIN_FILE).read_bytes())
    return digest.hexdigest()


def read_training(data_dir: Path = DATA_DIR) -> list[tuple[str, str, str]]:
    """(text, label, source) rows of the training data, in file order."""
    rows: list[tuple[str, str, str]] = []
    for line in (data_dir / TRAIN_FILE).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            text, label, source = line.split("\t")
            if label not in LABELS:
                raise ValueError(f"{TRAIN_FILE}: unknown label {label!r}")
            rows.append((text, label, source))
    return rows


@dataclass(frozen=True)
class Scores:
    """The model's probabilities for one text."""

    crisis: float
    danger: float
    #: P(the danger is to herself)
    self_harm: float = 0.0


class CrisisModel:
    """Exported weights of the two linear models and their thresholds."""

    def __init__(self, payload: dict[str, object]) -> None:
        weights = payload["weights"]
        bias = payload["bias"]
        thresholds = payload["thresholds"]
        assert isinstance(weights, dict) and isinstance(bias, list)
        assert isinstance(thresholds, dict)
        # one dict per model: `sum(map(dict.get, features, zeros))` runs the lookups in C
        self._crisis: dict[str, float] = {str(k): float(v[0]) for k, v in weights.items() if v[0]}
        self._danger: dict[str, float] = {str(k): float(v[1]) for k, v in weights.items() if v[1]}
        self._self: dict[str, float] = {str(k): float(v[2]) for k, v in weights.items() if v[2]}
        self._bias = (float(bias[0]), float(bias[1]), float(bias[2]))
        self.crisis_threshold = float(thresholds["crisis"])
        self.danger_threshold = float(thresholds["danger"])
        self.self_threshold = float(thresholds["self"])
        #: (crisis, danger, self-harm) thresholds, in `safety.decide`'s order
        self.thresholds = (self.crisis_threshold, self.danger_threshold, self.self_threshold)
        self.data_hash = str(payload["hash"])

    @classmethod
    def load(
        cls,
        tokenize: Tokenize,
        trainer: Trainer,
        *,
        data_dir: Path = DATA_DIR,
        cache_dir: Path | None = None,
    ) -> CrisisModel:
        """The shipped weights when they match the training data, else cached or retrained ones.

        `trainer` (`crisis_train.train`) runs only when no weights match: it imports scikit-learn.
        """
        wanted = training_hash(data_dir)
        return cls(
            cached_payload(
                wanted,
                data_dir / MODEL_FILE,
                cache_dir,
                "crisis_model",
                lambda: trainer(read_training(data_dir), tokenize, data_hash=wanted),
            )
        )

    def scores(self, text: str, tokens: Iterable[str]) -> Scores:
        """P(crisis), P(crisis or safety_check) and P(danger to herself) of a normalised text."""
        return self.scores_of(features(text, tokens), _LATIN_WORD.search(text) is not None)

    def scores_of(self, found: set[str], latin_text: bool = True) -> Scores:
        """The same from a text's features, when they are at hand (`NLP.analyze` shares them
        with the need model)."""
        n, scale = len(found), 1.0 / norm(found, latin_text)
        a = self._bias[0] + scale * sum(map(self._crisis.get, found, repeat(0.0, n)))
        b = self._bias[1] + scale * sum(map(self._danger.get, found, repeat(0.0, n)))
        c = self._bias[2] + scale * sum(map(self._self.get, found, repeat(0.0, n)))
        return Scores(crisis=_sigmoid(a), danger=_sigmoid(b), self_harm=_sigmoid(c))


def _sigmoid(z: float) -> float:
    """The logistic function, safe for large |z|."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
