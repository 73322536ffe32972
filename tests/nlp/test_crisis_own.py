"""Crisis recall and false alarms on the project's own crisis sets (tests/data/crisis_*.tsv).

The set was written for this test, apart from the dev data: present violence, weapons, fire
and acid, confinement, following, children hurt now, and suicidal intent in many indirect
forms (labelled 1), against colloquial 死/打, ended violence, legal questions, news and
stories (labelled 0). Missing a crisis is the worst error, so recall must be 1.0; false
alarms cost little but must stay rare.

`crisis_blind.tsv` was written later, blind (before reading the own and dev data), and scored
before any fix for it: round 1 (160 crises / 150 calm) gave recall 0.869 and 14 % false alarms,
round 2 (40 / 40, after round 1's fixes) recall 0.625 and 20 %. Both now have recall 1.0;
false alarms 6 / 150 and 2 / 40, reported speech with a disclaimer ("老说活够了，其实就是随口说说").
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.nlp import NLP

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
DATA = DATA_DIR / "crisis_own.tsv"
BLIND = DATA_DIR / "crisis_blind.tsv"
REF = dt.date(2026, 4, 15)
#: measured 2 / 214 (0.9 %) when the set was written; a small margin on top
MAX_FALSE_ALARM_RATE = 0.03
#: measured 8 / 190 (4.2 %) on the blind set after its fixes; a small margin on top
MAX_BLIND_FALSE_ALARM_RATE = 0.06


def _rows(path: Path = DATA) -> list[tuple[str, bool]]:
    rows: list[tuple[str, bool]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, label = line.split("\t")
        rows.append((text, label == "1"))
    return rows


def test_set_is_balanced() -> None:
    """The set holds well over a hundred messages of each kind, none twice."""
    rows = _rows()
    assert sum(c for _, c in rows) >= 120
    assert sum(not c for _, c in rows) >= 120
    assert len({t for t, _ in rows}) == len(rows)


def test_crisis_recall_is_one(nlp: NLP) -> None:
    """Every crisis message of the own set is a crisis."""
    misses = [t for t, c in _rows() if c and not nlp.analyze(t, REF).crisis]
    assert misses == [], f"missed crises: {misses}"


def test_false_alarms_are_rare(nlp: NLP) -> None:
    """Few non-crisis messages raise the alarm."""
    negatives = [t for t, c in _rows() if not c]
    alarms = [t for t in negatives if nlp.analyze(t, REF).crisis]
    assert len(alarms) / len(negatives) <= MAX_FALSE_ALARM_RATE, f"false alarms: {alarms}"


def test_blind_set_is_balanced() -> None:
    """The blind set holds 200 crises and 190 calm messages, none twice."""
    rows = _rows(BLIND)
    assert sum(c for _, c in rows) >= 200
    assert sum(not c for _, c in rows) >= 190
    assert len({t for t, _ in rows}) == len(rows)


def test_blind_crisis_recall_is_one(nlp: NLP) -> None:
    """Every crisis message of the blind set is a crisis."""
    misses = [t for t, c in _rows(BLIND) if c and not nlp.analyze(t, REF).crisis]
    assert misses == [], f"missed crises: {misses}"


def test_blind_false_alarms_are_rare(nlp: NLP) -> None:
    """Few calm messages of the blind set raise the alarm."""
    negatives = [t for t, c in _rows(BLIND) if not c]
    alarms = [t for t in negatives if nlp.analyze(t, REF).crisis]
    assert len(alarms) / len(negatives) <= MAX_BLIND_FALSE_ALARM_RATE, f"false alarms: {alarms}"


@pytest.mark.parametrize(
    "text",
    [
        "我想解脱",
        "我攒了一瓶药，就等今晚",
        "想和孩子一起走",
        "这是我最后一条消息了",
        "刚割了腕",
        "我喝了农药",
        "我在车里烧炭了",
        "我把自己锁在车里了 车里点着炭盆",
        "活着没意思",
        "明天早上你们就看不到我了",
        "我妈喝了农药，正在往医院送",
    ],
)
def test_danger_to_herself_is_self_harm(nlp: NLP, text: str) -> None:
    """Suicidal intent or an attempt sets self_harm (so 12356 is given)."""
    a = nlp.analyze(text, REF)
    assert a.crisis is True
    assert a.self_harm is True


@pytest.mark.parametrize(
    "text",
    [
        "邻居家正在打老婆",
        "我妹被她男人关起来了",
        "他拿着锤子说要砸死我",
        "有个男的跟了我好几条街了",
    ],
)
def test_danger_from_others_is_not_self_harm(nlp: NLP, text: str) -> None:
    """Violence, confinement and following by others are crises, not self-harm."""
    a = nlp.analyze(text, REF)
    assert a.crisis is True
    assert a.self_harm is False
