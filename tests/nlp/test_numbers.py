"""Chinese numerals and counts of people."""

from __future__ import annotations

import pytest

from bot.nlp import chinese_to_int, parse_count


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("十二", 12),
        ("三十", 30),
        ("两", 2),
        ("二十一", 21),
        ("15", 15),
        ("十", 10),
        ("一百零五", 105),
        ("三百五", 350),
        ("两万", 20000),
        ("一万二", 12000),
        ("１５", 15),
        ("二〇二六", 2026),
        ("俩", 2),
        ("", None),
        ("几", None),
        ("十二a", None),
    ],
)
def test_chinese_to_int(text: str, value: int | None) -> None:
    """Chinese and Arabic numerals read as integers; unreadable text gives None."""
    assert chinese_to_int(text) == value


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("3位", 3),
        ("十几位宝妈", 10),
        ("两个人", 2),
        ("王某", None),
        ("一户", 1),
        ("来了二十多个妇女", 20),
        ("走访了三户", 3),
        ("几位大姐", None),
        ("一家五口", 5),
        ("五位姐妹", 5),
        ("12", 12),
        ("李某某和她女儿", None),
    ],
)
def test_parse_count(text: str, count: int | None) -> None:
    """How many people a text names; a lower bound for 十几/二十多, None when unsaid."""
    assert parse_count(text) == count


@pytest.mark.parametrize("text", ["³", "²个", "¹²人"])
def test_superscripts_are_no_counts(text: str) -> None:
    """Digit-like characters int() cannot read give no number instead of an error."""
    assert chinese_to_int(text) is None
    parse_count(text)  # does not raise
