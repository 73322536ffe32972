"""Crisis detection: present danger and suicidal intent.

Missing a crisis is the worst error the project can make, so the detector is built for
recall. It works on regular expressions from `data/crisis.tsv`, in four steps:

1. *traps* are blanked out first: colloquial 死 (笑死, 累死了, 想死你们了), 打 that is not
   violence (打工, 打疫苗, 打电话) and words someone else said in quotes ("你咋不去死");
2. *self* patterns (不想活了, 一了百了, 吃了一整瓶安眠药, 跳楼, 割腕 …) make a self-harm crisis;
3. *danger* patterns (救命, 正在打, a weapon in hand, 砸门, locked in, followed right now …)
   make a crisis whatever else the text says;
4. *threat* patterns (打我, 家暴, 跟踪 …) make a crisis unless a *past* marker says it has
   ended (之前/以前/离婚三年了/搬出来/挺安全) and no *now* marker says it is back
   (现在还/刚才/又/正在). Protection-order questions with no present threat stay false.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.nlp.lexicon import DATA_DIR, Lexicon, read_table


@dataclass(frozen=True)
class Safety:
    """The crisis reading of one text."""

    crisis: bool
    self_harm: bool


class CrisisDetector:
    """Regex-based crisis detector loaded from `crisis.tsv`."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        rows = read_table("crisis.tsv", 2, data_dir)
        expected = {"trap", "self", "danger", "threat", "past", "now"}
        if {kind for kind, _ in rows} != expected:
            raise ValueError(f"crisis.tsv must define exactly {sorted(expected)}")
        traps = [f"(?:{pattern})" for kind, pattern in rows if kind == "trap"]
        self._trap = re.compile("|".join(traps))
        # The other kinds are asked "does any pattern match?": a Lexicon answers that by trying
        # each pattern only where the text has a character it can start with.
        self._kinds = Lexicon(
            (kind, f"re:{pattern}", 1.0) for kind, pattern in rows if kind != "trap"
        )

    def check(self, text: str) -> Safety:
        """Whether text shows a crisis now, and whether the danger is to herself."""
        clean = self._trap.sub(lambda m: "＿" * len(m.group(0)), text)
        kinds = self._kinds.labels_in(clean)
        if "self" in kinds:
            return Safety(crisis=True, self_harm=True)
        if "danger" in kinds:
            return Safety(crisis=True, self_harm=False)
        if "threat" in kinds:
            ended = "past" in kinds and "now" not in kinds
            return Safety(crisis=not ended, self_harm=False)
        return Safety(crisis=False, self_harm=False)
