"""Normalisation before matching: width, script, case and pinyin/English danger words."""

from __future__ import annotations

from pathlib import Path

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
        ("He kicked me and he is choking me", "he 踢我 and he is 掐我脖子"),
        ("his dad keeps beating him", "his dad keeps 在打他"),
        ("she swallows pills", "she 吞了 药"),
        ("the heroine jumped off", "the 女主 跳下去"),
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("佢啱啱饮醉咗，而家仲喺屋企揼我", "他刚刚喝醉了，现在还在家打我"),
        ("我唔敢返屋企", "我不敢返家"),
        ("侬晓得伐，伊讲今朝要打我", "你晓得伐，他讲今天要打我"),
        ("伊拍我，我走袂出去", "他打我，我走不出去"),
        ("佢哋唔俾我走", "他们不让我走"),
        ("隔壁囡仔这马犹咧予老爸拍", "隔壁孩子现在还在予老爸打"),
    ],
)
def test_dialect_words_become_mandarin(normaliser: Normaliser, text: str, expected: str) -> None:
    """Cantonese, Wu and Min Nan words are read as the Mandarin the lexicon and model know."""
    assert normaliser.normalise(text) == expected


@pytest.mark.parametrize(
    "text",
    ["我想申请劳动仲裁", "伊朗的新闻", "阿拉伯语培训班", "拍照的手艺", "削苹果给孩子吃"],
)
def test_dialect_words_need_their_context(normaliser: Normaliser, text: str) -> None:
    """Mandarin words that share a character with a dialect word stay as they are."""
    assert normaliser.normalise(text) == text


@pytest.mark.parametrize("text", ["killer whale", "the skills class", "a helpful hint"])
def test_inflections_are_words_not_prefixes(normaliser: Normaliser, text: str) -> None:
    """An English word that only starts like a danger word (killer, skills) is not one."""
    assert normaliser.normalise(text) == text


def test_the_inflection_table_is_current(tmp_path: Path) -> None:
    """data/danger_inflections.tsv is what `retrain inflections` builds from danger_words.tsv
    (a danger word added without rebuilding it would be matched in one form only)."""
    from bot.nlp.inflections_build import table
    from bot.nlp.lexicon import DATA_DIR

    shipped = (DATA_DIR / "danger_inflections.tsv").read_text(encoding="utf-8")
    assert table(DATA_DIR) == shipped


def test_snowball_is_not_loaded_at_run_time() -> None:
    """The stemmer is a build step: a normaliser in a fresh interpreter does not import it."""
    import subprocess
    import sys

    code = "import sys; from bot.nlp.normalise import Normaliser; Normaliser(); "
    code += "print('snowballstemmer' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
