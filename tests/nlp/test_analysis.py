"""The NLP façade: loading, purity, the JSON shape and segmentation."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from bot.nlp import NLP, Analysis, PlaceUnit

REF = dt.date(2026, 3, 18)
NOTE = "昨天在朝阳双井九龙社区跟王姐一对一访谈，她想找工作，电话13912345678"


def test_to_json_shape(nlp: NLP) -> None:
    """to_json has the TAXONOMY keys in order, then self_harm and id_numbers."""
    out = nlp.analyze(NOTE, REF).to_json()
    assert list(out) == [
        "text",
        "primary",
        "categories",
        "crisis",
        "safety_check",
        "date",
        "district",
        "street",
        "community",
        "visit_form",
        "focus",
        "phones",
        "self_harm",
        "id_numbers",
    ]
    assert out["date"] == "2026-03-17"
    assert out["district"] == "朝阳区"
    assert out["street"] == "双井街道"
    assert out["community"] == "九龙社区"
    assert out["visit_form"] == "一对一访谈"
    assert out["primary"] == "jobs"
    assert out["categories"] == ["jobs"]
    assert out["crisis"] is False
    assert out["safety_check"] is False
    assert out["focus"] == ["创业就业"]
    assert out["phones"] == ["13912345678"]
    assert out["crisis"] is False


def test_empty_analysis(nlp: NLP) -> None:
    """A greeting gives nulls and empty lists."""
    out = nlp.analyze("你好", REF).to_json()
    assert out["primary"] is None and out["categories"] == [] and out["date"] is None
    assert out["phones"] == [] and out["id_numbers"] == [] and out["focus"] == []


def test_analyze_is_repeatable(nlp: NLP) -> None:
    """The same text and ref give an equal, frozen Analysis every time."""
    first = nlp.analyze(NOTE, REF)
    assert nlp.analyze(NOTE, REF) == first
    assert isinstance(first, Analysis)


def test_segment_keeps_domain_words(nlp: NLP) -> None:
    """The private tokenizer keeps place names and domain terms whole."""
    words = nlp.segment("朝阳双井 两癌筛查 人身安全保护令")
    assert "双井" in words
    assert "两癌筛查" in words
    assert "人身安全保护令" in words
    assert " " not in words


def test_load_uses_cache_dir(units: list[PlaceUnit], tmp_path: Path) -> None:
    """NLP.load writes jieba's cache where it is told and reuses it (load time: bench/nlp.py)."""
    NLP.load(units, cache_dir=tmp_path)
    cache = tmp_path / "jieba.cache"
    assert cache.exists()
    written = cache.stat().st_mtime_ns
    NLP.load(units, cache_dir=tmp_path)
    assert cache.stat().st_mtime_ns == written  # read, not rebuilt


def test_import_loads_nothing() -> None:
    """Importing bot.nlp imports neither jieba nor reads data."""
    code = "import sys, bot.nlp; print('jieba' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
    )
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "text, pair",
    [
        ("培训完能找活吗", ("knowledge", "jobs")),  # training and work, nearly equal
        ("想找一份离家近的保洁工作", None),  # clear
        ("我老公打我", None),  # a crisis: rights, never asked
        ("你们上次的活动挺好的", None),  # other stands alone
    ],
)
def test_close_pair(nlp: NLP, text: str, pair: tuple[str, str] | None) -> None:
    """The primary and the runner-up are offered only when they scored that close."""
    assert nlp.analyze(text, REF).close_pair() == pair


def test_places_are_read_in_simplified(nlp: NLP) -> None:
    """朝陽區雙井街道 is 朝阳区双井街道, in the analysis and in an answer's place."""
    analysis = nlp.analyze("我住朝陽區雙井街道", REF)
    assert (analysis.district, analysis.street) == ("朝阳区", "双井街道")
    assert nlp.match_places("朝陽區雙井街道")[:2] == ("朝阳区", "双井街道")


def test_her_words_are_her_text_not_a_pattern(nlp: NLP) -> None:
    """The word offered back to her is what she wrote, even where a pattern matched it."""
    words = dict(nlp.analyze("乳腺癌复查都正常，想回去上班", REF).need_words)
    assert words["jobs"] == "想回去上班"
    assert not any(word.startswith("re:") for word in words.values())
