"""`make eval` (bot.nlp.evaluate) scores the dev copies and meets the NLP issue's targets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.nlp import NLP
from bot.nlp.blind import (
    CrisisRow,
    crisis_metrics,
    read_crisis_round,
    read_needs_round,
    score_blind,
)
from bot.nlp.evaluate import Metric, evaluate, main

DATA = Path(__file__).resolve().parents[1] / "data"
#: a made-up round in the blind rounds' columns: the real rounds are never opened by tests
REF = dt.date(2026, 3, 18)
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "blind"


def test_dev_targets_are_met(nlp: NLP) -> None:
    """Every metric with a target meets it on the dev data; misses are listed otherwise."""
    report = evaluate(nlp, DATA)
    failing = [m.line() for m in report.metrics if not m.met]
    assert not failing, "\n".join(failing + [f"{k}: {v}" for k, v in report.misses.items()])


def test_metric_targets() -> None:
    """A metric is met at its target, above it (or below for at-most), and never without one."""
    assert Metric("a", 0.95, 0.95).met and not Metric("a", 0.94, 0.95).met
    assert (
        Metric("f", 0.01, 0.02, at_most=True).met and not Metric("f", 0.03, 0.02, at_most=True).met
    )
    assert Metric("info", 0.1, None).met and "no target" in Metric("info", 0.1, None).line()


def test_main_prints_the_report(capsys) -> None:  # type: ignore[no-untyped-def]
    """The command prints every figure and says whether all targets are met."""
    assert main([str(DATA), "--blind", str(FIXTURES)]) == 0
    out = capsys.readouterr().out
    for name in (
        "primary accuracy",
        "category micro-F1",
        "crisis recall",
        "date accuracy",
        "visit street",
    ):
        assert name in out
    assert "all targets met" in out
    assert "crisis_sample.tsv" in out and "needs_sample.tsv" in out
    assert "danger recall (3)" in out and "safety checks on none (2)" in out


def test_crisis_round_reader() -> None:
    """Comments are skipped, the four columns read, a missing style shown as '-'."""
    rows = read_crisis_round(FIXTURES / "crisis_sample.tsv")
    assert [r.label for r in rows] == ["crisis", "crisis", "safety_check", "none", "none"]
    assert rows[1] == CrisisRow("jiu ming ta yao sha wo", "crisis", "threat", "pinyin")
    assert rows[-1].style == "-"


def test_crisis_round_rejects_unknown_labels(tmp_path: Path) -> None:
    """A label outside crisis/safety_check/none is an error, not a silent none."""
    path = tmp_path / "crisis_bad.tsv"
    path.write_text("他拿刀了\t1\tweapon\tplain\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown label"):
        read_crisis_round(path)


def test_needs_round_reader() -> None:
    """The categories column is split on commas; the style is kept."""
    rows = read_needs_round(FIXTURES / "needs_sample.tsv")
    assert rows[1].categories == ("knowledge", "jobs")
    assert rows[1].style == "traditional"


def test_crisis_metrics_count_each_figure(nlp: NLP) -> None:
    """Recall, danger recall, false alarms and checks on none are shares of their labels."""
    rows = read_crisis_round(FIXTURES / "crisis_sample.tsv")
    metrics = {
        m.name.split(" (")[0]: m
        for m in crisis_metrics(rows, [nlp.analyze(r.text, REF) for r in rows])
    }
    assert metrics["crisis recall"].value == 1.0
    assert metrics["danger recall"].value == 1.0 and metrics["danger recall"].target == 0.97
    assert metrics["false alarms"].value == 0.0 and metrics["false alarms"].at_most
    assert metrics["safety checks on none"].target == 0.10


def test_score_blind_prints_figures_not_messages(nlp: NLP, tmp_path: Path) -> None:
    """Each round gets its figures and per-style lines; no message text is printed."""
    lines = score_blind(nlp, FIXTURES)
    text = "\n".join(lines)
    assert "style pinyin" in text and "style traditional" in text
    assert "他拿着刀" not in text and "育嬰師" not in text
    assert score_blind(nlp, tmp_path / "absent") == []


def test_rounds_the_model_trains_on_are_marked_in_sample(nlp: NLP, tmp_path: Path) -> None:
    """A round named in TRAINED_ROUNDS (TRAINED_NEEDS_ROUNDS) is reported as in sample; any
    other as unseen, and the unseen crisis rounds once more together (only they measure text
    the model has not seen)."""
    sample = (FIXTURES / "crisis_sample.tsv").read_text(encoding="utf-8")
    (tmp_path / "crisis_r1.tsv").write_text(sample, encoding="utf-8")
    (tmp_path / "crisis_r99.tsv").write_text(sample, encoding="utf-8")
    lines = score_blind(nlp, tmp_path)
    headings = [line for line in lines if line.startswith("\n")]
    assert headings[1:] == [
        "\ncrisis_r1.tsv (the crisis model trains on it: figures in sample):",
        "\ncrisis_r99.tsv (unseen):",
        "\nall unseen crisis rounds together:",
    ]
    needs = (FIXTURES / "needs_sample.tsv").read_text(encoding="utf-8")
    (tmp_path / "needs_r1.tsv").write_text(needs, encoding="utf-8")
    (tmp_path / "needs_r99.tsv").write_text(needs, encoding="utf-8")
    headings = [line for line in score_blind(nlp, tmp_path) if line.startswith("\nneeds_")]
    assert headings == [
        "\nneeds_r1.tsv (the need model trains on it: figures in sample):",
        "\nneeds_r99.tsv (unseen):",
    ]
    # one unseen round: pooled, its figures are that round's
    pooled = lines[lines.index("\nall unseen crisis rounds together:") + 1 :]
    r99 = lines.index("\ncrisis_r99.tsv (unseen):") + 1
    assert pooled == lines[r99 : r99 + 4] and "danger recall" in pooled[1]
