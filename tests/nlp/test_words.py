"""bot/nlp/words.py: the words people type, read from data/words.toml."""

from __future__ import annotations

import pytest

from bot.nlp.categories import Category
from bot.nlp.forms import FOCUS, FORMS
from bot.nlp.words import alternation, pattern, sections, table, words


def test_words_are_a_tuple_in_file_order() -> None:
    """A key's words come back as a tuple, canonical word first."""
    assert words("commands", "cancel")[0] == "取消"
    assert isinstance(words("commands", "cancel"), tuple)


def test_a_sub_table_keeps_its_order() -> None:
    """A dotted section is a sub-table; its keys keep the file's order (choices are numbered)."""
    assert tuple(table("visit_report.forms")) == FORMS
    assert tuple(table("visit_report.focus")) == FOCUS


def test_category_words_cover_every_category() -> None:
    """Each `Category` has its (possibly empty) list of answer words, in the enum's order."""
    assert tuple(table("help_request.categories")) == tuple(c.value for c in Category)


def test_unknown_names_raise() -> None:
    """A misspelt section or key is a KeyError, not an empty list."""
    with pytest.raises(KeyError):
        words("commands", "cancle")
    with pytest.raises(KeyError):
        table("no_such_section")
    with pytest.raises(KeyError):
        pattern("no_such_pattern")


@pytest.mark.parametrize(
    ("name", "text", "group"),
    [
        ("contact_point", "联系点 九龙社区", "九龙社区"),
        ("pair", "结对 王某 九龙社区", "王某 九龙社区"),
        ("pair", "结对帮扶 王某", None),
        ("onboarding", "绑定 ABCD2345", ""),
    ],
)
def test_patterns(name: str, text: str, group: str | None) -> None:
    """The [patterns] regexes read the argument of a command, and refuse a visit note."""
    match = pattern(name).match(text)
    if group is None:
        assert match is None
    else:
        assert match is not None and (match.group(1) if match.groups() else "") == group


def test_alternation_escapes_each_word() -> None:
    """Words are regex-escaped and joined in order."""
    assert alternation(("修改", "?")) == "修改|\\?"


def test_sections_lists_every_word_table() -> None:
    """Every section holding word lists is named, sub-tables dotted."""
    found = sections()
    assert {"commands", "answers", "visit_report", "visit_report.aliases"} <= set(found)
    assert "patterns" not in found
