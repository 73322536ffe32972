"""The private jieba tokenizer: its cache, read our way, gives jieba's own segmentation."""

from __future__ import annotations

import stat
from pathlib import Path

from bot.nlp.segment import CACHE_FILE, Segmenter

TEXTS = [
    "朝阳双井 两癌筛查 人身安全保护令",
    "我想找一份离家近的保洁工作，最好在朝阳区双井街道",
    "走访了王大姐家，她丈夫经常打她，已经报警了",
    "孩子上学的事情想咨询一下妇联",
]


def test_the_cache_read_at_once_segments_as_jieba_does(tmp_path: Path) -> None:
    """A tokenizer filled from the cache file (one read) cuts words exactly as the one jieba
    initialised itself (which built the dictionary and wrote the cache)."""
    built = Segmenter.build(["两癌筛查"], cache_dir=tmp_path)  # no cache yet: jieba builds it
    assert (tmp_path / CACHE_FILE).exists()
    read = Segmenter.build(["两癌筛查"], cache_dir=tmp_path)  # the cache, read at once
    for text in TEXTS:
        assert read.segment(text) == built.segment(text)
    assert "两癌筛查" in read.segment(TEXTS[0])


def test_a_broken_cache_is_rebuilt(tmp_path: Path) -> None:
    """A truncated cache file is not trusted: jieba rebuilds the dictionary and rewrites it."""
    Segmenter.build([], cache_dir=tmp_path)
    cache = tmp_path / CACHE_FILE
    cache.write_bytes(cache.read_bytes()[:1000])
    segmenter = Segmenter.build(["两癌筛查"], cache_dir=tmp_path)
    assert "两癌筛查" in segmenter.segment("她去做了两癌筛查")
    assert cache.stat().st_size > 1_000_000


def test_the_cache_is_its_owners_only(tmp_path: Path) -> None:
    """The cache directory made for jieba is 700 and the cache file it writes 600."""
    cache = tmp_path / "jieba"
    Segmenter.build([], cache_dir=cache)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE((cache / CACHE_FILE).stat().st_mode) == 0o600
