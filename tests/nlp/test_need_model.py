"""The need model: shipped weights, deterministic training, and its share in the tagger."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from bot.nlp import NLP, need_train
from bot.nlp.lexicon import DATA_DIR
from bot.nlp.need_model import (
    NEEDS_MODEL_FILE,
    NEEDS_TRAIN_FILE,
    NeedModel,
    needs_hash,
    read_needs_training,
)
from bot.nlp.tagger import NeedTagger

REF = dt.date(2026, 4, 15)


def _small_rows() -> list[tuple[str, tuple[str, ...], str]]:
    """Every 6th row of the training data: enough for five folds of every primary."""
    return [r for i, r in enumerate(read_needs_training()) if i % 6 == 0]


def _chars(text: str) -> list[str]:
    """A stand-in tokenizer (no jieba) for the training tests."""
    return list(text)


def test_shipped_weights_match_the_training_data() -> None:
    """The committed weights were trained on the committed data, with the chosen weights."""
    payload = json.loads((DATA_DIR / NEEDS_MODEL_FILE).read_text(encoding="utf-8"))
    assert payload["hash"] == needs_hash()
    assert (payload["weight"], payload["primary_weight"], payload["floor"]) == (
        need_train.WEIGHT,
        need_train.PRIMARY_WEIGHT,
        need_train.FLOOR,
    )
    cv = payload["cv"]
    assert cv["lexicon_and_model"]["none"] <= cv["lexicon_only"]["none"]


def test_training_data_is_what_build_makes(tmp_path: Path) -> None:
    """needs_train.tsv is what `retrain needs-build` makes from the repository's files now."""
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    counts = need_train.build(data_dir=data)
    built = (data / NEEDS_TRAIN_FILE).read_text(encoding="utf-8")
    assert built == (DATA_DIR / NEEDS_TRAIN_FILE).read_text(encoding="utf-8")
    assert set(need_train.TRAINED_NEEDS_ROUNDS) <= set(counts)


def test_training_is_deterministic() -> None:
    """The same rows give the same weights, weight, floor and figures, in any order."""
    rows = _small_rows()
    first = need_train.train(rows, _chars, data_hash="x")
    second = need_train.train(list(reversed(rows)), _chars, data_hash="x")
    assert first == second


def test_stale_weights_are_retrained_once_then_cached(tmp_path: Path) -> None:
    """Changed training data is trained on first load, then the cached weights are reused."""
    data = tmp_path / "data"
    data.mkdir()
    body = "".join(f"{t}\t{','.join(c)}\t{s}\n" for t, c, s in _small_rows())
    (data / NEEDS_TRAIN_FILE).write_text(body, encoding="utf-8")
    shutil.copy(DATA_DIR / NEEDS_MODEL_FILE, data / NEEDS_MODEL_FILE)  # stale: another hash
    shutil.copy(DATA_DIR / "pinyin_words.tsv", data / "pinyin_words.tsv")
    cache = tmp_path / "cache"
    trained = NeedModel.load(_chars, need_train.train, data_dir=data, cache_dir=cache)
    assert trained.data_hash == needs_hash(data)
    assert len(list(cache.glob("needs_model-*.json"))) == 1

    def no_training(*args: object, **kwargs: object) -> dict[str, object]:
        raise AssertionError("retrained although cached weights match")

    again = NeedModel.load(_chars, no_training, data_dir=data, cache_dir=cache)
    assert again.probabilities("想找工作", list("想找工作")) == trained.probabilities(
        "想找工作", list("想找工作")
    )


def test_the_model_decides_where_the_lexicon_has_no_word() -> None:
    """No lexicon hit: the model's best category is taken at P ≥ floor, not under it."""
    tagger = NeedTagger()
    text = "厂里活干不下去了，我想换个地方挣钱"
    assert tagger.tag("我好累").primary is None
    sure = {
        "jobs": 0.9,
        "health": 0.1,
        "knowledge": 0.1,
        "relief": 0.1,
        "rights": 0.1,
        "other": 0.0,
    }
    unsure = {c: 0.2 for c in sure}
    assert tagger.tag("嗯嗯嗯嗯嗯", model=sure, weight=3.0, floor=0.5).primary == "jobs"
    assert tagger.tag("嗯嗯嗯嗯嗯", model=unsure, weight=3.0, floor=0.5).primary is None
    assert tagger.tag(text, model=sure, weight=0.0, floor=0.5).primary == tagger.tag(text).primary


def test_a_note_saying_there_is_no_need_stays_without_one() -> None:
    """The lexicon's "no need" cue wins over the model's leaning."""
    tagger = NeedTagger()
    leaning = {
        "jobs": 0.1,
        "health": 0.9,
        "knowledge": 0.1,
        "relief": 0.1,
        "rights": 0.1,
        "other": 0.1,
    }
    assert (
        tagger.tag("走访了几户，大家都挺好，暂无需求", model=leaning, weight=3.0, floor=0.3).primary
        is None
    )


@pytest.mark.parametrize(
    ("text", "primary"),
    [
        ("I lost my job at the factory and need to find work near home", "jobs"),
        ("我想學做直播帶貨，有沒有課", "knowledge"),
        ("走访了几户，大家都挺好，暂无需求", None),
    ],
)
def test_needs_in_any_wording_get_a_primary(nlp: NLP, text: str, primary: str | None) -> None:
    """Through analyze(): English and traditional needs are tagged; a no-need note is not."""
    assert nlp.analyze(text, REF).primary == primary


def test_the_request_is_read_apart_from_the_background() -> None:
    """`q:` features come from the clauses that ask; with none asking, from every clause."""
    from bot.nlp.clauses import asking
    from bot.nlp.need_model import request_grams

    told = "以前被老公打过，离婚三年了，现在想找个工作，能不能介绍一下"
    assert asking(told) == ["现在想找个工作", "能不能介绍一下"]
    assert "q:工作" in request_grams(told) and "q:离婚" not in request_grams(told)
    assert asking("学个手艺好找活，我在朝阳区") == ["学个手艺好找活", "我在朝阳区"]
    assert asking("") == [] and request_grams("") == set()


@pytest.mark.parametrize(
    "text, primary, categories",
    [
        # rule 3: money asked for first is relief, the illness second (TAXONOMY's example)
        ("孩子白血病，医药费借遍了亲戚", "relief", ("relief", "health")),
        ("看病的钱实在凑不齐了，能不能申请点救助", "relief", ("relief",)),
        # money told as background, asked after the care, or free does not move the primary
        ("两癌筛查是免费的吗，我四十五了能做吗", "health", ("health",)),
        ("想找个上门护理的，瘫在床上的婆婆我一个人弄不动", "health", ("health",)),
    ],
)
def test_money_moves_the_primary_only_when_asked_first(
    nlp: NLP, text: str, primary: str, categories: tuple[str, ...]
) -> None:
    """The boundary rule 3 reads the first clause that asks, not every money word."""
    reading = nlp.analyze(text, REF)
    assert reading.primary == primary
    assert reading.categories[: len(categories)] == categories
