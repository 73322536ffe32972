"""Scores on the dev data (tests/data/*.tsv, copied from the shared set) must not regress.

The floors sit a little below the scores measured when the tagger was written, so they
guard against regressions without pinning every sentence; crisis recall must stay 1.0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.nlp import NLP, parse_date

DATA = Path(__file__).resolve().parents[1] / "data"


def _rows(name: str) -> list[list[str]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]


def _none(value: str) -> str | None:
    return None if value in {"none", "-", ""} else value


@dataclass
class NeedScores:
    """Need and crisis scores over needs_dev.tsv."""

    primary: float
    micro_f1: float
    crisis_recall: float
    crisis_false_alarms: int


def score_needs(nlp: NLP) -> NeedScores:
    """Primary accuracy, category micro-F1, crisis recall and false alarms on needs_dev."""
    rows = _rows("needs_dev.tsv")
    ref = dt.date(2026, 3, 18)
    right = tp = fp = fn = crisis_hit = crisis_total = false_alarms = 0
    for text, primary, cats, crisis in rows:
        a = nlp.analyze(text, ref)
        right += a.primary == primary
        expected, got = set(cats.split(",")), set(a.categories)
        tp += len(expected & got)
        fp += len(got - expected)
        fn += len(expected - got)
        if crisis == "1":
            crisis_total += 1
            crisis_hit += a.crisis
        else:
            false_alarms += a.crisis
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    return NeedScores(
        primary=right / len(rows),
        micro_f1=2 * precision * recall / (precision + recall),
        crisis_recall=crisis_hit / crisis_total,
        crisis_false_alarms=false_alarms,
    )


def score_dates() -> float:
    """Share of dates_dev rows whose date (or None) is right."""
    rows = _rows("dates_dev.tsv")
    right = 0
    for ref, text, expected in rows:
        got = parse_date(text, dt.date.fromisoformat(ref))
        right += (got.isoformat() if got else None) == _none(expected)
    return right / len(rows)


def score_visits(nlp: NLP) -> dict[str, float]:
    """Per-field accuracy on visits_dev (date, places, form, categories as a set)."""
    rows = _rows("visits_dev.tsv")
    right = dict.fromkeys(
        ("date", "district", "street", "community", "visit_form", "categories"), 0
    )
    for ref, text, date, district, street, community, form, cats in rows:
        a = nlp.analyze(text, dt.date.fromisoformat(ref))
        got_date = a.date.isoformat() if a.date else None
        right["date"] += got_date == _none(date)
        right["district"] += a.district == _none(district)
        right["street"] += a.street == _none(street)
        right["community"] += a.community == _none(community)
        right["visit_form"] += a.visit_form == _none(form)
        expected = set() if cats == "-" else set(cats.split(","))
        right["categories"] += set(a.categories) == expected
    return {k: v / len(rows) for k, v in right.items()}


def test_needs_scores_hold(nlp: NLP) -> None:
    """Primary accuracy, category micro-F1 and crisis recall stay at their floors."""
    s = score_needs(nlp)
    assert s.crisis_recall == 1.0
    assert s.crisis_false_alarms <= 2
    assert s.primary >= 0.93
    assert s.micro_f1 >= 0.94


def test_date_scores_hold() -> None:
    """Date accuracy on the dev dates stays at its floor."""
    assert score_dates() >= 0.97


@pytest.mark.parametrize(
    ("field", "floor"),
    [
        ("date", 0.96),
        ("district", 0.96),
        ("street", 0.96),
        ("community", 0.94),
        ("visit_form", 0.94),
        ("categories", 0.70),
    ],
)
def test_visit_field_scores_hold(nlp: NLP, field: str, floor: float) -> None:
    """Each visit-note field keeps its accuracy floor on the dev visit notes."""
    assert score_visits(nlp)[field] >= floor
