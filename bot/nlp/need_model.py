"""The need model: which categories a message has, and which one she asks for.

Twelve linear models over one feature set, the crisis model's (`crisis_model.features`:
character 1–3-grams, jieba tokens, Latin words) plus `q:` character 2–3-grams of the clauses
that ask (`clauses.asking`: 想, 能不能, 有没有, 咋, 吗 …), the vector scaled to length 1:

- six logistic regressions, one per category of TAXONOMY.md: is this category among the
  message's? (`member`; second categories are read from these);
- one multinomial regression over the six: which category is her primary, the one she asks
  for? (`primary`). A long message tells her life before the request; a model of "among"
  learns the background's words as well as the request's, and summed keyword hits let the
  background win. The primary model is trained on what was asked, and its `q:` features let it
  weigh the asking clause's words apart from the same words told as background.

The tagger (`tagger.py`) adds `weight × P(member) + primary_weight × P(primary)` to each
category's lexicon score before its boundary rules, so the models decide where the lexicon has
no word for the need (traditional characters read wrong, English, pinyin, a new phrasing) or
where the background outweighs the request, while the TAXONOMY rules still order the result.
Where the lexicon has no hit at all, the best category is taken only at P(member) ≥ `floor`.
The weights come from `need_train.py`; `weight`, `primary_weight` and `floor` are its
constants, chosen on blind rounds the models had not trained on. All are shipped in
`data/needs_model.json`, keyed by the SHA-256 of `data/needs_train.tsv`; stale weights are
retrained once at start-up and cached, as the crisis model's are.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.nlp.categories import CATEGORIES
from bot.nlp.clauses import asking
from bot.nlp.crisis_model import (
    _BLANK,
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
#: bump when the need model's own features change (`need_features`): old weights no longer match
NEED_FEATURE_VERSION = "2"  # 1: `q:` n-grams of the asking clauses, the primary model;
#: 2: every clause asks when none has an ask word
NEEDS_MODEL_FILE = "needs_model.json"
#: trains on (text, categories, source) rows: `need_train.train`
NeedTrainer = Callable[..., dict[str, object]]


def needs_hash(data_dir: Path = DATA_DIR) -> str:
    """SHA-256 of the need training data, the feature version and the pinyin table."""
    digest = hashlib.sha256(f"needs:{FEATURE_VERSION}:{NEED_FEATURE_VERSION}".encode())
    digest.update((data_dir / NEEDS_TRAIN_FILE).read_bytes())
    digest.update((data_dir / PINYIN_FILE).read_bytes())
    return digest.hexdigest()


def request_grams(text: str) -> set[str]:
    """`q:` features of a normalised text: the character 2–3-grams of its asking clauses."""
    out: set[str] = set()
    for clause in asking(text):
        t = _BLANK.sub("", clause)
        out.update("q:" + t[i : i + 2] for i in range(len(t) - 1))
        out.update("q:" + t[i : i + 3] for i in range(len(t) - 2))
    return out


def need_features(text: str, found: set[str]) -> set[str]:
    """The need model's features of a normalised text from its crisis-model features."""
    return found | request_grams(text)


@dataclass(frozen=True)
class NeedReading:
    """The need model's reading of one text: P(category among hers) and P(her primary)."""

    member: dict[str, float]
    primary: dict[str, float]


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
    """Exported weights of the twelve models, their weights in the tagger and its floor."""

    def __init__(self, payload: dict[str, object]) -> None:
        weights, bias, primary_bias = payload["weights"], payload["bias"], payload["primary_bias"]
        assert isinstance(weights, dict) and isinstance(bias, list)
        assert isinstance(primary_bias, list)
        # one table, feature → its twelve weights: one lookup a feature, then the columns summed
        # in C (six dicts summed one by one cost six lookups a feature; a numpy matrix was as
        # fast but numpy's import cost 15 MB of the NLP's 150 MB budget)
        # equal weights share one float object (rounded to 4 places, most repeat): the table
        # takes 16 MB instead of 41
        shared: dict[float, float] = {}
        self._table: dict[str, tuple[float, ...]] = {
            str(k): tuple(shared.setdefault(float(w), float(w)) for w in v)
            for k, v in weights.items()
        }
        self._zeros = (0.0,) * (2 * len(CATEGORIES))
        self._bias = [float(b) for b in bias]
        self._primary_bias = [float(b) for b in primary_bias]
        self.weight = float(payload["weight"])  # type: ignore[arg-type]
        self.primary_weight = float(payload["primary_weight"])  # type: ignore[arg-type]
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

    def probabilities(self, text: str, tokens: Iterable[str]) -> NeedReading:
        """The reading of a normalised text."""
        return self.probabilities_of(text, features(text, tokens))

    def probabilities_of(self, text: str, found: set[str]) -> NeedReading:
        """The reading of a normalised text from its crisis-model features, when they are at
        hand (`NLP.analyze` shares them with the crisis model)."""
        mine = need_features(text, found)
        scale = 1.0 / norm(mine, _LATIN_WORD.search(text) is not None)
        get, n = self._table.get, len(CATEGORIES)
        rows = [row for row in map(get, mine) if row is not None]
        sums = [sum(column) for column in zip(*rows, strict=True)] if rows else list(self._zeros)
        member: dict[str, float] = {
            category: _sigmoid(bias + scale * total)
            for category, bias, total in zip(CATEGORIES, self._bias, sums[:n], strict=True)
        }
        z = [bias + scale * total for bias, total in zip(self._primary_bias, sums[n:], strict=True)]
        top = max(z)
        e = [math.exp(v - top) for v in z]
        whole = sum(e)
        primary: dict[str, float] = {c: v / whole for c, v in zip(CATEGORIES, e, strict=True)}
        return NeedReading(member, primary)
