"""Learning from staff: corrections become training rows, and locally trained weights.

Staff correct a help request's categories or crisis flag in the console (bot/domain/labels.py);
each correction is a labelled example: the text the model read and what staff say it is.
`fuqing nlp train` merges them into the shipped training data (`merge_needs`, `merge_crisis`),
retrains both models with their own training code (`need_train.train`, `crisis_train.train`:
deterministic, cross-validated like the shipped weights) and writes the weights to a local
directory (FUQING_NLP_MODEL_DIR), never over the shipped files. `NLP.load` prefers them
(`local_payload`) while they are valid: the same feature version, and trained on top of the
training data the code ships now (a release with new training data makes them stale: train
again).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.nlp.categories import CATEGORIES
from bot.nlp.crisis_model import FEATURE_VERSION, MODEL_FILE, Tokenize
from bot.nlp.need_model import NEEDS_MODEL_FILE

log = logging.getLogger(__name__)

#: the source column of a correction's training row
SOURCE = "correction"
NeedRow = tuple[str, tuple[str, ...], str]
CrisisRow = tuple[str, str, str]


@dataclass(frozen=True)
class Example:
    """One staff correction as training data: her words, the categories (the primary first) and
    whether it is a crisis."""

    text: str
    categories: tuple[str, ...]
    crisis: bool


def merge_needs(base: Iterable[NeedRow], examples: Sequence[Example]) -> list[NeedRow]:
    """The need model's rows: the shipped ones, a corrected text's labels replacing its shipped
    labels (staff's word wins; of two corrections of one text, the later)."""
    rows = {text.strip(): (text, cats, source) for text, cats, source in base}
    for example in examples:
        text = example.text.strip()
        if text and set(example.categories) <= set(CATEGORIES) and example.categories:
            rows[text] = (text, tuple(example.categories), SOURCE)
    return sorted(rows.values())


def merge_crisis(base: Iterable[CrisisRow], examples: Sequence[Example]) -> list[CrisisRow]:
    """The crisis model's rows: a correction saying crisis labels its text `crisis`; one saying
    not a crisis labels it `none`, unless the shipped data calls it `safety_check` (not a crisis
    either: a signal to ask about). The later of two corrections of one text wins."""
    rows = {text.strip(): (text, label, source) for text, label, source in base}
    for example in examples:
        text = example.text.strip()
        if not text:
            continue
        shipped = rows.get(text)
        if example.crisis:
            label = "crisis"
        elif shipped is not None and shipped[1] == "safety_check":
            label = "safety_check"
        else:
            label = "none"
        rows[text] = (text, label, SOURCE)
    return sorted(rows.values())


@dataclass(frozen=True)
class Trained:
    """Both models' payloads, trained with the corrections."""

    needs: dict[str, object]
    crisis: dict[str, object]
    corrections: int


def train(
    examples: Sequence[Example],
    tokenize: Tokenize,
    *,
    base_needs: Sequence[NeedRow],
    base_crisis: Sequence[CrisisRow],
    needs_hash: str,
    crisis_hash: str,
) -> Trained:
    """Retrain both models on the shipped rows plus the corrections (`needs_hash` and
    `crisis_hash`: the shipped training data's, which the weights then name as their base)."""
    from bot.nlp import crisis_train, need_train

    needs = need_train.train(merge_needs(base_needs, examples), tokenize, data_hash="")
    crisis = crisis_train.train(merge_crisis(base_crisis, examples), tokenize, data_hash="")
    for payload, base in ((needs, needs_hash), (crisis, crisis_hash)):
        payload["hash"] = f"local:{base}"
        payload["base_hash"] = base
        payload["corrections"] = len(examples)
    return Trained(needs=needs, crisis=crisis, corrections=len(examples))


def write(trained: Trained, model_dir: Path) -> list[Path]:
    """Write both payloads into `model_dir` (created 700), each file replaced whole."""
    model_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = []
    for name, payload in ((NEEDS_MODEL_FILE, trained.needs), (MODEL_FILE, trained.crisis)):
        path = model_dir / name
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        partial.replace(path)
        written.append(path)
    return written


def local_payload(path: Path | None, base_hash: str) -> dict[str, object] | None:
    """Locally trained weights at `path` when present and valid (this feature version, trained
    on top of the training data whose hash is `base_hash`); else None (logged when present)."""
    if path is None or not path.is_file():
        return None
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        log.warning("trained NLP weights at %s are unreadable: the shipped ones are used", path)
        return None
    if not isinstance(payload, dict) or payload.get("feature_version") != FEATURE_VERSION:
        log.warning(
            "trained NLP weights at %s have another feature version: the shipped ones are used "
            "(run `fuqing nlp train`)",
            path,
        )
        return None
    if payload.get("categories", list(CATEGORIES)) != list(CATEGORIES):
        log.warning("trained NLP weights at %s have other categories: shipped ones used", path)
        return None
    if payload.get("base_hash") != base_hash:
        log.warning(
            "trained NLP weights at %s were trained on other shipped data: the shipped ones are "
            "used (run `fuqing nlp train`)",
            path,
        )
        return None
    return dict(payload)
