"""The six categories exist once (`Category`); TAXONOMY.md, the texts, the help-request form and
the staff API all agree with it."""

from __future__ import annotations

import re
from pathlib import Path

from bot import texts
from bot.flows.help_request import CATEGORY_CHOICES
from bot.nlp.categories import CATEGORIES, Category

TAXONOMY = (Path(__file__).parents[2] / "docs" / "TAXONOMY.md").read_text(encoding="utf-8")


def test_the_taxonomy_table_lists_the_categories_in_order() -> None:
    """TAXONOMY.md's table rows (`| \\`jobs\\` | 岗位 |`) are the enum, in its order, with its labels."""
    rows = re.findall(r"^\| `([a-z]+)` \| (\S+) \|", TAXONOMY, re.M)
    assert [code for code, _label in rows] == [c.value for c in CATEGORIES]
    assert {code: label for code, label in rows} == texts.CATEGORY_LABELS


def test_the_form_offers_each_category_once_in_order() -> None:
    """The help-request form's choices are the categories, labelled as in the texts."""
    assert [c.value for c in CATEGORY_CHOICES] == list(Category)
    assert [c.label for c in CATEGORY_CHOICES] == [texts.CATEGORY_LABELS[c] for c in Category]


def test_a_category_is_its_plain_code() -> None:
    """Stored rows and JSON keep the plain code: the member equals, hashes and prints as it."""
    assert Category("relief") is Category.RELIEF and Category.RELIEF == "relief"
    assert {"relief": 1}[Category.RELIEF] == 1 and f"{Category.RELIEF}" == "relief"
    assert texts.category_labels(["jobs", Category.KNOWLEDGE]) == "岗位、知识"
