"""The six need categories of TAXONOMY.md, once: every list of categories derives from `Category`.

The order is TAXONOMY.md's (and the menu's). Members are strings, so stored rows and JSON keep
the plain codes (`"jobs"`) and compare equal to them. Their Chinese labels are in `bot/texts.py`
(`CATEGORY_LABELS`), their answer words in `bot/nlp/data/`.
"""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """A need category: 岗位, 健康, 知识, 帮扶, 维权 or 其他."""

    JOBS = "jobs"
    HEALTH = "health"
    KNOWLEDGE = "knowledge"
    RELIEF = "relief"
    RIGHTS = "rights"
    OTHER = "other"


CATEGORIES: tuple[Category, ...] = tuple(Category)
