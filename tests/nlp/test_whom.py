"""Whom a visit note names, how many, and whether it asks for a help request: tables."""

from __future__ import annotations

import pytest

from bot.nlp.numbers import find_count
from bot.nlp.whom import Whom, find_whom, help_in_note, split_count


@pytest.mark.parametrize(
    ("note", "whom"),
    [
        ("今天和单亲妈妈王某（1人）在九龙社区入户走访", Whom("单亲妈妈王某", 1)),
        ("跟刘姐做了一对一访谈", Whom("刘姐", 1)),
        ("和李女士等3人座谈", Whom("李女士", 3)),
        ("看望了张大姐", Whom("张大姐", 1)),
        ("8位全职妈妈参加座谈", Whom("全职妈妈", 8)),
        ("走访了3户低保家庭", Whom("低保家庭", 3)),
        ("两名困难妇女想找工作", Whom("困难妇女", 2)),
        ("三户困难家庭", Whom("困难家庭", 3)),
        ("几位宝妈想找兼职", None),
        ("她有两个孩子，想找工作", None),
        ("王秀英 13812345678", None),
    ],
)
def test_find_whom(note: str, whom: Whom | None) -> None:
    """A pseudonym with its role and count, or a counted group; nothing else."""
    assert find_whom(note) == whom


@pytest.mark.parametrize(
    ("answer", "split"),
    [
        ("王某，1人", ("王某", 1)),
        ("宝妈 5人", ("宝妈", 5)),
        ("宝妈十几人", ("宝妈", 10)),
        ("刘某", ("刘某", None)),
        ("8位全职妈妈", ("全职妈妈", 8)),
    ],
)
def test_split_count(answer: str, split: tuple[str, int | None]) -> None:
    """An answer's name without its count, and the count."""
    assert split_count(answer) == split


@pytest.mark.parametrize(
    ("note", "wants"),
    [
        ("她想找工作，不用建求助单", False),
        ("不需要建单", False),
        ("暂不建单", False),
        ("帮她建个求助单", True),
        ("需要建单", True),
        ("麻烦给她们开一张求助单", True),
        ("她想找工作", None),
        ("帮她建单亲妈妈档案", None),
    ],
)
def test_help_in_note(note: str, wants: bool | None) -> None:
    """Whether the note asks for a help request (None: it does not say)."""
    assert help_in_note(note) is wants


def test_find_count_says_where() -> None:
    """The count and its span."""
    assert find_count("王某等3人") == (3, 3, 5)
