"""Learning from staff (bot/nlp/learn.py): corrections merged into the training rows, and the
locally trained weights the NLP prefers while they are valid."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.nlp import NLP, PlaceUnit
from bot.nlp.crisis_model import MODEL_FILE, training_hash
from bot.nlp.learn import SOURCE, Example, local_payload, merge_crisis, merge_needs
from bot.nlp.lexicon import DATA_DIR
from bot.nlp.need_model import NEEDS_MODEL_FILE, needs_hash

NEEDS = [
    ("想找工作", ("jobs",), "dev"),
    ("孩子发烧了", ("health",), "dev"),
]
CRISIS = [
    ("他又喝醉了，我好怕", "safety_check", "extra"),
    ("他拿刀要砍我", "crisis", "extra"),
    ("想学做饭", "none", "dev"),
]


@pytest.mark.parametrize(
    ("examples", "expected"),
    [
        ([], NEEDS),
        (
            [Example("想找工作 ", ("knowledge", "jobs"), False)],
            [("孩子发烧了", ("health",), "dev"), ("想找工作", ("knowledge", "jobs"), SOURCE)],
        ),
        (
            [Example("新的话", ("relief",), False), Example("新的话", ("rights",), True)],
            [*NEEDS, ("新的话", ("rights",), SOURCE)],
        ),
        ([Example("新的话", ("money",), False), Example(" ", ("jobs",), False)], NEEDS),
    ],
)
def test_corrections_join_the_need_rows(
    examples: list[Example], expected: list[tuple[str, tuple[str, ...], str]]
) -> None:
    """Staff's labels replace a text's shipped ones, a later correction wins; unknown
    categories and empty texts are left out."""
    assert merge_needs(NEEDS, examples) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "crisis", "label"),
    [
        ("想学做饭", True, "crisis"),
        ("他拿刀要砍我", False, "none"),
        ("他又喝醉了，我好怕", False, "safety_check"),
        ("他又喝醉了，我好怕", True, "crisis"),
        ("一句新的话", False, "none"),
        ("一句新的话", True, "crisis"),
    ],
)
def test_corrections_join_the_crisis_rows(text: str, crisis: bool, label: str) -> None:
    """Crisis → `crisis`; not a crisis → `none`, but a shipped safety check stays one."""
    rows = {
        t: (lab, src) for t, lab, src in merge_crisis(CRISIS, [Example(text, ("jobs",), crisis)])
    }
    assert rows[text] == (label, SOURCE)
    assert len(rows) == len(CRISIS) + (text not in {t for t, _, _ in CRISIS})


def _write(path: Path, **changes: object) -> Path:
    """The shipped need weights as if trained locally on the shipped data, with `changes`."""
    payload = json.loads((DATA_DIR / NEEDS_MODEL_FILE).read_text(encoding="utf-8"))
    payload.update(hash="local:test", base_hash=needs_hash(), corrections=3)
    payload.update(changes)
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("changes", "valid"),
    [
        ({}, True),
        ({"feature_version": "0"}, False),
        ({"base_hash": "another release's data"}, False),
        ({"categories": ["jobs"]}, False),
    ],
)
def test_local_weights_are_used_only_while_valid(
    tmp_path: Path, changes: dict[str, object], valid: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """Another feature version, other shipped data or other categories: not used, and said."""
    path = _write(tmp_path / NEEDS_MODEL_FILE, **changes)
    with caplog.at_level(logging.WARNING, logger="bot.nlp.learn"):
        found = local_payload(path, needs_hash())
    assert (found is not None) == valid
    assert bool(caplog.records) == (not valid)


def test_missing_or_unreadable_weights_are_not_used(tmp_path: Path) -> None:
    """No file, no directory, or a broken file: the shipped weights are used."""
    assert local_payload(None, needs_hash()) is None
    assert local_payload(tmp_path / "absent.json", needs_hash()) is None
    broken = tmp_path / NEEDS_MODEL_FILE
    broken.write_text("{not json", encoding="utf-8")
    assert local_payload(broken, needs_hash()) is None


def test_the_nlp_prefers_valid_local_weights(tmp_path: Path, units: list[PlaceUnit]) -> None:
    """NLP.load reads the model dir's weights when valid; a stale crisis file there is ignored."""
    _write(tmp_path / NEEDS_MODEL_FILE)
    crisis = json.loads((DATA_DIR / MODEL_FILE).read_text(encoding="utf-8"))
    crisis.update(hash="local:stale", base_hash="old", corrections=3)
    (tmp_path / MODEL_FILE).write_text(json.dumps(crisis), encoding="utf-8")
    loaded = NLP.load(units, model_dir=tmp_path)
    assert loaded.model_hashes == (training_hash(), "local:test")
    assert NLP.load(units).model_hashes == (training_hash(), needs_hash())
