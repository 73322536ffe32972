"""Visit forms and focus groups of a visit note.

`visit_form` is one of the federation's four forms (一对一访谈 · 实地考察 · 座谈交流 ·
结对帮扶), set only when the note names it (`data/visit_forms.tsv`): a generic 走访, 入户 or
看了看 names none. When several are named, the first in the text wins.

`focus` lists the survey focus groups (`data/focus.tsv`): 单亲贫困母亲 needs a single mother
*and* hardship (a hardship word, or relief among the needs); 创业就业 and 帮扶救助 also follow
from the needs (jobs → 创业就业, relief → 帮扶救助); the others come from their words.
"""

from __future__ import annotations

from pathlib import Path

from bot.nlp.lexicon import DATA_DIR, Lexicon

FORMS: tuple[str, ...] = ("一对一访谈", "实地考察", "座谈交流", "结对帮扶")
FOCUS: tuple[str, ...] = ("单亲贫困母亲", "特殊困难妇女", "创业就业", "参选参政", "帮扶救助")


class FormReader:
    """Reads the visit form and focus groups from text."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        self.forms = Lexicon.from_table("visit_forms.tsv", data_dir)
        self.focus = Lexicon.from_table("focus.tsv", data_dir)
        if not self.forms.labels() <= set(FORMS):
            raise ValueError("visit_forms.tsv: unknown form")
        if not self.focus.labels() <= {*FOCUS, "单亲", "困难"}:
            raise ValueError("focus.tsv: unknown focus group")

    def visit_form(self, text: str) -> str | None:
        """The visit form the text names, else None."""
        hits = self.forms.hits(text)
        return hits[0].label if hits else None

    def focus_groups(self, text: str, categories: tuple[str, ...] = ()) -> tuple[str, ...]:
        """Focus groups the text concerns, in the federation's order."""
        labels = {h.label for h in self.focus.hits(text, negation=False)}
        for label in ("单亲", "困难"):
            if self.focus.has(label, text):
                labels.add(label)
        if "单亲" in labels and ("困难" in labels or "relief" in categories):
            labels.add("单亲贫困母亲")
        if "jobs" in categories:
            labels.add("创业就业")
        if "relief" in categories:
            labels.add("帮扶救助")
        return tuple(f for f in FOCUS if f in labels)
