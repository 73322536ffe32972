"""Need tagger: weighted keyword lexicons plus the TAXONOMY boundary rules.

`data/needs.tsv` gives, per category, terms with weights 1–3 (plain substrings or regexes),
including colloquial forms (找活, 打零工, 没钱看病, 挣钱). The longest hit wins where hits
overlap, and a hit right after 不需要/不用/不想 is dropped (see `lexicon.py`). Each category
scores the sum of its hits. Cue labels in the same file (matched on their own) drive the
boundary rules, applied in the TAXONOMY order:

1. a concrete dispute (a weight-3 rights hit in a clause that asks, `clauses.asking`) makes
   `rights` primary even with a law question, unless she is asking to apply for relief; a
   dispute told as the story before her request ("以前被打过，离婚了，现在想找个活") does not;
   a *general* question (随便问问, 想了解, 普法讲座, 写论文用) moves rights words to `knowledge`;
2. training towards a job is `knowledge` + `jobs`, the primary being the higher score (what
   she asks for; a tie goes to `knowledge`, the training she names);
3. money is `relief`: with money asked for first (a money word in her first clause that asks,
   `clauses.asking`), relief outranks the illness it is for, and health becomes the second tag;
   money told as background ("看病花了不少钱，想问哪家医院看得好"), asked after the care ("想找
   上门护理，费用能不能减免") or free (免费筛查) does not move the primary;
4. a *lecture* cue (讲座, 课, 科普) turns health topics into `knowledge`, unless she also asks
   for care (看医生, 哪家医院);
5. `other` is never combined with another category; thanks with no request is `other`.

A crisis puts `rights` first, or `health` when the danger is to herself (self-harm words are
also health terms, so she is routed to health even if the crisis detector misses). No hit at
all, or a note saying there is no need, gives primary None.

The need model (`need_model.py`, issue 15) adds `weight × P(category)` to the lexicon's
scores before the rules, and where no term hits at all it names the primary when it is sure
enough (P ≥ floor): the errors on unseen text were mostly *no hit at all* (traditional
characters, English, pinyin, new phrasings), which no lexicon keeps up with. The rules stay on
top of both, because the TAXONOMY boundaries are ordered decisions a linear model cannot
express. The lexicon's history: extending it with word families (上个班/找个半天班, 招…员, 支个摊,
愁卖, 没进项, 上顿没下顿, 穷得, …费欠, 岗位被顶, 被…摸, 让我辞职, 周六上班吗, 竞选) and fixing
misfiring rules measured, primary / micro-F1: own challenge set `tests/data/needs_own.tsv`
0.786 / 0.861 → 0.973 / 0.988; dev set 0.961 / 0.970 → 0.964 / 0.973; a 48-row set written
afterwards and scored before any fix for it 0.771 / 0.844 → 0.812 / 0.870. Coverage, not the
weighting, was the limit — hence the model.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.nlp.categories import CATEGORIES, Category
from bot.nlp.clauses import asking
from bot.nlp.lexicon import DATA_DIR, Hit, Lexicon, read_table

#: tie-break order: the more serious need first; training before the job it leads to
_PRIORITY: tuple[Category, ...] = (
    Category.RIGHTS,
    Category.RELIEF,
    Category.HEALTH,
    Category.KNOWLEDGE,
    Category.JOBS,
    Category.OTHER,
)
CUES: tuple[str, ...] = (
    "lecture",
    "general",
    "training",
    "apply",
    "money",
    "thanks",
    "ask",
    "noneed",
)

#: a second category needs at least this score, and this share of the primary's
SECOND_MIN = 2.0
SECOND_SHARE = 0.3
#: ... or a word of its own and the need model this sure of it
SECOND_SURE = 0.8
#: English need words → Chinese (the tagger reads them; the crisis readers do not)
ENGLISH_FILE = "need_words_en.tsv"
_LATIN = re.compile("[A-Za-z]")
#: rule 2 adds `jobs` to training only on clear job evidence, not a lone 种植/会计 (weight 1)
TRAINING_JOBS_MIN = 2.0


@dataclass(frozen=True)
class Tagging:
    """The need reading of one text: primary (or None), categories, and the evidence."""

    primary: str | None
    categories: tuple[str, ...]
    scores: dict[str, float]
    hits: tuple[Hit, ...]
    #: the text the hits' spans index (English need words read in Chinese)
    read: str = ""

    def words(self) -> tuple[tuple[str, str], ...]:
        """(category, her words) of the heaviest hit of each category, in the order first seen:
        the span of her text it matched (a pattern's term is no word of hers)."""
        best: dict[str, Hit] = {}
        for hit in self.hits:
            if hit.label not in best or hit.weight > best[hit.label].weight:
                best[hit.label] = hit
        return tuple((label, self.read[h.start : h.end] or h.term) for label, h in best.items())


class NeedTagger:
    """Scores need categories from `needs.tsv` and applies the boundary rules."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        self.lexicon = Lexicon.from_table("needs.tsv", data_dir, labels=CATEGORIES)
        self.cues = Lexicon.from_table("needs.tsv", data_dir, labels=CUES)
        every = {label for label, _term, _weight in read_table("needs.tsv", 3, data_dir)}
        unknown = every - set(CATEGORIES) - set(CUES)
        if unknown:
            raise ValueError(f"needs.tsv: unknown labels {sorted(unknown)}")
        self._english_map = {en.lower(): zh for en, zh in read_table(ENGLISH_FILE, 2, data_dir)}
        words = sorted(self._english_map, key=len, reverse=True)
        self._english = re.compile(
            r"(?<![A-Za-z])(" + "|".join(map(re.escape, words)) + r")(?:e?s)?(?![A-Za-z])",
            re.IGNORECASE | re.ASCII,  # Unicode folding would match ſ for s: no such key
        )

    def english(self, text: str) -> str:
        """text with the English need words of `data/need_words_en.tsv` in Chinese."""
        if not _LATIN.search(text):
            return text
        return self._english.sub(lambda m: self._english_map[m.group(1).lower()], text)

    def scores(self, text: str) -> tuple[dict[str, float], set[str], list[Hit]]:
        """Category scores, the cues present, and the category hits behind the scores (English
        need words read in Chinese first)."""
        return self._scores(self.english(text))

    def _scores(self, text: str) -> tuple[dict[str, float], set[str], list[Hit]]:
        """`scores` of a text whose English need words are already read in Chinese."""
        hits = self.lexicon.hits(text)
        score: dict[str, float] = defaultdict(float)
        for h in hits:
            score[h.label] += h.weight
        cues = {h.label for h in self.cues.hits(text, negation=False)}
        # cues overlap each other ("讲座" is lecture and general); look for each on its own
        for label in CUES:
            if label not in cues and self.cues.has(label, text):
                cues.add(label)
        return {c: score.get(c, 0.0) for c in CATEGORIES}, cues, hits

    def _asks_about(self, category: str, read: str) -> bool:
        """Whether a clause that asks (`clauses.asking`) has a decisive (weight-3) word of
        `category` (rule 1: the dispute she asks about, not one told as the story before).
        `read` has its English need words in Chinese already."""
        return any(
            h.weight >= 3 and h.label == category
            for clause in asking(read)
            for h in self.lexicon.hits(clause)
        )

    def _asks_money(self, read: str) -> bool:
        """Whether her first clause that asks (`clauses.asking`) names money (rule 3)."""
        first = asking(read)[:1]
        return bool(first) and self.cues.has("money", first[0])

    def tag(
        self,
        text: str,
        *,
        crisis: bool = False,
        self_harm: bool = False,
        model: Mapping[str, float] | None = None,
        weight: float = 0.0,
        floor: float = 1.0,
        primary: Mapping[str, float] | None = None,
        primary_weight: float = 0.0,
    ) -> Tagging:
        """Primary need and categories (primary first) of a text.

        `model` holds the need model's P(category among hers) and `primary` its P(her primary)
        (`need_model.py`): `weight × P + primary_weight × P(primary)` (in half points) is added
        to each category's score before the rules, so the models choose the primary where the
        words are missing or weak, or told as background; with no lexicon hit at all they count
        only at P ≥ floor. Second categories still need words of their own (the lexicon's score).
        """
        read = self.english(text)  # once: the hits, the rules and her words all index it
        s, cues, hits = self._scores(read)
        strongest: dict[str, float] = {
            c: max((h.weight for h in hits if h.label == c), default=0.0) for c in CATEGORIES
        }
        if "general" in cues and s["rights"] > 0 and not crisis:
            s["knowledge"] += max(2.0, s["rights"] * 0.5)
            s["rights"] *= 0.3
            strongest["rights"] = 0.0
        if "lecture" in cues and s["health"] > 0 and strongest["health"] < 3 and not crisis:
            s["knowledge"] += 1.0
            s["health"] *= 0.5
        lex = dict(s)  # the lexicon's scores: second categories need words of their own
        lexical = max(lex.values())
        if model is not None and (lexical > 0 or max(model.values()) >= floor):
            # in half points, like the lexicon's weights: a lexicon tie stays a tie for its rule
            for category in CATEGORIES:
                said = primary_weight * primary[category] if primary is not None else 0.0
                s[category] += round(2 * (weight * model[category] + said)) / 2
        order: list[str] = sorted(CATEGORIES, key=lambda c: (-s[c], _PRIORITY.index(c)))
        top = order[0]
        if self_harm:
            top = "health"
        elif crisis:
            top = "rights"
        elif s[top] <= 0 or ("noneed" in cues and lexical < 3):
            return Tagging(None, (), s, tuple(hits), read)
        elif "thanks" in cues and "ask" not in cues:
            top = "other"
        elif (
            strongest["rights"] >= 3
            and "apply" not in cues
            and top != "rights"
            and self._asks_about("rights", read)
        ):
            top = "rights"
        elif top == "health" and s["relief"] > 0 and self._asks_money(read):
            top = "relief"
        if top == "other":
            return Tagging("other", ("other",), s, tuple(hits), read)
        cats = [top]
        second = 3.0 if self_harm else SECOND_MIN
        for c in order:
            if c in cats or c == "other":
                continue
            sure = model is not None and lex[c] > 0 and model[c] >= SECOND_SURE
            if sure or (lex[c] >= second and lex[c] >= SECOND_SHARE * lexical):
                cats.append(c)
        if top == "rights" and strongest["rights"] >= 3 and "training" not in cues:
            cats = [c for c in cats if c != "knowledge"]  # rule 1: her law question is rights
        if top == "relief" and "health" not in cats and strongest["health"] >= 2:
            cats.append("health")
        if (
            "training" in cues
            and top in {"jobs", "knowledge"}
            and lex["jobs"] >= TRAINING_JOBS_MIN
            and lex["knowledge"] > 0
        ):
            cats.extend(c for c in ("knowledge", "jobs") if c not in cats)
        return Tagging(top, tuple(cats), s, tuple(hits), read)
