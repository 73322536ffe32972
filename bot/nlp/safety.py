"""Crisis detection: present danger and suicidal intent.

Missing a crisis is the worst error the project can make, so the detector is built for
recall. It works on regular expressions from `data/crisis.tsv`, in four steps:

1. *traps* are blanked out first: colloquial 死 (笑死, 累死了, 想死你们了), 打 that is not
   violence (打工, 打疫苗, 打电话) and words someone else said in quotes ("你咋不去死");
   the traps are one alternation, tried only where a character a trap can start with occurs
   (so every trap must start with a literal character or a class of them);
2. *self* patterns (不想活了, 一了百了, 吃了一整瓶安眠药, 跳楼, 割腕 …) make a self-harm crisis,
   unless every clause holding one is in the past (as danger, step 3: "我妈前年想不开过");
   for both, a past marker inside the hit dates nothing (胰岛素不打了), a clause that renews
   what it tells is not past (上周开始…, 又…), and a past time said earlier in the sentence
   dates the later clauses (`clauses.sentences`: "去年她想不开，吞了药，幸好发现得早");
3. *danger* patterns (救命, 正在打, a weapon in hand, 砸门, locked in, followed right now …)
   make a crisis whatever else the text says, unless every clause holding one is in the past
   (a past marker and no now marker in that clause: "那年被他推下楼梯" is a past near-miss);
   such a past danger is then read as a threat (step 4);
4. *threat* patterns (打我, 家暴, 跟踪 …) make a crisis unless a *past* marker says it has
   ended (之前/以前/离婚三年了/搬出来/挺安全) and no *now* marker says it is back
   (现在还/刚才/又/正在). The past is scoped by clause (`clauses.py`): a threat in a clause
   with no past marker in it or after it is live whatever an earlier clause says ("以前他打过
   我，他说要弄死我"). Protection-order questions with no present threat stay false;
   Violence named as a topic (家暴, 虐待 in a question or a policy) is no threat: the patterns
   want a victim or an actor beside it; "not my own case" (帮朋友问, 我们家没这事) is a past
   marker;
   A character in a story or a show (女主, 剧里) and "what to do when …" (…的时候怎么办) are
   past markers too: not her danger now;
5. *signal* patterns (怕他, 我该不该走, 他又喝醉了, harm said without a time …) are danger
   signals without enough to be sure:
   `signal` is set, and the caller may ask whether she is safe (TAXONOMY's safety_check).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.nlp.clauses import clauses, opens_turn, renews, sentences, sets_past_time
from bot.nlp.lexicon import DATA_DIR, Lexicon, first_chars, read_table
from bot.nlp.normalise import DialectReader


@dataclass(frozen=True)
class Safety:
    """The crisis reading of one text."""

    crisis: bool
    self_harm: bool
    #: danger signals without enough to be sure (never set with crisis)
    signal: bool = False
    #: the text says its danger has ended (a past marker, no now marker): the model alone may
    #: then ask whether she is safe, not raise a crisis (it does not scope past by clause)
    ended: bool = False


#: a lexicon crisis the model reads as calm (P(danger) below this) asks the safety question
#: instead. Chosen leave-one-round-out on the eleven blind rounds the model trains on (each round
#: scored by a model trained without it): raising the veto from 0.01 to 0.2 took the false
#: alarms from 2.3 % to 1.0 % of their 1,459 non-crises and the checks on them from 8.7 % to
#: 9.9 %; the crises it turns into a safety question (5 more of 1,325) are still asked, never missed
MODEL_VETO = 0.2


@dataclass(frozen=True)
class Decision:
    """The crisis decision of one message: lexicon and model together."""

    crisis: bool
    safety_check: bool
    self_harm: bool


def decide(
    safety: Safety,
    p_crisis: float,
    p_danger: float,
    p_self: float,
    thresholds: tuple[float, float, float],
) -> Decision:
    """Lexicon first — unless the model reads the text as calm (P(danger) under `MODEL_VETO`):
    then she is asked whether she is safe instead of the crisis path; else the model's crisis (a
    safety check when the text says it has ended), its safety check, and its self-harm head when
    it raised either (see `analysis`)."""
    if safety.crisis:
        vetoed = p_danger < MODEL_VETO
        return Decision(crisis=not vetoed, safety_check=vetoed, self_harm=safety.self_harm)
    t_crisis, t_danger, t_self = thresholds
    sure = p_crisis >= t_crisis
    crisis = sure and not safety.ended
    check = not crisis and (sure or safety.signal or p_danger >= t_danger)
    return Decision(
        crisis=crisis, safety_check=check, self_harm=(crisis or check) and p_self >= t_self
    )


class CrisisDetector:
    """Regex-based crisis detector loaded from `crisis.tsv`."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        # Texts reach the detector with dialect words in Mandarin (`normalise.py`): so do the
        # patterns written in Cantonese (瞓唔醒 → 睡不醒).
        dialect = DialectReader(data_dir).read
        rows = [[kind, dialect(pattern)] for kind, pattern in read_table("crisis.tsv", 2, data_dir)]
        expected = {"trap", "self", "danger", "threat", "past", "now", "signal"}
        if {kind for kind, _ in rows} != expected:
            raise ValueError(f"crisis.tsv must define exactly {sorted(expected)}")
        traps = [f"(?:{pattern})" for kind, pattern in rows if kind == "trap"]
        self._trap = re.compile("|".join(traps))
        # The trap regex is tried only where the text has a character a trap can start with
        # (one alternation tried at every position costs more than the rest of the detector).
        starts: set[str] = set()
        for trap in traps:
            firsts = first_chars(trap)
            if firsts is None:
                raise ValueError(f"crisis.tsv: a trap must start with a known character: {trap}")
            starts |= firsts
        self._trap_start = re.compile("[" + "".join(re.escape(c) for c in sorted(starts)) + "]")
        # The other kinds are asked "does any pattern match?": a Lexicon answers that by trying
        # each pattern only where the text has a character it can start with.
        self._kinds = Lexicon(
            (kind, f"re:{pattern}", 1.0) for kind, pattern in rows if kind != "trap"
        )

    def check(self, text: str) -> Safety:
        """Whether text shows a crisis now, and whether the danger is to herself."""
        clean = self.blank_traps(text)
        kinds = self._kinds.labels_in(clean)
        if "self" in kinds and not self._all_past(clean, "self"):
            return Safety(crisis=True, self_harm=True)
        if "danger" in kinds and not self._all_past(clean, "danger"):
            return Safety(crisis=True, self_harm=False)
        live = "past" not in kinds or "now" in kinds
        if "threat" in kinds and (live or self._threat_after_past(clean)):
            return Safety(crisis=True, self_harm=False)
        ended = "past" in kinds and "now" not in kinds
        return Safety(crisis=False, self_harm=False, signal="signal" in kinds, ended=ended)

    def _all_past(self, text: str, kind: str) -> bool:
        """True when every clause with a hit of `kind` is past: a past marker outside the hit
        (胰岛素不打了 is a hit, not a past "不打了"), no now marker."""
        if "past" not in self._kinds.labels_in(text):
            return False
        found = False
        for sentence in sentences(text):
            dated = False  # an earlier clause of this sentence set a past time
            for part in sentence:
                spans = self._kinds.spans(part)
                now = any(label == "now" for label, _s, _e in spans)
                dated = dated and not now and not opens_turn(part)
                hits = [(s, e) for label, s, e in spans if label == kind]
                past = not renews(part) and any(
                    label == "past" and all(e <= hs or s >= he for hs, he in hits)
                    for label, s, e in spans
                )
                if hits:
                    if now or not (past or dated):
                        return False
                    found = True
                dated = dated or (past and not now and sets_past_time(part))
        return found  # a danger match across clauses is not scoped: it stays a crisis

    def _threat_after_past(self, text: str) -> bool:
        """True when a clause holds a threat and neither it nor a later clause a past marker."""
        past_seen = False
        for part in reversed(clauses(text)):
            kinds = self._kinds.labels_in(part)
            past_seen = past_seen or "past" in kinds
            if "threat" in kinds and not past_seen:
                return True
        return False

    def blank_traps(self, text: str) -> str:
        """Text with every trap blanked, like `re.sub` (leftmost match first, no overlaps).

        The crisis model reads this too: colloquial 死, 打工, quoted words and the other traps
        mean to it what they mean to the lexicon.
        """
        parts: list[str] = []
        done = 0
        find, match = self._trap_start.search, self._trap.match
        at = find(text)
        while at is not None:
            i = at.start()
            m = match(text, i)
            if m is not None and m.end() > i:
                parts += [text[done:i], "＿" * (m.end() - i)]
                done = m.end()
                at = find(text, done)
            else:
                at = find(text, i + 1)
        return "".join(parts) + text[done:] if parts else text
