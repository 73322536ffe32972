"""The statistical crisis model: a linear model over character n-grams and jieba tokens.

Two logistic regressions share one feature set (characters 1–3-grams of the normalised text and
its jieba tokens, each present or not): `crisis` (crisis against the rest) and `danger` (crisis
or safety_check against none). Their weights are exported to `data/crisis_model.json`, keyed by
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
#: bump when `features` changes: old weights then no longer match
FEATURE_VERSION = "2"  # 2: jieba tokens without HMM
LABELS = ("crisis", "safety_check", "none")
_BLANK = re.compile(r"\s+")

Tokenize = Callable[[str], list[str]]
#: trains on (text, label, source) rows: `crisis_train.train`
Trainer = Callable[..., dict[str, object]]


def features(text: str, tokens: Iterable[str]) -> set[str]:
    """The model's features of a normalised text: its 1–3-grams of characters and `w:` tokens."""
    t = _BLANK.sub(" ", text).strip()
    out = set(t)
    out.update(map(t.__getitem__, map(slice, range(len(t) - 1), range(2, len(t) + 1))))
    out.update(map(t.__getitem__, map(slice, range(len(t) - 2), range(3, len(t) + 1))))
    out.update("w:" + token for token in tokens if len(token) > 1)
    return out


def training_hash(data_dir: Path = DATA_DIR) -> str:
    """SHA-256 of the training data and the feature version (what the weights are keyed by)."""
    digest = hashlib.sha256(FEATURE_VERSION.encode())
    digest.update((data_dir / TRAIN_FILE).read_bytes())
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
        self._bias = (float(bias[0]), float(bias[1]))
        self.crisis_threshold = float(thresholds["crisis"])
        self.danger_threshold = float(thresholds["danger"])
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
        candidates = [data_dir / MODEL_FILE]
        if cache_dir is not None:
            candidates.append(cache_dir / f"crisis_model-{wanted[:16]}.json")
        for path in candidates:
            if path.is_file():
                payload = json.loads(path.read_text(encoding="utf-8"))
                if payload.get("hash") == wanted:
                    return cls(payload)
        payload = trainer(read_training(data_dir), tokenize, data_hash=wanted)
        if cache_dir is not None:
            cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            candidates[-1].write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        return cls(payload)

    def scores(self, text: str, tokens: Iterable[str]) -> Scores:
        """P(crisis) and P(crisis or safety_check) of a normalised text and its tokens."""
        found = features(text, tokens)
        zeros = repeat(0.0, len(found))
        a = self._bias[0] + sum(map(self._crisis.get, found, zeros))
        b = self._bias[1] + sum(map(self._danger.get, found, repeat(0.0, len(found))))
        return Scores(crisis=_sigmoid(a), danger=_sigmoid(b))


def _sigmoid(z: float) -> float:
    """The logistic function, safe for large |z|."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
