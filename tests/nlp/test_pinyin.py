"""Pinyin read back into Chinese: runs of pinyin become the Chinese the crisis readers know."""

from __future__ import annotations

import pytest

from bot.nlp.pinyin import PinyinReader


@pytest.fixture(scope="module")
def reader() -> PinyinReader:
    """One reader for the module (the table loaded once)."""
    return PinyinReader()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ta na zhe dao shuo yao kan si wo", "他拿着刀说要砍死我"),
        ("wo laogong jin wan hui lai yao nong si wo", "我老公今晚回来要弄死我"),
        ("ta ba wo guan zai jia li bu rang wo chu men", "他把我关在家里不让我出门"),
        ("wo bu xiang huo le", "我不想活了"),
        ("hai zi fa shao le zen me ban?", "孩子发烧了怎么办？"),
        ("我老公 na zhe dao", "我老公 拿着刀"),
        ("na ge ren zai shequ gongzuo", "那个人在社区工作"),
        ("想si", "想死"),
        ("他要sha我", "他要杀我"),
    ],
)
def test_pinyin_is_read_as_chinese(reader: PinyinReader, text: str, expected: str) -> None:
    """Spaced syllables and joined words alike, punctuation as Chinese, Chinese kept."""
    assert reader.read(text) == expected


@pytest.mark.parametrize(
    "text", ["he is going to kill me tonight", "i need a job, any ideas?", "ok", "PICC"]
)
def test_english_is_left_alone(reader: PinyinReader, text: str) -> None:
    """A text whose Latin words are mostly not pinyin is not read as pinyin."""
    assert reader.read(text) == text


def test_syllables_split_joined_words(reader: PinyinReader) -> None:
    """A joined word splits into its fewest syllables; a non-pinyin word gives None."""
    assert reader.syllables("nazhedao") == ["na", "zhe", "dao"]
    assert reader.syllables("knife") is None
