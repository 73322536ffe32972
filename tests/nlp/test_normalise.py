"""Normalisation before matching: width, script, case and pinyin/English danger words."""

from __future__ import annotations

import pytest

from bot.nlp.normalise import Normaliser


@pytest.fixture(scope="module")
def normaliser() -> Normaliser:
    """One normaliser for the module (OpenCC and the danger words loaded once)."""
    return Normaliser()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("他拿著菜刀說要砍死我", "他拿着菜刀说要砍死我"),
        ("我不想活了，藥都準備好了", "我不想活了，药都准备好了"),
        ("他把我鎖在房間裡", "他把我锁在房间里"),
        ("ｈｅｌｐ　ｍｅ　１１０", "救救我 110"),
        ("他跟著我，我很著急，著名的公园", "他跟着我，我很着急，著名的公园"),
        ("电话１３８００１３８０００", "电话13800138000"),
        ("JIUMING", "救命"),
        ("jiùmìng", "救命"),
        ("ta yao sha wo", "他要杀我"),
        ("tayaoshawo", "他要杀我"),
        ("Help me, he is hitting me", "救救我, he is 在打我"),
        ("I want to die", "i 想死"),
        ("老公喝醉了，jiu ming", "老公喝醉了，救命"),
    ],
)
def test_normalises(normaliser: Normaliser, text: str, expected: str) -> None:
    """Traditional → simplified, full-width → half-width, Latin lower-cased, danger words mapped."""
    assert normaliser.normalise(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "孩子上幼儿园了，我想出去找份工作",
        "笑死我了，孙子学会叫奶奶了！",
        "想报个班学学育婴？",
    ],
)
def test_plain_simplified_text_is_unchanged(normaliser: Normaliser, text: str) -> None:
    """Simplified Chinese with its full-width punctuation passes through as it is."""
    assert normaliser.normalise(text) == text


@pytest.mark.parametrize("text", ["shampoo", "skill training", "the helpdesk", "passport"])
def test_danger_words_match_whole_words_only(normaliser: Normaliser, text: str) -> None:
    """A danger word inside a longer Latin word is not replaced (sha in shampoo, help in helpdesk)."""
    assert normaliser.normalise(text) == text


def test_case_can_be_kept(normaliser: Normaliser) -> None:
    """With lower=False the Latin keeps its case (ICU) and danger words are still mapped."""
    assert normaliser.normalise("孩子在ICU，HELP ME", lower=False) == "孩子在ICU，救救我"
